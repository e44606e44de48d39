"""Feeds of any filtered view (Atom or RSS): a reader follows exactly what they are looking at.

Entries are the changes (from the status history) of the employers the view selects, within the
configured window. They are rendered by `congkhai.feeds`, the one feed renderer of the project,
so an entry has the same id, title and summary here as in the release's static feeds and feed
readers never show one change twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Response, current_app
from flask_babel import gettext as _

from congkhai import feeds as renderer
from congkhai.register import Event, Filters, ReleaseInfo

from . import current
from .rendering import url_with

MIMETYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}


def recent(release: ReleaseInfo, filters: Filters) -> list[Event]:
    """Changes of what `filters` select in the feed window ending with `release`, newest first."""
    start = release.as_of - timedelta(days=int(current_app.config["CONGKHAI_FEED_MAX_DAYS"]))
    return current.register().recent_events(release.as_of, start, filters, int(current_app.config["CONGKHAI_FEED_MAX_ENTRIES"]))


def _head(fmt: str, title: str, subtitle: str, alternate: str, newest: datetime | None) -> dict:
    """The feed's head; `updated` is when its newest entry was published, else the current release."""
    base = current_app.config["CONGKHAI_BASE_URL"].rstrip("/")
    self_url = base + url_with()  # the feed's own address, with any personal number masked
    if newest is None:
        latest = current.release()
        newest = latest.created_at if latest else datetime.now(timezone.utc)
    return {"fmt": fmt, "feed_id": self_url, "title": f"Công khai: {title}", "subtitle": subtitle,
            "self_url": self_url, "alternate_url": base + alternate, "updated": newest, "base_url": base}


def feed_response(fmt: str, title: str, events: list, alternate: str) -> Response:
    head = _head(fmt, title, _("Changes of the employers this view selects"), alternate,
                 max((event.source.published_at for event in events), default=None))
    return Response(renderer.render_feed([event.source for event in events], **head), mimetype=MIMETYPES[fmt])


def corrections_response(fmt: str, title: str, corrections: list[dict], alternate: str) -> Response:
    """The corrections feed: `corrections` are correction_json rows, newest first, each dated by
    the publication time of the release that published it."""
    times = {}
    for release_id in {row["recorded_in_release"] for row in corrections}:
        times[release_id] = current.register().release(release_id).created_at
    head = _head(fmt, title, _("Corrections of what earlier releases published"), alternate,
                 max(times.values(), default=None))
    return Response(renderer.render_corrections_feed(corrections, times, **head), mimetype=MIMETYPES[fmt])
