"""Collective and point-to-point communication times, shared by the training and serving estimators.

All times follow the alpha-beta model: bytes over the achieved per-direction bandwidth of the link plus a fixed
latency per algorithm step. Bandwidths are in bytes per second unless the name says GB/s.
"""

from __future__ import annotations

import math


def allreduce_s(nbytes: float, group: int, bw_gbs_dir: float, latency: float) -> float:
    """Ring all-reduce: 2(g−1)/g of the bytes per device at the link rate, 2(g−1) latency steps."""
    if group <= 1:
        return 0.0
    return 2.0 * (group - 1) / group * nbytes / (bw_gbs_dir * 1e9) + 2 * (group - 1) * latency


def node_allreduce_s(nbytes: float, group: int, local: int, *, intra_bw: float, nic_bw: float | None,
                     latency_intra: float, latency_inter: float) -> float:
    """All-reduce of ``nbytes`` per device among ``group`` ranks, ``local`` of them sharing a node.

    Reduce-scatter among the node's ranks on the fast link, an inter-node ring on 1/local of the bytes per device
    (so the node's NICs share the traffic), then all-gather on the fast link. Inter-node latency follows a tree
    (2·log2(nodes) steps); intra-node a ring. ``nic_bw`` None: the inter-node hop runs at the intra-node rate.
    """
    if group <= 1:
        return 0.0
    local = max(1, min(local, group))
    t = 0.0
    if local > 1:
        t += 2.0 * (local - 1) / local * nbytes / intra_bw + 2 * (local - 1) * latency_intra
    nodes = math.ceil(group / local)
    if nodes > 1:
        bw = nic_bw or intra_bw
        t += 2.0 * (nodes - 1) / nodes * nbytes / local / bw + 2 * math.ceil(math.log2(nodes)) * latency_inter
    return t


def p2p_s(nbytes: float, bw: float, latency: float) -> float:
    """One point-to-point send of ``nbytes`` (pipeline stage boundary)."""
    return nbytes / bw + latency


def expert_copies(top_k: int, ep: int, local_ep: int, max_nodes: int | None) -> tuple[float, float]:
    """Copies of a token sent to experts on this node and on other nodes (balanced routing).

    With ``ep`` expert ranks, ``local_ep`` of them per node, a token's ``top_k`` experts lie on other nodes with
    probability (nodes − 1)/nodes each; node-limited routing (DeepSeek-V3: at most ``max_nodes`` nodes) sends one
    copy per node and fans out over the fast link.
    """
    ep_nodes = math.ceil(ep / max(1, local_ep))
    remote_share = (ep_nodes - 1) / ep_nodes
    k_remote = top_k * remote_share
    if max_nodes is not None:
        k_remote = min(k_remote, max_nodes * remote_share)
    return top_k - k_remote, k_remote


def all_to_all_s(tokens: float, *, dispatch_bytes: float, combine_bytes: float, k_local: float, k_remote: float,
                 local_bw: float, remote_bw: float, latency: float = 0.0) -> float:
    """One MoE layer's dispatch and combine for ``tokens`` on a rank (one forward pass).

    Every token goes to ``k_local`` experts over the fast link and ``k_remote`` over the scale-out fabric; each
    copy carries ``dispatch_bytes`` out and ``combine_bytes`` back.
    """
    if k_local + k_remote <= 0:
        return 0.0
    per_copy = dispatch_bytes + combine_bytes
    return tokens * per_copy * (k_remote / remote_bw + k_local / local_bw) + 2 * latency
