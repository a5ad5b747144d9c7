"""Installed data packs under ``<data_dir>/packs``: find them, install a set atomically, keep the previous, roll back.

Layout: ``<name>.yaml`` is the installed pack, ``<name>.previous.yaml`` the one it replaced (absent when it replaced
the embedded pack) and ``journal.json`` the last imports (what each replaced). A pack not installed is the one
shipped in the package. Every write goes to a temporary file in the same folder, is flushed to disk and then
renamed over its target, so a crash leaves each pack either old or new, never half written; a lock file
serialises imports and rollbacks between processes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.packs import PACK_NAMES, PackText

_JOURNAL = "journal.json"
_LOCK = ".lock"
_MAX_JOURNAL = 50


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
    def path(self, name: str) -> Path:
        """Where the installed pack of that name lives."""
        return self.root / f"{name}.yaml"

    def previous_path(self, name: str) -> Path:
        """Where the pack it replaced is kept."""
        return self.root / f"{name}.previous.yaml"

    def installed(self) -> dict[str, PackText]:
        """Installed packs by name (origin ``installed``)."""
        out: dict[str, PackText] = {}
        for name in PACK_NAMES:
            p = self.path(name)
            if p.is_file():
                out[name] = PackText(name=name, text=p.read_text(encoding="utf-8"), origin="installed")
        return out

    def previous(self, name: str) -> PackText | None:
        """The pack the installed one replaced, if it was not the embedded one."""
        p = self.previous_path(name)
        if not p.is_file():
            return None
        return PackText(name=name, text=p.read_text(encoding="utf-8"), origin="previous")  # type: ignore[arg-type]

    def journal(self) -> list[dict[str, Any]]:
        """The imports recorded, oldest first."""
        p = self.root / _JOURNAL
        if not p.is_file():
            return []
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return data if isinstance(data, list) else []

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

    def _write(self, target: Path, text: str) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._sync_dir()

    def _sync_dir(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self.root, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def install(self, packs: Sequence[PackText], records: Sequence[Replaced]) -> None:
        """Install validated packs, keeping each replaced installed pack as ``previous`` (call under :meth:`locked`).

        The previous copies are written first; then each pack replaces its installed file in one rename.
        """
        current = self.installed()
        for pack in packs:
            if pack.name in current:
                self._write(self.previous_path(pack.name), current[pack.name].text)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.previous_path(pack.name))
        for pack in packs:
            self._write(self.path(pack.name), pack.text)
        entry = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                 "packs": [r.__dict__ for r in records]}
        self._write(self.root / _JOURNAL, json.dumps([*self.journal(), entry][-_MAX_JOURNAL:], indent=2))

    def rollback(self) -> list[Replaced]:
        """Undo the last import (call under :meth:`locked`): each pack it installed goes back to what it replaced.

        Only the last import can be undone (one previous version is kept per pack); a second rollback finds
        nothing to undo.

        Returns:
            What was undone (empty when there is nothing to undo).
        """
        journal = self.journal()
        if not journal or journal[-1].get("rolled_back"):
            return []
        last = journal[-1]
        undone: list[Replaced] = []
        for rec in last.get("packs", []):
            name = str(rec.get("name"))
            if name not in PACK_NAMES:
                continue
            prev = self.previous_path(name)
            if rec.get("replaced_version") is not None and prev.is_file():
                os.replace(prev, self.path(name))
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path(name))  # it replaced the embedded pack: remove it
            undone.append(Replaced(name=name, version=str(rec.get("version")), as_of=str(rec.get("as_of")),
                                   replaced_version=rec.get("replaced_version"),
                                   replaced_as_of=rec.get("replaced_as_of")))
        self._sync_dir()
        last = {**last, "rolled_back": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        self._write(self.root / _JOURNAL, json.dumps([*journal[:-1], last], indent=2))
        return undone


def effective(installed: Mapping[str, PackText], embedded: Mapping[str, PackText]) -> dict[str, PackText]:
    """Installed packs over the embedded ones."""
    return {**embedded, **installed}


__all__ = ["PackStore", "Replaced", "effective"]
