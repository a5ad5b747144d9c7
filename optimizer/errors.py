"""Errors raised by the domain core.

Hierarchy::

    OptimizerError                 root; carries a stable ``code``
    ├── CatalogError               a catalog or override file is invalid (code ``catalog_invalid``)
    ├── UnknownSkuError            an accelerator id or alias matched nothing (code ``unknown_sku``)
    ├── UnknownCountryError        not an ISO 3166-1 alpha-2 country code (code ``unknown_country``)
    ├── InvalidInputError          a request value is out of range or inconsistent (code ``invalid_input``)
    └── UnsupportedPrecisionError  the accelerator has no such precision (code ``unsupported_precision``)

The service layer is the only place that maps these codes onto HTTP status codes or exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence


class OptimizerError(Exception):
    """Root of the domain errors; ``code`` is stable and machine-readable."""

    code: str = "optimizer_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CatalogError(OptimizerError):
    """A catalog or override file failed validation."""

    code = "catalog_invalid"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class UnknownSkuError(OptimizerError):
    """No accelerator matches the given id or alias."""

    code = "unknown_sku"

    def __init__(self, sku: str, suggestions: Sequence[str]) -> None:
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown accelerator {sku!r}{hint} (see `procure catalog list`)")
        self.sku = sku
        self.suggestions = list(suggestions)


class UnknownCountryError(OptimizerError):
    """The country code is not an ISO 3166-1 alpha-2 code."""

    code = "unknown_country"

    def __init__(self, country: str, suggestions: Sequence[str] = ()) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown country code {country!r}: use an ISO 3166-1 alpha-2 code such as CN, US, DE{hint}")
        self.country = country


class InvalidInputError(OptimizerError):
    """A request value is out of range or inconsistent with another value."""

    code = "invalid_input"


class UnpricedError(InvalidInputError):
    """The catalog has no sourced price for the part (the cost model cannot price it)."""


class UnsupportedPrecisionError(OptimizerError):
    """The accelerator lacks the requested numeric precision."""

    code = "unsupported_precision"
