"""A live server on loopback and a headless Chromium driven by Playwright for the browser tests.

What a browser test costs (2 shared cores): mostly Chromium evaluating plotly.js (4.8 MB), which the page loads
after every navigation: a page load is 2-3 CPU s in a fresh renderer, about 0.6 s in one that has compiled it. So
the desktop pages (``watch``) of one test module share one browser context: a keeper page holds the site's renderer
process open and ``--process-per-site`` puts every page of the site in it, so V8 compiles plotly.js once per
module. Each test still gets its own page (a new document and JavaScript realm) with the local storage and cookies
cleared first and the HTTP cache bypassed, so every test loads every file from the live server as a first visit
does. The phone pages (``phone``, one test per module) keep a context of their own.

The server runs sweeps with one worker process (a sweep of a few scenarios fits in one worker's claim; a second
process only started Python and waited) and opens the corpus index when the first question asks for it.

Screenshots for the documentation (``docs/screenshots/*.png``) are written only when asked, with
``PROCURE_SCREENSHOTS=1 .venv/bin/pytest tests/web -p no:xdist`` (or ``PROCURE_SCREENSHOT_DIR=<folder>`` to write them
elsewhere); no assertion reads them. ``PROCURE_CHROMIUM`` names another Chromium binary.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.pagekit import POLL_MS, REQUEST_2025, post

# Read at import: tests/conftest.py strips PROCURE_* variables before each test.
CHROMIUM = os.environ.get("PROCURE_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get("PROCURE_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "docs" / "screenshots")
)
WRITE_SCREENSHOTS = (os.environ.get("PROCURE_SCREENSHOTS", "").lower() not in ("", "0", "false", "no")
                     or "PROCURE_SCREENSHOT_DIR" in os.environ)
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from service.app import create_app
    from service.settings import JobSettings, Settings

    data = tmp_path_factory.mktemp("web-data")
    port = _free_port()
    # One worker per sweep: the page's sweeps have 2-6 scenarios, which one worker claims at once (claim_batch 8).
    # The index opens on the first question instead of in a background thread at start-up.
    settings = Settings(data_dir=data, warm_index=False, jobs=JobSettings(workers=1))
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def plan_2025(live_server: str) -> dict[str, Any]:
    """The plan for :data:`REQUEST_2025` as the API returns it; tests edit copies (``dict(plan_2025, ...)``)."""
    plan: dict[str, Any] = post(live_server, "/v1/recommendations", REQUEST_2025)
    return plan


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: Playwright's sync API keeps an event loop running in this thread while it is open, which would
    # break later tests that call asyncio.run().
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.skip(reason=f"Chromium is not installed at {CHROMIUM} and scripts/system-deps.sh could not install it "
                    "(needs root and apt); install Debian's chromium or set PROCURE_CHROMIUM to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # --process-per-site: the pages of one context and site share a renderer, and with it compiled plotly.js.
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--process-per-site"],
                              headless=True)
        yield b
        b.close()


class PageWatch:
    """Collects console errors, page errors and every request URL of one page."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("request", lambda req: self.requests.append(req.url))

    def external_requests(self, base: str) -> list[str]:
        return [u for u in self.requests if not (u.startswith(base) or u.startswith("data:") or u.startswith("blob:"))]

    def screenshot(self, name: str, *, full_page: bool = True) -> Path | None:
        """Save the page for the documentation when asked (see the module's docstring); the path, or None."""
        if not WRITE_SCREENSHOTS:
            return None
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture(scope="module")
def desktop(browser: Any, live_server: str) -> Iterator[Any]:
    """The module's desktop context, held open by a keeper page that has loaded the page and plotly.js."""
    context = browser.new_context(**DESKTOP)
    keeper = context.new_page()
    keeper.goto(live_server + "/")
    keeper.wait_for_function("typeof Plotly === 'object'", timeout=60_000, polling=POLL_MS)
    yield keeper
    context.close()


@pytest.fixture()
def watch(desktop: Any) -> Iterator[PageWatch]:
    context = desktop.context
    context.clear_cookies()
    desktop.evaluate("localStorage.clear()")  # e.g. the language a test chose; a new page has its own sessionStorage
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})  # every file from the server, as on a first visit
    page.set_default_timeout(30_000)
    yield PageWatch(page)
    page.close()


@pytest.fixture()
def phone(browser: Any) -> Iterator[PageWatch]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield PageWatch(page)
    context.close()
