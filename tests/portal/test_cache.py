"""The rendered-answer cache: hits, 304s, the language and the release in the key, what is never stored;
once with the in-process LRU and once with real Redis (a key prefix per test)."""
from __future__ import annotations

import uuid

import pytest

from portal import create_app
from portal.cache import EXTENSION, MemoryStore
from publisher.pipeline import publish
from tests.publisher.factory import write_all

from .conftest import DAY_1, DAY_2, scenario
from .test_api import REDIS_URL, redis_or_skip


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store_config(request):
    """Settings for one kind of store; the Redis one under a prefix of its own, deleted afterwards."""
    if request.param == "memory":
        yield {"REDIS_URL": None}
        return
    server = redis_or_skip()
    prefix = f"congkhai-test-{uuid.uuid4().hex[:12]}"
    yield {"REDIS_URL": REDIS_URL, "CONGKHAI_CACHE_PREFIX": prefix}
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
