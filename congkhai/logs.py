"""Structured logs: one JSON object per line, for the publisher's runs and the portal's requests.

Records carry their fields in `extra={"fields": {...}}`; the JSON formatter writes them beside the
time, level, logger and message, so a log shipper can filter on `release_id` or `event` without
parsing sentences. Python's logging does the rest; nothing here is specific to Flask.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone

LOG_FORMATS = ("text", "json")
ROOT = "congkhai"
_HANDLER_NAME = "congkhai-structured"


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "message", **fields}`; an exception becomes `error` and `traceback`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
                 .replace("+00:00", "Z"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        entry.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            entry["error"] = f"{record.exc_info[0].__name__}: {record.exc_info[1]}"
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def check_format(name: str) -> str:
    if name not in LOG_FORMATS:
        raise ValueError(f"CONGKHAI_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {name!r}")
    return name


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (a redirected or captured stream), not
    to the one that was current when logging was configured."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure(log_format: str, stream=None) -> logging.Logger:
    """Send the `congkhai` loggers to `stream` (stderr): every INFO event as JSON, or, in text, only
    warnings and errors as plain lines. Calling it again replaces the handler it installed."""
    check_format(log_format)
    logger = logging.getLogger(ROOT)
    for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
        logger.setLevel(logging.INFO)
    else:
        handler.setFormatter(logging.Formatter("congkhai: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    return logger


def event(logger: logging.Logger, message: str, level: int = logging.INFO, exc_info=None, **fields) -> None:
    """Log `message` with `fields` (the JSON keys)."""
    logger.log(level, message, extra={"fields": fields}, exc_info=exc_info)
