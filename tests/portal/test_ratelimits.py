"""The rate limits' Redis storage: generous limits tallied in each process and flushed to Redis in
one pipeline, strict ones counted in Redis on every request, and what a tally promises when several
workers share one client's count, when Redis is down and when a worker is forked."""
import logging
import os
import time
import uuid

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from portal import create_app
from portal.ratelimits import LIMITER, RecallingRedisStorage

from .test_api import REDIS_URL, redis_or_skip

NOBODY = "redis://127.0.0.1:5122/0"  # a port in our range nobody listens on
NEVER = 3600  # seconds between flushes: the tests flush themselves


@pytest.fixture
def prefix():
    """A key prefix of the test's own, its keys deleted afterwards."""
    server = redis_or_skip()
    name = f"congkhai-test-{uuid.uuid4().hex[:8]}"
    yield name
    for key in server.scan_iter(match=f"*{name}*"):
        server.delete(key)


def storage(prefix: str, url: str = REDIS_URL, **options) -> RecallingRedisStorage:
    made = storage_from_string("congkhai+" + url, key_prefix=prefix, **{"sync_seconds": NEVER, **options})
    assert isinstance(made, RecallingRedisStorage)
    return made


def stored(prefix: str) -> dict[str, int]:
    """The rate-limit counters in Redis whose keys hold `prefix`."""
    server = redis_or_skip()
    return {key.decode(): int(server.get(key)) for key in server.scan_iter(match=f"*{prefix}*")
            if b"LIMITER/" in key}


def admitted(limiter: FixedWindowRateLimiter, item, times: int, client: str = "10.0.0.1") -> int:
    return sum(limiter.hit(item, client, "global") for _ in range(times))


def test_a_generous_limit_is_counted_here_and_reaches_redis_in_one_flush(prefix):
    shared = storage(prefix)
    limiter, item = FixedWindowRateLimiter(shared), parse("600/minute")
    assert admitted(limiter, item, 50) == 50
    assert stored(prefix) == {}                     # no round trip per request
    window = limiter.get_window_stats(item, "10.0.0.1", "global")
    assert window.remaining == 550 and 0 < window.reset_time - time.time() <= 60
    shared.flush()
    assert list(stored(prefix).values()) == [50]
    assert admitted(limiter, item, 5) == 5
    shared.flush()
    assert list(stored(prefix).values()) == [55]   # only what was new since the last flush


def test_workers_share_a_clients_count_a_flush_late(prefix):
    """Each process decides on the shared count as of its last flush plus its own new increments:
    past the limit, a worker lets through what it is sent until its next flush (a tenth of a
    second in service), then refuses like the others."""
    first, second = storage(prefix), storage(prefix)
    one, two = FixedWindowRateLimiter(first), FixedWindowRateLimiter(second)
    item = parse("600/minute")
    assert admitted(one, item, 400) == 400
    first.flush()
    assert admitted(two, item, 1) == 1
    second.flush()                                   # learns the first worker's 400
    assert admitted(two, item, 250) == 199          # 600 in all, then refused (refusals count too)
    second.flush()
    assert admitted(one, item, 3) == 3              # its count was 400 when it last flushed
    first.flush()
    assert admitted(one, item, 3) == 0 and admitted(two, item, 1) == 0
    assert list(stored(prefix).values()) == [654]
    assert admitted(one, item, 1, client="10.0.0.2") == 1  # another client's count is its own


def test_strict_limits_are_counted_in_redis_on_every_request(prefix):
    """Limits of less than a request a second (batch checks, disputes): a flush's delay would let
    through several times the limit."""
    limiter, item = FixedWindowRateLimiter(storage(prefix)), parse("30/minute")
    assert admitted(limiter, item, 2) == 2
    assert list(stored(prefix).values()) == [2]
    assert admitted(FixedWindowRateLimiter(storage(prefix)), item, 30) == 28


def test_while_redis_is_down_each_process_counts_on_its_own_and_windows_still_end(caplog):
    down = storage("congkhai-test-down", url=NOBODY)
    limiter, item = FixedWindowRateLimiter(down), parse("5/second")
    assert admitted(limiter, item, 8) == 5
    with caplog.at_level(logging.WARNING, logger="portal.ratelimits"):
        down.flush()
        down.flush()
    assert [r.getMessage() for r in caplog.records].count(caplog.records[0].getMessage()) == 1  # said once
    assert "Redis did not answer" in caplog.records[0].getMessage()
    assert admitted(limiter, item, 1) == 0
    time.sleep(1.05)
    assert admitted(limiter, item, 6) == 5          # a new window, counted here too


def test_counts_kept_while_redis_was_down_are_sent_once_it_answers(prefix):
    shared = storage(prefix)
    limiter, item = FixedWindowRateLimiter(shared), parse("600/minute")
    working = shared.storage
    shared.storage = storage("congkhai-test-down", url=NOBODY).storage  # the connection refuses
    admitted(limiter, item, 7)
    shared.flush()
    shared.storage = working
    admitted(limiter, item, 3)
    shared.flush()
    assert list(stored(prefix).values()) == [10]


def test_a_forked_worker_starts_with_no_tallies_and_flushes_its_own(prefix):
    """gunicorn forks its workers from a master that loaded the app: a child must neither inherit
    the parent's unsent counts (they would be sent twice) nor its lock."""
    shared = storage(prefix)
    limiter, item = FixedWindowRateLimiter(shared), parse("600/minute")
    admitted(limiter, item, 10)
    child = os.fork()
    if child == 0:
        try:
            fresh = not shared._tallies
            shared.sync_seconds = 0.05
            admitted(limiter, item, 4)
            deadline = time.monotonic() + 5
            while not stored(prefix) and time.monotonic() < deadline:
                time.sleep(0.02)                    # the child's own thread flushes
            os._exit(0 if fresh and list(stored(prefix).values()) == [4] else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    shared.flush()
    assert list(stored(prefix).values()) == [14]


def test_cached_pages_make_no_round_trip_for_their_limit(published, prefix):
    """The page limit (300 a minute by default) of hits answered before Flask and of pages Flask
    renders: counted in the worker, with the same headers, and in Redis after a flush."""
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "REDIS_URL": REDIS_URL,
                      "RATELIMIT_KEY_PREFIX": prefix, "CONGKHAI_CACHE_PREFIX": prefix + ":page",
                      "RATELIMIT_STORAGE_OPTIONS": {"sync_seconds": NEVER}})
    client = app.test_client()
    answers = [client.get("/lists/offenders") for _ in range(4)]
    assert [a.headers.get("X-Cache") for a in answers][1:] == ["hit"] * 3
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["299", "298", "297", "296"]
    assert stored(prefix) == {}
    app.extensions[LIMITER].storage.flush()
    assert list(stored(prefix).values()) == [4]
