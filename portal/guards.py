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

from flask import Flask, abort, current_app, g, request
from flask_babel import gettext as _
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
CONNECT_TIMEOUT_SECONDS = 5           # a database that does not answer fails a request fast, not after minutes
DATABASE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def engine_options(url: str) -> dict:
    """Pool settings that let the portal outlive a database restart without a request failing."""
    options = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    return options


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
    """A 503 page or JSON error, through the app's own error handlers, with Retry-After."""
    current_app.logger.error("database unavailable: %s", str(error).splitlines()[0] if str(error) else error)
    g.database_unavailable = True
    try:
        db.session.rollback()
        db.session.remove()
    except DATABASE_ERRORS:
        pass
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
