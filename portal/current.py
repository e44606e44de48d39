"""The register as this request and this process see it: the core's `Register` on the request's
session, the current release and the disputes' generation cached for a few seconds, figures cached
per release, and the two writes the portal makes (a dispute, a receipt).

Several workers on several nodes read the same database; a new release swaps in for all of them
as soon as it is complete, within CURRENT_RELEASE_SECONDS. Every read itself is the core's
(congkhai.register), so a view never builds SQL.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from datetime import date, datetime

from flask import current_app, g, has_request_context, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from congkhai import disputes
from congkhai.models import Receipt
from congkhai.policy import load_schedule
from congkhai.provinces import by_code
from congkhai.register import Figures, Register, ReleaseInfo

from . import warm
from .database import db

CURRENT_RELEASE_SECONDS = 10
FIGURES_CACHED = 64


def register() -> Register:
    """Every read of the register, on this request's session."""
    if has_request_context():
        if "register" not in g:
            g.register = Register(db.session)
        return g.register
    return Register(db.session)


def _cache() -> dict:
    return current_app.extensions.setdefault("congkhai.cache", {"current": None, "figures": OrderedDict()})


def release() -> ReleaseInfo | None:
    """The newest complete release, re-read at most every CURRENT_RELEASE_SECONDS per process, and
    the same one for the rest of a request once read: a page that straddles the refresh moment
    does not answer from one release and call another the latest. A newer release is served once
    this process has warmed it (portal/warm.py), the one before until then."""
    if has_request_context():
        if "current_release" in g:
            return g.current_release
        if warm.WARMING in request.environ:  # a warm-up renders the release this process does not serve yet
            g.current_release = request.environ[warm.WARMING]
            return g.current_release
    cache = _cache()
    cached = cache["current"]
    if cached is None or time.monotonic() - cached[0] > CURRENT_RELEASE_SECONDS:
        latest = register().current_release()
        serving = warm.serving(current_app._get_current_object(), cached[1] if cached else None, latest)
        # While the new release warms, look again within a second rather than CURRENT_RELEASE_SECONDS.
        checked = time.monotonic() - (CURRENT_RELEASE_SECONDS - 1 if serving is not latest else 0)
        cached = cache["current"] = (checked, serving)
    if has_request_context():
        g.current_release = cached[1]
    return cached[1]


def fresh_release() -> ReleaseInfo | None:
    """The current release read now, not through the few seconds' cache: readiness must see the database."""
    return register().current_release()


def disputes_generation() -> str:
    """Changes whenever a dispute is opened or resolved (read at most every CURRENT_RELEASE_SECONDS):
    pages mark open disputes live, between releases, so cached answers are keyed on it too."""
    cache = _cache()
    cached = cache.get("disputes")
    if cached is None or time.monotonic() - cached[0] > CURRENT_RELEASE_SECONDS:
        cached = cache["disputes"] = (time.monotonic(), register().disputes_generation())
    return cached[1]


def fresh(app) -> tuple[ReleaseInfo | None, str] | None:
    """The current release and disputes generation as this process last read them, while both are
    within CURRENT_RELEASE_SECONDS (what the two functions above would answer without a query), else
    None. For the page cache's shortcut, which answers outside any request or app context."""
    cache = app.extensions.get("congkhai.cache") or {}
    latest, generation, now = cache.get("current"), cache.get("disputes"), time.monotonic()
    if latest is None or generation is None or now - min(latest[0], generation[0]) > CURRENT_RELEASE_SECONDS:
        return None
    return latest[1], generation[1]


def known_release_id() -> str | None:
    """The current release's id as this worker last read it, without a query (for request logs,
    which must not fail or slow down when the database does)."""
    cached = _cache()["current"]
    return cached[1].id if cached is not None and cached[1] is not None else None


def figures(answering: ReleaseInfo, day: date) -> Figures:
    """The figures of `day`, which `answering` is the release in force on: those it stored when it
    was published, or computed under its honour-roll rule for a release from before; cached per
    process, as the history of a past day never changes."""
    cache = _cache()["figures"]
    latest = release()
    policy = answering.policy
    window, full = policy.commendation_window_months, policy.commendation_requires_full_history
    cache_key = (day, answering.id, latest.id if latest else None)
    if cache_key in cache:
        cache.move_to_end(cache_key)
        return cache[cache_key]
    cache[cache_key] = found = register().figures_on(day, window, full, stored_figures(answering))
    while len(cache) > FIGURES_CACHED:
        cache.popitem(last=False)
    return found


def stored_figures(answering: ReleaseInfo) -> dict | None:
    """The figures `answering` stored when it was published (None before they were kept); read
    once per release and process, as a release never changes."""
    cache = _cache().setdefault("stored_figures", OrderedDict())
    if answering.id not in cache:
        cache[answering.id] = register().stored_figures(answering.id)
        while len(cache) > FIGURES_CACHED:
            cache.popitem(last=False)
    cache.move_to_end(answering.id)
    return cache[answering.id]


def any_published_correction() -> bool:
    """Whether the register has published any correction. Corrections are published only by a
    release, so the answer holds until the current release changes, and is re-read then."""
    latest = release()
    stamp = (latest.id, latest.created_at) if latest else None
    cached = _cache().get("any_correction")
    if cached is None or cached[0] != stamp:
        cached = _cache()["any_correction"] = (stamp, register().any_published_correction())
    return cached[1]


def corrected_on(day: date, keys: list[str]) -> list[str]:
    """Which of `keys` have a published correction applying to `day` (receipts name them)."""
    return register().corrected_on(day, keys) if any_published_correction() else []


def release_hour() -> str:
    """When the daily release is due ('18:30'): the deadline `congkhai run-daily` keeps, from the
    [schedule] of the configured policy file, so the pages say what the publisher does."""
    cache = _cache()
    path = current_app.config["CONGKHAI_POLICY"]
    if cache.get("schedule", (None,))[0] != path:
        cache["schedule"] = (path, load_schedule(path).deadline.strftime("%H:%M"))
    return cache["schedule"][1]


def coverage(answered: ReleaseInfo, day: date) -> dict:
    """What a list or result covers, so that "not on the list" means something."""
    policy = answered.policy
    latest = release()
    is_latest = latest is not None and latest.id == answered.id
    names = by_code()

    def named(codes) -> list[str]:
        return [names[c].name if c in names else c for c in codes]
    return {
        "release_id": answered.id,
        "release_date": answered.as_of,
        "data_cutoff": answered.as_of,
        "day": day,
        "published_at": answered.created_at,
        "is_latest": is_latest,
        "next_release_due": (date.fromordinal(answered.as_of.toordinal() + policy.release_every_days)
                             if is_latest else None),
        "next_release_hour": release_hour(),
        "min_arrears_vnd": policy.min_arrears_vnd,
        "delinquent_min_months": policy.delinquent_min_months,
        "commendation_window_months": policy.commendation_window_months,
        "eligibility_rule": policy.eligibility_rule,
        "policy_version": policy.version,
        "partial": answered.partial,
        "missing_provinces": named(sorted(answered.missing_provinces)),
        "provinces_published": len(answered.provinces),
        "without_control_totals": named(answered.verification.get("without_control_totals", [])),
        "accepted_removals": named(sorted(answered.verification.get("accepted_removals", {}))),
        "not_reported": len(answered.verification.get("not_reported", [])),
    }


def database_reachable() -> bool:
    db.session.execute(select(1))
    return True


# ---- the two writes the portal makes -------------------------------------------------------------

def store_receipt(receipt_id: str, created_at: datetime, release_id: str, body: bytes, signature: str) -> Receipt:
    """Keep a receipt for good (the caller has looked for it first) and return it; one with the same
    id (the same content) stored meanwhile by another worker is never replaced: that one is
    returned. The receipt given back is built from the values: the ORM's reload of the 40 KB body
    after the commit was a tenth of a batch check."""
    values = {"id": receipt_id, "created_at": created_at, "release_id": release_id, "body": body.decode("utf-8"),
              "signature": signature}
    try:
        db.session.execute(Receipt.__table__.insert().values(**values))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return register().receipt(receipt_id)
    return Receipt(**values)


def open_dispute(submission: disputes.Submission, now: datetime) -> str:
    """Store a checked dispute and its attachment; returns its reference."""
    config = current_app.config
    try:
        reference = disputes.open_dispute(db.session, submission, now, int(config["CONGKHAI_DISPUTE_MAX_OPEN"]),
                                          config["CONGKHAI_DATA_DIR"])
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    _cache().pop("disputes", None)  # this worker's cached pages show the mark at once; others within seconds
    return reference
