"""A file copy of the live chunks' vectors as read from Chroma, so a cold search process need not open Chroma.

:class:`corpus.index.CorpusIndex` scores a corpus of up to ``EXACT_MAX_ROWS`` chunks exactly against an
in-memory copy of their vectors, read from Chroma on the first search. Importing and opening Chroma costs a
cold process about half a second of CPU; this module keeps that copy in a ``.npz`` file (in the data folder's
cache folder), written after each read from Chroma, and gives it back only for the same manifest generation, the
same pipeline (loader, chunker, tokenizer, embedding) and the same rows (chunk id and document version). Any
ingestion, by any process, moves the generation, so a stale copy is never used; the vectors are the ones Chroma
returned, so rankings are identical whether they come from the file or from Chroma.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
FORMAT = "procure-vectors-v1"


@dataclass(frozen=True)
class CachedVectors:
    """Vectors of one manifest generation's rows, in row order."""

    generation: int
    pipeline: str
    keys: list[tuple[str, str]]
    """(chunk id, document version) per row."""
    matrix: np.ndarray[Any, np.dtype[np.float32]]
    present: np.ndarray[Any, np.dtype[np.bool_]]


def load(path: Path, *, generation: int, pipeline: str, keys: list[tuple[str, str]]) -> CachedVectors | None:
    """The copy at ``path`` when it was written for this generation, pipeline and rows; else None.

    A missing, unreadable or foreign file is None (the caller reads Chroma instead).
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != FORMAT or int(data["generation"]) != generation:
                return None
            if str(data["pipeline"]) != pipeline:
                return None
            ids, versions = data["chunk_ids"].tolist(), data["versions"].tolist()
            if len(ids) != len(keys) or list(zip(ids, versions, strict=True)) != keys:
                return None
            matrix = np.asarray(data["matrix"], dtype=np.float32)
            present = np.asarray(data["present"], dtype=np.bool_)
    except (OSError, KeyError, ValueError, TypeError):  # absent, half-written or from another release
        return None
    if matrix.shape[0] != len(keys) or present.shape != (len(keys),):
        return None
    return CachedVectors(generation, pipeline, keys, matrix, present)


def save(path: Path, vectors: CachedVectors) -> None:
    """Write the copy atomically (a reader sees the old file or the new one); errors only logged."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".npz", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                format=np.array(FORMAT),
                generation=np.array(vectors.generation),
                pipeline=np.array(vectors.pipeline),
                chunk_ids=np.array([k[0] for k in vectors.keys], dtype=np.str_),
                versions=np.array([k[1] for k in vectors.keys], dtype=np.str_),
                matrix=vectors.matrix,
                present=vectors.present,
            )
        os.replace(tmp, path)
    except OSError as exc:  # a read-only data folder: the copy is an optimisation only
        log.debug("cannot save the vector copy %s: %s", path, exc)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
