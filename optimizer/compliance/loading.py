"""Build a compliance engine from packs given as values (the embedded ones by default) and extra rule files."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from optimizer.catalog import Catalog
from optimizer.compliance.engine import ComplianceEngine
from optimizer.compliance.schema import CountryGroupPack, RulePack
from optimizer.compliance.screening import ScreeningPack
from optimizer.errors import CatalogError
from optimizer.packs import PackInfo, PackText, parse_yaml, with_embedded

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the same safe load, faster

_M = TypeVar("_M", bound=BaseModel)


def load_countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 codes mapped to English short names."""
    text = resources.files("optimizer.data").joinpath("countries.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_YAML_LOADER)
    return {str(k): str(v) for k, v in data.items()}


def _parse(model: type[_M], text: str, origin: str) -> _M:
    raw = parse_yaml(text, origin)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        loc = ".".join(str(p) for p in first["loc"])
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise CatalogError(f"{loc}: {first['msg'].removeprefix('Value error, ')}{more}", path=origin) from None


def parse_rule_pack(text: str, origin: str) -> RulePack:
    """A rule pack from YAML text.

    Raises:
        CatalogError: not YAML, or a field is invalid (the message names it).
    """
    return _parse(RulePack, text, origin)


def parse_group_pack(text: str, origin: str) -> CountryGroupPack:
    """The country-group pack from YAML text."""
    return _parse(CountryGroupPack, text, origin)


def parse_screening_pack(text: str, origin: str) -> ScreeningPack:
    """The screening pack from YAML text."""
    return _parse(ScreeningPack, text, origin)


def _origin(pack: PackText, path: str) -> str:
    return path if pack.origin == "embedded" else pack.origin


def engine_from_packs(catalog: Catalog, packs: Mapping[str, PackText] | None = None,
                      extra_rule_files: Iterable[Path | str] = ()) -> ComplianceEngine:
    """Bind the rule packs (``us_rules``, ``cn_measures``, ``country_groups``, ``screening``) to ``catalog``.

    Missing packs are taken from the package; extra rule files (no header needed) are added after them.

    Raises:
        CatalogError: a pack is invalid or references unknown SKUs, groups, rules or sources.
    """
    chosen = with_embedded(packs)
    us = parse_rule_pack(chosen["us_rules"].text, _origin(chosen["us_rules"], "rules/us_bis.yaml"))
    cn = parse_rule_pack(chosen["cn_measures"].text, _origin(chosen["cn_measures"], "rules/cn_measures.yaml"))
    groups = parse_group_pack(chosen["country_groups"].text,
                              _origin(chosen["country_groups"], "rules/country_groups.yaml"))
    screening = parse_screening_pack(chosen["screening"].text, _origin(chosen["screening"], "rules/screening.yaml"))
    rule_packs = [us, cn]
    for path in extra_rule_files:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(f"cannot read rule pack ({exc.__class__.__name__})", path=str(p)) from None
        rule_packs.append(parse_rule_pack(text, str(p)))
    infos = [PackInfo.of(h, chosen[n].origin) for n, h in (("us_rules", us.pack), ("cn_measures", cn.pack),
                                                            ("country_groups", groups.pack),
                                                            ("screening", screening.pack)) if h is not None]
    infos += [i for i in catalog.packs if i.name not in {x.name for x in infos}]
    return ComplianceEngine(catalog, rule_packs, load_countries(), groups=groups, screening=screening, infos=infos)


def load_engine(catalog: Catalog, extra_rule_files: Iterable[Path | str] = ()) -> ComplianceEngine:
    """Load the embedded rule packs (plus any extra pack files) and bind them to ``catalog``.

    Raises:
        CatalogError: a pack file is invalid or references unknown SKUs, groups, rules or sources.
    """
    return engine_from_packs(catalog, None, extra_rule_files)


__all__ = ["engine_from_packs", "load_countries", "load_engine", "parse_group_pack", "parse_rule_pack",
           "parse_screening_pack"]
