"""Security headers on every kind of response, no inline script or style anywhere, HTTPS recognised
only through a trusted proxy, debug off, and no server version in gunicorn's answers."""
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from portal import create_app

from tests.registers import writable_copy

from .conftest import DONG_A, HA_THANH, html, portal_on

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_PORT = 5120


@pytest.fixture
def app(request, published, tmp_path):
    """The portal on the shared register, or on this test's copy of it where the test's URL is a
    receipt's: issuing one stores it."""
    url = getattr(request.node, "callspec", None) and request.node.callspec.params.get("url", "")
    return portal_on(writable_copy(published, tmp_path) if url and url.startswith("RECEIPT") else published)


def receipt_url(client) -> str:
    response = client.post("/api/v1/eligibility", json={"codes": [DONG_A, HA_THANH]})
    assert response.status_code == 200
    return response.get_json()["links"]["html"]


URLS = [
    "/", "/search?q=cong+ty", "/search.json?q=cong+ty", "/search.atom?q=cong+ty", f"/employers/{DONG_A}",
    f"/employers/{DONG_A}.json", f"/employers/{DONG_A}.rss", "/lists/offenders", "/lists/offenders.csv",
    "/lists/evading", "/lists/honour-roll", "/lists/changes", "/lists/changes.atom", "/provinces",
    "/provinces/ha-noi", "/releases/2026-11-25", "/releases/2026-11-25/charts/provinces-arrears.svg",
    "/data", "/data/catalog.jsonld", "/data/releases/2026-11-25/datapackage.json", "/releases/current/feeds/changes.atom",
    "/about", "/eligibility", "/verify", "RECEIPT", "RECEIPT.json", "/api/v1/", "/api/v1/releases",
    f"/api/v1/employers/{DONG_A}", "/static/portal.css", "/no/such/page", "/lists/offenders?page=abc",
    "/api/v1/nowhere",
]


@pytest.mark.parametrize("url", URLS)
def test_every_response_carries_the_security_headers(client, url):
    if url.startswith("RECEIPT"):
        url = receipt_url(client) + url.removeprefix("RECEIPT")
    response = client.get(url)
    assert response.status_code in (200, 400, 404), url
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'" and "script-src" not in directives   # no script runs, at all
    assert directives["style-src"] == "'self'" and "unsafe" not in policy
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers           # plain HTTP: HSTS means nothing
    assert "Server" not in response.headers


HTML_PAGES = ["/", "/search?q=cong+ty", f"/employers/{DONG_A}", f"/employers/{HA_THANH}", "/lists/offenders",
              "/lists/changes", "/provinces", "/provinces/ha-noi", "/releases/2026-11-25", "/data", "/about",
              "/eligibility", "/verify", "RECEIPT", "/api/v1/", "/no/such/page"]


@pytest.mark.parametrize("url", HTML_PAGES)
def test_pages_hold_no_inline_script_or_style(client, url):
    """What the policy forbids is not there to break: styles live in static/*.css, SVG charts use
    presentation attributes, and the only <script> is the data page's JSON-LD, which is data."""
    if url == "RECEIPT":
        url = receipt_url(client)
    page = html(client.get(url))
    assert not page.find_all("style") and not page.find_all(style=True)
    assert all(script.get("type") == "application/ld+json" and not script.get("src") for script in page.find_all("script"))
    for element in page.find_all(True):
        assert not [name for name in element.attrs if name.lower().startswith("on")], element.name
        for name in ("href", "src", "action"):
            assert not str(element.get(name, "")).strip().lower().startswith("javascript:")
    assert all(link["href"].startswith("/static/") for link in page.find_all("link", rel="stylesheet"))


def test_hsts_only_on_https_and_forwarded_headers_only_from_a_trusted_proxy(published):
    config = {"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"],
              "CONGKHAI_PAGE_RATE_LIMIT": "1 per minute"}
    direct = create_app(config).test_client()
    assert direct.get("/about", base_url="https://congkhai.example.vn").headers["Strict-Transport-Security"] \
        == "max-age=31536000"
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert "Strict-Transport-Security" not in direct.get("/about", headers=forged).headers
    assert direct.get("/about", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 429  # one client

    proxied = create_app({**config, "CONGKHAI_TRUSTED_PROXIES": 1}).test_client()
    assert proxied.get("/about", headers=forged).headers["Strict-Transport-Security"] == "max-age=31536000"
    assert proxied.get("/about", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 200  # another client
    assert proxied.get("/about", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 429


def test_no_link_follows_a_forged_host_header(client):
    """Embeddable charts and feeds link to CONGKHAI_BASE_URL whatever Host the request named, so a
    cache in front cannot be poisoned with links to another site."""
    for url in ("/releases/2026-11-25/charts/provinces-arrears.svg", "/releases/2026-11-25", "/lists/offenders.atom",
                f"/employers/{DONG_A}", "/data/catalog.jsonld", "/api/v1/releases"):
        response = client.get(url, headers={"Host": "evil.example"})
        assert response.status_code == 200 and "evil.example" not in response.get_data(as_text=True), url


def test_debug_is_off_unless_asked_and_an_error_shows_no_trace(published, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    app = create_app({"CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "SECRET_KEY": "s3cret"})
    assert not app.debug and not app.testing and not app.config["PROPAGATE_EXCEPTIONS"]

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail /etc/passwd")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "secret detail" not in text and "RuntimeError" not in text
    assert html(response).h1.get_text() and response.headers["Content-Security-Policy"]


def test_gunicorn_answers_without_its_version(published, tmp_path):
    """gunicorn names itself in `Server` but never its version (werkzeug's development server does:
    it is not for production). Its own limit on the request line bounds every URL."""
    env = {**os.environ, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "SECRET_KEY": "s3cret"}
    env.pop("FLASK_DEBUG", None)
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind",
                               f"127.0.0.1:{GUNICORN_PORT}", "portal:create_app()"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "gunicorn.log").open("w"))
    try:
        response, deadline = None, time.monotonic() + 60   # the machine may be busy: give it time to boot
        while response is None and time.monotonic() < deadline and server.poll() is None:
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{GUNICORN_PORT}/about", timeout=10)
            except OSError:
                time.sleep(0.2)
        assert response is not None, (tmp_path / "gunicorn.log").read_text()
        assert response.status == 200 and response.headers["Server"] == "gunicorn"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        with pytest.raises(urllib.error.HTTPError) as long_url:
            urllib.request.urlopen(f"http://127.0.0.1:{GUNICORN_PORT}/search?q={'a' * 5000}", timeout=5)
        assert long_url.value.code == 414 and "gunicorn/" not in str(long_url.value.headers) + long_url.value.read().decode()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


def test_retry_after_only_on_refusals(client):
    """Every 200 carried the rate limiter's Retry-After, telling clients and caches to wait."""
    response = client.get("/")
    assert response.status_code == 200 and "Retry-After" not in response.headers
    assert "X-RateLimit-Limit" in response.headers
