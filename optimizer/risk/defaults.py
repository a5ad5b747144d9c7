"""Load the embedded risk and switching defaults (optimizer/data/risk.yaml), validated once per process."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml
from pydantic import ValidationError

from optimizer.errors import CatalogError
from optimizer.risk.spec import RiskDefaults

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same safe load, faster

_FILE = "risk.yaml"


def parse_defaults(text: str, origin: str = _FILE) -> RiskDefaults:
    """Validate a defaults document.

    Raises:
        CatalogError: the text is not valid YAML or breaks the schema.
    """
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        raise CatalogError("not valid YAML", path=origin) from None
    try:
        return RiskDefaults.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CatalogError(f"{where}: {first['msg']}", path=origin) from None


@lru_cache(maxsize=1)
def load_defaults() -> RiskDefaults:
    """The embedded defaults (cached)."""
    text = resources.files("optimizer.data").joinpath(_FILE).read_text(encoding="utf-8")
    return parse_defaults(text, f"optimizer/data/{_FILE}")
