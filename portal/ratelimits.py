"""Per-client rate limits for the pages, the JSON API and batch eligibility checks (flask-limiter).

Counters live in Redis when `REDIS_URL` is set, so every worker and node shares them; in memory
otherwise (one process, development and tests); if Redis stops answering, each process counts in
memory until it is back instead of failing the request. Limits are settings, read on every
request, so an operator can change them without touching code. Clients are told apart by their
address: behind a reverse proxy, CONGKHAI_TRUSTED_PROXIES makes that the client's (portal.guards).

With Redis, a limit of a request a second or more (the page and API limits) is counted in each
process and sent to Redis ten times a second, not once per request (`RecallingRedisStorage`);
stricter limits (batch checks, disputes) are counted in Redis on every request.
"""
from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from functools import lru_cache

from flask import Blueprint, Flask, current_app, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.constants import HeaderNames
from flask_limiter.util import get_remote_address
from limits import parse_many
from limits.storage import RedisStorage

from .warm import WARMING

LIMITER = "congkhai.limiter"
API = "/api/"
SCHEME = "congkhai+"
# The limits a cached page can be under, by flask-limiter scope, and the settings they are read from.
CACHED_PAGE_SCOPES = {"global": "CONGKHAI_PAGE_RATE_LIMIT", "api": "CONGKHAI_API_RATE_LIMIT"}

log = logging.getLogger(__name__)
_TALLYING = weakref.WeakSet()  # storages with tallies, reset in a forked child (os.register_at_fork)


@dataclass
class Tally:
    """One limit's count for one client, as this process knows it."""
    expiry: int            # the window's length, in seconds
    expires_at: float      # when the window ends (time.time()): Redis's word after a flush
    shared: int = 0        # the count in Redis at the last flush, this process's increments included
    pending: int = 0       # increments made here since, not yet sent

    def current(self, now: float) -> int:
        if now >= self.expires_at:   # a new window: what was counted belonged to the last one
            self.shared, self.pending, self.expires_at = 0, 0, now + self.expiry
        return self.shared + self.pending


class RecallingRedisStorage(RedisStorage):
    """limits' Redis storage, for `congkhai+redis://` URIs, made cheap enough for a news-day peak.

    Generous limits are tallied here and flushed. A Redis round trip per request was a quarter of the
    portal's CPU under load (bench/load.py), as much as gunicorn's whole HTTP handling. So a limit
    allowing at least `buffer_from` requests a second (the page and API limits) is counted in
    process (`Tally`). A thread sends the new counts to Redis every `sync_seconds` in one pipeline,
    and each answer brings back every other worker's and node's counts. A process therefore decides
    on a shared count at most that late: past the limit, a client gets through at most what it sends
    in that time, once per window. While Redis is down, the tallies carry on in memory.

    Strict limits are exact, and answer their headers from the increment. The batch and dispute
    limits are counted in Redis on every request, as limits' own storage does. The increment also
    returns the key's time to live, so the rate-limit headers of the same request need no second or
    third round trip. What is recalled is this thread's increments of the current request (a batch
    check counts against two limits), forgotten at the start of every request (`forget`) and after
    a second, so a limit is never tested against another request's count."""

    STORAGE_SCHEME = [SCHEME + "redis", SCHEME + "rediss"]
    SCRIPT_INCR_TTL = """
local current = redis.call("incrby", KEYS[1], ARGV[2])
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("pttl", KEYS[1])}
"""
    RECALL_SECONDS = 1.0

    def __init__(self, uri: str, sync_seconds: float = 0.1, buffer_from: float = 1.0, **options):
        self.recent = threading.local()
        self.sync_seconds, self.buffer_from = float(sync_seconds), float(buffer_from)
        self._reset()
        _TALLYING.add(self)
        super().__init__(uri.removeprefix(SCHEME), **options)

    def _reset(self) -> None:
        """No tallies, lock or flushing thread: a forked worker starts with none of its parent's."""
        self._owner_pid: int | None = None  # the process whose thread flushes the tallies
        self._tallies: dict[str, Tally] = {}
        self._lock = threading.Lock()
        self._failing = False

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_incr_ttl = self.get_connection().register_script(self.SCRIPT_INCR_TTL)

    def buffered(self, key: str, expiry: int) -> bool:
        """Whether the key's limit allows `buffer_from` requests a second or more. limits writes the
        limit's amount third from the end of its keys (`RateLimitItem.key_for`)."""
        try:
            amount = int(key.rsplit("/", 3)[1])
        except (IndexError, ValueError):
            return False
        return amount >= self.buffer_from * expiry

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        if self.buffered(key, expiry):
            return self._tally_incr(key, expiry, amount)
        count, pttl = self.lua_incr_ttl([self.prefixed_key(key)], [expiry, amount])
        entries = getattr(self.recent, "entries", None)
        if entries is None:
            entries = self.recent.entries = {}
        entries[key] = (int(count), time.time() + max(int(pttl), 0) / 1000, time.monotonic())
        return int(count)

    def forget(self) -> None:
        self.recent.entries = {}

    def _recalled(self, key: str):
        entry = (getattr(self.recent, "entries", None) or {}).get(key)
        if entry and time.monotonic() - entry[2] < self.RECALL_SECONDS:
            return entry
        return None

    def get(self, key: str) -> int:
        tally = self._tallies.get(key)
        if tally is not None:
            with self._lock:
                return tally.current(time.time())
        entry = self._recalled(key)
        return entry[0] if entry else super().get(key)

    def get_expiry(self, key: str) -> float:
        tally = self._tallies.get(key)
        if tally is not None:
            with self._lock:
                tally.current(time.time())
                return tally.expires_at
        entry = self._recalled(key)
        return entry[1] if entry else super().get_expiry(key)

    def clear(self, key: str) -> None:
        with self._lock:
            self._tallies.pop(key, None)
        super().clear(key)

    # ---- tallies ----------------------------------------------------------------------------------

    def _tally_incr(self, key: str, expiry: int, amount: int) -> int:
        if self._owner_pid != os.getpid():
            self._start_flushing()
        now = time.time()
        with self._lock:
            tally = self._tallies.get(key)
            if tally is None:
                tally = self._tallies[key] = Tally(expiry, now + expiry)
            count = tally.current(now) + amount
            tally.pending += amount
            return count

    def _start_flushing(self) -> None:
        """The first tally of a process starts its flushing thread."""
        with self._lock:
            if self._owner_pid == os.getpid():
                return
            self._owner_pid = os.getpid()
        threading.Thread(target=_flush_forever, args=(weakref.ref(self), os.getpid()),
                         name="congkhai-rate-limit-flush", daemon=True).start()

    def flush(self) -> None:
        """Send the increments counted here since the last flush and learn each key's shared count
        and window from the answer; forget the tallies whose window is over."""
        now = time.time()
        with self._lock:
            for key in [key for key, tally in self._tallies.items() if now >= tally.expires_at]:
                del self._tallies[key]
            sent = [(key, tally.pending, tally.expiry) for key, tally in self._tallies.items() if tally.pending]
            for key, pending, _ in sent:
                self._tallies[key].pending -= pending
        if not sent:
            return
        try:
            pipeline = self.get_connection().pipeline(transaction=False)
            for key, pending, expiry in sent:
                self.lua_incr_ttl([self.prefixed_key(key)], [expiry, pending], client=pipeline)
            answers = pipeline.execute()
        except Exception as error:  # the counts stay here, sent with the next flush that reaches Redis
            with self._lock:
                for key, pending, _ in sent:
                    if key in self._tallies:
                        self._tallies[key].pending += pending
            if not self._failing:
                log.warning("rate-limit counts are kept in this process: Redis did not answer (%s)", error)
            self._failing = True
            return
        self._failing = False
        now = time.time()
        with self._lock:
            for (key, _, _), (count, pttl) in zip(sent, answers):
                tally = self._tallies.get(key)
                if tally is not None:
                    tally.shared, tally.expires_at = int(count), now + max(int(pttl), 0) / 1000


def _flush_forever(storage_ref, pid: int) -> None:
    """Flush every `sync_seconds` while the storage is alive and this process owns its tallies
    (a weak reference: a discarded app's storage is not kept alive by its thread)."""
    storage = storage_ref()
    while storage is not None and storage._owner_pid == pid:
        interval = storage.sync_seconds
        del storage
        time.sleep(interval)
        storage = storage_ref()
        if storage is not None:
            storage.flush()


def _after_fork() -> None:
    for storage in list(_TALLYING):
        storage._reset()


os.register_at_fork(after_in_child=_after_fork)


def _setting(name: str):
    return lambda: current_app.config[name]


def init_app(app: Flask, api_blueprint: Blueprint, batch_endpoints: tuple[str, ...]) -> Limiter:
    """One limiter per app; call after the blueprints are registered (batch views are wrapped). The
    limits are the settings CONGKHAI_PAGE_RATE_LIMIT (all pages, feeds and downloads together),
    CONGKHAI_API_RATE_LIMIT (all of the API together, instead of the page limit) and
    CONGKHAI_BATCH_RATE_LIMIT (batch checks, on top of the others), all in congkhai.config. Static
    files are not counted."""
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", SCHEME + redis_url if redis_url else "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "congkhai")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    pages = ApplicationLimit(_setting("CONGKHAI_PAGE_RATE_LIMIT"), exempt_when=lambda: request.path.startswith(API))
    # Its headers are written by `limit_headers`, in responses.finish: flask-limiter's own hook would
    # add them, and a Retry-After on every answer, wherever its hook fell among the others.
    limiter = Limiter(get_remote_address, app=app, application_limits=[pages], headers_enabled=False)
    limiter.request_filter(lambda: request.endpoint == "static" or WARMING in request.environ)  # portal/warm.py
    limiter.shared_limit(_setting("CONGKHAI_API_RATE_LIMIT"), scope="api", override_defaults=False)(api_blueprint)
    batch = limiter.shared_limit(_setting("CONGKHAI_BATCH_RATE_LIMIT"), scope="batch", methods=["POST"],
                                 override_defaults=False)
    for endpoint in batch_endpoints:
        app.view_functions[endpoint] = batch(app.view_functions[endpoint])
    app.extensions[LIMITER] = limiter
    return limiter


def new_request() -> None:
    """Before the limiter's check (responses.begin): forget the counts of the thread's last request."""
    _forget_last_count(current_app.extensions[LIMITER])


def limit_headers(response) -> None:
    """X-RateLimit-* of the limit the request counted against, and Retry-After on a 429 (a 503 keeps
    its own): the headers `count_cached_hit` gives a hit answered before Flask, for Flask's answers."""
    app = current_app
    limiter = app.extensions[LIMITER]
    if not (limiter.enabled and app.config.get("RATELIMIT_HEADERS_ENABLED", True)):
        return
    try:
        applied = limiter.current_limit
        if applied is None:
            return
        reset, remaining = applied.reset_at, applied.remaining
    except Exception:  # the storage is down: the answer goes out without the counts
        return
    response.headers.extend(_header_pairs(app, applied.limit.amount, remaining, reset))
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, int(reset - time.time())))


def _header_pairs(app: Flask, amount: int, remaining: int, reset: int) -> list[tuple[str, str]]:
    names = ((HeaderNames.LIMIT, "RATELIMIT_HEADER_LIMIT"), (HeaderNames.REMAINING, "RATELIMIT_HEADER_REMAINING"),
             (HeaderNames.RESET, "RATELIMIT_HEADER_RESET"))
    values = (str(amount), str(remaining), str(reset))
    return [(app.config.get(setting) or name.value, value) for (name, setting), value in zip(names, values)]


def _forget_last_count(limiter: Limiter) -> None:
    """A new request: RecallingRedisStorage forgets the counts of the thread's last one."""
    if limiter.enabled and isinstance(limiter.storage, RecallingRedisStorage):
        limiter.storage.forget()


def limit_disputes(app: Flask, submit_endpoint: str, lookup_endpoints: tuple[str, ...]) -> None:
    """Disputes sent per address and about one employer (CONGKHAI_DISPUTE_RATE_LIMIT and
    CONGKHAI_DISPUTE_EMPLOYER_RATE_LIMIT), and status look-ups per address
    (CONGKHAI_DISPUTE_LOOKUP_RATE_LIMIT). Call after `init_app`."""
    limiter = app.extensions[LIMITER]
    per_client = limiter.limit(_setting("CONGKHAI_DISPUTE_RATE_LIMIT"), methods=["POST"], override_defaults=False)
    per_employer = limiter.limit(_setting("CONGKHAI_DISPUTE_EMPLOYER_RATE_LIMIT"), methods=["POST"],
                                 key_func=lambda: "employer:" + str((request.view_args or {}).get("key", "")),
                                 override_defaults=False)
    app.view_functions[submit_endpoint] = per_employer(per_client(app.view_functions[submit_endpoint]))
    lookups = limiter.shared_limit(_setting("CONGKHAI_DISPUTE_LOOKUP_RATE_LIMIT"), scope="dispute-lookup",
                                   override_defaults=False)
    for endpoint in lookup_endpoints:
        app.view_functions[endpoint] = lookups(app.view_functions[endpoint])


_parse_many = lru_cache(maxsize=64)(parse_many)


def _single_limit(text: str):
    """The limit a setting gives, when it gives exactly one (else None: such pages go through Flask)."""
    items = _parse_many(text)
    return items[0] if len(items) == 1 else None


def page_limit_of_request() -> tuple | None:
    """The one limit this request was counted against, as `count_cached_hit` takes it back:
    (flask-limiter's key arguments with the client's place left empty, its scope); () when none
    applied; None when the limits are not only the page or API limit keyed by the client's address
    (dispute look-ups, say): hits of such a page are always answered through Flask."""
    limiter = current_app.extensions[LIMITER]
    applied = limiter.current_limits
    if not applied:
        return ()
    if len(applied) != 1:
        return None
    (limit,) = applied
    args, scope = list(limit.request_args), limit.request_args[-1]
    setting = CACHED_PAGE_SCOPES.get(scope)
    if setting is None or args[-2] != get_remote_address():
        return None
    if _single_limit(current_app.config[setting]) != limit.limit:
        return None
    args[-2] = ""
    return tuple(args), scope


def count_cached_hit(app: Flask, client: str, recorded: tuple) -> list[tuple[str, str]] | None:
    """Count a cache hit answered before Flask (`portal.cache.HitShortcut`) as flask-limiter would have
    counted it: the same strategy, storage and key, the limit read from its setting now. Returns the
    X-RateLimit headers flask-limiter would have sent, or None when the hit is Flask's to answer: the
    limit is exceeded (the usual 429, counting once more), the setting now holds several limits,
    or the storage fails or is down (Flask's path has the in-memory fallback and checks for the
    storage's return)."""
    limiter = app.extensions[LIMITER]
    if not recorded or not limiter.enabled:
        return []
    args, scope = recorded
    item = _single_limit(app.config[CACHED_PAGE_SCOPES[scope]])
    if item is None:
        return None
    args = [*args[:-2], client, args[-1]]
    try:
        strategy = limiter.limiter
        if strategy.storage is not limiter.storage:  # counting in the fallback while the storage is down
            return None
        _forget_last_count(limiter)
        if not strategy.hit(item, *args):
            return None
        reset, remaining = strategy.get_window_stats(item, *args)
    except Exception:
        return None
    if not app.config.get("RATELIMIT_HEADERS_ENABLED", True):
        return []
    return _header_pairs(app, item.amount, remaining, int(reset + 1))
