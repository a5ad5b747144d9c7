"""Pieces shared by the training and inference estimators: peaks, fabrics, assumptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from optimizer.catalog import Accelerator, Catalog, NetworkOption
from optimizer.errors import InvalidInputError, UnsupportedPrecisionError

TrainPrecision = Literal["bf16", "fp16", "fp8"]


class Assumption(BaseModel):
    """One input or constant the estimate relied on, with where it came from."""

    model_config = ConfigDict(frozen=True)

    name: str
    value: str
    source: str


@dataclass(frozen=True)
class Peaks:
    """Dense peaks used by an estimate (TFLOPS)."""

    sixteen: float
    sixteen_name: str
    compute: float
    compute_name: str


def peaks_for(acc: Accelerator, precision: TrainPrecision) -> Peaks:
    """16-bit peak (MFU reference for bf16) and the peak of the requested precision.

    Raises:
        UnsupportedPrecisionError: the precision is not supported or its peak is not sourced.
    """
    prefer_fp16 = precision == "fp16" and acc.dense.fp16.known
    use_bf16 = acc.dense.bf16.known and not prefer_fp16
    sixteen_name = "bf16" if use_bf16 else "fp16"
    sixteen = acc.dense.bf16.value if use_bf16 else acc.dense.fp16.value
    if sixteen is None:
        raise UnsupportedPrecisionError(
            f"{acc.id}: no 16-bit (BF16/FP16) dense peak is sourced, so it cannot be estimated "
            f"({acc.dense.bf16.reason or acc.dense.fp16.reason})"
        )
    if precision == "fp8":
        fig = acc.dense.fp8
        if not fig.known:
            why = "not supported" if not fig.supported else "not sourced"
            raise UnsupportedPrecisionError(
                f"{acc.id} has no FP8 ({why}: {fig.reason}); use --precision bf16"
            )
        return Peaks(sixteen=sixteen, sixteen_name=sixteen_name, compute=float(fig.value or 0), compute_name="fp8")
    return Peaks(sixteen=sixteen, sixteen_name=sixteen_name, compute=sixteen, compute_name=sixteen_name)


def require(acc: Accelerator, field: str, what: str) -> float:
    """A figure the estimate cannot do without.

    Raises:
        InvalidInputError: the figure is unknown (with the catalog's reason).
    """
    fig = getattr(acc, field)
    if fig.value is None:
        raise InvalidInputError(
            f"cannot estimate on {acc.id}: its {what} is not sourced ({fig.reason}); add it with --catalog"
        )
    return float(fig.value)


@dataclass(frozen=True)
class Fabric:
    """The scale-out network chosen for an estimate."""

    id: str
    name: str
    kind: str
    gbit_per_accelerator: float
    availability: str


def choose_fabric(
    catalog: Catalog, acc: Accelerator, *, fabric: str | None, buyer_country: str | None,
    era_default: str | None = None,
) -> Fabric | None:
    """The requested fabric, else the era's default (when it serves the buyer), else the fastest available.

    Cloud fabrics (EFA) are used only when requested.

    Raises:
        InvalidInputError: unknown fabric, or one that cannot connect this vendor's parts.
    """
    country = buyer_country or "default"
    options: list[NetworkOption] = catalog.networks_for(acc.vendor)
    if fabric is not None:
        net = catalog.networks.get(fabric.strip().lower())
        if net is None:
            raise InvalidInputError(f"unknown fabric {fabric!r}; choose one of {', '.join(sorted(catalog.networks))}")
        if not net.serves(acc.vendor):
            ok = ", ".join(n.id for n in options) or "none"
            raise InvalidInputError(f"fabric {net.id} cannot connect {acc.vendor} accelerators (options: {ok})")
        options = [net]
    else:
        options = [n for n in options if n.kind != "cloud"]
        era = catalog.networks.get(era_default) if era_default else None
        if era is not None and era.serves(acc.vendor) and era.availability_for(country) == "available":
            options = [era]
    best: Fabric | None = None
    rank = {"available": 3, "unknown": 2, "limited": 1, "unavailable": 0}
    for net in options:
        gbit = net.per_accelerator_gbit.value
        if gbit is None:
            continue
        avail = net.availability_for(country)
        cand = Fabric(net.id, net.name, net.kind, gbit, avail)
        if best is None or (rank[avail], gbit) > (rank[best.availability], best.gbit_per_accelerator):
            best = cand
    return best


def node_size(catalog: Catalog, acc: Accelerator) -> int:
    """Accelerators per node for this SKU (8 when no node type is listed)."""
    nodes = catalog.nodes_for(acc.id)
    return nodes[0].accelerators_per_node if nodes else 8
