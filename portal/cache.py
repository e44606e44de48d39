"""Rendered GET answers cached per (release, URL, language): the news-day peak is served from memory.

Every GET the portal answers is a function of the current release, the URL and the reader's
language, so those three are the key. The release part is its id plus a digest of when it was
made, so a new release (or a corrected re-run of the same date) is a new key space: nothing is
ever flushed, and no reader can get a page of one release mixed with another's. Entries live in
Redis when `REDIS_URL` is set (shared by every worker and node, expiring after
CONGKHAI_CACHE_SECONDS, with a quarter of CONGKHAI_CACHE_BYTES kept in each process for the pages
asked most), otherwise in a per-process LRU bounded in bytes (CONGKHAI_CACHE_BYTES).

Only answers that depend on nothing else are stored: GET or HEAD, status 200, no cookie set by the
view, not streamed (release files are sent by the web server or send_file), and not an exempt view
(`@exempt`: probes, receipts issued on a GET). Rate-limit headers and the language cookie are added
after the cache by their own hooks, on hits too. Every GET answer, cached or not, gets a strong
ETag (release + digest of the body), Cache-Control and a 304 to a matching If-None-Match; errors
get `no-store`. `X-Cache: hit|miss` says whether the answer came from the cache.

Most hits never reach Flask: `HitShortcut`, a WSGI layer in front of it, answers them with the same
headers and the same rate-limit count, at a third of the cost (a news day is mostly hits); the
answers it has built once it keeps ready to send, in another quarter of CONGKHAI_CACHE_BYTES. It
answers only what it is sure of and hands everything else to Flask: a release or disputes state
this process has not read within CURRENT_RELEASE_SECONDS, a `?lang=` (Flask sets the cookie), a page
under other limits than the page or API limit, a client over its limit.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import Flask, current_app, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import http_date
from werkzeug.wrappers import Request, Response

from congkhai.register import ReleaseInfo
from . import conventions, current, i18n, parameters, ratelimits, warm
from .logging import log_request

log = logging.getLogger(__name__)

EXTENSION = "congkhai.page_cache"
READY = "congkhai.page_cache.ready"  # the per-process store of the shortcut's Ready answers
METHODS = ("GET", "HEAD")
KEPT_HEADERS = ("Content-Type", "Content-Disposition", "Content-Language", "Link", "Cache-Control")
CANONICAL_URLS_KEPT = 20_000  # per worker: a few MB; emptied whole when full
MISSED = "congkhai.page_cache.missed"  # environ: the key the shortcut looked up in vain (Flask skips it)


def exempt(view):
    """Mark a view whose GET answers must never be stored (they depend on more than the URL)."""
    view.not_cached = True
    return view


class MemoryStore:
    """A least-recently-used store bounded by the bytes of its values, safe across threads. A value
    that is not bytes (a `Ready` answer) is stored with the size it gives."""

    def __init__(self, max_bytes: int, seconds: int):
        self.max_bytes, self.seconds = max_bytes, seconds
        self.entries: OrderedDict[str, tuple[float, object, int]] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str):
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > self.seconds:
                self._drop(key)
                return None
            self.entries.move_to_end(key)
            return entry[1]

    def set(self, key: str, value) -> None:
        size = len(value) if isinstance(value, bytes) else value.size
        if size > self.max_bytes // 4:  # one huge answer must not empty the whole cache
            return
        with self.lock:
            if key in self.entries:
                self._drop(key)
            self.entries[key] = (time.monotonic(), value, size)
            self.size += size
            while self.size > self.max_bytes:
                self._drop(next(iter(self.entries)))

    def _drop(self, key: str) -> None:
        self.size -= self.entries.pop(key)[2]


class RedisStore:
    """Entries shared by every worker and node; Redis expires them (and evicts, with allkeys-lru)."""

    def __init__(self, url: str, seconds: int, max_value_bytes: int):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.seconds, self.max_value_bytes = seconds, max_value_bytes

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get(key)
        except Exception as error:  # the cache is an accelerator: an absent Redis means render, not fail
            log.warning("page cache: Redis unavailable (%s); answering uncached", error.__class__.__name__)
            return None

    def set(self, key: str, value: bytes) -> None:
        if len(value) > self.max_value_bytes:
            return
        try:
            self.client.set(key, value, ex=self.seconds)
        except Exception as error:  # as in get(): serving goes on without the cache
            log.warning("page cache: Redis unavailable (%s); answer not stored", error.__class__.__name__)


class LayeredStore:
    """A small per-process LRU in front of Redis: the most asked-for pages of a news day are answered
    without a round trip. Safe for the same reason Redis is: a key names its release, so no entry
    of one release can answer for another."""

    def __init__(self, near: MemoryStore, far: RedisStore):
        self.near, self.far = near, far

    def get(self, key: str) -> bytes | None:
        value = self.near.get(key)
        if value is None:
            value = self.far.get(key)
            if value is not None:
                self.near.set(key, value)
        return value

    def set(self, key: str, value: bytes) -> None:
        self.near.set(key, value)
        self.far.set(key, value)


def release_version(release: ReleaseInfo | None, disputes: str = "") -> str:
    """The release part of keys and ETags: its id, and a digest that changes when a date is re-run
    or when a dispute is opened or resolved (pages mark open disputes at once, between releases)."""
    if release is None:
        return "none"
    stamp = f"{release.created_at.isoformat()}|{release.datapackage_sha256 or ''}|{disputes}"
    return f"{release.id}.{hashlib.sha256(stamp.encode()).hexdigest()[:8]}"


def register_version() -> str:
    return release_version(current.release(), current.disputes_generation())


def page_key(prefix: str, version: str, language: str, full_path: str) -> str:
    url = hashlib.sha256(full_path.encode("utf-8")).hexdigest()[:32]
    return f"{prefix}:{version}:{language}:{url}"


def cache_key(version: str, language: str) -> str:
    path = parameters.cache_path(request.endpoint, request.path, request.full_path, request.args)
    return page_key(current_app.config["CONGKHAI_CACHE_PREFIX"], version, language, path)


def storable(app: Flask, endpoint: str | None, method: str) -> bool:
    """Whether answers of this view may be stored (and so looked up)."""
    view = app.view_functions.get(endpoint) if endpoint else None
    return (method in METHODS and view is not None and endpoint != "static"
            and not getattr(view, "not_cached", False))


def _encode(response, release_id: str | None) -> bytes:
    """The answer and what a hit needs besides: its ETag, and the rate limit it counts against."""
    meta = {"status": response.status_code, "release_id": release_id, "etag": response.headers.get("ETag"),
            "headers": [(k, v) for k, v in response.headers.items() if k in KEPT_HEADERS],
            "limit": ratelimits.page_limit_of_request()}
    return json.dumps(meta).encode("utf-8") + b"\n" + response.get_data()


def _decode(value: bytes):
    meta, _, body = value.partition(b"\n")
    meta = json.loads(meta)
    response = Response(body, status=meta["status"], headers=meta["headers"])
    response.headers["ETag"] = meta["etag"]
    return response, meta


def _conditional(response, release_id: str | None, asked):
    """Last of every GET answer, from the view or the cache: the release it is of, Vary, and a 304
    to a matching If-None-Match (`asked`: Flask's request or a werkzeug one)."""
    if release_id and release_id != "none":  # before the first release the header is absent (OpenAPI)
        response.headers.setdefault("X-Release-Id", release_id)
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response.make_conditional(asked)


def lookup():
    """In place of the view (after every before-request check): answer from the cache when it can."""
    for name in ("cache_hit", "cache_key", "cache_version", "release_id"):
        g.pop(name, None)  # g outlives a request where an app context was already pushed (tests, CLI)
    if not storable(current_app, request.endpoint, request.method):
        return None
    g.cache_version = register_version()
    g.cache_key = cache_key(g.cache_version, i18n.select_locale())
    if request.environ.get(MISSED) == g.cache_key:
        return None
    value = current_app.extensions[EXTENSION].get(g.cache_key)
    if value is None:
        return None
    response, meta = _decode(value)
    g.release_id, g.cache_hit = meta["release_id"], True
    return response


def store_and_validate(response):
    """In `responses.finish`, before any per-client part: conditional headers on every GET answer; store the misses.

    Answers the view marked `no-store` itself, and files sent as they are (release files, static
    assets, with their own validators), are left alone."""
    if request.method not in METHODS or response.status_code != 200:
        response.headers["Cache-Control"] = "no-store"
        return response
    if response.is_streamed or response.direct_passthrough or "no-store" in response.headers.get("Cache-Control", ""):
        return response
    if getattr(g, "cache_hit", False):
        response.headers["X-Cache"] = "hit"
    else:
        version = g.cache_version = getattr(g, "cache_version", None) or register_version()
        digest = hashlib.sha256(response.get_data()).hexdigest()[:20]
        answering = getattr(g, "release_id", None)  # an API answer about an earlier release names it too
        same = not answering or version.startswith(answering + ".")
        response.set_etag(f"{version}-{digest}" if same else f"{answering}-{version}-{digest}")
        response.headers["Cache-Control"] = (getattr(g, "cache_control", None) or response.headers.get("Cache-Control")
                                             or f"public, max-age={int(current_app.config['CONGKHAI_API_CACHE_SECONDS'])}")
        key = getattr(g, "cache_key", None)
        if key is not None:
            response.headers["X-Cache"] = "miss"
            if "Set-Cookie" not in response.headers:
                current_app.extensions[EXTENSION].set(key, _encode(response, getattr(g, "release_id", None)))
    release_id = getattr(g, "release_id", None) or (getattr(g, "cache_version", None) or "").partition(".")[0]
    return _conditional(response, release_id, request)


# A request with any of these is answered as werkzeug would (304, 412, 206), not from a Ready answer.
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE",
               "HTTP_RANGE")


@dataclass(frozen=True)
class Ready:
    """A hit as the shortcut sends it, all but its per-request headers (rate limit, Date): built once
    per worker from the stored answer, so the next hits skip decoding it and rebuilding its headers
    (werkzeug's header list costs a lookup per header set, most of a hit's cost before this)."""

    status: str
    code: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    limit: tuple
    release_id: str

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(name) + len(value) for name, value in self.headers)

    def sent_with(self, extra: list[tuple[str, str]]):
        def send(environ, start_response):
            start_response(self.status, [*self.headers, *extra])
            return [self.body]
        return send


class HitShortcut:
    """A WSGI layer in front of Flask that answers cache hits itself (see the module's docstring).

    What a hit gets on Flask's way, it gets here from the same functions: the key (`page_key`,
    `i18n.locale_of`, the release version this process last read), the rate-limit count and its
    headers (`ratelimits.count_cached_hit`), the security headers, X-Release-Id, Vary and the 304
    (`_conditional`), and the request's log line. The first hit of a key in a worker keeps what it
    built as a `Ready` answer in the worker's memory (a quarter of CONGKHAI_CACHE_BYTES more), which
    answers the next unconditional hits of that key. Tests compare its answers with Flask's."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        # (method, URL as asked) -> (endpoint, canonical URL): a news day asks the same URLs again and
        # again, and matching the route and ordering the parameters was a twentieth of a hit's CPU.
        self.canonical_urls: dict[tuple[str, str], tuple[str | None, str]] = {}

    def __call__(self, environ, start_response):
        response = self.answer(environ) if environ.get("REQUEST_METHOD") in METHODS else None
        if response is None:
            return self.wsgi_app(environ, start_response)
        return response(environ, start_response)

    def answer(self, environ):
        started, app = time.perf_counter(), self.app
        if warm.WARMING in environ:  # a warm-up asks for another release than this process serves
            return None
        register = current.fresh(app)
        if register is None:
            return None
        asked = Request(environ)
        if "lang" in asked.args:
            return None
        version = release_version(*register)
        path, endpoint = asked.full_path, None
        if not path.endswith("?"):  # a query: kept under its canonical form, as Flask keeps it
            endpoint, path = self.canonical_url(asked)
            if endpoint is None:
                return None
        key = page_key(app.config["CONGKHAI_CACHE_PREFIX"], version, i18n.locale_of(asked), path)
        plain = not any(name in environ for name in CONDITIONAL)
        slot = f"ready:{asked.method}:{int(asked.is_secure)}:{key}"
        ready = app.extensions[READY].get(slot) if plain else None
        if ready is None:
            found = self.stored(environ, asked, key, version, endpoint)
            if found is None:
                return None
            response, limit, release_id = found
            if plain:
                ready = self.prepare(environ, asked, response, limit, release_id)
                app.extensions[READY].set(slot, ready)
        else:
            limit, release_id = ready.limit, ready.release_id
        limit_headers = ratelimits.count_cached_hit(app, asked.remote_addr or "127.0.0.1", limit)
        if limit_headers is None:
            return None
        if ready is not None:
            answer, code = ready.sent_with([*limit_headers, ("Date", http_date())]), ready.code
        else:
            response.headers.extend(limit_headers)
            answer = _conditional(response, release_id, asked)
            code = answer.status_code
        if app.config["CONGKHAI_LOG_FORMAT"] == "json":  # the release served, as Flask's line says
            log_request(asked.method, asked.path, code, started, register[0].id if register[0] is not None else None)
        return answer

    def canonical_url(self, asked: Request) -> tuple[str | None, str]:
        """The endpoint and the canonical URL of a request with a query (remembered per worker)."""
        slot = (asked.method, asked.full_path)
        found = self.canonical_urls.get(slot)
        if found is None:
            endpoint = self.endpoint_of(asked)
            found = (endpoint, parameters.cache_path(endpoint, asked.path, asked.full_path, asked.args)
                     if endpoint is not None else asked.full_path)
            if len(self.canonical_urls) >= CANONICAL_URLS_KEPT:
                self.canonical_urls.clear()
            self.canonical_urls[slot] = found
        return found

    def endpoint_of(self, asked: Request) -> str | None:
        try:
            return self.app.create_url_adapter(asked).match(method=asked.method)[0]
        except HTTPException:  # no such page, a redirect, another method: Flask says so
            return None

    def stored(self, environ, asked: Request, key: str, version: str, endpoint: str | None):
        """The stored answer of a page this layer may answer, with all but its per-request headers,
        the limit it counts against and the release it names; None when Flask is to answer."""
        app = self.app
        endpoint = endpoint or self.endpoint_of(asked)
        if not storable(app, endpoint, asked.method):
            return None
        value = app.extensions[EXTENSION].get(key)
        if value is None:
            environ[MISSED] = key
            return None
        response, meta = _decode(value)
        if meta.get("limit") is None:
            return None
        response.headers["X-Cache"] = "hit"
        conventions.every_answer(response, asked.path, asked.method, asked.is_secure)
        return response, meta["limit"], meta["release_id"] or version.partition(".")[0]

    @staticmethod
    def prepare(environ, asked: Request, response, limit: tuple, release_id: str) -> Ready:
        """The Ready answer of an unconditional hit: what werkzeug would send, less its Date."""
        response = _conditional(response, release_id, asked)
        body_parts, status, headers = response.get_wsgi_response(environ)
        return Ready(status=status, code=response.status_code, body=b"".join(body_parts), limit=limit,
                     release_id=release_id, headers=tuple((k, v) for k, v in headers if k.lower() != "date"))


def init_app(app: Flask) -> None:
    """The stores; `responses.Portal` looks answers up after the rate limiter's check and stores
    them before per-client parts (rate-limit headers, cookies) are added."""
    seconds, max_bytes = int(app.config["CONGKHAI_CACHE_SECONDS"]), int(app.config["CONGKHAI_CACHE_BYTES"])
    url = app.config.get("REDIS_URL")
    if url:  # each worker keeps a quarter of the budget near; Redis holds the rest for all of them
        store = LayeredStore(MemoryStore(max_bytes // 4, seconds), RedisStore(url, seconds, max_bytes // 4))
    else:
        store = MemoryStore(max_bytes, seconds)
    app.extensions[EXTENSION] = store
    app.extensions[READY] = MemoryStore(max_bytes // 4, seconds)
