"""Data packs over HTTP: status (read scope); diff, import and rollback (admin scope)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from service import usecases
from service.deps import ContextDep
from service.usecases import DataStatus, ImportResult, PackDiff, RollbackResult

router = APIRouter(prefix="/v1/data", tags=["data"])
_MAX_TEXT = 5_000_000


class PackUpload(BaseModel):
    """One pack as YAML text, with a name for messages (a file name)."""

    model_config = ConfigDict(extra="forbid")

    content: str = Field(min_length=1, max_length=_MAX_TEXT, description="The pack file's YAML text.")
    label: str = Field("upload", min_length=1, max_length=200, description="Shown in messages.")


class DataImportCreate(BaseModel):
    """Body of ``POST /v1/data/imports``."""

    model_config = ConfigDict(extra="forbid")

    packs: list[PackUpload] = Field(min_length=1, max_length=6)
    force: bool = Field(False, description="Install even a pack older than the one in use.")


class DataDiffCreate(BaseModel):
    """Body of ``POST /v1/data/diffs``: a new pack against the one in use (or against ``old``)."""

    model_config = ConfigDict(extra="forbid")

    new: PackUpload
    old: PackUpload | None = Field(None, description="Default: the pack of the same name in use.")
    date: dt.date | None = Field(None, description="Date the sampled verdicts are checked on (default today).")
    countries: list[str] = Field(default_factory=list, max_length=30)
    skus: list[str] = Field(default_factory=list, max_length=60)


@router.get("", response_model=DataStatus)
def read_data_status(ctx: ContextDep, date: Annotated[dt.date | None, Query(
        description="Measure ages on this date (default today).")] = None) -> DataStatus:
    """Every data pack in use: version, as-of date, age in days, origin and record counts."""
    return usecases.data_status(ctx, today=date)


@router.post("/diffs", response_model=PackDiff)
def create_data_diff(body: DataDiffCreate, ctx: ContextDep) -> PackDiff:
    """What a pack changes against the one in use: rules, sampled verdicts, prices, parts and listed parties."""
    texts = {f"new:{body.new.label}": body.new.content}
    old = None
    if body.old is not None:
        old = f"old:{body.old.label}"
        texts[old] = body.old.content
    return usecases.data_diff(ctx, old, f"new:{body.new.label}", on=body.date, countries=body.countries or None,
                              skus=body.skus or None, texts=texts)


@router.post("/imports", response_model=ImportResult, status_code=201)
def create_data_import(body: DataImportCreate, ctx: ContextDep) -> ImportResult:
    """Validate the packs with the rest of the data and install them atomically (the previous ones are kept)."""
    return usecases.data_import(ctx, [(p.label, p.content) for p in body.packs], force=body.force)


@router.post("/rollbacks", response_model=RollbackResult)
def create_data_rollback(ctx: ContextDep) -> RollbackResult:
    """Undo the last import."""
    return usecases.data_rollback(ctx)
