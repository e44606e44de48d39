"""One log line per request: method, path, status, duration in ms and the release the portal was
serving, as JSON when CONGKHAI_LOG_FORMAT is `json` (the format is shared with the publisher's
runs: `congkhai/logs.py`). The query string is left out: searches carry people's names."""
from __future__ import annotations

import logging
import time

from flask import Flask, current_app, g, request

from congkhai.logs import check_format, configure, event

log = logging.getLogger("congkhai.portal.requests")


def init_app(app: Flask) -> None:
    if check_format(app.config["CONGKHAI_LOG_FORMAT"]) == "json":
        configure("json")


def started() -> None:
    g.request_started = time.perf_counter()


def log_response(response) -> None:
    """The request's line, last in responses.finish, with the release this worker last read."""
    if current_app.config["CONGKHAI_LOG_FORMAT"] != "json":
        return
    from . import current

    log_request(request.method, request.path, response.status_code, g.pop("request_started", None),
                current.known_release_id())


def log_request(method: str, path: str, status: int, started: float | None, release_id: str | None) -> None:
    """The request's line (also for cache hits answered before Flask)."""
    duration = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    event(log, f"{method} {path} {status}", event="request", method=method, path=path, status=status,
          duration_ms=duration, release_id=release_id)
