"""The daily results the directive asks every provincial office to report before 18:30, in public.

One row per (release, province), computed once when the release is built from its records and its
changes (which are the status history's new intervals), so a page over a year of releases reads a
few thousand small rows instead of the history of a million employers.

Definitions, stated on the results page:
- arrears: the three funds' arrears of every employer reported that day;
- newly listed / resolved: joined or left the offender list (delinquent or evading) that day;
- moved to inspection / investigation: the enforcement stage became an inspection, or a referral
  to the police, that day;
- recovered: debt that left the offender list by payment, i.e. for each employer leaving the list
  because it paid, its arrears before minus its arrears after;
- recovery rate over a window: recovered in the window's releases / the offender list's arrears at
  the window's start.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

from ..models import DELINQUENT, EVADING, OFFENDER_STATUSES
from .changes import Change, State, leaving_reason
from .enforcement import INSPECTION, INVESTIGATION, stage_of

FIGURES = ("employers", "arrears_bhxh", "arrears_bhyt", "arrears_bhtn", "arrears_total", "arrears_offenders",
           "delinquent", "evading", "new_offenders", "resolved_offenders", "to_inspection", "to_investigation", "recovered")
WINDOWS = (7, 30)


def empty() -> dict:
    return dict.fromkeys(FIGURES, 0)


def recovered_by(change: Change) -> int:
    """What a change recovered: the paid part of the debt of an employer leaving the list by payment."""
    if not change.resolved or leaving_reason(change.before, change.after) != "paid":
        return 0
    return max(0, change.before.arrears_total - (change.after.arrears_total if change.after else 0))


def moved_to(change: Change, stage: str) -> bool:
    before = stage_of(change.before.enforcement_stage) if change.before else None
    after = stage_of(change.after.enforcement_stage) if change.after else None
    return after == stage and before != stage


def daily_results(states: Iterable[tuple[str, State]], changes: Iterable[tuple[str, Change]],
                  provinces: Iterable[str]) -> dict[str, dict]:
    """Figures per province from (province, state) of every employer reported and (province,
    change) of the day's changes; every province in `provinces` has a row, even an empty one."""
    rows = {code: empty() for code in provinces}
    for code, state in states:
        row = rows.setdefault(code, empty())
        row["employers"] += 1
        row["arrears_bhxh"] += state.arrears_bhxh
        row["arrears_bhyt"] += state.arrears_bhyt
        row["arrears_bhtn"] += state.arrears_bhtn
        row["arrears_total"] += state.arrears_total
        if state.status in OFFENDER_STATUSES:
            row["arrears_offenders"] += state.arrears_total
            row["delinquent" if state.status == DELINQUENT else "evading"] += 1
    for code, change in changes:
        row = rows.setdefault(code, empty())
        row["new_offenders"] += change.newly_listed
        row["resolved_offenders"] += change.resolved
        row["to_inspection"] += moved_to(change, INSPECTION)
        row["to_investigation"] += moved_to(change, INVESTIGATION)
        row["recovered"] += recovered_by(change)
    return rows


def add(rows: Iterable[dict]) -> dict:
    """The sum of several rows (provinces into the country)."""
    total = empty()
    for row in rows:
        for name in FIGURES:
            total[name] += row[name]
    return total


@dataclass(frozen=True)
class Window:
    """The releases a recovery rate is measured over: from the state at `start` to `end`."""
    days: int
    start: date          # the release whose offender arrears are the denominator
    end: date
    releases: tuple      # as-of dates after `start` up to `end`, whose recoveries are added


def window(release_days: list[date], end: date, days: int) -> Window | None:
    """The last `days` days up to `end`: starts at the latest release on or before `end - days`, or
    at the first release when the register is younger than the window; None with a single release."""
    known = sorted(d for d in release_days if d <= end)
    if len(known) < 2:
        return None
    earlier = [d for d in known if d <= end - timedelta(days=days)]
    start = earlier[-1] if earlier else known[0]
    return Window(days, start, end, tuple(d for d in known if start < d <= end))


def recovery_rate(recovered: int, arrears_at_start: int) -> float | None:
    """Recovered / the offender list's arrears at the window's start; None when there were none."""
    return recovered / arrears_at_start if arrears_at_start else None
