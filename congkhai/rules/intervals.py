"""When an interval of the status history is in force, in Python and as SQL.

Every rule that reads an employer's history (commendation, retention, states on a day) asks the
same question: does an interval [valid_from, valid_to) share a day with a window? It is answered
here once, in both forms, so the database and the rules cannot disagree on a boundary day.
"""
from __future__ import annotations

from datetime import date
from typing import Protocol

from sqlalchemy import and_, func, or_


class Interval(Protocol):
    valid_from: date
    valid_to: date | None
    status: str


def overlaps(interval: Interval, start: date, end: date) -> bool:
    """Does [valid_from, valid_to) share a day with the closed window [start, end]?"""
    return interval.valid_from <= end and (interval.valid_to is None or interval.valid_to > start)


def overlaps_sql(interval, start, end):
    """SQL twin of `overlaps`, on the columns of `interval` (the intervals table, an alias or the mapped class)."""
    interval = getattr(interval, "c", interval)
    return and_(interval.valid_from <= end, or_(interval.valid_to.is_(None), interval.valid_to > start))


def covers(interval: Interval, day: date) -> bool:
    """In force on `day`."""
    return overlaps(interval, day, day)


def covers_sql(interval, day):
    """SQL twin of `covers`."""
    return overlaps_sql(interval, day, day)


def covers_branches_sql(interval, day):
    """`covers_sql` as two disjoint conditions whose union it is: (still open, closed after `day`).
    On the register's newest day every interval in force is open, and the open ones are indexed in
    each list's order (models.StatusInterval), so a page walks that index for the first branch and
    finds nothing in the second, through the index of `valid_to`. `valid_from` is compared through
    an expression its index cannot serve: SQLite would otherwise scan that range (every interval of
    the history) instead of walking the order or the few intervals closed after the day."""
    interval = getattr(interval, "c", interval)
    started = func.coalesce(interval.valid_from, interval.valid_from) <= day
    return and_(interval.valid_to.is_(None), started), and_(interval.valid_to > day, started)
