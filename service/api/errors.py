"""Translate every error into an RFC 9457 problem+json response with a stable ``code``.

This module is the only place that maps domain error codes to HTTP status codes.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.messages import error_list, first_error
from service.usecases import CorpusError, OptimizerError, UnknownSkuError

log = logging.getLogger("procure.api")

PROBLEM_JSON = "application/problem+json"
STATUS_BY_CODE: dict[str, int] = {
    "unknown_sku": 404,
    "unknown_country": 422,
    "invalid_input": 422,
    "unsupported_precision": 422,
    "catalog_invalid": 422,
    "invalid_query": 422,
    "source_invalid": 422,
    "index_unavailable": 503,
    "index_busy": 409,
    "job_not_found": 404,
    "job_conflict": 409,
}


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    """Build a problem+json response."""
    body = {
        "type": f"https://procure.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(OptimizerError)
    async def _optimizer(_: Request, exc: OptimizerError) -> JSONResponse:
        status = STATUS_BY_CODE.get(exc.code, 422)
        extra: dict[str, Any] = {}
        if isinstance(exc, UnknownSkuError):
            extra["suggestions"] = exc.suggestions
        return problem(status, exc.code, exc.__class__.__name__, exc.message, **extra)

    @app.exception_handler(CorpusError)
    async def _corpus(_: Request, exc: CorpusError) -> JSONResponse:
        status = STATUS_BY_CODE.get(exc.code, 422)
        return problem(status, exc.code, exc.__class__.__name__, exc.message)

    @app.exception_handler(RequestValidationError)
    @app.exception_handler(ValidationError)
    async def _validation(_: Request, exc: RequestValidationError | ValidationError) -> JSONResponse:
        errors = list(exc.errors())
        return problem(422, "validation_error", "Request validation failed", first_error(errors),
                       errors=error_list(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        code = codes.get(exc.status_code, "http_error")
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem(500, "internal_error", "Internal error", "an unexpected error occurred; it has been logged")
