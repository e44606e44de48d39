"""The daily results the directive asks every provincial office to report before 18:30, in public.

One row per (release, province), computed once when the release is built from its records and its
changes (which are the status history's new intervals), so a page over a year of releases reads a
few thousand small rows instead of the history of a million employers.

Definitions, stated on the results page:
- arrears: the total arrears of every employer reported that day, as the reports total them;
- arrears by fund (BHXH, BHYT, BHTN, BHTNLĐ-BNN) and late-payment interest: the sums over the
  employers whose report gives that amount apart, None (never 0) when none of them does; some
  reports give only a total, or BHXH and BHTN together, so the funds need not add up to the total.
  `employers_without_fund_split` counts the employers whose report did not give each of BHXH,
  BHYT and BHTN apart. Interest is never part of the arrears;
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
from operator import attrgetter
from typing import Iterable

from sqlalchemy import func, select

from ..models import Employer, StatusInterval
from ..statuses import OFFENDER_STATUSES
from .changes import Change, State, leaving_reason
from .enforcement import INSPECTION, INVESTIGATION, stage_of
from .intervals import covers_sql

FUNDS = ("arrears_bhxh", "arrears_bhyt", "arrears_bhtn")  # the split by fund every report is asked for
# Amounts a report may or may not give apart: summed over the employers whose report gives them.
REPORTED_APART = (*FUNDS, "arrears_bhtnld", "interest")
FIGURES = ("employers", *FUNDS, "arrears_bhtnld", "arrears_total", "arrears_offenders", "interest",
           "employers_without_fund_split", "delinquent", "evading", "new_offenders", "resolved_offenders",
           "to_inspection", "to_investigation", "recovered")
WINDOWS = (7, 30)
_apart = attrgetter(*REPORTED_APART)
_funds = attrgetter(*FUNDS)


def empty() -> dict:
    """A row before any employer is counted: no amount reported apart yet (None), every count 0."""
    return {name: None if name in REPORTED_APART else 0 for name in FIGURES}


def has_fund_split(amounts) -> bool:
    """Whether the report gave each of BHXH, BHYT and BHTN apart (a State or a Record)."""
    return None not in _funds(amounts)


def add_amounts(row: dict, amounts) -> None:
    """Count one employer's arrears (a State or a Record) into a province's row: the total as
    reported, each amount reported apart into its sum (an unknown one adds nothing, and is not 0),
    and the employer among those without a split by fund when its report gave none."""
    for name, value in zip(REPORTED_APART, _apart(amounts)):
        if value is not None:
            known = row[name]
            row[name] = value if known is None else known + value
    row["arrears_total"] += amounts.arrears_total
    if not has_fund_split(amounts):
        row["employers_without_fund_split"] += 1


def tally(row: dict, state) -> None:
    """Count one employer (a State or a Record) into a province's row: the one definition of a
    province's figures, used by the daily results and the release's provinces table, and by the
    portal as SQL (`tally_sql`). A row counts the statuses it has keys for."""
    row["employers"] += 1
    if state.status in row:
        row[state.status] += 1
    add_amounts(row, state)
    if state.status in OFFENDER_STATUSES:
        row["arrears_offenders"] += state.arrears_total


def tally_sql(day: date):
    """SQL twin of `tally` over the register on `day`: (province_code, status, employers, arrears
    total) per province and status, the counts and sums the portal's figures are made of."""
    employers, intervals = Employer.__table__, StatusInterval.__table__
    return (select(employers.c.province_code, intervals.c.status, func.count(), func.sum(intervals.c.arrears_total))
            .select_from(employers.join(intervals, intervals.c.employer_id == employers.c.id))
            .where(covers_sql(intervals, day)).group_by(employers.c.province_code, intervals.c.status))


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

    def row_of(code: str) -> dict:  # not rows.setdefault(code, empty()): that makes a row per employer
        row = rows.get(code)
        if row is None:
            row = rows[code] = empty()
        return row

    for code, state in states:
        tally(row_of(code), state)
    for code, change in changes:
        row = row_of(code)
        row["new_offenders"] += change.newly_listed
        row["resolved_offenders"] += change.resolved
        row["to_inspection"] += moved_to(change, INSPECTION)
        row["to_investigation"] += moved_to(change, INVESTIGATION)
        row["recovered"] += recovered_by(change)
    return rows


def add(rows: Iterable[dict]) -> dict:
    """The sum of several rows (provinces into the country); an amount no row reported apart stays None."""
    total = empty()
    for row in rows:
        for name in FIGURES:
            if row[name] is not None:
                total[name] = row[name] if total[name] is None else total[name] + row[name]
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
