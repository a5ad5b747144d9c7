"""Corpus search and ingestion; reports name files relative to the ingested root, never by server path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corpus.errors import SourceError
from corpus.eval import RetrievalReport
from corpus.types import IngestReport, Passage, SearchFilters
from optimizer.cancel import checker, commit_point
from service.corpus_wiring import corpus_dir, ingest_allowed_dir
from service.usecases.context import AppContext


def search(ctx: AppContext, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Passage]:
    """Hybrid search (BM25 + vectors, fused); the index is opened (and bootstrapped) on first use."""
    return ctx.corpus.get().search(query, k=k, filters=filters)


def _relative(text: str, root: Path) -> str:
    try:
        rel = Path(text).resolve().relative_to(root)
    except (ValueError, OSError):
        return Path(text).name
    return "." if str(rel) == "." else rel.as_posix()


def scrub_paths(report: IngestReport, root: Path) -> IngestReport:
    """The report with every path made relative to ``root`` (no absolute server path leaves the service)."""
    root = root.resolve()
    return report.model_copy(update={
        "root": _relative(report.root, root),
        "failed": [f.model_copy(update={"path": _relative(f.path, root),
                                        "error": f.error.replace(str(root) + "/", "").replace(str(root), ".")})
                   for f in report.failed],
    })


def ingest(ctx: AppContext, path: Path | str | None = None, *, restricted: bool = False, wait_s: float | None = None,
           **kwargs: Any) -> IngestReport:
    """Index a file or folder incrementally (default: the configured corpus folder).

    Args:
        ctx: Application context.
        path: File or folder; relative paths are taken from the allowed folder when ``restricted``.
        restricted: Only paths under ``ingest_allowed_dir`` are accepted (HTTP), the request is committed as a
            whole (atomic) and the report's paths are relative.

    Under a work control (an HTTP request) the ingestion stops when the request is cancelled (deadline, client
    gone, shutdown): the lock is released at once and nothing is committed after the request's commit point.
        wait_s: How long to wait for another ingestion (default ``settings.ingest_wait_s``).
        **kwargs: ``progress`` / ``on_wait`` callbacks passed to the index.

    Raises:
        SourceError: the path is outside the allowed folder (restricted) or unreadable.
    """
    settings = ctx.settings
    wait = settings.ingest_wait_s if wait_s is None else wait_s
    if restricted:
        allowed = ingest_allowed_dir(settings)
        target = Path(path) if path is not None else allowed
        target = target if target.is_absolute() else allowed / target
        try:
            report = ctx.corpus.get().ingest(target, allowed_root=allowed, wait_s=wait, atomic=True,
                                             check=checker(), before_commit=commit_point, **kwargs)
        except SourceError as exc:
            message = exc.message
            for text, name in ((str(target), "the given path"), (str(allowed.resolve()), "<allowed folder>"),
                               (str(allowed), "<allowed folder>")):
                message = message.replace(text, name)
            raise SourceError(message) from None
        return scrub_paths(report, allowed)
    root = Path(path) if path is not None else corpus_dir(settings)
    return ctx.corpus.get(bootstrap=False).ingest(root, wait_s=wait, check=checker(), **kwargs)


def source_count(ctx: AppContext, path: Path | str | None = None) -> int:
    """How many documents an ingestion of ``path`` (default: the corpus folder) would read."""
    from corpus.loaders import find_sources

    return len(find_sources(Path(path) if path is not None else corpus_dir(ctx.settings)))


def evaluate_retrieval(ctx: AppContext, file: Path, *, k: int = 5) -> RetrievalReport:
    """recall@k and MRR of search on a JSONL question file.

    Raises:
        CorpusError: the file is unreadable or the index cannot be opened.
    """
    from corpus.eval import evaluate, load_questions

    questions = load_questions(file)
    return evaluate(ctx.corpus.get(), questions, k=k, file=str(file))
