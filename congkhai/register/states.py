"""Reads of the employers' states on a day: filtered and sorted lists, whole-register states, the
honour roll and the completed obligations, all answered from the status intervals, so "today" and
"as of a past date" are the same query."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.orm import aliased, lazyload

from ..models import Employer, Release
from ..rules.changes import State
from ..rules.commendation import commendable_sql, followed_since_sql, in_arrears_within_sql, on_stored_roll_sql
from ..rules.intervals import covers_branches_sql, covers_sql
from ..rules.retention import completed_sql
from ..statuses import COMPLIANT, OFFENDER_STATUSES, STATUSES
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
    stored_roll: bool = False        # the day's release stored its honour roll: read it, do not recompute it
    stages: tuple | None = None      # enforcement-stage texts as reported (None in it: no stage); None: any


# Each list order as (column, descending) pairs, made total by its last column so pages never
# overlap: ties the latest recorded interval first (the open intervals are indexed in
# exactly these orders, models.StatusInterval, so a page reads its rows in order, even in a tie as
# large as every employer paid up since the first release), by name then key.
ORDERS = {
    "arrears": ((SI.arrears_total, True), (SI.id, True)),
    "months": ((SI.months_late, True), (SI.arrears_total, True), (SI.id, True)),
    "name": ((Employer.name, False), (Employer.key, False)),
    "since": ((SI.valid_from, True), (SI.arrears_total, True), (SI.id, True)),
}
SORTS = {name: (lambda order=order: tuple(c.desc() if down else c for c, down in order)) for name, order in ORDERS.items()}
# A page walks its list's order while at least this share of the rows walked (the employers, by
# name; the statuses' open intervals, otherwise) is in the view; a rarer view is found through its
# filters' indexes and then sorted, which costs its few rows.
WALK_SHARE = 0.01


@dataclass
class Page:
    rows: list
    total: int
    page: int
    per_page: int


def unindexed(column):
    """`column` as an expression no index serves: a query filters on it while it walks another
    index (a list's order) instead of starting from it."""
    return func.coalesce(column, column)


def employer_conditions(filters: Filters, walking: bool = False) -> list:
    """The filters on the employers' facts; `walking`: applied along a list's order (see WALK_SHARE)."""
    def on(column):
        return unindexed(column) if walking else column
    conditions = []
    if filters.provinces:
        conditions.append(on(Employer.province_code).in_(filters.provinces))
    if filters.sectors:
        conditions.append(on(Employer.sector).in_(filters.sectors))
    if filters.ownership_types:
        conditions.append(on(Employer.ownership_type).in_(filters.ownership_types))
    if filters.keys:
        conditions.append(Employer.key.in_(filters.keys))
    return conditions


def state_conditions(day: date, filters: Filters) -> list:
    conditions = [covers_sql(SI, day)]
    if filters.statuses:
        conditions.append(SI.status.in_(filters.statuses))
    return conditions + view_conditions(day, filters)


def view_conditions(day: date, filters: Filters, walking: bool = False) -> list:
    """Every condition of a view but the day and the statuses, which the ordered pages apply per branch."""
    conditions = employer_conditions(filters, walking)
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
    if filters.honour_roll and filters.stored_roll:
        conditions.append(on_stored_roll_sql(SI, day))
    elif filters.honour_roll:
        conditions.append(commendable_sql(SI, day, filters.window_months, filters.full_history))
    return conditions


def walked(stored: dict, filters: Filters, sort: str) -> int:
    """How many rows a page walking `sort`'s order passes over at most: every employer by name, or
    the open intervals of the view's statuses (the day's release's stored figures say how many)."""
    statuses = set(filters.statuses or ((COMPLIANT,) if filters.honour_roll else STATUSES))
    return sum(count for _, status, count, _ in stored["tally"] if sort == "name" or status in statuses)


def joined(*columns):
    return select(*columns).select_from(Employer).join(SI, SI.employer_id == Employer.id)


def stored_total(filters: Filters, stored: dict | None, newest: bool = True) -> int | None:
    """A view's total from its release's stored figures, when the view is statuses, provinces, one
    facet, the honour roll or the planned inspections (the lists' common forms); None when it must
    be counted. The figures count each employer by its province and sector on the release's day;
    the register keeps only the latest, so a filter on them is answered from the figures of the
    `newest` release only."""
    if stored is None or filters.keys or any(bound is not None for bound in
                                             (filters.arrears_min, filters.arrears_max, filters.months_max)):
        return None
    if not newest and (filters.provinces or filters.sectors or filters.ownership_types):
        return None
    wanted, statuses = set(filters.provinces), set(filters.statuses or STATUSES)
    if filters.stages is not None or filters.months_min is not None:
        return _stored_inspection_total(filters, stored, wanted, statuses)
    facets = [name for name, values in (("sector", filters.sectors), ("ownership_type", filters.ownership_types))
              if values]
    if facets:
        if len(facets) > 1 or wanted or filters.honour_roll or "facets" not in stored:
            return None
        chosen = set(filters.sectors or filters.ownership_types)
        return sum(count for status, value, count in stored["facets"][facets[0]]
                   if status in statuses and value in chosen)
    if filters.honour_roll:
        return sum(n for code, n in stored["honour_roll"].items() if not wanted or code in wanted)
    return sum(count for code, status, count, _ in stored["tally"]
               if status in statuses and (not wanted or code in wanted))


def _stored_inspection_total(filters: Filters, stored: dict, wanted: set, statuses: set) -> int | None:
    """The planned-inspections view's total (its release's threshold and stages), from the stored
    counts per province, status and stage; None for any other view with a threshold or stages."""
    stages = stored.get("stages")
    if stages is None or filters.stages is None or filters.months_min != stages["months_min"] \
            or filters.sectors or filters.ownership_types or filters.honour_roll:
        return None
    texts = {text for text in filters.stages if text}
    without_stage = len(texts) < len(filters.stages)
    return sum(count for code, status, text, count in stages["rows"]
               if status in statuses and (not wanted or code in wanted)
               and (text in texts or (without_stage and not text)))


class StateReads(Reads):
    def states_on(self, day: date, filters: Filters, sort: str = "arrears", page: int = 1,
                  per_page: int = 20, stored: dict | None = None) -> Page:
        """One page of a filtered, sorted view of the register on `day`, with its total: counted from
        `stored`, the figures of the day's release (FigureReads.release_figures), when they answer it."""
        total = stored_total(filters, stored, stored is not None and self.is_newest_day(day))
        if total is None:
            total = self.count_on(day, filters)
        offset = (page - 1) * per_page
        if offset >= total:  # an empty roll or a page past the end: nothing to look for
            return Page([], total, page, per_page)
        if filters.keys or stored is None or total < WALK_SHARE * walked(stored, filters, sort):
            stmt = (joined(Employer, SI).where(*state_conditions(day, filters)).order_by(*SORTS[sort]())
                    .options(lazyload(Employer.intervals)).offset(offset).limit(per_page))
            rows = [employer_row(employer, interval) for employer, interval in self.session.execute(stmt)]
        else:
            rows = self._rows_of(self._ordered_ids(day, filters, sort, offset, per_page))
        return Page(rows, total, page, per_page)

    def is_newest_day(self, day: date) -> bool:
        """Whether `day` is on or after the newest complete release's: the employers' facts as kept
        are those of that day."""
        newest = self.session.scalar(select(func.max(Release.as_of)).where(Release.state == "complete"))
        return newest is not None and day >= newest

    def _ordered_ids(self, day: date, filters: Filters, sort: str, offset: int, limit: int) -> list[int]:
        """The interval ids of one page in the list's order, read along the open intervals' index of
        that order, one branch per status (an index gives one status's rows in order; their merge is
        the page), or for the name order along the employers' names. Each branch stops after
        `offset + limit` rows, so the first pages cost what they show, not the whole list."""
        order = ORDERS[sort]
        statuses = filters.statuses or ((COMPLIANT,) if filters.honour_roll else STATUSES)
        columns = [SI.id.label("interval_id"), *(column.label(f"k{n}") for n, (column, _) in enumerate(order))]
        # By name, the statuses through an expression, so the planner walks the names rather than a status.
        by_status = [func.coalesce(SI.status, SI.status).in_(statuses)] if sort == "name" \
            else [SI.status == status for status in statuses]
        others = view_conditions(day, filters, walking=True)
        still_open, closed_after = covers_branches_sql(SI, day)
        # The intervals closed after the day are found through the index of their end, then sorted:
        # ordered by an expression, or the planner (blind to how few they are behind a bound date)
        # would walk the whole order looking for them.
        sorted_after = [unindexed(column).desc() if down else unindexed(column) for column, down in order]
        branches = [joined(*columns).where(on_day, status, *others)
                    .order_by(*(SORTS[sort]() if on_day is still_open else sorted_after)).limit(offset + limit).subquery()
                    for on_day in (still_open, closed_after) for status in by_status]
        merged = union_all(*(select(branch) for branch in branches)).subquery()
        keys = [merged.c[f"k{n}"].desc() if down else merged.c[f"k{n}"] for n, (_, down) in enumerate(order)]
        return list(self.session.scalars(select(merged.c.interval_id).order_by(*keys).offset(offset).limit(limit)))

    def _rows_of(self, interval_ids: list[int]) -> list[dict]:
        """Rows of the given intervals, in the given order."""
        stmt = joined(Employer, SI).where(SI.id.in_(interval_ids)).options(lazyload(Employer.intervals))
        found = {interval.id: employer_row(employer, interval) for employer, interval in self.session.execute(stmt)}
        return [found[interval_id] for interval_id in interval_ids]

    def iter_states_on(self, day: date, filters: Filters, sort: str = "arrears", batch: int = 2000):
        """Every row of a filtered view, in order, for CSV downloads of the whole view."""
        stmt = (joined(Employer, SI).where(*state_conditions(day, filters)).order_by(*SORTS[sort]())
                .options(lazyload(Employer.intervals)).execution_options(yield_per=batch))
        for employer, interval in self.session.execute(stmt):
            yield employer_row(employer, interval)

    def count_on(self, day: date, filters: Filters) -> int:
        conditions = state_conditions(day, filters)
        if employer_conditions(filters):
            return self.session.scalar(joined(func.count()).where(*conditions))
        return self.session.scalar(select(func.count()).select_from(SI).where(*conditions))

    def distinct_values(self, day: date, column: str, statuses: tuple = (), limit: int = 300,
                        stored: dict | None = None) -> list[str]:
        """Sectors or ownership types present on a day, for the filter controls of list pages: from
        `stored`, the facets of the day's release, when it has them."""
        if stored is not None:
            values = {value for status, value, _ in stored["facets"][column] if not statuses or status in statuses}
            return sorted(values)[:limit]
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

    def stage_texts_on(self, day: date, months_min: int, stored: dict | None = None) -> list[str | None]:
        """The enforcement stages, as reported, of employers at least `months_min` months behind on
        `day`: a handful of texts, which the rules read into stages. From `stored`, the figures of the
        day's release, when they were counted with that threshold."""
        stages = (stored or {}).get("stages")
        if stages is not None and stages["months_min"] == months_min:
            return list(dict.fromkeys(text for _, _, text, _ in stages["rows"]))
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
