"""What an answer says besides its body, shared by Flask's way (`responses.finish`) and the cache's
shortcut (`cache.HitShortcut`): the release it names, CORS on the API, the security headers."""
from __future__ import annotations

from flask import g, request

from congkhai.receipts import MAX_DOCUMENT_BYTES

from . import current, guards

PREFIX = "/api/"
MAX_JSON_BYTES = 1024 * 1024
CORS_EXPOSED = "ETag, X-Release-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"


def current_release_id() -> str | None:
    if g.get("database_unavailable"):  # answering a 503: the database cannot say
        return None
    release = current.release()
    return release.id if release else None


def name_release(response):
    """`X-Release-Id`: the release the answer is of (set by `params.answering` or the view); every
    API answer names one, the current release's when the view did not say."""
    api = request.path.startswith(PREFIX)
    release_id = g.get("release_id")
    if release_id is None and api:
        release_id = g.release_id = current_release_id()
    if release_id and (api or "X-Release-Id" not in response.headers):
        response.headers["X-Release-Id"] = release_id
    return response


def cors(response, method: str):
    """Any site may read the API's GET answers (also cache hits answered before Flask)."""
    if method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
        if method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "If-None-Match, Accept, Accept-Language"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response


def every_answer(response, path: str, method: str, is_secure: bool):
    """What an answer gets whoever made it, Flask or the cache's shortcut: CORS on the API, the
    security headers."""
    if path.startswith(PREFIX):
        cors(response, method)
    return guards.secure(response, is_secure)


def ask_to_wait(response):
    """Every 503 says when to come back (a database down or a statement stopped say their own)."""
    if response.status_code == 503:
        response.headers.setdefault("Retry-After", str(guards.DATABASE_RETRY_SECONDS))
    return response


def limit_json_size() -> None:
    if request.endpoint == "api.verify":
        request.max_content_length = MAX_DOCUMENT_BYTES  # a receipt of a thousand rows
    elif request.path.startswith(PREFIX):
        request.max_content_length = MAX_JSON_BYTES
