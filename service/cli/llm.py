"""``procure llm serve``: the local language model behind an OpenAI-compatible server."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from service.cli._common import err_console

app = typer.Typer(no_args_is_help=True, help="The local language model (SmolLM2-135M-Instruct on llama.cpp).")


@app.command("serve")
def serve(
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8080,
    host: Annotated[str, typer.Option(help="Bind address (loopback unless you mean to share it).")] = "127.0.0.1",
    n_ctx: Annotated[int, typer.Option("--n-ctx", help="Context window in tokens.", min=512, max=8192)] = 4096,
    threads: Annotated[int | None, typer.Option(
        help="CPU threads for prompts and replies (default: llama.cpp's, all CPUs for prompts, half for replies).",
        min=1)] = None,
    cache_mb: Annotated[int, typer.Option("--cache-mb", min=0, max=65536,
                                          help="RAM for cached prompt states (0: off): a request resumes from the "
                                               "longest cached prefix. llama-cpp-python also keeps ~100 MB of "
                                               "logits per state outside this limit, so 256 uses ~3 GB more.")] = 0,
) -> None:
    """Start llama.cpp's OpenAI-compatible server on the packaged model (foreground; Ctrl+C stops it).

    Then set PROCURE_LLM_BASE_URL=http://HOST:PORT/v1 and PROCURE_LLM_MODEL=smollm2-135m-instruct.
    """
    from service.agent.local_model import MODEL_NAME, LocalModelUnavailableError, server_command

    try:
        cmd = server_command(host, port, n_ctx=n_ctx, threads=threads, cache_bytes=cache_mb << 20)
    except LocalModelUnavailableError as exc:
        err_console.print(f"error: {exc}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2) from None
    url = f"http://{host}:{port}/v1"
    err_console.print(f"serving {MODEL_NAME} on {url} — set PROCURE_LLM_BASE_URL={url} PROCURE_LLM_MODEL={MODEL_NAME}",
                      highlight=False, markup=False, soft_wrap=True)
    sys.stderr.flush()
    os.execv(cmd[0], cmd)  # noqa: S606 - our own argv; the server takes this process (signals reach it directly)
