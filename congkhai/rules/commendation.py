"""Who may be praised on the honour roll on a given day.

An employer qualifies when it is compliant on that day and no interval of its history in which it
was not compliant overlaps the policy window (the `window_months` before that day): one late
month inside the window disqualifies, as the agency's instruction forbids commending late payers.
"""
from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Iterable

from sqlalchemy import and_, exists

from ..models import Commendation, StatusInterval
from ..statuses import COMPLIANT
from .intervals import Interval, covers_sql, overlaps, overlaps_sql


def window_start(day: date, months: int) -> date:
    """`months` calendar months before `day`, clamped to the month's last day (31 May - 3 -> 28/29 Feb)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def first_possible_day(began: date, months: int) -> date:
    """The first day whose window starts on or after `began`, the register's first release: before it
    nobody has been followed for the whole window, so a roll that requires that is empty by rule."""
    index = began.year * 12 + began.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    day = date(year, month, min(began.day, calendar.monthrange(year, month)[1]))
    while window_start(day, months) < began:  # clamped to a shorter month: a day or three later
        day += timedelta(days=1)
    return day


# Why a commendation check answered as it did; the portal and receipts translate these codes.
COMMENDABLE = "commendable"
IN_ARREARS = "in_arrears"                      # not compliant on the day itself
ARREARS_IN_WINDOW = "arrears_in_window"        # compliant today, but in arrears within the window
HISTORY_TOO_SHORT = "history_too_short"        # not followed by the register for the whole window
NO_RECORD = "no_record"                        # not in the register on the day
REASONS = (COMMENDABLE, IN_ARREARS, ARREARS_IN_WINDOW, HISTORY_TOO_SHORT, NO_RECORD)


def commendation_verdict(intervals: Iterable[Interval], day: date, window_months: int,
                         requires_full_history: bool = True) -> tuple[bool | None, str]:
    """(may be commended, why): None when the employer was not in the register on the day."""
    intervals = list(intervals)
    covering = [i for i in intervals if overlaps(i, day, day)]
    if not covering:
        return None, NO_RECORD
    if any(i.status != COMPLIANT for i in covering):
        return False, IN_ARREARS
    start = window_start(day, window_months)
    if any(i.status != COMPLIANT and overlaps(i, start, day) for i in intervals):
        return False, ARREARS_IN_WINDOW
    if requires_full_history and not any(i.valid_from <= start for i in intervals):
        return False, HISTORY_TOO_SHORT
    return True, COMMENDABLE


def is_commendable(intervals: Iterable[Interval], day: date, window_months: int,
                   requires_full_history: bool = True) -> bool:
    """Compliant on `day`, never otherwise within the window and, unless the policy waives it,
    followed by the register since the window began (no record is not a clean record)."""
    return commendation_verdict(intervals, day, window_months, requires_full_history)[0] is True


# ---- the same rule as SQL, for the database's lists and counts (tests/congkhai/test_rules_sql.py) ----

def in_arrears_within_sql(interval, start: date, end: date):
    """An interval not compliant that shares a day with [start, end]: what disqualifies (SQL)."""
    interval = getattr(interval, "c", interval)
    return and_(interval.status != COMPLIANT, overlaps_sql(interval, start, end))


def followed_since_sql(interval, start: date):
    """An interval that began on or before `start`: the register followed the employer since then (SQL)."""
    return getattr(interval, "c", interval).valid_from <= start


def commendable_sql(current, day: date, window_months: int, requires_full_history: bool = True):
    """SQL twin of `is_commendable` for `current`, the employer's interval in force on `day` (the
    intervals table or the mapped class, as the query selects it)."""
    current = getattr(current, "c", current)
    start = window_start(day, window_months)
    blemish, followed = StatusInterval.__table__.alias(), StatusInterval.__table__.alias()
    conditions = [current.status == COMPLIANT,
                  ~exists().where(blemish.c.employer_id == current.employer_id,
                                  in_arrears_within_sql(blemish, start, day))]
    if requires_full_history:
        conditions.append(exists().where(followed.c.employer_id == current.employer_id,
                                         followed_since_sql(followed, start)))
    return and_(*conditions)


def on_stored_roll_sql(current, day: date):
    """`current`'s employer is on the honour roll its release published for `day`: the publisher
    applied `is_commendable`'s rule once and stored who joined and left (congkhai.models.Commendation)."""
    current = getattr(current, "c", current)
    roll = Commendation.__table__.alias()
    return exists().where(roll.c.employer_id == current.employer_id, covers_sql(roll, day))
