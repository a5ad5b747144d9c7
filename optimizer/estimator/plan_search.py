"""Plan search: the highest-throughput parallelism plan that fits, and the smallest count on which one fits.

The plan (tp ≤ fast-link domain, pp, cp, ZeRO stage, recompute none/selective/full, micro-batch, interleaving) is
searched for the most sequences per second; anything the user fixes is kept.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

from optimizer.estimator.step_time import Candidate, default_ep, evaluate
from optimizer.estimator.training_context import TrainContext, batch_tokens_of, default_batch_tokens
from optimizer.estimator.training_types import MAX_COUNT, PlanChoice, TrainingRequest

MICRO_BATCHES = (1, 2, 4, 8)
"""Micro-batch sizes searched: larger ones fill GEMMs and amortise per-micro-batch costs, at more memory."""
PP_MENU = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
"""Pipeline depths tried. DP = ⌊count / (TP·PP·CP)⌋; leftover devices idle (they still count in the hours)."""


class PlanMemo:
    """Plan-search results shared by estimates that differ only in what the search never reads.

    The search depends on the accelerator, model, precision, batch, fabric, stack and the plan the user fixes, not
    on the token count or the deadline: a sweep over budgets or deadlines, or the purchase optimizer sizing one job
    for several deadlines, repeats the same searches. Keys are the request with ``tokens``, ``count`` and
    ``deadline_days`` cleared, so a memo is valid for one catalog and the contexts :func:`build_context` makes
    from it (one per :class:`~optimizer.table.EstimateCache`, which has the same contract). Bounded and
    thread-safe; the least recently used result goes first.
    """

    def __init__(self, max_entries: int = 20_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._data: OrderedDict[tuple[TrainingRequest, int], Candidate | None] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    @staticmethod
    def key(req: TrainingRequest) -> TrainingRequest:
        """The request as the search sees it."""
        return req.model_copy(update={"tokens": 1.0, "count": None, "deadline_days": None})

    def search(self, c: TrainContext, count: int, req: TrainingRequest) -> Candidate | None:
        """:func:`search_plan` for the context built from ``req``, answered from the memo when it can be."""
        key = (self.key(req), count)
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
        found = search_plan(c, count, req)
        with self._lock:
            self._data[key] = found
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return found


def search_plan(c: TrainContext, count: int, req: TrainingRequest) -> Candidate | None:
    """Highest-throughput plan for ``count`` accelerators that fits in memory (None if none fits)."""
    choice = req.plan or PlanChoice()
    tps = [t for t in (1, 2, 4, 8, 16, 32, 64) if t <= c.fast_domain and t <= count]
    if choice.tp is not None:
        tps = [choice.tp] if choice.tp <= count else []
    cps = [choice.cp] if choice.cp else ([1, 2, 4, 8] if c.seq >= 32768 else [1])
    rc_fixed = None if choice.recompute in (None, "selective") else (0.0 if choice.recompute == "none" else 1.0)
    sel_fixed = True if choice.recompute == "selective" else (False if choice.recompute == "none" else None)
    given = batch_tokens_of(c, req)
    best: Candidate | None = None
    for cp in cps:
        for tp in tps:
            pps = [p for p in PP_MENU if p <= min(c.shape.n_layers, count // (tp * cp))]
            if choice.pp is not None:
                pps = [choice.pp] if choice.pp * tp * cp <= count else []
            best_tp: float = 0.0
            cand: Candidate | None = None
            for pp in pps:
                dp = choice.dp or count // (tp * pp * cp)
                if dp < 1 or tp * pp * cp * dp > count:
                    continue
                ep = choice.ep or (default_ep(c.shape, dp) if c.moe else 1)
                batch = given or max(default_batch_tokens(c.shape.params), dp * c.seq)
                layers_stage = math.ceil(c.shape.n_layers / pp)
                if choice.virtual_stages:
                    vpps: tuple[int, ...] = (choice.virtual_stages,)
                else:
                    vpps = tuple(v for v in (1, 2, 4, 8) if v == 1 or (pp > 1 and layers_stage >= v))
                zeros = [choice.zero_stage] if choice.zero_stage is not None else [1, 3]
                pp_best: Candidate | None = None
                for mb in ([choice.micro_batch] if choice.micro_batch else MICRO_BATCHES):
                    found = None
                    for zero in zeros:
                        found = evaluate(c, tp, pp, dp, zero, mb, batch, cp=cp, ep=ep, recompute=rc_fixed,
                                          selective=sel_fixed, vpps=vpps)
                        if found is not None:
                            break  # ZeRO-3 only when ZeRO-1 does not fit: it moves far more data
                    if found is None:
                        break  # a larger micro-batch will not fit either
                    if pp_best is not None and found.seqs_per_s < pp_best.seqs_per_s:
                        break  # throughput peaked: larger micro-batches only grow the bubble further
                    pp_best = found
                    if found.m <= 1:
                        break
                cand = pp_best
                if cand is not None:
                    best_tp = max(best_tp, cand.seqs_per_s)
                    if best is None or cand.seqs_per_s > best.seqs_per_s:
                        best = cand
                # Deeper pipelines only add bubble and transfers once one fits well: stop when clearly worse.
                if best_tp and cand is not None and cand.seqs_per_s < 0.8 * best_tp:
                    break
    return best


def minimum_count_ctx(c: TrainContext, req: TrainingRequest, plans: PlanMemo | None = None) -> int | None:
    """Smallest count on which a plan fits: doubling, then a binary search over whole nodes.

    ``plans`` memoises the searches (only for a context built from ``req`` itself).
    """
    search = plans.search if plans is not None else search_plan
    candidates = [n for n in (1, 2, 4) if n < c.node] + [c.node * k for k in node_multiples()]
    prev = 0
    for n in candidates:
        if search(c, n, req) is not None:
            if n <= c.node or prev < c.node:
                return n
            lo, hi = prev // c.node, n // c.node  # lo does not fit, hi fits (in nodes)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if search(c, mid * c.node, req) is not None:
                    hi = mid
                else:
                    lo = mid
            return hi * c.node
        prev = n
    return None


def node_multiples() -> list[int]:
    """Powers of two from 1 up to the largest node count considered."""
    out, k = [], 1
    while k <= MAX_COUNT // 8:
        out.append(k)
        k *= 2
    return out
