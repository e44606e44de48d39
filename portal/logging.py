"""One log line per request: method, path, status, duration in ms and the release the portal was
serving, as JSON when CONGKHAI_LOG_FORMAT is `json` (the format is shared with the publisher's
runs: `congkhai/logs.py`). The query string is left out: searches carry people's names."""
from __future__ import annotations

import logging
import time

from flask import Flask, g, request

from congkhai.logs import check_format, configure, event

log = logging.getLogger("congkhai.portal.requests")


def init_app(app: Flask) -> None:
    if check_format(app.config["CONGKHAI_LOG_FORMAT"]) != "json":
        return
    configure("json")
    app.before_request(_started)
    app.after_request(_log_request)


def _started() -> None:
    g.request_started = time.perf_counter()


def _log_request(response):
    from . import queries

    started = g.pop("request_started", None)
    duration = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    event(log, f"{request.method} {request.path} {response.status_code}", event="request", method=request.method,
          path=request.path, status=response.status_code, duration_ms=duration,
          release_id=queries.known_current_release_id())
    return response
