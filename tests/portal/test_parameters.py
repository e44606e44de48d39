"""The page cache cannot be bypassed with parameters a view does not read (portal/parameters.py):
they share the cached answer, repeated and reordered filters too, and the page's links do not carry
them on; a parameter the view reads still makes another answer."""
from __future__ import annotations

import pytest

from portal import create_app
from portal.cache import storable
from portal.parameters import ACCEPTED

from .conftest import HA_THANH, soup


@pytest.fixture
def client(published):
    return create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "REDIS_URL": None}
                      ).test_client()


@pytest.mark.parametrize("first, then", [
    ("/lists/offenders", "/lists/offenders?nc=1"),
    ("/lists/offenders?per_page=10", "/lists/offenders?utm_source=zalo&per_page=10&nocache=2"),
    ("/", "/?page=5"),
    ("/search?q=cong+ty&status=late&status=delinquent", "/search?status=delinquent&q=cong+ty&status=late&status=late"),
    ("/api/v1/employers?q=cong+ty", "/api/v1/employers?q=cong+ty&_=1700000000"),
    (f"/employers/{HA_THANH}?as_of=2026-11-25", f"/employers/{HA_THANH}?as_of=2026-11-25&as_of=2020-01-01&x=1"),
])
def test_what_a_view_does_not_read_shares_the_cached_answer(client, first, then):
    before = client.get(first)
    after = client.get(then)
    assert (before.status_code, after.status_code) == (200, 200)
    assert after.headers["X-Cache"] == "hit" and after.get_data() == before.get_data()


def test_a_parameter_the_view_reads_still_makes_another_answer(client):
    assert client.get("/lists/offenders?per_page=10").headers["X-Cache"] == "miss"
    second = client.get("/lists/offenders?per_page=10&page=2")
    assert second.status_code in (200, 404) and second.headers.get("X-Cache") != "hit"


def test_the_pages_links_do_not_carry_an_unread_parameter_on(client):
    page = soup(client.get("/lists/offenders?per_page=10&nc=1&utm_source=x"))
    hrefs = [a["href"] for a in page.select("a[href]")]
    assert any("per_page=10" in href for href in hrefs)
    assert not any("nc=" in href or "utm_source" in href for href in hrefs)


def test_every_cached_view_declares_what_it_reads(published):
    """A new cached view must say which parameters it reads, or its answers would never be shared."""
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "REDIS_URL": None})
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    cached = {endpoint for endpoint in endpoints if storable(app, endpoint, "GET")} - {"static"}
    assert cached <= set(ACCEPTED) and set(ACCEPTED) <= endpoints


def test_a_view_that_reads_an_undeclared_parameter_fails_under_testing(client, monkeypatch):
    monkeypatch.setitem(ACCEPTED, "data.about", frozenset({"lang"}))  # as if about forgot as_of
    with pytest.raises(AssertionError, match="data.about reads the parameter 'as_of'"):
        client.get("/about?as_of=2026-11-25")
