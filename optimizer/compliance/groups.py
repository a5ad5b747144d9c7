"""Country groups: named sets of ISO codes with dated memberships, composed by union and difference.

Groups are keyed ``"<jurisdiction>:<name>"`` (``US:D5``, ``CN:china``); a composed group names groups of its own
jurisdiction. Memberships hold between their ``from`` and ``to`` dates, so a group's members depend on the date.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from optimizer.compliance.schema import CountryGroup
from optimizer.errors import CatalogError


class CountryGroups:
    """Validated groups with memoised expansion by date."""

    def __init__(self, groups: Mapping[str, CountryGroup], countries: Mapping[str, str]) -> None:
        self.groups: dict[str, CountryGroup] = dict(groups)
        self.countries = countries
        self._member_cache: dict[tuple[str, date], frozenset[str]] = {}
        self._label_cache: dict[tuple[str, date, str], tuple[str, ...]] = {}

    def check(self, source_known: Callable[[str], bool]) -> None:
        """Every member is an ISO code, every source is registered, every reference resolves and nothing cycles.

        Raises:
            CatalogError: naming the group and the problem.
        """
        for key, group in self.groups.items():
            jur = key.split(":", 1)[0]
            for m in group.members:
                if m.code not in self.countries:
                    raise CatalogError(f"group {key}: {m.code!r} is not an ISO country code", path="country_groups")
                for sid in m.source:
                    if not source_known(sid):
                        raise CatalogError(f"group {key}: source id {sid!r} is not registered", path="country_groups")
            for ref in (*group.union, *group.minus):
                if f"{jur}:{ref}" not in self.groups:
                    raise CatalogError(f"group {key}: unknown country group {ref!r}", path="country_groups")
            for sid in group.source:
                if not source_known(sid):
                    raise CatalogError(f"group {key}: source id {sid!r} is not registered", path="country_groups")
        for key in self.groups:
            self._expand(key, date.max, ())  # rejects cycles

    def has(self, jurisdiction: str, name: str) -> bool:
        """True when the jurisdiction defines the group."""
        return f"{jurisdiction}:{name}" in self.groups

    def title(self, jurisdiction: str, name: str) -> str | None:
        """The group's title."""
        g = self.groups.get(f"{jurisdiction}:{name}")
        return None if g is None else g.title

    def _expand(self, key: str, on: date, path: tuple[str, ...]) -> frozenset[str]:
        if key in path:
            raise CatalogError(f"country groups form a cycle: {' -> '.join((*path, key))}", path="country_groups")
        group = self.groups[key]
        jur = key.split(":", 1)[0]
        codes = {m.code for m in group.members if m.holds(on)}
        for ref in group.union:
            codes |= self._expand(f"{jur}:{ref}", on, (*path, key))
        for ref in group.minus:
            codes -= self._expand(f"{jur}:{ref}", on, (*path, key))
        return frozenset(codes)

    def members(self, group: str, on: date, jurisdiction: str = "US") -> frozenset[str]:
        """ISO codes in a (possibly composed) country group on a date."""
        key = f"{jurisdiction}:{group}"
        hit = self._member_cache.get((key, on))
        if hit is None:
            if len(self._member_cache) > 20_000:
                self._member_cache.clear()
            hit = self._member_cache[(key, on)] = self._expand(key, on, ())
        return hit

    def contains(self, jurisdiction: str, group: str | None, country: str | None, on: date) -> bool:
        """True when ``country`` is in ``group`` on ``on`` (no group: always; no country: never)."""
        if group is None:
            return True
        if country is None:
            return False
        return country in self.members(group, on, jurisdiction)

    def labels(self, country: str | None, on: date, jurisdiction: str = "US") -> tuple[str, ...]:
        """Labels of the regulatory groups (those with a ``label``, e.g. 'D:4') holding ``country`` on ``on``."""
        if not country:
            return ()
        hit = self._label_cache.get((country, on, jurisdiction))
        if hit is not None:
            return hit
        out = []
        for key, group in self.groups.items():
            if group.label and key.startswith(f"{jurisdiction}:") and country in self.members(
                key.split(":", 1)[1], on, jurisdiction
            ):
                out.append(group.label)
        if len(self._label_cache) > 20_000:
            self._label_cache.clear()
        self._label_cache[(country, on, jurisdiction)] = tuple(out)
        return tuple(out)

    def sources_of(self, labels: tuple[str, ...], jurisdiction: str) -> tuple[str, ...]:
        """Sources of the groups carrying these labels."""
        src: list[str] = []
        for key, group in self.groups.items():
            if group.label in labels and key.startswith(f"{jurisdiction}:"):
                src += [sid for sid in group.source if sid not in src]
        return tuple(src)


__all__ = ["CountryGroups"]
