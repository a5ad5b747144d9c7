"""Application-layer overhead: the same recommendation straight through the core, through service.usecases,
over HTTP (in-process TestClient), and CLI start-up for a command that never solves.

Run: .venv/bin/python -m bench.usecases_bench      (about half a minute on 2 CPUs)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import machine, time_calls, write

ROOT = Path(__file__).resolve().parents[1]
CHINA = ROOT / "examples" / "china_70b.yaml"


def main() -> None:
    from fastapi.testclient import TestClient

    from optimizer.recommend import recommend as core_recommend
    from service import usecases
    from service.app import create_app
    from service.container import build_context
    from service.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        ctx = build_context(settings)
        req = usecases.load_request_file(CHINA)
        dom, s = ctx.domain, settings.solver
        core = time_calls(lambda: core_recommend(dom.catalog, dom.engine, req, cache=dom.cache,
                                                 time_limit_s=s.time_limit_s, num_workers=s.num_workers), repeat=30)
        layer = time_calls(lambda: usecases.recommend(ctx, req), repeat=30)
        body = {"workloads": [{"params": "70B", "tokens": "1.4T"}], "buyer": {"country": "CN", "date": "2025-08-01"},
                "budget": "¥5000万", "objective": "min_time"}
        with TestClient(create_app(settings)) as client:
            http = time_calls(lambda: client.post("/v1/recommendations", json=body).raise_for_status(), repeat=30)
        starts = []
        exe = str(Path(sys.executable).parent / "procure")
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([exe, "catalog", "list", "--json"], check=True, capture_output=True,
                           env={"PROCURE_DATA_DIR": tmp, "PATH": "/usr/bin:/bin"})
            starts.append((time.perf_counter() - t0) * 1000)
    starts.sort()
    payload = {"machine": machine(), "recommend_core_warm": core, "recommend_usecases_warm": layer,
               "recommend_http_warm": http, "cli_catalog_list_ms_median": starts[len(starts) // 2]}
    md = [
        "# Application layer overhead", "",
        f"Measured {payload['machine']['measured_at']} on {payload['machine']['cpu_count']} CPUs "
        "(`python -m bench.usecases_bench`). Request: `examples/china_70b.yaml` (70B, ¥50M, CN, 2025-08-01), "
        "warm estimate cache, 30 calls each.", "",
        "| path | median ms | p95 ms |", "|---|---|---|",
        f"| `optimizer.recommend` (core, direct) | {core['median_ms']:.1f} | {core['p95_ms']:.1f} |",
        f"| `service.usecases.recommend` | {layer['median_ms']:.1f} | {layer['p95_ms']:.1f} |",
        f"| `POST /v1/recommendations` (TestClient, body in written notation) | {http['median_ms']:.1f} | "
        f"{http['p95_ms']:.1f} |", "",
        f"`procure catalog list --json` start to exit (never loads OR-Tools): median of 5 = "
        f"{payload['cli_catalog_list_ms_median']:.0f} ms.", "",
    ]
    write("usecases", payload, "\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
