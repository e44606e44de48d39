"""Per-client rate limits for the pages, the JSON API and batch eligibility checks (flask-limiter).

Counters live in Redis when `REDIS_URL` is set, so every worker and node shares them; in memory
otherwise (one process, development and tests); if Redis stops answering, each process counts in
memory until it is back instead of failing the request. Limits are settings, read on every
request, so an operator can change them without touching code. Clients are told apart by their
address: behind a reverse proxy, CONGKHAI_TRUSTED_PROXIES makes that the client's (portal.guards).
"""
from __future__ import annotations

import threading
import time
from functools import lru_cache

from flask import Blueprint, Flask, current_app, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.constants import HeaderNames
from flask_limiter.util import get_remote_address
from limits import parse
from limits.storage import RedisStorage

LIMITER = "congkhai.limiter"
API = "/api/"
SCHEME = "congkhai+"
# The limits a cached page can be under, by flask-limiter scope, and the settings they are read from.
CACHED_PAGE_SCOPES = {"global": "CONGKHAI_PAGE_RATE_LIMIT", "api": "CONGKHAI_API_RATE_LIMIT"}


class RecallingRedisStorage(RedisStorage):
    """limits' Redis storage, whose increment also returns the key's time to live, and which answers
    the rate-limit headers of the same request from that answer instead of two more round trips
    (they were most of a cached page's cost). Used for `congkhai+redis://` URIs.

    What it recalls is this thread's increments of the current request (a batch check counts
    against two limits), forgotten at the start of every request (`forget`) and after a second, so
    a limit is never tested against another request's count."""

    STORAGE_SCHEME = [SCHEME + "redis", SCHEME + "rediss"]
    SCRIPT_INCR_TTL = """
local current = redis.call("incrby", KEYS[1], ARGV[2])
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("pttl", KEYS[1])}
"""
    RECALL_SECONDS = 1.0

    def __init__(self, uri: str, **options):
        self.recent = threading.local()
        super().__init__(uri.removeprefix(SCHEME), **options)

    def initialize_storage(self, uri: str) -> None:
        super().initialize_storage(uri)
        self.lua_incr_ttl = self.get_connection().register_script(self.SCRIPT_INCR_TTL)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
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
        entry = self._recalled(key)
        return entry[0] if entry else super().get(key)

    def get_expiry(self, key: str) -> float:
        entry = self._recalled(key)
        return entry[1] if entry else super().get_expiry(key)


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
    limiter = Limiter(get_remote_address, app=app, application_limits=[pages])
    limiter.request_filter(lambda: request.endpoint == "static")
    limiter.shared_limit(_setting("CONGKHAI_API_RATE_LIMIT"), scope="api", override_defaults=False)(api_blueprint)
    batch = limiter.shared_limit(_setting("CONGKHAI_BATCH_RATE_LIMIT"), scope="batch", methods=["POST"],
                                 override_defaults=False)
    for endpoint in batch_endpoints:
        app.view_functions[endpoint] = batch(app.view_functions[endpoint])
    app.extensions[LIMITER] = limiter
    app.before_request_funcs.setdefault(None, []).insert(0, _forget_last_count)  # before the limiter's check
    return limiter


def _forget_last_count() -> None:
    storage = current_app.extensions[LIMITER].storage
    if isinstance(storage, RecallingRedisStorage):
        storage.forget()


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


_parse = lru_cache(maxsize=64)(parse)


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
    if setting is None or args[-2] != get_remote_address() or _parse(current_app.config[setting]) != limit.limit:
        return None
    args[-2] = ""
    return tuple(args), scope


def count_cached_hit(app: Flask, client: str, recorded: tuple) -> list[tuple[str, str]] | None:
    """Count a cache hit answered before Flask (`portal.cache.HitShortcut`) as flask-limiter would have
    counted it: the same strategy, storage and key, the limit read from its setting now. Returns the
    X-RateLimit headers flask-limiter would have sent, or None when the limit is exceeded or cannot
    be counted: Flask then answers (the usual 429, or its in-memory fallback), counting once more."""
    if not recorded:
        return []
    args, scope = recorded
    limiter = app.extensions[LIMITER]
    item = _parse(app.config[CACHED_PAGE_SCOPES[scope]])
    args = [*args[:-2], client, args[-1]]
    try:
        strategy = limiter.limiter
        if not strategy.hit(item, *args):
            return None
        reset, remaining = strategy.get_window_stats(item, *args)
    except Exception:  # the storage: Flask's path has the fallback and its warning
        return None
    return [(HeaderNames.LIMIT.value, str(item.amount)), (HeaderNames.REMAINING.value, str(remaining)),
            (HeaderNames.RESET.value, str(int(reset + 1)))]
