"""How long an employer that paid stays visible as "obligation completed" in the lists.

An employer that leaves the offender list by paying in full is shown in the lists, marked as
having completed its obligation, for the policy's `resolved_visible_days`, then drops out (its
own page keeps the history). It is shown only while it is still paid up: one that falls behind
again is an offender or late, not a completed obligation.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Sequence

from sqlalchemy import and_

from ..statuses import COMPLIANT, OFFENDER_STATUSES
from .intervals import Interval, covers, covers_sql


def completed_on(intervals: Sequence[Interval], day: date, visible_days: int,
                 statuses: tuple = OFFENDER_STATUSES) -> date | None:
    """The day the employer left a list of `statuses` for compliance, if that was within the
    `visible_days` before `day` (inclusive of `day`) and it is still compliant on `day`; else None."""
    for left, after in zip(intervals, intervals[1:]):
        if (left.status in statuses and left.valid_to is not None and after.valid_from == left.valid_to
                and after.status == COMPLIANT and covers(after, day)
                and day - timedelta(days=visible_days) < left.valid_to <= day):
            return left.valid_to
    return None


def completed_sql(left, after, day: date, visible_days: int, statuses: tuple = OFFENDER_STATUSES):
    """SQL twin of `completed_on`: `left` is the listed interval, `after` the one that followed it
    (aliases of the intervals table, or mapped classes); its completion day is `left.valid_to`."""
    left, after = getattr(left, "c", left), getattr(after, "c", after)
    return and_(after.employer_id == left.employer_id, after.valid_from == left.valid_to,
                left.status.in_(statuses), left.valid_to > day - timedelta(days=visible_days), left.valid_to <= day,
                after.status == COMPLIANT, covers_sql(after, day))
