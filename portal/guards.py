"""What the portal does against hostile clients and a failing database, in one place.

- Security headers on every response: a Content-Security-Policy that allows no script at all and
  styles only from our own static files (the JSON-LD block of the data page is data, which a
  browser does not execute), no framing, no MIME sniffing, no referrer sent to other sites, and
  Strict-Transport-Security on requests that arrived over HTTPS.
- Behind a reverse proxy, `CONGKHAI_TRUSTED_PROXIES` hops of X-Forwarded-For/-Proto/-Host are
  trusted (werkzeug's ProxyFix), so rate limits see each client and HTTPS is recognised; with the
  default 0 those headers are ignored and cannot be forged by a client.
- Bounded requests: body size, form parts and form memory (gunicorn bounds the request line to
  4,094 bytes); a NUL byte or another control character in the path (404) or the query (400)
  is refused before any view or database sees it.
- The database unreachable: a 503 in the reader's language (JSON under /api/) with Retry-After;
  the pool is emptied, and the engine pings a pooled connection before using it, so the portal
  recovers by itself as soon as the database answers again (a SQLite file put back included).
"""
from __future__ import annotations

import re
import sqlite3
import time

from flask import Flask, abort, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError as PoolTimeout
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.middleware.proxy_fix import ProxyFix

from .database import db


CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000"

MAX_CONTENT_LENGTH = 1024 * 1024      # the largest body any view takes (the API's JSON batch)
MAX_FORM_PARTS = 20                   # the eligibility and verify forms have four fields at most
MAX_FORM_MEMORY_SIZE = 512 * 1024     # a pasted list of 1,000 codes or a pasted receipt
DATABASE_RETRY_SECONDS = 30
DEADLINE = "congkhai.statement_deadline"  # in a pooled connection's info: when its statement must stop
CONNECT_TIMEOUT_SECONDS = 5           # a database that does not answer fails a request fast, not after minutes
DATABASE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def engine_options(url: str, statement_ms: int = 0) -> dict:
    """Pool settings that let the portal outlive a database restart without a request failing, and
    PostgreSQL's own bound on a statement (SQLite's: `bound_sqlite_statements`)."""
    options = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        if statement_ms > 0:  # beside any options the URL gives (a search_path, say), which connect_args replace
            given = make_url(url).query.get("options") or ""
            given = " ".join(given) if isinstance(given, tuple) else given
            options["connect_args"]["options"] = f"{given} -c statement_timeout={int(statement_ms)}".strip()
    return options


def bound_sqlite_statements(engine, statement_ms: int) -> None:
    """SQLite has no statement timeout: a progress handler interrupts a statement that runs past
    `statement_ms`. A streamed read (a whole view's CSV) is exempt: its rows are sent as they come."""
    if engine.dialect.name != "sqlite" or statement_ms <= 0:
        return
    seconds = statement_ms / 1000

    @event.listens_for(engine, "connect")
    def _watch(connection, record):
        info = record.info
        info[DEADLINE] = None
        connection.set_progress_handler(
            lambda: 1 if info[DEADLINE] is not None and time.monotonic() > info[DEADLINE] else 0, 20_000)

    @event.listens_for(engine, "before_cursor_execute")
    def _start(connection, _cursor, _statement, _parameters, context, _executemany):
        options = context.execution_options if context is not None else {}
        streamed = options.get("stream_results") or options.get("yield_per")
        connection.connection.info[DEADLINE] = None if streamed else time.monotonic() + seconds

    @event.listens_for(engine, "checkin")
    def _idle(_connection, record):
        record.info[DEADLINE] = None


def statement_timed_out(error) -> bool:
    """The database stopped a statement that ran past CONGKHAI_STATEMENT_TIMEOUT_MS."""
    original = getattr(error, "orig", None)
    return (getattr(original, "sqlstate", None) == "57014"  # PostgreSQL's query_canceled
            or (isinstance(original, sqlite3.OperationalError) and str(original) == "interrupted"))


def refuse_control_characters():
    """A NUL byte (which PostgreSQL and the file system refuse with an exception), another control
    character or a Unicode non-character (which XML cannot hold, so no feed could echo it) is never
    a valid value: tabs and line breaks are whitespace and pass. In the path it names nothing (404);
    in the query it is a bad argument (400)."""
    if _FORBIDDEN.search(request.path):
        abort(404)
    if any(_FORBIDDEN.search(value) for value in request.args.values()):
        abort(400, description=_("The address contains a character that is not allowed."))


def secure(response, is_secure: bool):
    """The security headers of every answer (also of cache hits answered before Flask)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def database_unavailable(error):
    """A 503 page or JSON error, through the app's own error handlers, with Retry-After; also for a
    statement stopped by the timeout, which says so and keeps the pool (the database is up)."""
    timed_out = statement_timed_out(error)
    current_app.logger.error("%s: %s", "statement timed out" if timed_out else "database unavailable",
                             str(error).splitlines()[0] if str(error) else error)
    g.database_unavailable = True
    try:
        db.session.rollback()
        db.session.remove()
    except DATABASE_ERRORS:
        pass
    if timed_out:
        unavailable = ServiceUnavailable(_("This answer took too long to prepare. Please try again in a minute."))
    else:
        db.engine.dispose()  # no pooled connection outlives the failure: the next request connects afresh
        unavailable = ServiceUnavailable(_("The register cannot be read at the moment. Please try again in a minute."))
    response = current_app.make_response(current_app.handle_http_exception(unavailable))
    response.headers["Retry-After"] = str(DATABASE_RETRY_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def behind_proxies(app: Flask, wsgi_app):
    """`wsgi_app` seeing the client's address and scheme through CONGKHAI_TRUSTED_PROXIES proxies."""
    proxies = int(app.config.get("CONGKHAI_TRUSTED_PROXIES") or 0)
    return ProxyFix(wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies) if proxies else wsgi_app


def init_app(app: Flask) -> None:
    bounds = {"MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH, "MAX_FORM_PARTS": MAX_FORM_PARTS,
              "MAX_FORM_MEMORY_SIZE": MAX_FORM_MEMORY_SIZE}
    for name, value in bounds.items():
        if app.config.get(name) == Flask.default_config.get(name):  # Flask's own default: use ours
            app.config[name] = value
    for error in DATABASE_ERRORS:
        app.register_error_handler(error, database_unavailable)
