"""Record `procure validate` (estimator vs published runs) in bench/results/validation.md.

Run: .venv/bin/python -m bench.validation_record
"""

from __future__ import annotations

from bench._common import machine, write
from optimizer.catalog import load_catalog
from optimizer.estimator import load_benchmarks, load_runs, validate_runs


def main() -> None:
    report = validate_runs(load_catalog(), load_runs(), load_benchmarks())
    lines = ["# Training estimator vs published runs", "",
             f"Generated {machine()['measured_at']} by `python -m bench.validation_record` "
             "(same as `procure validate`).",
             "Error = (predicted − reported) / reported accelerator-hours. `*` = count not published (2,048 assumed);",
             "`†` = parallelism plan/fabric taken from the published configuration. Steady-state runs (hours derived",
             "from throughput or step time) are estimated with goodput 1; whole-run figures with the goodput model,",
             "or with the run's own published goodput where its sources give one (`g`, see training_runs.yaml).",
             "`‡` = architecture outside the estimator's physics (reported, kept out of the modelled statistics).",
             "MFU is steady-state (6·N·D over the step time, before goodput).",
             "",
             "| run | set | accelerator | count | reported h | predicted h | predicted range | error | MFU | goodput "
             "| plan |",
             "|---|---|---|---:|---:|---:|---|---:|---:|---:|---|"]
    for r in report.rows:
        lines.append(
            f"| {r.name}{' †' if r.plan_published else ''}{'' if r.modelled else ' ‡'} | {r.set} | {r.accelerator} "
            f"| {r.count:,}{'*' if r.count_assumed else ''} | {r.reported_hours:,.0f} | {r.predicted_hours:,.0f} | "
            f"{r.predicted_low:,.0f}–{r.predicted_high:,.0f}{'' if r.in_range else ' (outside)'} | {r.error:+.1%} | "
            f"{r.mfu:.1%} | {r.goodput:.2f}{' g' if r.goodput_published else ''} | {r.plan} |"
        )
    lines += ["", "| set | n | mean abs error | median abs error | max abs error |", "|---|---:|---:|---:|---:|"]
    for name, st in report.by_set.items():
        lines.append(f"| {name} | {st['n']:.0f} | {st['mean_abs_error']:.1%} | {st['median_abs_error']:.1%} | "
                     f"{st['max_abs_error']:.1%} |")
    lines.append(f"| all | {report.n} | {report.mean_abs_error:.1%} | {report.median_abs_error:.1%} | "
                 f"{report.max_abs_error:.1%} |")
    lines += ["", f"Within a factor of 1.5: {report.within_factor_1_5}/{report.n}; reported value inside the "
              f"predicted range: {report.in_range}/{report.n}. Modelled architectures only: within 1.5× "
              f"{report.within_factor_1_5_modelled}/{report.n_modelled}, inside the range "
              f"{report.in_range_modelled}/{report.n_modelled}.", "",
              "## Megatron benchmarks (published configuration given)", "",
              "Korthikanti et al. 2022 (arXiv 2205.05198) iteration times, full vs selective recompute, as "
              "transcribed by Calculon; Narayanan et al. 2021 (arXiv 2104.04473) Table 1 achieved TFLOP/s per "
              "GPU (Eq. 3 FLOPs / predicted iteration time). Stack profile `megatron-2021`, A100-80GB, HDR-200.",
              "`megatron-bridge-h100`: NVIDIA's Megatron-Bridge performance summary (25.11 and 26.02 containers), "
              "DGX-H100, FP8 current scaling, tokens/s per GPU of the same Llama 3 architectures as the Llama 3 runs "
              "above; stack `megatron-core`, NDR-400. The steady-state H100 physics is checked here, apart from "
              "what a whole-run figure adds.", "",
              "| benchmark | set | metric | reported | predicted | error | plan |", "|---|---|---|---:|---:|---:|---|"]
    for b in report.benchmarks:
        lines.append(f"| {b.name} | {b.set} | {b.metric} | {b.reported:,.2f} | {b.predicted:,.2f} | {b.error:+.1%} | "
                     f"{b.plan} |")
    lines += ["", "| set | n | mean abs error | median abs error | max abs error |", "|---|---:|---:|---:|---:|"]
    for name, st in report.benchmark_sets.items():
        lines.append(f"| {name} | {st['n']:.0f} | {st['mean_abs_error']:.1%} | {st['median_abs_error']:.1%} | "
                     f"{st['max_abs_error']:.1%} |")
    lines.append("")
    write("validation", report.model_dump(mode="json"), "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
