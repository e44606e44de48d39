"""Notice before listing: an employer that crosses into the offender list is first "due to be
listed on <date> unless it pays", and joins the list only when the notice runs out.

The state machine works from the previous release's state alone (status, notice start, listing
date), so the publisher decides every employer in one pass over the states it already holds: no
per-employer query. States:

    not an offender --crosses--> notice(from=as_of, listing_on=as_of+days)
    notice --still an offender, as_of < listing_on--> notice (same dates)
    notice --still an offender, as_of >= listing_on--> listed (delinquent or evading)
    notice --pays (or is no longer an offender)--> not an offender: the notice ends, nobody was named
    listed --pays--> not an offender; a later crossing starts a new notice (re-offending)
    listed --still owes, fewer months (late)--> stays listed (delinquent): only paying ends a listing

"The previous state" is the last one published: for an employer missing from some reports and
reported again, its state before the gap, so coming back never starts a new notice period.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from ..statuses import DELINQUENT, EVADING, LATE, NOTICE, OFFENDER_STATUSES
from ..policy import Policy


class Listing(NamedTuple):
    """What is published for one employer: the status, and the notice's dates while in notice."""
    status: str
    notice_from: date | None = None
    listing_on: date | None = None


def listing_date(notice_from: date, policy: Policy) -> date:
    return notice_from + timedelta(days=policy.notice_days)


def advance_notice(classified: str, previous_status: str | None, previous_notice_from: date | None,
                   previous_listing_on: date | None, as_of: date, policy: Policy,
                   first_release: bool = False) -> Listing:
    """The published status on `as_of` of an employer classified `classified` today, given what
    the previous release published for it (None when it was not reported)."""
    if classified == LATE and previous_status in OFFENDER_STATUSES:
        return Listing(DELINQUENT)   # it still owes: a listing ends when the report says it owes nothing
    if classified not in OFFENDER_STATUSES:
        return Listing(classified)
    if previous_status in OFFENDER_STATUSES:
        return Listing(classified)   # already listed: a change between delinquent and evading needs no notice
    if first_release and policy.first_release_lists:
        return Listing(classified)
    if classified == EVADING and policy.evasion_skips_notice:
        return Listing(classified)
    if previous_status == NOTICE and previous_notice_from is not None:
        start, listing_on = previous_notice_from, previous_listing_on or listing_date(previous_notice_from, policy)
    else:
        start = as_of
        listing_on = listing_date(as_of, policy)
    if as_of >= listing_on:
        return Listing(classified)
    return Listing(NOTICE, start, listing_on)


def is_listed(status: str | None) -> bool:
    """On the public offender list (a notice is not)."""
    return status in OFFENDER_STATUSES
