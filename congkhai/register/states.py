"""Reads of the employers' states on a day: filtered and sorted lists, whole-register states, the
honour roll and the completed obligations, all answered from the status intervals, so "today" and
"as of a past date" are the same query."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, lazyload

from ..models import Employer
from ..rules.changes import State
from ..rules.commendation import commendable_sql, followed_since_sql, in_arrears_within_sql
from ..rules.intervals import covers_sql
from ..rules.retention import completed_sql
from ..statuses import OFFENDER_STATUSES
from .base import Reads
from .employers import employer_row
from .tables import E, I, SI, STATE_COLUMNS, STREAM_ROWS, batches, state_of_row


@dataclass
class Filters:
    """What a list, a search without words, or a feed is restricted to; every field is in the URL."""
    statuses: tuple = ()
    provinces: tuple = ()
    sectors: tuple = ()
    ownership_types: tuple = ()
    arrears_min: int | None = None
    arrears_max: int | None = None   # inclusive, as in the search index
    months_min: int | None = None
    months_max: int | None = None    # inclusive
    keys: tuple = ()
    honour_roll: bool = False
    window_months: int = 12
    full_history: bool = True        # the register must have followed the employer for the whole window
    stages: tuple | None = None      # enforcement-stage texts as reported (None in it: no stage); None: any


SORTS = {
    "arrears": lambda: (SI.arrears_total.desc(), Employer.key),
    "months": lambda: (SI.months_late.desc(), SI.arrears_total.desc(), Employer.key),
    "name": lambda: (Employer.name, Employer.key),
    "since": lambda: (SI.valid_from.desc(), SI.arrears_total.desc(), Employer.key),
}


@dataclass
class Page:
    rows: list
    total: int
    page: int
    per_page: int


def employer_conditions(filters: Filters) -> list:
    conditions = []
    if filters.provinces:
        conditions.append(Employer.province_code.in_(filters.provinces))
    if filters.sectors:
        conditions.append(Employer.sector.in_(filters.sectors))
    if filters.ownership_types:
        conditions.append(Employer.ownership_type.in_(filters.ownership_types))
    if filters.keys:
        conditions.append(Employer.key.in_(filters.keys))
    return conditions


def state_conditions(day: date, filters: Filters) -> list:
    conditions = [covers_sql(SI, day), *employer_conditions(filters)]
    if filters.statuses:
        conditions.append(SI.status.in_(filters.statuses))
    if filters.arrears_min is not None:
        conditions.append(SI.arrears_total >= filters.arrears_min)
    if filters.arrears_max is not None:
        conditions.append(SI.arrears_total <= filters.arrears_max)
    if filters.months_min is not None:
        conditions.append(SI.months_late >= filters.months_min)
    if filters.months_max is not None:
        conditions.append(SI.months_late <= filters.months_max)
    if filters.stages is not None:
        texts = [t for t in filters.stages if t]
        conditions.append(or_(SI.enforcement_stage.in_(texts), *((SI.enforcement_stage.is_(None),
                                                                   SI.enforcement_stage == "")
                                                                  if len(texts) < len(filters.stages) else ())))
    if filters.honour_roll:
        conditions.append(commendable_sql(SI, day, filters.window_months, filters.full_history))
    return conditions


def joined(*columns):
    return select(*columns).select_from(Employer).join(SI, SI.employer_id == Employer.id)


class StateReads(Reads):
    def states_on(self, day: date, filters: Filters, sort: str = "arrears", page: int = 1,
                  per_page: int = 20) -> Page:
        """One page of a filtered, sorted view of the register on `day`, with its total."""
        conditions = state_conditions(day, filters)
        total = self.session.scalar(joined(func.count()).where(*conditions))
        stmt = (joined(Employer, SI).where(*conditions).order_by(*SORTS[sort]())
                .options(lazyload(Employer.intervals)).offset((page - 1) * per_page).limit(per_page))
        rows = [employer_row(employer, interval) for employer, interval in self.session.execute(stmt)]
        return Page(rows, total, page, per_page)

    def iter_states_on(self, day: date, filters: Filters, sort: str = "arrears", batch: int = 2000):
        """Every row of a filtered view, in order, for CSV downloads of the whole view."""
        stmt = (joined(Employer, SI).where(*state_conditions(day, filters)).order_by(*SORTS[sort]())
                .options(lazyload(Employer.intervals)).execution_options(yield_per=batch))
        for employer, interval in self.session.execute(stmt):
            yield employer_row(employer, interval)

    def count_on(self, day: date, filters: Filters) -> int:
        return self.session.scalar(joined(func.count()).where(*state_conditions(day, filters)))

    def distinct_values(self, day: date, column: str, statuses: tuple = (), limit: int = 300) -> list[str]:
        """Sectors or ownership types present on a day, for the filter controls of list pages."""
        attribute = {"sector": Employer.sector, "ownership_type": Employer.ownership_type}[column]
        conditions = [covers_sql(SI, day), attribute != ""]
        if statuses:
            conditions.append(SI.status.in_(statuses))
        stmt = joined(attribute).where(*conditions).group_by(attribute).order_by(attribute).limit(limit)
        return list(self.session.scalars(stmt))

    def on_honour_roll(self, day: date, filters: Filters, keys: list[str]) -> set[str]:
        """Which of `keys` are on the honour roll on `day`: the roll is a rule over a window, not a
        status, so its feed must follow its members rather than every employer's changes."""
        found = set()
        for chunk in batches(keys):
            conditions = state_conditions(day, replace(filters, keys=tuple(chunk)))
            found.update(self.session.scalars(joined(Employer.key).where(*conditions)))
        return found

    def recently_completed(self, day: date, days: int, filters: Filters, limit: int = 200) -> list[dict]:
        """Employers that left the offender list by paying in full within the `days` before `day` and
        are still paid up (congkhai.rules.retention). Selected through the intervals' end dates
        (ix_intervals_to), so it costs the recent changes, not the register."""
        after = aliased(SI)
        stmt = (select(Employer, SI, after.valid_from).select_from(Employer).join(SI, SI.employer_id == Employer.id)
                .join(after, completed_sql(SI, after, day, days, filters.statuses or OFFENDER_STATUSES))
                .where(*employer_conditions(filters))
                .order_by(SI.valid_to.desc(), Employer.key).options(lazyload(Employer.intervals)).limit(limit))
        return [{**employer_row(employer, interval), "completed_on": completed_on}
                for employer, interval, completed_on in self.session.execute(stmt)]

    def stage_texts_on(self, day: date, months_min: int) -> list[str | None]:
        """The enforcement stages, as reported, of employers at least `months_min` months behind on
        `day`: a handful of texts, which the rules read into stages."""
        stmt = (select(SI.enforcement_stage).where(covers_sql(SI, day), SI.months_late >= months_min)
                .group_by(SI.enforcement_stage))
        return list(self.session.scalars(stmt))

    # ---- whole-register forms, for the publisher and the CLI ----------------------------------------

    def states_by_key(self, day: date, province_codes: list[str] | None = None) -> dict[str, State]:
        """Every employer's state on `day`, by key."""
        query = select(E.c.key, *STATE_COLUMNS).select_from(I.join(E, E.c.id == I.c.employer_id)).where(
            covers_sql(I, day))
        if province_codes is not None:
            query = query.where(E.c.province_code.in_(province_codes))
        rows = self.conn.execute(query.execution_options(yield_per=STREAM_ROWS)).mappings()
        return {row["key"]: state_of_row(row) for row in rows}

    def province_states(self, day: date, province_codes: list[str] | None = None):
        """(province code, State) of every employer on `day`, streamed (the daily results' input)."""
        query = select(E.c.province_code, *STATE_COLUMNS).select_from(I.join(E, E.c.id == I.c.employer_id)).where(
            covers_sql(I, day))
        if province_codes is not None:
            query = query.where(E.c.province_code.in_(province_codes))
        for row in self.conn.execute(query.execution_options(yield_per=STREAM_ROWS)):
            yield row[0], State(*row[1:])

    def followed_since(self, start: date) -> set[str]:
        """Employers the register has a state of on `start` or earlier: followed for the whole window."""
        query = (select(E.c.key).select_from(I.join(E, E.c.id == I.c.employer_id))
                 .where(followed_since_sql(I, start)).distinct())
        return set(self.conn.execute(query.execution_options(yield_per=STREAM_ROWS)).scalars())

    def disqualified_keys(self, window_start: date, before: date) -> set[str]:
        """Employers not compliant at some point in [window_start, before): they cannot be commended."""
        query = (select(E.c.key).select_from(I.join(E, E.c.id == I.c.employer_id))
                 .where(in_arrears_within_sql(I, window_start, date.fromordinal(before.toordinal() - 1))).distinct())
        return set(self.conn.execute(query.execution_options(yield_per=STREAM_ROWS)).scalars())
