"""Real-browser fixtures: one gunicorn serving the published test register and one headless Chromium
(Debian's, driven by Playwright) per session, with one tab per viewport that each test starts cookie-free.

Locally the browser tests skip, saying why, when Chromium, Playwright or gunicorn is missing; in CI
(`CI=true`) they fail instead, like the PostgreSQL tests. Each test's page is kept as a screenshot
under `artifacts/screenshots/`, and every test fails on a console error (a CSP violation, a script error).
"""
from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from congkhai.config import REPO_ROOT
from tests.registers import writable_copy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PORTS = range(5180, 5190)
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
SCREENSHOT_MAX_HEIGHT = 3000  # px: the top of a long page is what a reviewer looks at; encoding all of it is slow
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    for module in ("playwright", "axe_playwright_python", "gunicorn"):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {module} is missing (pip install -e '.[test,serve]')"
    return None


def _require_browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run the browser tests)")
        pytest.skip(reason)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1} for the portal under test")


def _wait_until_serving(url: str, server: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the portal exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"the portal did not answer {url} within {seconds} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def portal_url(published, tmp_path_factory):
    """Base URL of a real gunicorn process serving a copy of the session's published register (the
    browser's checks keep receipts: the shared register stays as other tests read it)."""
    _require_browser()
    published = writable_copy(published, tmp_path_factory.mktemp("browser-register"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"],
           "CONGKHAI_POLICY": str(published["CONGKHAI_POLICY"]), "CONGKHAI_BASE_URL": base,
           "SECRET_KEY": os.urandom(16).hex()}
    env.pop("REDIS_URL", None)  # one worker: rate limits in memory
    log = tmp_path_factory.mktemp("portal") / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}",
             "--access-logfile", "-", "portal:create_app()"],
            cwd=REPO_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_until_serving(base + "/", server, log)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> dict:
    """Each browser test runs on a 360 px phone and on a 1280 px desktop."""
    return VIEWPORTS[request.param]


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the page logged; a test expecting one (a 404's own load error) removes it."""
    return []


@pytest.fixture(scope="session")
def tabs(browser, portal_url):
    """One tab per viewport for the whole session, opened on first use: a new tab costs a renderer
    process (0.3 s or more on a loaded machine), which forty page checks would pay forty times."""
    opened = {}

    def tab(viewport: dict):
        key = (viewport["width"], viewport["height"])
        if key not in opened:
            context = browser.new_context(base_url=portal_url, viewport=viewport, locale="vi-VN", accept_downloads=True)
            context.set_default_timeout(10_000)
            page = context.new_page()
            sink = {"errors": []}
            page.on("console", lambda message: message.type == "error"
                    and sink["errors"].append(f"{page.url}: {message.text}"))
            page.on("pageerror", lambda error: sink["errors"].append(f"{page.url}: {error}"))
            opened[key] = page, sink
        return opened[key]

    yield tab
    for page, _ in opened.values():
        page.context.close()


@pytest.fixture
def page(tabs, viewport, console_errors, request):
    """The viewport's tab, without cookies (so in Vietnamese) and with `portal_url` as base URL;
    console errors fail the test, and the page it ends on is saved as a screenshot."""
    page, sink = tabs(viewport)
    page.context.clear_cookies()
    sink["errors"] = console_errors
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = min(page.evaluate("document.documentElement.scrollHeight"), SCREENSHOT_MAX_HEIGHT)
    page.screenshot(path=SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name).strip('_')}.png", full_page=True,
                    clip={"x": 0, "y": 0, "width": viewport["width"], "height": height})
    sink["errors"] = []
    assert not console_errors, "console errors:\n" + "\n".join(console_errors)


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")
