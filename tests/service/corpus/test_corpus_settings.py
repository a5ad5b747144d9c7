"""Corpus settings: the PROCURE_CHROMA_URL alias and the reranker group."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.settings import Settings


def test_chroma_url_alias_selects_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCURE_CHROMA_URL", "http://10.1.2.3:9000")
    chroma = Settings().chroma
    assert (chroma.mode, chroma.host, chroma.port, chroma.ssl) == ("http", "10.1.2.3", 9000, False)
    monkeypatch.delenv("PROCURE_CHROMA_URL")
    monkeypatch.setenv("PROCURE_CHROMA__URL", "https://chroma.example")
    chroma = Settings().chroma
    assert (chroma.mode, chroma.host, chroma.port, chroma.ssl) == ("http", "chroma.example", 443, True)


def test_bad_chroma_url_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCURE_CHROMA_URL", "ftp://chroma")
    with pytest.raises(ValidationError, match="must look like http://host:port"):
        Settings()


def test_reranker_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().embeddings.reranker == "heuristic" and Settings().embeddings.mix_languages
    monkeypatch.setenv("PROCURE_EMBEDDINGS__RERANKER", "none")
    monkeypatch.setenv("PROCURE_EMBEDDINGS__MIX_LANGUAGES", "false")
    emb = Settings().embeddings
    assert emb.reranker == "none" and not emb.mix_languages
