"""A process serves a new release only once it is warm: until its most-read pages are in the cache
and its search index is open, readers get the release before, whole; then every one of those pages
is a cache hit for the first reader (portal/warm.py)."""
import dataclasses
import time
from datetime import date
from pathlib import Path

import pytest

from congkhai.provinces import by_code
from congkhai.search import opening
from portal import current
from portal.warm import WARMING, most_read, warm
from tests.registers import writable_copy

from .eligibility_register import DAY_2, DAY_3, make_app


@pytest.fixture
def switching(eligibility, tmp_path):
    """The portal on a copy of the three-release register, as a worker that last read DAY_2 as
    current when DAY_3 was published: (app, the DAY_2 release)."""
    settings = writable_copy(eligibility, tmp_path)
    app = make_app(settings, CONGKHAI_WARM_ON_SWITCH=1, CONGKHAI_PAGE_RATE_LIMIT="5 per minute")
    with app.app_context():
        previous = current.register().release(DAY_2.isoformat())
        current._cache()["current"] = (0.0, previous)
    return app, previous


def warm_up_of(app, release_id):
    return app.extensions["congkhai.warming"][release_id][1]


def test_the_release_before_serves_until_the_new_one_is_warm_then_its_pages_are_hits(switching):
    app, _previous = switching
    client = app.test_client()
    first = client.get("/provinces")
    assert first.headers["X-Release-Id"] == DAY_2.isoformat()  # the warm-up has just started
    warm_up_of(app, DAY_3.isoformat()).join(timeout=60)
    time.sleep(1.1)  # a warming process looks again within a second
    for url in ("/", "/lists/offenders", f"/provinces/{by_code()['01'].slug}", f"/releases/{DAY_3.isoformat()}"):
        for language in ("vi", "en"):
            response = client.get(url, headers={"Cookie": f"lang={language}"})
            assert response.headers["X-Release-Id"] == DAY_3.isoformat(), url
            assert response.headers["X-Cache"] == "hit", (url, language)
    assert (Path(app.config["CONGKHAI_DATA_DIR"]) / "indexes" / DAY_3.isoformat()).resolve() in opening._OPEN


def test_every_most_read_page_renders_and_warming_counts_against_no_client(switching):
    app, previous = switching
    assert warm(app, previous) == {200: 2 * len(most_read(previous))}  # under a page limit of 5 a minute
    response = app.test_client().get("/provinces", headers={WARMING: "2020-01-01"})  # a header is no environ key
    assert response.status_code == 200 and response.headers["X-RateLimit-Remaining"] == "4"


def test_a_warm_up_that_fails_lets_the_new_release_serve(switching, monkeypatch):
    app, _previous = switching
    monkeypatch.setattr("portal.warm.warm", lambda app, release: 1 / 0)
    app.test_client().get("/provinces")
    warm_up_of(app, DAY_3.isoformat()).join(timeout=60)
    time.sleep(1.1)
    assert app.test_client().get("/provinces").headers["X-Release-Id"] == DAY_3.isoformat()


def test_going_back_to_an_older_release_after_a_withdrawal_is_served_at_once(switching):
    """The cached release is newer than the database's current one, as after `congkhai withdraw`:
    nothing withdrawn is served while a warm-up runs."""
    app, previous = switching
    withdrawn = dataclasses.replace(previous, id="2099-01-01", as_of=date(2099, 1, 1))
    with app.app_context():
        current._cache()["current"] = (0.0, withdrawn)
    assert app.test_client().get("/provinces").headers["X-Release-Id"] == DAY_3.isoformat()
    assert "congkhai.warming" not in app.extensions
