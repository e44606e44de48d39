"""Step 4: give every verified employer its status, and pick the honour roll, by the policy."""
from __future__ import annotations

from congkhai.statuses import COMPLIANT, LATE, OFFENDER_STATUSES
from congkhai.policy import Policy
from congkhai.rules.classification import classify
from congkhai.rules.notices import advance_notice

from .records import Record


def classify_records(records: list[Record], policy: Policy) -> list[Record]:
    """Set each record's status (in place, to spare a million copies) and return them sorted by key."""
    for record in records:
        record.status = classify(record.arrears_total, record.months_late, record.evasion_decision is not None, policy)
    records.sort(key=lambda r: r.key)
    return records


def apply_notices(records: list[Record], previous_states: dict, as_of, policy: Policy,
                  first_release: bool = False, returning: dict | None = None) -> None:
    """Put employers that cross into the offender list into their notice period, and keep listed
    ones listed until they owe nothing (in place), from the previous release's states the build
    already holds: one dictionary look-up per employer. `returning` holds the last published state
    of employers that yesterday's report did not carry."""
    returning = returning or {}
    for record in records:
        if record.status not in OFFENDER_STATUSES and record.status != LATE:  # most employers: the rule's first case
            continue
        before = previous_states.get(record.key) or returning.get(record.key)
        listing = advance_notice(record.status, before and before.status, before and before.notice_from,
                                 before and before.listing_on, as_of, policy, first_release)
        record.status, record.notice_from, record.listing_on = listing


def honour_roll(records: list[Record], disqualified: set[str], followed: set[str] | None = None) -> set[str]:
    """Compliant today and reported today, not in arrears in any release of the policy's window (store.disqualified_keys)
    and, when `followed` is given, followed by the register since the window began."""
    return {r.key for r in records if r.status == COMPLIANT and r.key not in disqualified
            and r.not_reported_since is None and (followed is None or r.key in followed)}

