"""Step 4: give every verified employer its status, and pick the honour roll, by the policy."""
from __future__ import annotations

from datetime import date

from congkhai.models import COMPLIANT
from congkhai.policy import Policy
from congkhai.rules.classification import classify

from .records import Record


def classify_records(records: list[Record], policy: Policy) -> list[Record]:
    """Set each record's status (in place, to spare a million copies) and return them sorted by key."""
    for record in records:
        record.status = classify(record.arrears_total, record.months_late, record.evasion_decision is not None, policy)
    records.sort(key=lambda r: r.key)
    return records


def honour_roll(records: list[Record], disqualified: set[str]) -> set[str]:
    """Compliant today and not in arrears in any release of the policy's window (see store.disqualified_keys)."""
    return {r.key for r in records if r.status == COMPLIANT and r.key not in disqualified}


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, clamped to the month's end (31 May - 3 months = 28/29 Feb)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")
