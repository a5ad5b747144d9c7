"""Installed data packs under ``<data_dir>/packs``: find them, install a set atomically, keep the previous, roll back.

Each import writes a complete *generation* folder (``gen-…``) holding every installed pack (the ones it brings plus
the ones already installed) and a ``meta.json`` naming the generation it replaces. Files are flushed to disk, then
the ``current`` link is switched to the new folder in one rename: a crash leaves the old set or the new set in
use, never a mix, and a multi-pack import is all or nothing. A pack not installed is the one shipped in the
package. Rollback points ``current`` back at the generation the last import replaced (or removes it, back to the
shipped packs). A lock file serialises imports and rollbacks between processes. The last few generations are kept.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from optimizer.packs import PACK_NAMES, PackText

_CURRENT = "current"
_META = "meta.json"
_LOCK = ".lock"
_KEEP = 3
"""Generations kept (the one in use, the one it replaced, one more)."""


@dataclass(frozen=True)
class Replaced:
    """What one import did to one pack: the version it replaced (None: the embedded pack)."""

    name: str
    version: str
    as_of: str
    replaced_version: str | None
    replaced_as_of: str | None


class PackStore:
    """Installed packs in one folder.

    Args:
        root: The folder (``<data_dir>/packs``); created on first write.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    # ------------------------------------------------------------------ reading
    def _current_dir(self) -> Path | None:
        link = self.root / _CURRENT
        if not link.is_symlink() and not link.is_dir():
            return None
        target = link.resolve()
        return target if target.is_dir() else None

    def _meta(self, gen: Path | None) -> dict[str, Any]:
        if gen is None:
            return {}
        try:
            data = json.loads((gen / _META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _read(self, gen: Path | None, origin: str) -> dict[str, PackText]:
        out: dict[str, PackText] = {}
        if gen is None:
            return out
        for name in PACK_NAMES:
            p = gen / f"{name}.yaml"
            if p.is_file():
                out[name] = PackText(name=name, text=p.read_text(encoding="utf-8"), origin=origin)
        return out

    def installed(self) -> dict[str, PackText]:
        """Installed packs by name (origin ``installed``)."""
        return self._read(self._current_dir(), "installed")

    def _previous_dir(self) -> Path | None:
        prev = self._meta(self._current_dir()).get("previous")
        if not isinstance(prev, str):
            return None
        path = self.root / prev
        return path if path.is_dir() else None

    def previous(self, name: str) -> PackText | None:
        """The installed pack the last import replaced (None: it replaced the embedded one, or nothing is kept)."""
        return self._read(self._previous_dir(), "previous").get(name)

    def last_import(self) -> dict[str, Any]:
        """The meta of the generation in use (what the last import installed and replaced)."""
        return self._meta(self._current_dir())

    def can_roll_back(self) -> bool:
        """The generation in use came from an import whose predecessor is still kept (or was the embedded set)."""
        meta = self.last_import()
        if not meta:
            return False
        prev = meta.get("previous")
        return prev is None or (isinstance(prev, str) and (self.root / prev).is_dir())

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock (imports and rollbacks run one at a time, across processes)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / _LOCK, "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    @staticmethod
    def _sync(path: Path) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _write(self, target: Path, text: str) -> None:
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())

    def _point(self, gen: str | None) -> None:
        """Switch ``current`` to ``gen`` (None: remove it) in one rename."""
        link = self.root / _CURRENT
        if gen is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(link)
        else:
            tmp = self.root / f".{_CURRENT}-{secrets.token_hex(4)}"
            os.symlink(gen, tmp)
            os.replace(tmp, link)
        self._sync(self.root)

    def install(self, packs: Sequence[PackText], records: Sequence[Replaced]) -> None:
        """Install validated packs as a new generation (call under :meth:`locked`): all of them or none."""
        current_dir = self._current_dir()
        files = {name: p.text for name, p in self.installed().items()}
        files.update({p.name: p.text for p in packs})
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        gen = f"gen-{stamp}-{secrets.token_hex(3)}"
        work = self.root / f".{gen}.tmp"
        work.mkdir(parents=True)
        try:
            for name, text in files.items():
                self._write(work / f"{name}.yaml", text)
            meta = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "previous": current_dir.name if current_dir is not None else None,
                    "packs": [asdict(r) for r in records]}
            self._write(work / _META, json.dumps(meta, indent=2))
            self._sync(work)
            os.replace(work, self.root / gen)
            self._sync(self.root)
            self._point(gen)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        self._prune()

    def rollback(self) -> list[Replaced]:
        """Undo the last import (call under :meth:`locked`): back to the generation it replaced.

        Returns:
            What was undone (empty when there is nothing to undo).
        """
        if not self.can_roll_back():
            return []
        current = self._current_dir()
        meta = self._meta(current)
        prev = meta.get("previous")
        self._point(prev if isinstance(prev, str) else None)
        if current is not None:
            shutil.rmtree(current, ignore_errors=True)
        return [Replaced(name=str(r.get("name")), version=str(r.get("version")), as_of=str(r.get("as_of")),
                         replaced_version=r.get("replaced_version"), replaced_as_of=r.get("replaced_as_of"))
                for r in meta.get("packs", []) if isinstance(r, dict)]

    def _prune(self) -> None:
        keep: list[str] = []
        gen = self._current_dir()
        while gen is not None and len(keep) < _KEEP:
            keep.append(gen.name)
            prev = self._meta(gen).get("previous")
            gen = self.root / prev if isinstance(prev, str) and (self.root / prev).is_dir() else None
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child.name not in keep:
                shutil.rmtree(child, ignore_errors=True)


def effective(installed: Mapping[str, PackText], embedded: Mapping[str, PackText]) -> dict[str, PackText]:
    """Installed packs over the embedded ones."""
    return {**embedded, **installed}


__all__ = ["PackStore", "Replaced", "effective"]
