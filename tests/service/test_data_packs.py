"""Data packs: status, diff, import (atomic; corrupt packs change nothing; older packs refused unless forced),
rollback, over the CLI and HTTP (admin scope), and "data as of" on answers."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from optimizer.packs import embedded_pack
from service.app import create_app
from service.cli import app
from service.settings import Settings

runner = CliRunner()

NEW_RULE = """
  - id: test-2026-12-l20-letter
    kind: is_informed
    title: "Hypothetical Dec-2026 letter on the L20 (test data)"
    effective_from: 2026-12-01
    destinations: china
    skus: [l20]
    effect: license_required
    outlook: not_granted_yet
    citations: [R1]
"""


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _retag(text: str, version: str, as_of: str) -> str:
    text = re.sub(r'(\npack:\n(?:  .*\n)*?  version: )"[^"]*"', rf'\1"{version}"', text, count=1)
    return re.sub(r"(\npack:\n(?:  .*\n)*?  as_of: )\S+", rf"\g<1>{as_of}", text, count=1)


def us_rules(tmp_path: Path, version: str = "2026.12.9", as_of: str = "2026-12-01", extra: str = NEW_RULE,
             name: str = "us_rules_new.yaml") -> Path:
    path = tmp_path / name
    text = _retag(embedded_pack("us_rules").text, version, as_of).rstrip("\n") + "\n" + extra
    path.write_text(text, encoding="utf-8")
    return path


def prices(tmp_path: Path, l20: float = 90_000) -> Path:
    text = _retag(embedded_pack("prices").text, "2026.12.9", "2026-12-01")
    price = (f"{{currency: CNY, low: {l20}, base: {l20}, high: {l20}, basis: per_accelerator, date: '2026-12', "
             "source: [P1], grade: A}")
    text = text.replace('''  - id: l20
    price_reason: "No L20 price found in the fact base."''', f"  - id: l20\n    price: {price}")
    path = tmp_path / "prices_new.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def status() -> dict[str, Any]:
    code, out, err = run("data", "status", "--json", "--date", "2026-12-06")
    assert code == 0, err
    return json.loads(out)


def verdict(sku: str = "l20") -> str:
    code, out, err = run("compliance", "check", sku, "--buyer-country", "CN", "--date", "2026-12-06", "--json")
    assert code == 0, err
    return str(json.loads(out)["verdict"])


def test_status_lists_every_pack_with_its_age_and_counts() -> None:
    body = status()
    packs = {p["name"]: p for p in body["packs"]}
    assert set(packs) == {"catalog", "prices", "us_rules", "cn_measures", "country_groups", "screening"}
    us = packs["us_rules"]
    assert us["as_of"] == "2026-06-05" and us["age_days"] == 184 and us["stale"] and us["origin"] == "embedded"
    assert packs["catalog"]["records"]["accelerators"] >= 30 and packs["screening"]["records"]["entities"] >= 30
    assert packs["prices"]["as_of"] == "2025-12-31" and body["oldest_as_of"] == "2025-03-28"
    assert body["can_roll_back"] is False
    code, out, _ = run("data", "status", "--date", "2026-12-06")
    assert code == 0 and "us_rules" in out and "184" in out and "embedded" in out


def test_import_diff_and_rollback(tmp_path: Path) -> None:
    new = us_rules(tmp_path)
    code, out, err = run("data", "diff", "us_rules", str(new), "--date", "2026-12-06", "--country", "CN", "--json")
    assert code == 0, err
    diff = json.loads(out)
    assert [r["id"] for r in diff["rules_added"]] == ["test-2026-12-l20-letter"]
    assert {"sku": "l20", "country": "CN", "old": "allowed", "new": "license_required"}.items() <= next(
        f for f in diff["verdict_flips"] if f["sku"] == "l20").items()
    assert not diff["rules_removed"] and verdict() == "allowed"
    ended = tmp_path / "ended.yaml"  # the GAO caution given an end date: a rule that ends
    ended.write_text(new.read_text(encoding="utf-8").replace(
        "    effective_from: 2026-05-12\n", "    effective_from: 2026-05-12\n    effective_to: 2026-11-30\n", 1),
        encoding="utf-8")
    code, out, err = run("data", "diff", "us_rules", str(ended), "--country", "DE", "--sku", "h100", "--json")
    assert code == 0, err
    assert [r["id"] for r in json.loads(out)["rules_ended"]] == ["us-2026-05-gao-ai-diffusion"]

    code, out, err = run("data", "import", str(new), "--json")
    assert code == 0, err
    done = json.loads(out)
    assert done["installed"][0]["name"] == "us_rules" and done["installed"][0]["new"]["version"] == "2026.12.9"
    assert verdict() == "license_required"  # the installed pack is in use
    us = next(p for p in status()["packs"] if p["name"] == "us_rules")
    assert us["origin"] == "installed" and us["as_of"] == "2026-12-01" and us["age_days"] == 5 and not us["stale"]

    code, out, _ = run("data", "import", str(new), "--json")  # the same pack again: nothing to do
    assert code == 0 and json.loads(out)["unchanged"] == ["us_rules"]

    code, out, err = run("data", "rollback", "--json")
    assert code == 0, err
    assert json.loads(out)["restored"][0]["new_origin"] == "embedded"
    assert verdict() == "allowed"
    code, out, _ = run("data", "rollback")
    assert code == 0 and "nothing to roll back" in out


def test_rollback_returns_to_the_previous_installed_pack(tmp_path: Path) -> None:
    first = us_rules(tmp_path, "2026.12.9", "2026-12-01", name="a.yaml")
    second = us_rules(tmp_path, "2026.12.10", "2026-12-03", extra=NEW_RULE.replace("effective_from: 2026-12-01",
                                                                                   "effective_from: 2027-01-01"),
                      name="b.yaml")
    assert run("data", "import", str(first))[0] == 0
    assert run("data", "import", str(second))[0] == 0
    assert verdict() == "allowed"  # the letter moved to 2027
    assert next(p for p in status()["packs"] if p["name"] == "us_rules")["previous"]["version"] == "2026.12.9"
    assert run("data", "rollback")[0] == 0
    assert verdict() == "license_required"  # back to the first import, not to the embedded pack
    assert next(p for p in status()["packs"] if p["name"] == "us_rules")["version"] == "2026.12.9"


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in root.rglob("*") if p.is_file()
            and p.name != ".lock"} if root.exists() else {}


@pytest.mark.parametrize(("label", "text", "needle"), [
    ("yaml", "pack: [unclosed\n", "not valid YAML"),
    ("no-header", "schema_version: 1\njurisdiction: US\nrules: []\n", "no `pack:` header"),
    ("bad-header", "pack: {name: us_rules, version: '1', as_of: someday}\n", "pack.as_of"),
    ("schema", None, "citations"),
    ("cross-reference", None, "unknown SKU 'no-such-part'"),
    ("prices-unknown-id", None, "prices an id the catalog lacks"),
])
def test_a_corrupt_pack_changes_nothing(tmp_path: Path, label: str, text: str | None, needle: str) -> None:
    data = Path(os.environ["PROCURE_DATA_DIR"])
    assert run("data", "import", str(us_rules(tmp_path, name="good.yaml")))[0] == 0  # something installed to keep
    before = _snapshot(data / "packs")
    if label == "schema":
        path = us_rules(tmp_path, "2026.12.11", "2026-12-02", extra=NEW_RULE.replace("    citations: [R1]\n", "")
                        .replace("test-2026-12-l20-letter", "test-no-citations"), name="bad.yaml")
    elif label == "cross-reference":
        extra = NEW_RULE.replace("skus: [l20]", "skus: [no-such-part]").replace("test-2026-12-l20-letter", "test-sku")
        path = us_rules(tmp_path, "2026.12.11", "2026-12-02", extra=extra, name="bad.yaml")
    elif label == "prices-unknown-id":
        path = prices(tmp_path)
        text = path.read_text(encoding="utf-8").replace("\naccelerators:\n", "\naccelerators:\n  - id: ghost-part\n"
                                                         "    price_reason: none\n", 1)
        path.write_text(text, encoding="utf-8")
    else:
        path = tmp_path / f"{label}.yaml"
        path.write_text(text or "", encoding="utf-8")
    code, out, err = run("data", "import", str(path))
    assert code == 2 and needle in err and "nothing was installed" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 3
    assert _snapshot(data / "packs") == before  # not a byte changed
    assert verdict() == "license_required"


def test_an_older_pack_is_refused_unless_forced(tmp_path: Path) -> None:
    old = us_rules(tmp_path, "2026.01.1", "2026-01-20", extra="", name="old.yaml")
    code, _, err = run("data", "import", str(old))
    assert code == 2 and "older than the one in use" in err and "--force" in err
    assert next(p for p in status()["packs"] if p["name"] == "us_rules")["origin"] == "embedded"
    code, out, err = run("data", "import", str(old), "--force", "--json")
    assert code == 0, err
    assert json.loads(out)["forced"] is True
    assert next(p for p in status()["packs"] if p["name"] == "us_rules")["as_of"] == "2026-01-20"


def test_same_version_with_different_content_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "same.yaml"
    path.write_text(embedded_pack("us_rules").text.rstrip("\n") + "\n" + NEW_RULE, encoding="utf-8")
    code, _, err = run("data", "import", str(path))
    assert code == 2 and "new version" in err


def test_a_multi_pack_import_is_all_or_nothing(tmp_path: Path) -> None:
    good = prices(tmp_path)
    bad = us_rules(tmp_path, extra=NEW_RULE.replace("skus: [l20]", "skus: [no-such-part]"), name="bad.yaml")
    code, _, err = run("data", "import", str(good), str(bad))
    assert code == 2 and "unknown SKU" in err
    assert all(p["origin"] == "embedded" for p in status()["packs"])
    code, out, err = run("data", "import", str(good), str(us_rules(tmp_path)), "--json")
    assert code == 0, err
    assert {c["name"] for c in json.loads(out)["installed"]} == {"prices", "us_rules"}
    assert run("data", "rollback")[0] == 0
    assert all(p["origin"] == "embedded" for p in status()["packs"])


def test_a_price_pack_moves_prices_and_the_diff_says_so(tmp_path: Path) -> None:
    code, out, err = run("data", "diff", "prices", str(prices(tmp_path, 90_000)), "--json")
    assert code == 0, err
    move = next(m for m in json.loads(out)["price_moves"] if m["id"] == "l20")
    assert move["old"] is None and move["new"]["base"] == 90_000
    code, out, _ = run("data", "diff", "prices", "us_rules")
    assert code == 2 or "same pack" in out


def test_a_crash_while_installing_leaves_the_old_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = Path(os.environ["PROCURE_DATA_DIR"])
    import service.datapacks as store

    def broken(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "replace", broken)
    code, _, err = run("data", "import", str(us_rules(tmp_path)))
    assert code != 0
    monkeypatch.undo()
    assert not any(p.name == "current" for p in (data / "packs").iterdir())
    assert not [p for p in (data / "packs").iterdir() if p.name.startswith((".gen-", "gen-"))]
    assert verdict() == "allowed"


# ---------------------------------------------------------------------- HTTP
@pytest.fixture
def make_client(tmp_path: Path) -> Callable[..., TestClient]:
    opened: list[TestClient] = []

    def _make(**overrides: Any) -> TestClient:
        overrides.setdefault("data_dir", Path(os.environ["PROCURE_DATA_DIR"]))
        client = TestClient(create_app(Settings(**overrides)), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield _make  # type: ignore[misc]
    for c in opened:
        c.__exit__(None, None, None)


def test_http_status_import_diff_and_rollback(tmp_path: Path, make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    r = client.get("/v1/data", params={"date": "2026-12-06"})
    assert r.status_code == 200 and {p["name"] for p in r.json()["packs"]} >= {"us_rules", "screening"}
    text = us_rules(tmp_path).read_text(encoding="utf-8")
    r = client.post("/v1/data/diffs", json={"new": {"content": text, "label": "us.yaml"}, "countries": ["CN"],
                                            "date": "2026-12-06"})
    assert r.status_code == 200 and r.json()["rules_added"][0]["id"] == "test-2026-12-l20-letter"
    check = {"sku": "l20", "buyer_country": "CN", "date": "2026-12-06"}
    assert client.post("/v1/compliance/check", json=check).json()["verdict"] == "allowed"
    r = client.post("/v1/data/imports", json={"packs": [{"content": text, "label": "us.yaml"}]})
    assert r.status_code == 201, r.text
    assert client.post("/v1/compliance/check", json=check).json()["verdict"] == "license_required"  # reloaded
    bad = client.post("/v1/data/imports", json={"packs": [{"content": "pack: [", "label": "bad.yaml"}]})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert "nothing was installed" in bad.json()["detail"]
    r = client.post("/v1/data/rollbacks")
    assert r.status_code == 200 and r.json()["restored"]
    assert client.post("/v1/compliance/check", json=check).json()["verdict"] == "allowed"


def test_http_changes_need_the_admin_scope(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    client = make_client(security={"require_keys": True})
    store = client.app.state.keys  # type: ignore[attr-defined]
    _, reader = store.create("reader", ["read"])
    _, admin = store.create("admin", ["admin"])
    head = {"Authorization": f"Bearer {reader}"}
    assert client.get("/v1/data", headers=head).status_code == 200
    body = {"packs": [{"content": us_rules(tmp_path).read_text(encoding="utf-8")}]}
    r = client.post("/v1/data/imports", json=body, headers=head)
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert client.post("/v1/data/rollbacks", headers=head).status_code == 403
    assert client.post("/v1/data/imports", json=body, headers={"Authorization": f"Bearer {admin}"}).status_code == 201


# ---------------------------------------------------------------------- data as of on answers
def test_answers_say_how_old_the_data_is() -> None:
    code, out, _ = run("compliance", "check", "h20", "--buyer-country", "CN", "--date", "2026-12-06")
    assert code == 0 and "data as of 2025-03-28" in out and "no US rule changes known after 2026-06-05" in out
    code, out, _ = run("compliance", "check", "h20", "--buyer-country", "CN", "--date", "2026-12-06", "--json")
    data = json.loads(out)["data"]
    assert {s["name"] for s in data["stale"]} >= {"us_rules", "cn_measures", "screening"}  # the packs a verdict uses
    assert "prices" not in {p["name"] for p in data["packs"]} and data["asked"] == "2026-12-06"
    code, out, _ = run("compliance", "check", "h20", "--buyer-country", "CN", "--date", "2026-06-20", "--json")
    assert "us_rules" not in {s["name"] for s in json.loads(out)["data"]["stale"]}  # 15 days after: no caution
