"""Read purchase requests from YAML/JSON files or from single-workload CLI flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from optimizer.errors import InvalidInputError
from optimizer.request import PurchaseRequest


def read_data_file(path: Path, what: str = "request") -> Any:
    """Parse a YAML or JSON file (JSON when the suffix is ``.json``).

    Raises:
        InvalidInputError: the file is missing, unreadable or not valid YAML/JSON.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{what} file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {what} file {path} ({exc.__class__.__name__})") from None
    try:
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError):
        raise InvalidInputError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}") from None


def load_request_file(path: Path) -> PurchaseRequest:
    """Parse a YAML or JSON request file.

    Raises:
        InvalidInputError: unreadable file or not a mapping; pydantic ValidationError for bad fields.
    """
    data = read_data_file(path)
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: the request must be a mapping with `workloads` and `buyer`")
    return PurchaseRequest.model_validate(data)
