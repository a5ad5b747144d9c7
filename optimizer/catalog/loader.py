"""Load, merge and validate catalog files; resolve accelerator aliases."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optimizer.catalog.schema import (
    Accelerator,
    CostAssumptions,
    ExchangeRate,
    Figure,
    NetworkOption,
    NodeType,
    PriceRange,
    Source,
    SystemType,
)
from optimizer.errors import CatalogError, UnknownSkuError
from optimizer.packs import PackHeader, PackInfo, PackText, parse_yaml, with_embedded

CATALOG_SCHEMA_VERSION = 1
_T = TypeVar("_T", bound=BaseModel)
_DATA_PACKAGE = "optimizer.data"
_REGISTRY_FILE = "sources.yaml"
_CATALOG_PACKS = ("catalog", "prices")
_PRICE_FIELDS = frozenset({"id", "price", "price_reason"})
_VENDOR_PREFIXES = (
    "nvidia",
    "huawei",
    "amd",
    "intel",
    "cambricon",
    "hygon",
    "baidu",
    "kunlunxin",
    "英伟达",
    "华为",
    "寒武纪",
    "海光",
    "昆仑芯",
    "habana",
)


class CatalogFile(BaseModel):
    """The top-level shape of a catalog or override file."""

    model_config = ConfigDict(extra="forbid")

    pack: PackHeader | None = Field(None, description="Header of a dated data pack (catalog or prices).")
    schema_version: int = Field(CATALOG_SCHEMA_VERSION)
    sources: dict[str, Source] = Field(default_factory=dict)
    accelerators: list[dict[str, Any]] = Field(default_factory=list)
    nodes: list[dict[str, Any]] = Field(default_factory=list)
    networks: list[dict[str, Any]] = Field(default_factory=list)
    systems: list[dict[str, Any]] = Field(default_factory=list)
    exchange_rate: dict[str, Any] | None = None
    cost_assumptions: dict[str, Any] | None = None


def normalise_alias(text: str) -> str:
    """Lower-case and drop spaces, hyphens and underscores: ``"Ascend 910-B"`` -> ``"ascend910b"``."""
    return re.sub(r"[\s\-_/]+", "", text.strip().lower())


@dataclass(frozen=True)
class Catalog:
    """A validated catalog: accelerators, nodes, networks, exchange rate, cost defaults, sources."""

    accelerators: Mapping[str, Accelerator]
    nodes: Mapping[str, NodeType]
    networks: Mapping[str, NetworkOption]
    exchange_rate: ExchangeRate
    cost_assumptions: CostAssumptions
    sources: Mapping[str, Source]
    origin: tuple[str, ...] = ()
    systems: Mapping[str, SystemType] = field(default_factory=dict)
    packs: tuple[PackInfo, ...] = ()
    """Headers of the catalog and prices packs this catalog was built from."""
    _aliases: Mapping[str, str] = field(default_factory=dict, repr=False)

    def resolve(self, name: str) -> str:
        """Return the canonical SKU id for an id or alias (case-insensitive).

        Raises:
            UnknownSkuError: with the closest ids as suggestions.
        """
        key = normalise_alias(name)
        if key in self._aliases:
            return self._aliases[key]
        for prefix in _VENDOR_PREFIXES:
            if key.startswith(prefix) and key[len(prefix) :] in self._aliases:
                return self._aliases[key[len(prefix) :]]
        close = difflib.get_close_matches(key, list(self._aliases), n=6, cutoff=0.5)
        suggestions: list[str] = []
        for alias in close:
            sku = self._aliases[alias]
            if sku not in suggestions:
                suggestions.append(sku)
        raise UnknownSkuError(name, suggestions[:3])

    def accelerator(self, name: str) -> Accelerator:
        """Look up an accelerator by id or alias."""
        return self.accelerators[self.resolve(name)]

    def nodes_for(self, sku: str) -> list[NodeType]:
        """Node types that hold the given accelerator."""
        return [n for n in self.nodes.values() if n.accelerator == sku]

    def networks_for(self, vendor: str) -> list[NetworkOption]:
        """Scale-out fabrics that can connect the vendor's accelerators."""
        return [n for n in self.networks.values() if n.serves(vendor)]


def _read_yaml(text: str, origin: str) -> CatalogFile:
    raw = parse_yaml(text, origin, shape="top level must be a mapping with keys like `accelerators`, `nodes`")
    try:
        parsed = CatalogFile.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(_first_error(exc), path=origin) from None
    if parsed.schema_version != CATALOG_SCHEMA_VERSION:
        raise CatalogError(
            f"schema_version {parsed.schema_version} is not supported (expected {CATALOG_SCHEMA_VERSION})",
            path=origin,
        )
    return parsed


def _first_error(exc: ValidationError, prefix: str = "") -> str:
    errors = exc.errors()
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    where = f"{prefix}.{loc}" if prefix and loc else prefix or loc
    return f"{where}: {msg}{more}" if where else f"{msg}{more}"


_LEAF_KEYS = frozenset({"value", "reason", "supported", "base", "cny_per_usd"})
"""A mapping holding any of these keys is a whole figure or price: an override replaces it, never merges it,
so a new value cannot silently inherit the old value's source."""


def _deep_merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        is_leaf = isinstance(value, Mapping) and not _LEAF_KEYS.isdisjoint(value)
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and not is_leaf:
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _merge_records(kind: str, base: dict[str, dict[str, Any]], records: Iterable[dict[str, Any]], origin: str) -> None:
    for i, record in enumerate(records):
        rid = record.get("id")
        if not isinstance(rid, str) or not rid:
            raise CatalogError(f"{kind}[{i}]: every record needs an `id`", path=origin)
        rid = rid.strip().lower()
        record = {**record, "id": rid}
        base[rid] = _deep_merge(base[rid], record) if rid in base else record


def _validate_records(kind: str, model: type[_T], records: Mapping[str, dict[str, Any]], origin: str) -> dict[str, _T]:
    out: dict[str, _T] = {}
    for rid, record in records.items():
        try:
            out[rid] = model.model_validate(record)
        except ValidationError as exc:
            raise CatalogError(_first_error(exc, prefix=f"{kind}[{rid}]"), path=origin) from None
    return out


def _figures_of(obj: BaseModel, where: str) -> Iterable[tuple[str, Figure | PriceRange]]:
    for name in type(obj).model_fields:
        value = getattr(obj, name)
        if isinstance(value, Figure | PriceRange):
            yield f"{where}.{name}", value
        elif isinstance(value, BaseModel):
            yield from _figures_of(value, f"{where}.{name}")


def _check_prices_pack(f: CatalogFile, origin: str) -> None:
    """A prices pack carries prices only: ids with ``price``/``price_reason``, node prices, the exchange rate."""
    for kind, records in (("accelerators", f.accelerators), ("nodes", f.nodes), ("systems", f.systems)):
        for r in records:
            extra = sorted(set(r) - _PRICE_FIELDS)
            if extra:
                raise CatalogError(f"{kind}[{r.get('id')}]: a prices pack may only give id, price and price_reason "
                                   f"(found {', '.join(extra)})", path=origin)
    if f.networks or f.cost_assumptions:
        raise CatalogError("a prices pack may not carry networks or cost_assumptions", path=origin)


def load_catalog(extra: Sequence[Path | str] = (), *, include_base: bool = True,
                 packs: Mapping[str, PackText] | None = None) -> Catalog:
    """Load the catalog and prices packs (embedded unless given), then apply user files in order (later files win).

    A user file may add records or patch existing ones by id (only the fields it gives change);
    the merged records are validated exactly like the embedded ones.

    Args:
        extra: paths of user catalog files (YAML).
        include_base: load the packs first (tests may turn it off).
        packs: the ``catalog`` and ``prices`` packs as values (missing ones come from the package).

    Returns:
        The validated :class:`Catalog`.

    Raises:
        CatalogError: a file is missing, unreadable or invalid; the message names the file and field.
    """
    files: list[tuple[str, CatalogFile]] = []
    infos: list[PackInfo] = []
    if include_base:
        registry = resources.files(_DATA_PACKAGE).joinpath(_REGISTRY_FILE).read_text(encoding="utf-8")
        files.append((_REGISTRY_FILE, _read_yaml(registry, _REGISTRY_FILE)))
        chosen = with_embedded(packs)
        for name in _CATALOG_PACKS:
            pack = chosen[name]
            origin = f"{name}.yaml" if pack.origin == "embedded" else pack.origin
            parsed = _read_yaml(pack.text, origin)
            if parsed.pack is None or parsed.pack.name != name:
                raise CatalogError(f"expected a `pack:` header naming the {name!r} pack", path=origin)
            if name == "prices":
                _check_prices_pack(parsed, origin)
            files.append((origin, parsed))
            infos.append(PackInfo.of(parsed.pack, pack.origin))
    for path in extra:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CatalogError("file not found", path=str(p)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CatalogError(f"cannot read file ({exc.__class__.__name__})", path=str(p)) from None
        files.append((str(p), _read_yaml(text, str(p))))

    sources: dict[str, Source] = {}
    acc_raw: dict[str, dict[str, Any]] = {}
    node_raw: dict[str, dict[str, Any]] = {}
    net_raw: dict[str, dict[str, Any]] = {}
    sys_raw: dict[str, dict[str, Any]] = {}
    fx_raw: dict[str, Any] | None = None
    cost_raw: dict[str, Any] = {}
    origin_of: dict[str, str] = {}
    for origin, f in files:
        sources.update(f.sources)
        if f.pack is not None and f.pack.name == "prices":
            for kind, known, records in (("accelerators", acc_raw, f.accelerators), ("nodes", node_raw, f.nodes),
                                         ("systems", sys_raw, f.systems)):
                for r in records:
                    if str(r.get("id", "")).strip().lower() not in known:
                        raise CatalogError(f"{kind}[{r.get('id')}]: the prices pack prices an id the catalog lacks",
                                           path=origin)
        for kind, target, records in (
            ("accelerators", acc_raw, f.accelerators),
            ("nodes", node_raw, f.nodes),
            ("networks", net_raw, f.networks),
            ("systems", sys_raw, f.systems),
        ):
            _merge_records(kind, target, records, origin)
            for r in records:
                origin_of[f"{kind}:{str(r.get('id', '')).lower()}"] = origin
        if f.exchange_rate is not None:
            fx_raw = _deep_merge(fx_raw or {}, f.exchange_rate)
            origin_of["exchange_rate"] = origin
        if f.cost_assumptions is not None:
            cost_raw = _deep_merge(cost_raw, f.cost_assumptions)
            origin_of["cost_assumptions"] = origin

    def _origin(key: str) -> str:
        return origin_of.get(key, files[-1][0] if files else "catalog")

    accelerators: dict[str, Accelerator] = {}
    for rid, rec in acc_raw.items():
        accelerators.update(_validate_records("accelerators", Accelerator, {rid: rec}, _origin(f"accelerators:{rid}")))
    nodes: dict[str, NodeType] = {}
    for rid, rec in node_raw.items():
        nodes.update(_validate_records("nodes", NodeType, {rid: rec}, _origin(f"nodes:{rid}")))
    networks: dict[str, NetworkOption] = {}
    for rid, rec in net_raw.items():
        networks.update(_validate_records("networks", NetworkOption, {rid: rec}, _origin(f"networks:{rid}")))
    systems: dict[str, SystemType] = {}
    for rid, rec in sys_raw.items():
        systems.update(_validate_records("systems", SystemType, {rid: rec}, _origin(f"systems:{rid}")))
    if fx_raw is None:
        raise CatalogError("no `exchange_rate` given", path=_origin("exchange_rate"))
    try:
        fx = ExchangeRate.model_validate(fx_raw)
    except ValidationError as exc:
        raise CatalogError(_first_error(exc, prefix="exchange_rate"), path=_origin("exchange_rate")) from None
    try:
        cost = CostAssumptions.model_validate(cost_raw)
    except ValidationError as exc:
        raise CatalogError(_first_error(exc, prefix="cost_assumptions"), path=_origin("cost_assumptions")) from None

    # Cross-record checks: references resolve and every cited source is registered.
    for node in nodes.values():
        if node.accelerator not in accelerators:
            raise CatalogError(
                f"nodes[{node.id}].accelerator: unknown accelerator {node.accelerator!r}",
                path=_origin(f"nodes:{node.id}"),
            )
        if node.default_network is not None and node.default_network not in networks:
            raise CatalogError(
                f"nodes[{node.id}].default_network: unknown network {node.default_network!r}",
                path=_origin(f"nodes:{node.id}"),
            )
    for system in systems.values():
        if system.accelerator not in accelerators:
            raise CatalogError(f"systems[{system.id}].accelerator: unknown accelerator {system.accelerator!r}",
                               path=_origin(f"systems:{system.id}"))
    checked: list[tuple[str, str, BaseModel]] = [
        *((f"accelerators[{k}]", f"accelerators:{k}", v) for k, v in accelerators.items()),
        *((f"nodes[{k}]", f"nodes:{k}", v) for k, v in nodes.items()),
        *((f"networks[{k}]", f"networks:{k}", v) for k, v in networks.items()),
        *((f"systems[{k}]", f"systems:{k}", v) for k, v in systems.items()),
        ("cost_assumptions", "cost_assumptions", cost),
    ]
    for where, key, record in checked:
        for fig_where, fig in _figures_of(record, where):
            for sid in fig.source:
                if sid not in sources:
                    raise CatalogError(
                        f"{fig_where}: source id {sid!r} is not registered (add it under `sources:`)",
                        path=_origin(key),
                    )
    for sid in fx.source:
        if sid not in sources:
            raise CatalogError(f"exchange_rate: source id {sid!r} is not registered", path=_origin("exchange_rate"))

    aliases: dict[str, str] = {}
    for acc in accelerators.values():
        for alias in (acc.id, acc.name, *acc.aliases):
            key = normalise_alias(alias)
            owner = aliases.get(key)
            if owner is not None and owner != acc.id:
                raise CatalogError(
                    f"alias {alias!r} is claimed by both {owner!r} and {acc.id!r}",
                    path=_origin(f"accelerators:{acc.id}"),
                )
            aliases[key] = acc.id
    return Catalog(
        accelerators=accelerators,
        nodes=nodes,
        networks=networks,
        exchange_rate=fx,
        cost_assumptions=cost,
        sources=sources,
        origin=tuple(o for o, _ in files),
        packs=tuple(infos),
        systems=systems,
        _aliases=aliases,
    )
