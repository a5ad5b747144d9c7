"""A real Ray cluster started by address (``ray start --head`` on 127.0.0.1), stopped by process, not `ray stop`.

Every port Ray would open is a free one (other people's clusters may run on this machine), the session lives in a
short temporary folder (Ray's socket paths have a length limit), and teardown kills exactly the processes this
head started (``ray stop`` would stop every Ray on the machine).

Start-up is kept cheap: no log monitor (the drivers run with ``log_to_driver=False``, nothing reads the worker logs
it would forward; Ray's "(raylet) A worker died" errors reach a driver through the GCS, not through it), no metrics
collection, and readiness is read from ``ray start``'s own output rather than by polling ``ray status`` (each call a
Python process importing Ray: ~2 CPU-seconds, and the first ones after start-up answer without resources).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
           "RAY_enable_metrics_collection": "0"}
STARTED = b"Ray runtime started."  # `ray start` prints it once the raylet has registered with the GCS
PORT_FLAGS = ("object-manager-port", "node-manager-port", "ray-client-server-port", "dashboard-agent-listen-port",
              "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port")

WORKER_PORTS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RayHead:
    """``ray start --head --block`` on 127.0.0.1:``port`` with 2 CPUs; :meth:`stop` ends it and its children."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp = Path(tempfile.mkdtemp(prefix="rh-", dir="/tmp"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.temp / "head.log"

    def start(self, timeout: float = 90.0) -> RayHead:
        """Start the head and wait until it is up: ``ray start`` says so once its raylet registered with the GCS.

        (``ray start`` waits for that registration itself before it prints :data:`STARTED`, and flushes its output
        before it blocks; a driver may connect from then on.)
        """
        ray = str(Path(sys.executable).parent / "ray")
        low, flags = self._ports()
        cmd = [ray, "start", "--head", "--block", f"--port={self.port}", "--node-ip-address=127.0.0.1",
               "--num-cpus=2", "--include-dashboard=false", "--include-log-monitor=false", "--disable-usage-stats",
               f"--temp-dir={self.temp}", f"--min-worker-port={low}", f"--max-worker-port={low + WORKER_PORTS}",
               *flags]
        env = {**os.environ, **RAY_ENV}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while STARTED not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                output = self.log.read_text(errors="replace")[-3000:]
                self.stop()
                raise AssertionError(f"ray start --head did not come up: {output}")
            time.sleep(0.1)
        return self

    def _ports(self) -> tuple[int, list[str]]:
        """The worker port range and one distinct free port per component, none inside the range or equal to the head's.

        Free ports picked one by one may repeat, or fall inside the worker range (Ray refuses to start then: a CI run
        drew a node-manager port inside it).
        """
        low = free_port()
        while low + WORKER_PORTS > 65535 or low <= self.port <= low + WORKER_PORTS:
            low = free_port()
        taken = {self.port, *range(low, low + WORKER_PORTS + 1)}
        flags = []
        for flag in PORT_FLAGS:
            port = free_port()
            while port in taken:
                port = free_port()
            taken.add(port)
            flags.append(f"--{flag}={port}")
        return low, flags

    def stop(self) -> None:
        """Kill the head and every process it started (raylet, GCS, workers), then remove its folder."""
        if self.proc is not None:
            try:
                family = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]
            except psutil.NoSuchProcess:
                family = []
            for proc in family:
                with contextlib.suppress(psutil.NoSuchProcess):
                    proc.send_signal(signal.SIGKILL)
            psutil.wait_procs(family, timeout=20)
            self.proc.wait(timeout=20)
            self.proc = None
        shutil.rmtree(self.temp, ignore_errors=True)
