"""Export-control metrics computed from catalog data: TPP and performance density."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.catalog import BIT_LENGTH, PRECISIONS, Accelerator


@dataclass(frozen=True)
class ChipMetrics:
    """TPP (with range where peaks conflict) and performance density of one accelerator."""

    tpp: float | None
    tpp_low: float | None
    tpp_high: float | None
    precision: str | None
    pd: float | None
    die_area_mm2: float | None
    io_gbps: float | None
    dram_gbps: float | None

    def tpp_text(self) -> str:
        """``"TPP 2368"`` or ``"TPP 5120 (4096–6016)"``."""
        if self.tpp is None:
            return "TPP unknown"
        if self.tpp_low is not None and self.tpp_high is not None and self.tpp_low != self.tpp_high:
            return f"TPP {self.tpp:.0f} (range {self.tpp_low:.0f}–{self.tpp_high:.0f})"
        return f"TPP {self.tpp:.0f}"


def compute_metrics(acc: Accelerator) -> ChipMetrics:
    """Compute TPP = max over precisions of (dense peak × bit length) and PD = TPP / logic die area.

    BIS defines TPP as 2 × MacTOPS × bit length, i.e. dense TOPS × bit length; the maximum over the
    supported precisions is taken (the common reading of the rule).
    """
    best: tuple[float, float, float, str] | None = None
    for precision in PRECISIONS:
        fig = acc.dense.get(precision)
        if fig.value is None:
            continue
        bits = BIT_LENGTH[precision]
        cand = (fig.value * bits, (fig.lo or fig.value) * bits, (fig.hi or fig.value) * bits, precision)
        if best is None or cand[0] > best[0]:
            best = cand
    area = acc.logic_die_area_mm2.value
    tpp = best[0] if best else None
    pd = tpp / area if tpp is not None and area else None
    io = acc.io_bandwidth_gbps.value
    bw = acc.memory_bandwidth_tbps.value
    return ChipMetrics(
        tpp=tpp,
        tpp_low=best[1] if best else None,
        tpp_high=best[2] if best else None,
        precision=best[3] if best else None,
        pd=pd,
        die_area_mm2=area,
        io_gbps=io,
        dram_gbps=bw * 1000 if bw is not None else None,
    )
