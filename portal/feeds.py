"""Atom feeds of any filtered view: a reader follows exactly what they are looking at.

Entries are the changes (from the status history) of the employers the view selects, within the
configured window (entries and days), built with feedgen like the release feeds. An entry's id
is stable (employer, day, kind), so feed readers never show the same change twice.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from feedgen.feed import FeedGenerator
from flask import Response, current_app, request, url_for
from flask_babel import gettext as _

from . import i18n, queries

VIETNAM = timezone(timedelta(hours=7))


def window_start(release: queries.ReleaseInfo) -> date:
    return release.as_of - timedelta(days=int(current_app.config["CONGKHAI_FEED_MAX_DAYS"]))


def release_time(day: date) -> datetime:
    hour, _sep, minute = current_app.config["CONGKHAI_RELEASE_HOUR"].partition(":")
    return datetime.combine(day, time(int(hour), int(minute or 0)), VIETNAM)


def summary(event: queries.Event) -> str:
    row = event.row
    after = event.change.after
    parts = [", ".join(i18n.label(k, i18n.CHANGE_LABELS) for k in event.kinds)]
    if after is not None:
        parts.append(_("status: %(status)s", status=i18n.label(after.status, i18n.STATUS_LABELS)))
        parts.append(_("arrears %(amount)s, %(months)s month(s) late",
                       amount=i18n.money(after.arrears_total), months=after.months_late))
    if event.leaving_reason:
        parts.append(_("reason: %(reason)s", reason=i18n.label(event.leaving_reason, i18n.LEAVING_LABELS)))
    identity = row["tax_code"] or row["unit_code"]
    return f"{row['name']} ({identity}, {row['province']}): " + "; ".join(parts) + "."


def atom_response(title: str, events: list, alternate: str) -> Response:
    base = current_app.config["CONGKHAI_BASE_URL"].rstrip("/")
    feed = FeedGenerator()
    self_url = base + request.full_path.rstrip("?")
    feed.id(self_url)
    feed.title(title)
    feed.link(href=self_url, rel="self")
    feed.link(href=base + alternate, rel="alternate")
    feed.language(i18n.language())
    feed.author({"name": _("Công khai, the public register of Vietnam Social Security")})
    latest = queries.current_release()
    feed.updated(release_time(events[0].day if events else (latest.as_of if latest else date.today())))
    limit = int(current_app.config["CONGKHAI_FEED_MAX_ENTRIES"])
    for event in events[:limit]:
        permalink = base + url_for("employers.employer", key=event.row["key"])
        entry = feed.add_entry(order="append")
        entry.id(f"{permalink}#{event.day.isoformat()}-{event.change.kind}")
        entry.title(f"{event.row['name']}: {i18n.label(event.kinds[-1], i18n.CHANGE_LABELS)}")
        entry.link(href=permalink)
        entry.updated(release_time(event.day))
        entry.published(release_time(event.day))
        entry.summary(summary(event))
    return Response(feed.atom_str(pretty=True), mimetype="application/atom+xml")
