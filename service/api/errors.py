"""Translate every error into an RFC 9457 problem+json response with a stable ``code``.

This module is the only place that maps domain error codes to HTTP status codes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.messages import error_list, first_error
from service.usecases import CorpusError, OptimizerError, UnknownSkuError, WorkCancelledError

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
    "work_cancelled": 503,
    "job_not_found": 404,
    "job_conflict": 409,
    "limit_exceeded": 422,
}
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 408: "request_timeout", 413: "payload_too_large", 414: "uri_too_long",
              415: "unsupported_media_type", 429: "rate_limited", 503: "unavailable", 504: "deadline_exceeded"}


class Problem(BaseModel):
    """RFC 9457 problem details: every error response of the API has this shape (``application/problem+json``)."""

    type: str = Field(description="URI naming the problem kind.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="One line saying what went wrong and how to fix it.")
    code: str = Field(description="Stable machine-readable code, e.g. validation_error, unknown_sku.")
    errors: list[dict[str, Any]] | None = Field(None, description="Validation problems (loc, msg, type).")
    suggestions: list[str] | None = Field(None, description="Close matches for an unknown id.")


class ProblemError(Exception):
    """Raise from dependencies to answer with a problem (401, 403, 429 …) and extra headers."""

    def __init__(self, status: int, code: str, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


def problem(status: int, code: str, title: str, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """Build a problem+json response (``extra`` goes into the body, ``headers`` onto the response)."""
    body = {
        "type": f"https://procure.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method the path supports, read from the OpenAPI document (so ``Allow`` and the schema agree)."""
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        pattern = "^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {m.upper() for m in item if m in _HTTP_METHODS}
    return sorted(methods)


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


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

    @app.exception_handler(WorkCancelledError)
    async def _cancelled(_: Request, exc: WorkCancelledError) -> JSONResponse:
        if exc.reason == "deadline":
            return problem(504, "deadline_exceeded", "Deadline exceeded", exc.message)
        return problem(503, "work_cancelled", "Work cancelled", exc.message, headers={"Retry-After": "5"})

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        title = exc.code.replace("_", " ").capitalize()
        return problem(exc.status, exc.code, title, exc.detail, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:  # every method of the path, not only those of the first route that matched
            headers["Allow"] = ", ".join(_allowed_methods(request)) or headers.get("Allow", "")
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail), headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem(500, "internal_error", "Internal error", "an unexpected error occurred; it has been logged")
