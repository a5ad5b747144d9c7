"""One validated settings object for the whole service, read from ``PROCURE_*`` environment variables.

Nested groups use a double underscore: ``PROCURE_CHROMA__MODE=http``, ``PROCURE_SOLVER__TIME_LIMIT_S=2``.
Lists are JSON: ``PROCURE_CATALOG_FILES='["extra.yaml"]'``. A ``.env`` file in the working directory is read too.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError


class ChromaSettings(BaseModel):
    """Where the dense vector index lives."""

    mode: Literal["embedded", "http"] = Field("embedded", description="embedded PersistentClient or a Chroma server.")
    path: Path | None = Field(None, description="PersistentClient folder; default <data_dir>/chroma.")
    host: str = "127.0.0.1"
    port: int = Field(8001, ge=1, le=65535)
    collection: str = "procure-corpus"
    url: str | None = Field(
        None,
        description="Chroma server URL (http://host:port or https://…); when set it selects mode http and overrides "
        "host and port. PROCURE_CHROMA_URL is an alias.",
    )

    @model_validator(mode="after")
    def _url_selects_server(self) -> ChromaSettings:
        if self.url:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"chroma url {self.url!r} must look like http://host:port")
            self.mode = "http"
            self.host = parts.hostname
            self.port = parts.port or (443 if parts.scheme == "https" else 8000)
        return self

    @property
    def ssl(self) -> bool:
        """True for an https:// server URL."""
        return bool(self.url and self.url.startswith("https://"))


class EmbeddingSettings(BaseModel):
    """Which embedding function the corpus index uses."""

    provider: Literal["hashing", "sentence_transformers", "openai"] = Field(
        "hashing", description="hashing works offline with no model; the others need a local path or an endpoint."
    )
    model_path: Path | None = Field(None, description="Local sentence-transformers model folder.")
    base_url: str | None = Field(None, description="OpenAI-compatible embeddings endpoint.")
    model: str | None = None
    api_key: SecretStr | None = None
    dimensions: int = Field(512, ge=16, le=8192, description="Vector size of the hashing embedding.")
    reranker: Literal["heuristic", "cross_encoder", "none"] = Field(
        "heuristic",
        description="Rescoring of fused search candidates: bilingual concept coverage (offline), a cross-encoder "
        "model from reranker_model_path, or none.",
    )
    reranker_model_path: Path | None = Field(None, description="Local sentence-transformers CrossEncoder folder.")
    rerank_weight: float = Field(2.0, ge=0, le=100, description="Weight of the reranker next to the fused score.")
    mix_languages: bool = Field(
        True, description="Without a language filter, reserve 2 of 5 places for the language the query is not in."
    )


class SolverSettings(BaseModel):
    """CP-SAT limits for interactive recommendations."""

    time_limit_s: float = Field(5.0, gt=0, le=600, description="CP-SAT time limit per solve stage.")
    num_workers: int = Field(
        1, ge=1, le=64, description="CP-SAT workers; the models are small, one worker is fastest and deterministic."
    )
    break_even_parts: int = Field(
        8, ge=0, le=50, description="Unpriced admissible parts whose break-even price a recommendation searches "
        "(0 turns the search off; parts missing figures are always listed)."
    )


class LimitSettings(BaseModel):
    """Per-request bounds on work and input (HTTP); exceeding one is a 422, a 413 or a 503/504 problem."""

    max_workloads: int = Field(10, ge=1, le=20, description="Workloads in one recommendation request.")
    max_alternatives: int = Field(5, ge=0, le=10, description="Alternative plans one request may ask for.")
    max_pareto_points: int = Field(8, ge=1, le=15, description="Points of the cost/time frontier per request.")
    solver_budget_s: float = Field(
        20.0, gt=0, le=600, description="CP-SAT seconds all solves of one request may spend together."
    )
    request_deadline_s: float = Field(
        30.0, gt=0, le=3600, description="After this the solve is cancelled and 504 returned (503 when queued)."
    )
    max_concurrent_solves: int = Field(
        4, ge=1, le=256, description="Heavy requests (plans, what-ifs, ingests) run at once; the rest queue."
    )
    max_path_chars: int = Field(255, ge=16, le=4096, description="Longest path parameter or server path accepted.")
    body_timeout_s: float = Field(15.0, gt=0, le=600, description="Longest wait for the next chunk of a body.")
    estimate_cache_entries: int = Field(
        5_000, ge=1, le=1_000_000, description="LRU bound of the estimate cache (about 17 KB per entry measured)."
    )
    header_timeout_s: float = Field(10.0, gt=0, le=600, description="A connection must send its headers within this.")
    keep_alive_s: float = Field(5.0, gt=0, le=600, description="Idle keep-alive connections are closed after this.")
    max_connections: int = Field(
        200, ge=1, le=100_000, description="Open connections + tasks before uvicorn answers 503 (keep under ulimit -n)."
    )
    graceful_shutdown_s: int = Field(10, ge=1, le=600, description="Longest wait for requests at shutdown.")
    max_risk_samples: int = Field(
        1000, ge=1, le=2000, description="Scenarios one hedged recommendation may draw (`risk.samples`)."
    )


class SecuritySettings(BaseModel):
    """API keys, rate limits, CORS and docs exposure."""

    require_keys: bool | None = Field(
        None, description="Require API keys; default: required when binding a non-loopback address."
    )
    secret: SecretStr | None = Field(
        None, description="Server secret for HMAC-SHA256 key digests; default: generated in <data_dir>/keys.secret."
    )
    rate_limit: str = Field("120/minute", description="Requests per key (or client address), `limits` notation.")
    quota: str = Field("20000/day", description="Requests per key per period, `limits` notation.")
    storage_url: str = Field("memory://", description="Rate-limit counters: memory:// or redis://host:6379.")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS; empty: closed.")
    docs: bool | None = Field(None, description="Serve /docs and /openapi.json; default: not in production.")
class JobSettings(BaseModel):
    """Batch jobs: worker count, leases, claim size, and whether the API process runs submitted jobs."""

    workers: int = Field(2, ge=1, le=512, description="Worker processes (or Ray tasks) per job.")
    lease_s: float = Field(60.0, gt=0, le=3600, description="A scenario whose worker is silent this long is rerun.")
    claim_batch: int = Field(8, ge=1, le=1000, description="Scenarios a worker claims at a time.")
    poll_s: float = Field(0.5, gt=0, le=60, description="How often idle workers look for reclaimable scenarios.")
    max_attempts: int = Field(3, ge=1, le=100, description="Tries before a scenario that kills workers fails.")
    run_in_api: bool = Field(True, description="The API process runs submitted jobs (off when a worker service does).")
    max_scenarios: int = Field(
        20_000, ge=1, le=2_000_000,
        description="Scenarios one sweep may expand to, checked from the spec before any work (422 above it). "
        "20,000 runs in 2-7 minutes on 2 cores at the measured 3,000-12,000 scenarios/min and expands within the "
        "request deadline on a loaded machine; raise it with the cores (the expansion streams, memory stays flat).")
    retry_max_s: float = Field(
        30.0, gt=0, le=3600, description="Longest pause between a worker's retries while the database or Ray is away.")
    state_file: Path | None = Field(
        None, description="Where `procure batch worker` reports its state for health checks; default "
        "<data_dir>/worker-state.json.")


class Settings(BaseSettings):
    """Service settings; build with :func:`get_settings` and inject, never read inside the core packages."""

    model_config = SettingsConfigDict(env_prefix="PROCURE_", env_nested_delimiter="__", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    data_dir: Path = Field(Path("data"), description="Folder for the index, databases and caches.")
    catalog_files: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="User catalog files applied over the embedded one (JSON list, or "
        "one path, or paths separated by commas)."
    )
    rule_files: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Extra compliance rule packs (JSON list, one path, or comma-separated)."
    )
    corpus_dir: Path | None = Field(None, description="Documents to index; default: the shipped corpus/sources.")
    ingest_allowed_dir: Path | None = Field(
        None, description="Only files under this folder may be ingested over HTTP; default: corpus_dir."
    )
    ingest_wait_s: float = Field(
        60.0, ge=0, le=86_400, description="How long an ingestion waits for another one to finish before failing."
    )
    max_request_bytes: int = Field(1_000_000, ge=1_000)
    warm_index: bool = Field(True, description="Open the corpus index in the background at start-up (/readyz).")
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    chroma_url: str | None = Field(None, description="Alias of chroma.url (PROCURE_CHROMA_URL): use a Chroma server.")
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    solver: SolverSettings = Field(default_factory=SolverSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the service database (sessions, jobs, keys); "
        "default: a SQLite file <data_dir>/procure.db. PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    ray_address: str | None = Field(
        None, description="Ray cluster for batch jobs (e.g. ray://head:10001); unset: the local process pool."
    )
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible chat endpoint (vLLM, Ollama, DeepSeek, Qwen…); unset: no LLM."
    )
    llm_model: str | None = Field(None, description="Model name sent to the LLM endpoint.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the LLM endpoint.")
    llm_timeout_s: float = Field(30.0, gt=0, le=600, description="Timeout of one LLM call.")

    @field_validator("catalog_files", "rule_files", mode="before")
    @classmethod
    def _path_list(cls, value: object) -> object:
        """Accept ``'["a.yaml", "b.yaml"]'``, ``a.yaml`` or ``a.yaml,b.yaml`` from the environment."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise ValueError('not a valid JSON list; write ["a.yaml", "b.yaml"] or a.yaml,b.yaml') from None
        return [part.strip() for part in text.split(",") if part.strip()]

    @property
    def resolved_database_url(self) -> str:
        """``database_url`` or the default SQLite file under ``data_dir``."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'procure.db').resolve()}"

    @property
    def llm_enabled(self) -> bool:
        """True when an LLM endpoint and model are configured."""
        return bool(self.llm_base_url and self.llm_model)

    @model_validator(mode="after")
    def _chroma_url_alias(self) -> Settings:
        if self.chroma_url and not self.chroma.url:
            self.chroma = ChromaSettings.model_validate({**self.chroma.model_dump(), "url": self.chroma_url})
        return self

    @property
    def chroma_path(self) -> Path:
        """Folder of the embedded Chroma index."""
        return self.chroma.path or self.data_dir / "chroma"


class SettingsInvalidError(Exception):
    """The environment (or ``.env``) holds a setting that cannot be read; ``message`` is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _env_name(loc: tuple[int | str, ...]) -> str:
    return "PROCURE_" + "__".join(str(p).upper() for p in loc if not isinstance(p, int))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings from the environment, built once per process.

    Raises:
        SettingsInvalidError: a ``PROCURE_*`` variable has a value that cannot be read (one-line message).
    """
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        raise SettingsInvalidError(f"setting {_env_name(tuple(first['loc']))}: {msg}{more}") from None
    except SettingsError as exc:
        text = str(exc)
        field = text.split('field "', 1)[1].split('"', 1)[0] if 'field "' in text else ""
        name = _env_name((field,)) if field else "a PROCURE_* variable"
        raise SettingsInvalidError(f"setting {name}: cannot be read ({text.split(':')[0]})") from None
