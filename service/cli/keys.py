"""``procure keys create|list|revoke``: API keys for the HTTP service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.cli._common import JsonOpt, console, emit_json, fail
from service.settings import get_settings

if TYPE_CHECKING:
    from service.security.keys import KeyStore

app = typer.Typer(no_args_is_help=True, help="API keys (HMAC-SHA256 digests; the key is shown once).")


def _store() -> KeyStore:
    from service.security.keys import KeyStore

    return KeyStore(get_settings())


@app.command("create")
def create(
    scope: Annotated[list[str], typer.Option(help="read, plan, ingest, jobs or admin (repeatable, or a,b).")],
    name: Annotated[str, typer.Option(help="Who or what uses the key.")] = "unnamed",
    rate_limit: Annotated[str | None, typer.Option(help="Per-key rate limit, e.g. 60/minute.")] = None,
    quota: Annotated[str | None, typer.Option(help="Per-key quota, e.g. 5000/day.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key and print it once (only its digest is stored)."""
    from limits import parse

    for label, value in (("rate limit", rate_limit), ("quota", quota)):
        if value is not None:
            try:
                parse(value)
            except ValueError:
                raise fail(f"{label} {value!r} is not valid; write e.g. 60/minute or 5000/day") from None
    try:
        key, plain = _store().create(name, scope, rate_limit=rate_limit, quota=quota)
    except ValueError as exc:
        raise fail(str(exc)) from None
    if as_json:
        emit_json({"key": plain, "id": key.id, "scopes": list(key.scopes)})
        return
    console.print(f"key {key.id} ({', '.join(key.scopes)}) — store it now, it is not shown again:")
    console.print(plain, highlight=False, soft_wrap=True)


@app.command("list")
def list_keys(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List keys (never the keys themselves)."""
    keys = _store().list_keys(include_revoked=all_keys)
    rows: list[dict[str, Any]] = [
        {"id": k.id, "name": k.name, "scopes": list(k.scopes), "rate_limit": k.rate_limit, "quota": k.quota,
             "created_at": k.created_at.isoformat(), "last_used_at": k.last_used_at.isoformat() if k.last_used_at
             else None, "revoked": not k.active} for k in keys]
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table("id", "name", "scopes", "limits", "created", "last used", "revoked")
    for r in rows:
        limits = " / ".join(x for x in (r["rate_limit"], r["quota"]) if x) or "default"
        table.add_row(r["id"], r["name"], ",".join(r["scopes"]), limits, r["created_at"][:19],
                      (r["last_used_at"] or "never")[:19], "yes" if r["revoked"] else "")
    console.print(table)


@app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="Key id as listed by `procure keys list`.")],
           as_json: JsonOpt = False) -> None:
    """Revoke a key (takes effect within seconds in running servers)."""
    if not _store().revoke(key_id):
        raise fail(f"no active key with id {key_id!r} (see `procure keys list`)")
    if as_json:
        emit_json({"revoked": key_id})
    else:
        console.print(f"revoked {key_id}")
