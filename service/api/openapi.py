"""The OpenAPI document, made to match what the service really answers.

FastAPI documents only the success response and a ``422 HTTPValidationError``. Every error this service sends
is ``application/problem+json`` (:class:`service.api.errors.Problem`), and the middleware and dependencies add
statuses of their own (401/403/429 from keys and rate limits, 408/413 from body limits, 414 from path limits,
503/504 from deadlines and overload). :func:`install_openapi` rewrites each operation's responses to list them.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from service.api.errors import Problem
from service.api.security import keys_required
from service.settings import Settings
from service.usecases import PHYSICAL_BOUNDS

_DESCRIPTIONS = {
    "400": "The body could not be parsed (for example, it is not UTF-8).",
    "401": "No API key, or an unknown or revoked one (keys are required on non-loopback binds).",
    "403": "The API key lacks the scope this operation needs.",
    "404": "An accelerator, document or resource named in the request does not exist.",
    "408": "The client sent the body too slowly.",
    "409": "Another ingestion holds the index.",
    "413": "The body is larger than the limit (counted as it arrives, chunked too).",
    "414": "A path segment is longer than the limit.",
    "422": "The request is invalid (bad field, non-finite number, limit exceeded).",
    "429": "Rate limit or quota reached; see Retry-After.",
    "500": "Unexpected error (logged with the request id).",
    "503": "Overloaded, shutting down, or a dependency (index, database) is unavailable; see Retry-After.",
    "504": "The request's deadline passed and its work was cancelled.",
}


def _statuses(path: str, method: str, op: dict[str, Any]) -> set[str]:
    out = {"500"}
    has_body = "requestBody" in op
    params = op.get("parameters", [])
    if path.startswith("/v1/"):
        out |= {"401", "403", "404", "422", "429", "503", "504"}
    elif path == "/metrics":
        out |= {"401", "403", "429"}
    if has_body:
        out |= {"400", "408", "413", "422"}
    if any(p.get("in") == "path" for p in params):
        out |= {"404", "414"}
    if any(p.get("in") == "query" for p in params):
        out.add("422")
    if path.startswith("/v1/corpus"):
        out |= {"409", "503"}
    if path == "/readyz":
        out.add("503")
    return out


def build_openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The corrected OpenAPI document of ``app``."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "API key pk_… (`procure keys create`)."},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    problem_content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    retry_after = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses: dict[str, Any] = op["responses"]
            for status in sorted(_statuses(path, method, op)):
                entry: dict[str, Any] = {"description": _DESCRIPTIONS[status], "content": problem_content}
                if status in ("429", "503"):
                    entry["headers"] = retry_after
                responses[status] = entry
            for param in op.get("parameters", []):
                if param.get("in") == "path":
                    param.setdefault("schema", {}).setdefault("maxLength", settings.limits.max_path_chars)
            if path.startswith("/v1/") or path == "/metrics":  # {}: no key needed (loopback, keys not forced)
                op["security"] = ([] if keys_required(settings) else [{}]) + [{"bearer": []}, {"apiKey": []}]
    state_bounds(schema)
    return schema


def _refs(node: Any) -> set[str]:
    """Component names referenced anywhere in ``node``."""
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    return set()


def _numeric_branches(prop: dict[str, Any]) -> list[dict[str, Any]]:
    """The number/integer schemas of a property (itself, its anyOf branches, or its map values)."""
    out = [b for b in [prop, *prop.get("anyOf", [])] if b.get("type") in ("number", "integer")]
    values = prop.get("additionalProperties")
    if isinstance(values, dict):
        out += _numeric_branches(values)
    return out


def state_bounds(schema: dict[str, Any]) -> None:
    """Write the physical bounds (:data:`service.usecases.PHYSICAL_BOUNDS`) into every request body schema.

    The core models leave some numbers unbounded (their bound is enforced by the application layer); the document
    says the bound as ``maximum`` and in the description, so clients and fuzzers see what is refused.
    """
    components = schema.get("components", {}).get("schemas", {})
    bodies = _refs([op.get("requestBody", {}) for item in schema.get("paths", {}).values()
                    for op in item.values() if isinstance(op, dict)])
    seen: set[str] = set()
    while bodies - seen:
        name = (bodies - seen).pop()
        seen.add(name)
        component = components.get(name, {})
        bodies |= _refs(component)
        for prop_name, prop in component.get("properties", {}).items():
            bound = PHYSICAL_BOUNDS.get(prop_name)
            branches = _numeric_branches(prop) if bound is not None else []
            if bound is None or not branches:
                continue
            for branch in branches:
                if "maximum" not in branch and "exclusiveMaximum" not in branch:
                    branch["maximum"] = bound.maximum
            note = f"At most {bound.maximum:g} {bound.unit} (physical bound: {bound.why})."
            if note not in prop.get("description", ""):
                prop["description"] = f"{prop.get('description', '')} {note}".strip()


def install_openapi(app: FastAPI, settings: Settings) -> None:
    """Replace ``app.openapi`` with the corrected, cached document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
