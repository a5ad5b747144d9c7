"""Cold-process start-up of the ``procure`` CLI: ``--help``, ``import service.cli`` and ``procure ask`` per question.

Each sample is a fresh ``python -m service.cli ...`` process (nothing cached in memory; the data folder's corpus
index is built once before timing, as after ``make run``). Reports per command the median and minimum wall clock
and the median CPU time (user + system of the child). On a shared, loaded machine the wall clock also counts the
time the scheduler gives other processes; the CPU time is what the command itself costs, i.e. close to its wall
clock on a quiet machine (the target: ``procure ask`` answers a recommendation in ≤ 1.5 s cold on a quiet 2-core
machine). The load average is recorded before and after.

Also lists the biggest imports of a cold ``procure ask`` (``python -X importtime``), so a regression is easy to place.

Run: .venv/bin/python -m bench.cli_startup_bench [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import machine, write

ROOT = Path(__file__).resolve().parents[1]
RECOMMEND_EN = ("Best cluster to train a 70B model on 1.4T tokens within 120 days, budget ¥80M, buyer in China, "
                "on 2025-08-01")
RECOMMEND_ZH = "2025-08-01，中国买家，预算8000万元，120天内用1.4万亿token训练70B模型，最佳集群是什么？"
COMPLIANCE = "Is the H20 allowed for a buyer in China on 2025-05-01?"
COMMANDS: dict[str, list[str]] = {
    "procure --help": ["--help"],
    "procure ask (recommendation, en) --json": ["ask", RECOMMEND_EN, "--json"],
    "procure ask (recommendation, zh) --json": ["ask", RECOMMEND_ZH, "--json"],
    "procure ask (compliance, en) --json": ["ask", COMPLIANCE, "--json"],
}
HEAVY = ("chromadb", "ortools", "sqlalchemy", "jieba", "langchain_core", "pandas", "plotly", "fastapi", "numpy")


def _env(data: Path) -> dict[str, str]:
    # bytecode is cached as after an install (a shell with PYTHONDONTWRITEBYTECODE=1 would recompile every module
    # of every process), under the temporary folder so the checkout stays clean
    env = {**os.environ, "PROCURE_DATA_DIR": str(data), "PYTHONPYCACHEPREFIX": str(data.parent / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PROCURE_LLM_BASE_URL", None)  # the deterministic planner (the offline default)
    return env


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one cold ``python -m service.cli`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "service.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{args[:2]} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _loaded(code: str, env: dict[str, str]) -> list[str]:
    probe = f"import sys\n{code}\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    lines = out.stdout.splitlines()
    return [m for m in (lines[-1] if lines else "").split(",") if m]


def _importtime(args: list[str], env: dict[str, str], top: int = 12) -> list[tuple[str, float]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "service.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    rows: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) <= 2:  # top-level imports and their direct children
            rows[m.group(3)] = int(m.group(1)) / 1e6
    return sorted(rows.items(), key=lambda kv: -kv[1])[:top]


STAGES = """
import sys, time
t = [("start", time.process_time())]
def mark(name): t.append((name, time.process_time()))
import service.cli; mark("import service.cli (Typer, settings)")
from service.agent.factory import build_agent; mark("import the agent (optimizer models, SQLAlchemy)")
from service.settings import get_settings
from service.agent import requests
agent = build_agent(get_settings()); parsed, _ = agent.parse(sys.argv[1], None); mark("parse (catalog, lexicon)")
from optimizer.cpsat import cp_model; mark("import OR-Tools (CP-SAT, without pandas)")
agent.backend.recommend(requests.purchase_request(parsed.request)); mark("solve (CP-SAT)")
agent.backend.search("H20 export licence supply risk", k=3); mark("open the index and search (cut cache, vector copy)")
agent.store.create(); mark("session store (SQLite, revision check)")
print("loaded\t" + ",".join(m for m in ("jieba", "chromadb", "alembic") if m in sys.modules))
for (_, a), (name, b) in zip(t, t[1:]):
    print(f"{name}\t{b - a:.3f}")
"""
"""Where the CPU of a cold recommendation goes, stage by stage, in one fresh process."""


def _stages(env: dict[str, str], question: str) -> list[tuple[str, float]]:
    out = subprocess.run([sys.executable, "-c", STAGES, question], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True)
    rows = [line.split("\t") for line in out.stdout.strip().splitlines()]
    return [(name, float(sec)) for name, sec in rows if name != "loaded"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="cli_startup.json of an earlier commit, shown side by side")
    args = parser.parse_args()
    baseline = json.loads(args.baseline.read_text(encoding="utf-8")) if args.baseline else None
    with tempfile.TemporaryDirectory(prefix="procure-cli-bench-") as tmp:
        env = _env(Path(tmp) / "data")
        _run(["ask", RECOMMEND_EN, "--json"], env)  # first question on a fresh folder indexes the shipped corpus
        load_before = os.getloadavg()
        results: dict[str, Any] = {}
        for name, cmd in COMMANDS.items():
            _run(cmd, env)  # file-system caches warm, as for a user's second command
            walls, cpus = zip(*(_run(cmd, env) for _ in range(args.runs)), strict=True)
            results[name] = {"n": args.runs, "wall_median_s": statistics.median(walls), "wall_min_s": min(walls),
                             "cpu_median_s": statistics.median(cpus), "cpu_min_s": min(cpus)}
        load_after = os.getloadavg()
        loaded = {"import service.cli": _loaded("import service.cli", env),
                  "procure --help": _loaded("from service.cli import app\nimport typer.testing\n"
                                            "typer.testing.CliRunner().invoke(app, ['--help'])", env),
                  "procure ask (recommendation, en)": _loaded(
                      "import runpy\nsys.argv = ['procure', 'ask', " + repr(RECOMMEND_EN) + ", '--json']\n"
                      "try:\n    runpy.run_module('service.cli', run_name='__main__')\n"
                      "except SystemExit:\n    pass", env)}
        imports = _importtime(["ask", RECOMMEND_EN, "--json"], env)
        stages = _stages(env, RECOMMEND_EN)
    payload = {"machine": machine(), "load_before": load_before, "load_after": load_after, "commands": results,
               "heavy_modules_loaded": loaded, "ask_top_imports_s": imports,
               "ask_cpu_stages_s": stages}
    lines = [
        "# `procure` cold start (CLI start-up and one question per process)",
        "",
        f"Measured {payload['machine']['measured_at']} on {payload['machine']['cpu_count']} CPUs, Python "
        f"{payload['machine']['python']}; {args.runs} cold processes per command after one warm-up; "
        f"load average (1/5/15 min) before {', '.join(f'{x:.1f}' for x in load_before)}, after "
        f"{', '.join(f'{x:.1f}' for x in load_after)}. Run: `.venv/bin/python -m bench.cli_startup_bench`.",
        "",
        "CPU is user + system time of the process: on a quiet machine the wall clock is about this (one thread "
        "does the work); on this shared machine the wall clock also counts waiting for a core.",
        "",
        "| command | wall median s | wall min s | CPU median s | CPU min s |",
        "|---|---|---|---|---|",
        *(f"| {k} | {v['wall_median_s']:.2f} | {v['wall_min_s']:.2f} | {v['cpu_median_s']:.2f} | "
          f"{v['cpu_min_s']:.2f} |" for k, v in results.items()),
        "",
        "Heavy modules loaded: " + "; ".join(f"`{k}`: {', '.join(v) or 'none'}" for k, v in loaded.items()) + ".",
        "",
        "Largest imports of a cold `procure ask` (recommendation), `-X importtime`, cumulative seconds:",
        "",
        *(f"- `{name}` {secs:.2f} s" for name, secs in imports),
        "",
        "CPU seconds of a cold recommendation by stage (one fresh process, `process_time`):",
        "",
        "| stage | CPU s |",
        "|---|---|",
        *(f"| {name} | {secs:.2f} |" for name, secs in stages),
        f"| total | {sum(s for _, s in stages):.2f} |",
        "",
    ]
    if baseline is not None:
        before = baseline["commands"]
        lines += [
            f"Before (`{args.baseline.name}`, the same script, measured {baseline['machine']['measured_at']}, "
            "load before "
            f"{', '.join(f'{x:.1f}' for x in baseline['load_before'])}): CPU median s, before → now.",
            "",
            "| command | before CPU s | now CPU s | before wall s | now wall s |",
            "|---|---|---|---|---|",
            *(f"| {k} | {before[k]['cpu_median_s']:.2f} | {v['cpu_median_s']:.2f} | {before[k]['wall_median_s']:.2f} | "
              f"{v['wall_median_s']:.2f} |" for k, v in results.items() if k in before),
            "",
        ]
        payload["baseline"] = baseline
    write("cli_startup", payload, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
