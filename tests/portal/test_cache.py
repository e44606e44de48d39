"""The rendered-answer cache: hits, 304s, the language and the release in the key, what is never stored;
once with the in-process LRU and once with real Redis (a key prefix per test)."""
from __future__ import annotations

import json
import uuid

import pytest

from portal import create_app, current
from portal.cache import EXTENSION, HitShortcut, MemoryStore
from publisher.pipeline import publish
from tests.publisher.factory import write_all
from tests.registers import writable_copy

from .conftest import DAY_1, DAY_2, scenario
from .test_api import REDIS_URL, redis_or_skip


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store_config(request):
    """Settings for one kind of store; the Redis one under a prefix of its own, deleted afterwards,
    for the rate limits too: another test's worker flushing its tallies late must not count here."""
    if request.param == "memory":
        yield {"REDIS_URL": None}
        return
    server = redis_or_skip()
    prefix = f"congkhai-test-{uuid.uuid4().hex[:12]}"
    yield {"REDIS_URL": REDIS_URL, "CONGKHAI_CACHE_PREFIX": prefix, "RATELIMIT_KEY_PREFIX": prefix}
    for key in server.scan_iter(f"{prefix}:*"):
        server.delete(key)


def make_app(data_dir: str, store_config: dict):
    return create_app({"TESTING": True, "CONGKHAI_DATA_DIR": data_dir, **store_config})


@pytest.mark.parametrize("url", ["/", "/lists/offenders", "/lists/offenders.json", "/api/v1/releases",
                                 "/search?q=dong+a"])
def test_second_answer_is_a_hit_with_the_same_etag_and_304(published, store_config, url):
    app = make_app(published["CONGKHAI_DATA_DIR"], store_config)
    client = app.test_client()
    first = client.get(url)
    second = client.get(url)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert second.get_data() == first.get_data() and second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert "max-age" in second.headers["Cache-Control"] and "Cookie" in second.headers["Vary"]
    assert DAY_2.isoformat() in first.headers["ETag"]
    not_modified = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304 and not not_modified.get_data()
    head = client.head(url)
    assert head.headers["X-Cache"] == "hit" and head.headers["ETag"] == first.headers["ETag"] and not head.get_data()
    store = app.extensions[EXTENSION]
    if store_config["REDIS_URL"]:
        assert list(store.far.client.scan_iter(f"{store_config['CONGKHAI_CACHE_PREFIX']}:{DAY_2.isoformat()}.*"))
        assert store.near.size > 0
    else:
        assert isinstance(store, MemoryStore) and store.size > 0


def test_the_language_is_part_of_the_key(published, store_config):
    app = make_app(published["CONGKHAI_DATA_DIR"], store_config)
    client = app.test_client()
    vietnamese = client.get("/lists/offenders")
    english = client.get("/lists/offenders?lang=en")
    assert english.headers["X-Cache"] == "miss" and english.get_data() != vietnamese.get_data()
    assert english.headers["ETag"] != vietnamese.headers["ETag"]
    assert 'lang="en"' in english.get_data(as_text=True) and 'lang="vi"' in vietnamese.get_data(as_text=True)
    remembered = client.get("/lists/offenders")  # the cookie set by ?lang=en now chooses English
    assert remembered.headers["X-Cache"] == "miss" and 'lang="en"' in remembered.get_data(as_text=True)
    assert client.get("/lists/offenders").headers["X-Cache"] == "hit"
    again = app.test_client().get("/lists/offenders")  # a reader without the cookie: Vietnamese, from the cache
    assert again.headers["X-Cache"] == "hit" and again.get_data() == vietnamese.get_data()


def test_a_new_release_changes_the_etag_and_the_content(tmp_path, store_config):
    settings = {"CONGKHAI_DATA_DIR": str(tmp_path / "data")}
    from congkhai.config import load_settings
    from congkhai.signing import generate_key

    settings = load_settings(env={}, **settings)
    generate_key(settings["CONGKHAI_SIGNING_KEY"])
    for day in (DAY_1, DAY_2):
        write_all(tmp_path / day.isoformat(), as_of=day, overrides=scenario(day))
    publish(tmp_path / DAY_1.isoformat(), DAY_1, settings)
    app = make_app(settings["CONGKHAI_DATA_DIR"], store_config)
    client = app.test_client()
    before = client.get("/releases/latest", follow_redirects=True)
    assert client.get("/lists/changes.json").headers["X-Cache"] == "miss"
    old = client.get("/lists/changes.json")
    assert old.headers["X-Cache"] == "hit"

    publish(tmp_path / DAY_2.isoformat(), DAY_2, settings)
    app.extensions["congkhai.cache"]["current"] = None  # as after the few seconds the portal keeps it
    new = client.get("/lists/changes.json")
    assert new.headers["X-Cache"] == "miss" and new.headers["ETag"] != old.headers["ETag"]
    assert new.get_json() != old.get_json() and DAY_2.isoformat() in new.headers["ETag"]
    assert client.get("/lists/changes.json", headers={"If-None-Match": old.headers["ETag"]}).status_code == 200
    assert client.get("/releases/latest", follow_redirects=True).get_data() != before.get_data()


def test_what_is_never_stored(published, store_config):
    client = make_app(published["CONGKHAI_DATA_DIR"], store_config).test_client()
    for _ in range(2):
        missing = client.get("/employers/0000000000")
        assert missing.status_code == 404 and "X-Cache" not in missing.headers
        assert missing.headers["Cache-Control"] == "no-store" and "ETag" not in missing.headers
        form = client.get("/eligibility")  # proposes today's date
        assert form.status_code == 200 and "X-Cache" not in form.headers
        probe = client.get("/healthz")
        assert "X-Cache" not in probe.headers and probe.headers["Cache-Control"] == "no-store"
        posted = client.post("/verify", data={"receipt": "{}"})
        assert "X-Cache" not in posted.headers and posted.headers["Cache-Control"] == "no-store"


def test_hits_still_count_against_rate_limits(published, store_config):
    client = make_app(published["CONGKHAI_DATA_DIR"], store_config).test_client()
    first, second = client.get("/api/v1/releases"), client.get("/api/v1/releases")
    assert second.headers["X-Cache"] == "hit"
    assert int(second.headers["X-RateLimit-Remaining"]) == int(first.headers["X-RateLimit-Remaining"]) - 1
    assert second.headers["X-Release-Id"] == DAY_2.isoformat()


@pytest.mark.redis
def test_another_worker_answers_from_redis_then_from_its_own_memory(published):
    server = redis_or_skip()
    config = {"REDIS_URL": REDIS_URL, "CONGKHAI_CACHE_PREFIX": f"congkhai-test-{uuid.uuid4().hex[:12]}"}
    try:
        first, second = (make_app(published["CONGKHAI_DATA_DIR"], config) for _ in range(2))
        assert first.test_client().get("/lists/offenders").headers["X-Cache"] == "miss"
        near = second.extensions[EXTENSION].near
        assert near.size == 0
        answer = second.test_client().get("/lists/offenders")
        assert answer.headers["X-Cache"] == "hit" and near.size > 0  # Redis's entry, now kept near too
        for key in server.scan_iter(f"{config['CONGKHAI_CACHE_PREFIX']}:*"):
            server.delete(key)
        again = second.test_client().get("/lists/offenders")
        assert again.headers["X-Cache"] == "hit" and again.get_data() == answer.get_data()
    finally:
        for key in server.scan_iter(f"{config['CONGKHAI_CACHE_PREFIX']}:*"):
            server.delete(key)


def test_memory_store_is_bounded_in_bytes():
    store = MemoryStore(max_bytes=1000, seconds=60)
    for number in range(10):
        store.set(f"k{number}", bytes(200))
    assert store.size <= 1000 and store.get("k0") is None and store.get("k9") == bytes(200)
    store.get("k5")  # the oldest, but used recently: kept when a new value needs room
    store.set("k10", bytes(200))
    assert store.get("k5") is not None and store.get("k6") is None
    store.set("huge", bytes(600))  # more than a quarter of the cache: not stored
    assert store.get("huge") is None


# ---- hits answered before Flask (HitShortcut) ------------------------------------------------------------

def flask_calls(app) -> list[str]:
    """The paths that reached Flask behind the cache's shortcut, from now on."""
    shortcut, calls = app.wsgi_app, []
    assert isinstance(shortcut, HitShortcut)
    inner = shortcut.wsgi_app

    def counting(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)
    shortcut.wsgi_app = counting
    return calls


def _same_parts(response) -> dict:
    """Headers that must agree; `Date` is the moment of sending, a second apart across a clock tick."""
    return {name: value for name, value in response.headers.items()
            if name not in ("X-RateLimit-Remaining", "X-RateLimit-Reset", "Date")}


@pytest.mark.parametrize("url", ["/lists/offenders", "/api/v1/releases", "/search?q=%C4%91ong+a", "/provinces/ha-noi",
                                 "/lists/offenders.atom", "/about.json"])
def test_a_hit_before_flask_is_the_answer_flask_gives_for_it(published, store_config, url, monkeypatch):
    app = make_app(published["CONGKHAI_DATA_DIR"], store_config)
    client, calls = app.test_client(), flask_calls(app)
    assert client.get(url).headers["X-Cache"] == "miss"
    first_hit, ready = client.get(url), client.get(url)  # the second is sent from the first one's Ready answer
    assert len(calls) == 1 and first_hit.headers["X-Cache"] == ready.headers["X-Cache"] == "hit"
    head = client.head(url)
    monkeypatch.setattr(current, "fresh", lambda app: None)  # as if the release were not read lately
    through_flask, flask_head = client.get(url), client.head(url)
    assert len(calls) == 3 and through_flask.headers["X-Cache"] == flask_head.headers["X-Cache"] == "hit"
    for shortcut in (first_hit, ready):
        assert shortcut.get_data() == through_flask.get_data() and shortcut.status_code == through_flask.status_code
        assert _same_parts(shortcut) == _same_parts(through_flask)
        assert sorted(shortcut.headers.keys()) == sorted(through_flask.headers.keys())
    assert int(ready.headers["X-RateLimit-Remaining"]) == int(first_hit.headers["X-RateLimit-Remaining"]) - 1
    assert int(through_flask.headers["X-RateLimit-Remaining"]) == int(head.headers["X-RateLimit-Remaining"]) - 1
    assert abs(int(through_flask.headers["X-RateLimit-Reset"]) - int(ready.headers["X-RateLimit-Reset"])) <= 1
    assert head.get_data() == flask_head.get_data() == b"" and _same_parts(head) == _same_parts(flask_head)


def test_a_worker_sends_a_hit_it_built_once_without_decoding_it_again(published, store_config, monkeypatch):
    app = make_app(published["CONGKHAI_DATA_DIR"], store_config)
    client, store, looked_up = app.test_client(), app.extensions[EXTENSION], []
    get = store.get
    monkeypatch.setattr(store, "get", lambda key: looked_up.append(key) or get(key))
    assert [client.get("/lists/offenders").headers["X-Cache"] for _ in range(4)] == ["miss", "hit", "hit", "hit"]
    assert len(looked_up) == 2  # the miss and the first hit; then the Ready answer
    client.set_cookie("lang", "en")
    english = [client.get("/lists/offenders") for _ in range(3)]  # another language, another answer
    assert [answer.headers["X-Cache"] for answer in english] == ["miss", "hit", "hit"]
    assert 'lang="en"' in english[2].get_data(as_text=True)
    assert len(looked_up) == 4


@pytest.mark.parametrize("url", ["/lists/offenders", "/api/v1/releases"])
def test_conditional_requests_after_a_ready_answer_get_what_werkzeug_gives(published, store_config, url):
    app = make_app(published["CONGKHAI_DATA_DIR"], store_config)
    client, calls = app.test_client(), flask_calls(app)
    etag = client.get(url).headers["ETag"]
    ready = [client.get(url) for _ in range(2)][-1]
    assert len(calls) == 1 and ready.headers["Date"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"another"'}).get_data() == ready.get_data()
    assert client.get(url, headers={"If-Match": '"another"'}).status_code == 412
    assert client.get(url, headers={"If-Modified-Since": ready.headers["Date"]}).status_code == 200  # no Last-Modified
    assert len(calls) == 1


def test_hits_before_flask_count_against_the_same_limit_and_the_429_comes_from_flask(published, store_config):
    app = make_app(published["CONGKHAI_DATA_DIR"], {**store_config, "CONGKHAI_PAGE_RATE_LIMIT": "3 per minute",
                                                    "CONGKHAI_CACHE_PREFIX": f"limits-{uuid.uuid4().hex[:8]}"})
    client, calls = app.test_client(), flask_calls(app)
    if store_config["REDIS_URL"]:
        app.extensions["congkhai.limiter"].storage.reset()
    answers = [client.get("/lists/offenders") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert [a.headers.get("X-Cache") for a in answers[:3]] == ["miss", "hit", "hit"]
    assert calls == ["/lists/offenders", "/lists/offenders"]  # the first and the refused one
    assert answers[3].headers["Retry-After"] and "Retry-After" not in answers[1].headers


def test_the_language_switch_goes_through_flask_and_the_remembered_language_is_a_hit(published, store_config):
    app = make_app(published["CONGKHAI_DATA_DIR"], store_config)
    client, calls = app.test_client(), flask_calls(app)
    vietnamese = client.get("/lists/offenders")
    switched = [client.get("/lists/offenders?lang=en") for _ in range(2)]
    assert [answer.headers["X-Cache"] for answer in switched] == ["miss", "hit"] and len(calls) == 3
    assert "lang=en" in switched[0].headers["Set-Cookie"]  # the client had no cookie yet: Flask sets it
    remembered = [client.get("/lists/offenders") for _ in range(2)]  # the cookie now chooses English
    assert [answer.headers["X-Cache"] for answer in remembered] == ["miss", "hit"] and len(calls) == 4
    assert 'lang="en"' in remembered[1].get_data(as_text=True) and remembered[1].get_data() != vietnamese.get_data()
    assert "Set-Cookie" not in remembered[1].headers


def test_pages_under_other_limits_and_an_unread_release_go_through_flask(published, store_config, monkeypatch):
    app = make_app(published["CONGKHAI_DATA_DIR"], store_config)
    client, calls = app.test_client(), flask_calls(app)
    for _ in range(2):
        assert client.get("/disputes").status_code == 200  # under the dispute look-up limit as well
    assert client.get("/disputes").headers["X-Cache"] == "hit" and calls == ["/disputes"] * 3
    client.get("/lists/offenders")
    monkeypatch.setattr(current, "CURRENT_RELEASE_SECONDS", -1)  # what this process read is too old
    assert client.get("/lists/offenders").headers["X-Cache"] == "hit" and calls[-2:] == ["/lists/offenders"] * 2


def test_trusted_proxies_wrap_the_shortcut_so_each_client_has_its_own_count(published, store_config):
    app = make_app(published["CONGKHAI_DATA_DIR"], {**store_config, "CONGKHAI_TRUSTED_PROXIES": 1,
                                                    "CONGKHAI_PAGE_RATE_LIMIT": "2 per minute"})
    if store_config["REDIS_URL"]:
        app.extensions["congkhai.limiter"].storage.reset()
    client = app.test_client()

    def get(address):
        return client.get("/lists/offenders", headers={"X-Forwarded-For": address})
    assert [get("203.0.113.7").status_code for _ in range(3)] == [200, 200, 429]
    other = get("198.51.100.9")
    assert other.status_code == 200 and other.headers["X-Cache"] == "hit" and other.headers["X-RateLimit-Remaining"] == "1"


def test_a_hit_before_flask_logs_its_line(published, capsys):
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "REDIS_URL": None,
                      "CONGKHAI_LOG_FORMAT": "json"})
    client, calls = app.test_client(), flask_calls(app)
    capsys.readouterr()
    assert [client.get("/lists/evading").headers["X-Cache"] for _ in range(2)] == ["miss", "hit"] and len(calls) == 1
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    requests = [(r["path"], r["status"], r["release_id"]) for r in lines if r.get("event") == "request"]
    assert requests == [("/lists/evading", 200, DAY_2.isoformat())] * 2


def test_a_setting_that_now_holds_two_limits_sends_hits_through_flask(published, store_config):
    app = make_app(published["CONGKHAI_DATA_DIR"], {**store_config, "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex[:8]})
    client, calls = app.test_client(), flask_calls(app)
    client.get("/lists/offenders")  # stored under one limit
    app.config["CONGKHAI_PAGE_RATE_LIMIT"] = "300 per minute; 3 per hour"
    answers = [client.get("/lists/offenders") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429] and len(calls) == 5


def test_only_pages_that_can_be_stored_are_looked_up_and_a_miss_once(published, store_config, monkeypatch, tmp_path):
    register = writable_copy(published, tmp_path)  # the eligibility check below stores a receipt
    app = make_app(register["CONGKHAI_DATA_DIR"], store_config)
    client, store, looked_up = app.test_client(), app.extensions[EXTENSION], []
    get = store.get
    monkeypatch.setattr(store, "get", lambda key: looked_up.append(key) or get(key))
    client.get("/lists/evading")  # the release is read: the shortcut may answer from now on
    looked_up.clear()
    for url in ("/healthz", "/static/portal.css", "/eligibility", "/no/such/page", "/api/v1/eligibility?code=1"):
        client.get(url)
    assert looked_up == []
    assert client.get("/lists/offenders").headers["X-Cache"] == "miss" and len(looked_up) == 1
    assert client.get("/employers/0000000000").status_code == 404 and len(looked_up) == 2


def test_the_log_line_of_a_hit_names_the_release_served(published, capsys):
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "REDIS_URL": None,
                      "CONGKHAI_LOG_FORMAT": "json"})
    client, calls = app.test_client(), flask_calls(app)
    capsys.readouterr()
    url = f"/api/v1/releases/{DAY_1.isoformat()}"  # an answer about the earlier release
    assert [client.get(url).headers["X-Cache"] for _ in range(2)] == ["miss", "hit"] and len(calls) == 1
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [r["release_id"] for r in lines if r.get("event") == "request"] == [DAY_2.isoformat()] * 2


def test_hits_follow_the_limiters_header_settings_and_a_disabled_limiter(published):
    quiet = make_app(published["CONGKHAI_DATA_DIR"], {"REDIS_URL": None, "RATELIMIT_HEADERS_ENABLED": False})
    client, calls = quiet.test_client(), flask_calls(quiet)
    answers = [client.get("/lists/offenders") for _ in range(2)]
    assert answers[1].headers["X-Cache"] == "hit" and len(calls) == 1
    assert not any(name.startswith("X-RateLimit") for answer in answers for name in answer.headers.keys())
    off = make_app(published["CONGKHAI_DATA_DIR"], {"REDIS_URL": None, "RATELIMIT_ENABLED": False})
    client, calls = off.test_client(), flask_calls(off)
    answers = [client.get("/lists/offenders") for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3 and answers[2].headers["X-Cache"] == "hit" and len(calls) == 1


def test_a_receipt_issued_on_a_get_is_never_stored(published, store_config, tmp_path):
    register = writable_copy(published, tmp_path)  # a receipt is stored
    client = make_app(register["CONGKHAI_DATA_DIR"], store_config).test_client()
    for _ in range(2):
        answer = client.get("/api/v1/eligibility?code=0100109106")
        assert answer.status_code == 200 and "X-Cache" not in answer.headers
