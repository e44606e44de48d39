"""One way an answer is made (portal/responses.py): the same headers whatever order Flask's hooks
were registered in, and a rate-limited answer is always counted before a stored one is served."""
from __future__ import annotations

import pytest

from portal import create_app

URLS = ["/", "/lists/offenders", "/lists/offenders.json", "/api/v1/releases", "/search?q=dong+a",
        "/api/v1/employers/nothing-here", "/no-such-page", "/lists/offenders?lang=en"]
PER_CLIENT = ("Date", "X-RateLimit-Reset", "Set-Cookie")


def answers(app) -> list[tuple]:
    """Every URL twice (a miss, then a hit) and with its ETag (a 304): status and headers, less
    what changes by the second."""
    client = app.test_client()
    out = []
    for url in URLS:
        for _ in range(2):
            response = client.get(url)
            out.append((url, response.status_code,
                        sorted((k, v) for k, v in response.headers.items() if k not in PER_CLIENT)))
        etag = response.headers.get("ETag")
        if etag:
            again = client.get(url, headers={"If-None-Match": etag})
            out.append((url, again.status_code, sorted(k for k in again.headers.keys() if k not in PER_CLIENT)))
    return out


def reversed_hooks(app):
    """The app with every before- and after-request hook list of Flask's in the opposite order."""
    for hooks in (app.before_request_funcs, app.after_request_funcs):
        for key in hooks:
            hooks[key] = list(reversed(hooks[key]))
    return app


def test_no_answer_depends_on_the_order_hooks_were_registered(published):
    settings = {"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "REDIS_URL": None}
    assert answers(create_app(settings)) == answers(reversed_hooks(create_app(settings)))


def test_a_success_names_its_limit_but_never_asks_the_client_to_wait(client):
    response = client.get("/lists/offenders")
    assert response.headers["X-RateLimit-Limit"] and "Retry-After" not in response.headers


@pytest.mark.parametrize("url", ["/lists/offenders", "/api/v1/releases"])
def test_a_cached_answer_is_refused_once_the_client_is_over_its_limit(published, url):
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "REDIS_URL": None,
                      "CONGKHAI_PAGE_RATE_LIMIT": "3/minute", "CONGKHAI_API_RATE_LIMIT": "3/minute"})
    client = app.test_client()
    codes = [client.get(url) for _ in range(4)]
    assert [a.status_code for a in codes] == [200, 200, 200, 429]
    assert codes[1].headers["X-Cache"] == "hit" and 0 < int(codes[3].headers["Retry-After"]) <= 60


@pytest.mark.parametrize("url", ["/search?q=cong+ty", "/api/v1/employers?q=cong+ty", "/readyz"])
def test_every_503_says_when_to_come_back(published, tmp_path, url):
    """Not only a database that is down: a release whose search index is missing too."""
    import shutil

    from tests.registers import writable_copy

    copy = writable_copy(published, tmp_path)
    shutil.rmtree(tmp_path / "data" / "indexes")
    client = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": copy["CONGKHAI_DATA_DIR"], "REDIS_URL": None}
                        ).test_client()
    response = client.get(url)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 30
