"""Reads of changes: what a release changed, the recent changes a feed shows, the difference
between any two dates. A change is read from the intervals that start or end on a release's day."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import and_, or_, select, union
from sqlalchemy.orm import lazyload

from ..models import Employer
from ..rules.changes import SUMMARY_LISTS, Change, State, diff_states, leaving_reason, release_summary
from .employers import employer_row
from .releases import ReleaseInfo, ReleaseReads
from .states import Filters, StateReads, employer_conditions
from .tables import E, I, STATE_COLUMNS, batches

RECENT_SCAN = 100_000  # changes read for a feed (already of its provinces and employers) before the window


@dataclass(frozen=True)
class ReleaseChange:
    """A change with what a reader needs to recognise the employer."""
    release_date: date
    change: Change
    key: str
    name: str
    province_code: str
    public_tax_id: str
    sector: str
    # When the release was published (its created_at): feeds date the entry by it, so a reader sees when
    # the change became public. None only while the release is not stored yet.
    published_at: datetime | None


@dataclass
class Event:
    """One employer's change on the day of a release, with the employer's public facts."""
    source: ReleaseChange
    row: dict

    @property
    def day(self) -> date:
        return self.source.release_date

    @property
    def change(self) -> Change:
        return self.source.change

    @property
    def kinds(self) -> list[str]:
        """The change kind plus the listings it makes ('newly_listed', 'resolved', 'newly_evading')."""
        kinds = [self.change.kind]
        kinds += [name for name in ("newly_listed", "resolved", "newly_evading") if getattr(self.change, name)]
        return kinds

    @property
    def leaving_reason(self) -> str | None:
        return leaving_reason(self.change.before, self.change.after) if self.change.resolved else None

    def to_dict(self) -> dict:
        before, after = self.change.before, self.change.after
        return {"day": self.day, "kind": self.change.kind, "kinds": self.kinds,
                "before": before._asdict() if before else None, "after": after._asdict() if after else None,
                "arrears_delta": self.change.arrears_delta, "leaving_reason": self.leaving_reason,
                "employer": self.row}


class ChangeReads(ReleaseReads, StateReads):
    def changes_between(self, day_a: date, day_b: date) -> list[Change]:
        """What changed from the register on `day_a` to the register on `day_b` (`congkhai diff`)."""
        return diff_states(self.states_by_key(day_a), self.states_by_key(day_b))

    def release_changes(self, release_day: date, previous_day: date | None, limit: int | None = None,
                        province_codes: tuple = (), keys: tuple = ()) -> list[ReleaseChange]:
        """Changes brought by the release of `release_day`: intervals that start or end on that day,
        optionally only of some provinces or employers (selected in SQL, so a filtered feed sees all).

        The closed interval is looked up by employer and start (`valid_from < release_day` holds for
        every interval that ends that day): joined on `valid_to` alone, SQLite read all the day's
        closed intervals for each employer, minutes for a register of 100,000 after a normal day.
        Every change is wanted (a release's page): the employers are found through the intervals'
        start and end indexes, so the page costs the day's changes, not the register. The first
        `limit` in key order (a feed): the employers are walked in key order until that many are
        found, which stops early even on a first release, whose million changes the other way
        would gather and sort (the next-day publish's feeds: 1.2 s instead of 8.5 s at a million)."""
        opened = I.alias("opened")
        closed = I.alias("closed")
        employers = E
        if limit is None:
            changed = union(select(I.c.employer_id).where(I.c.valid_from == release_day),
                            select(I.c.employer_id).where(I.c.valid_to == release_day)).subquery()
            employers = changed.join(E, E.c.id == changed.c.employer_id)
        query = (select(E.c.key, E.c.name, E.c.province_code, E.c.tax_code, E.c.personal_id_masked, E.c.sector,
                        *(opened.c[c.name].label("after_" + c.name) for c in STATE_COLUMNS),
                        *(closed.c[c.name].label("before_" + c.name) for c in STATE_COLUMNS))
                 .select_from(employers
                              .outerjoin(opened, and_(opened.c.employer_id == E.c.id,
                                                       opened.c.valid_from == release_day))
                              .outerjoin(closed, and_(closed.c.employer_id == E.c.id, closed.c.valid_from < release_day,
                                                      closed.c.valid_to == release_day)))
                 .where(or_(opened.c.id.isnot(None), closed.c.id.isnot(None)))
                 .order_by(E.c.key))
        if province_codes:
            query = query.where(E.c.province_code.in_(province_codes))
        if keys:
            query = query.where(E.c.key.in_(keys))
        if limit:
            query = query.limit(limit)
        out = []
        published = self.published_at(release_day)
        for row in self.conn.execute(query).mappings():
            after = State(*(row["after_" + c.name] for c in STATE_COLUMNS)) if row["after_status"] else None
            before = State(*(row["before_" + c.name] for c in STATE_COLUMNS)) if row["before_status"] else None
            if previous_day is None:
                before = None
            change = diff_states({row["key"]: before} if before else {}, {row["key"]: after} if after else {})
            if change:
                out.append(ReleaseChange(release_day, change[0], row["key"], row["name"], row["province_code"],
                                         row["tax_code"] or row["personal_id_masked"] or "", row["sector"], published))
        return out

    def recent_changes(self, until: date, since: date, limit: int, province_codes: tuple = (),
                       keys: tuple = ()) -> list[ReleaseChange]:
        """Changes of the releases in (since, until], newest release first, at most `limit`."""
        all_days = [r["as_of"] for r in self.complete_releases()]
        days = [day for day in all_days if since < day <= until]
        out: list[ReleaseChange] = []
        for day in sorted(days, reverse=True):
            earlier = [d for d in all_days if d < day]
            out.extend(self.release_changes(day, earlier[-1] if earlier else None, limit=limit - len(out),
                                            province_codes=province_codes, keys=keys))
            if len(out) >= limit:
                break
        return out

    def changes_in_release(self, release: ReleaseInfo, filters: Filters | None = None) -> list[Event]:
        """What the release changed since the previous one (nothing for the very first release)."""
        filters = filters or Filters()
        previous = self.previous_release(release)
        if previous is None:
            return []
        changes = self.release_changes(release.as_of, previous.as_of, province_codes=tuple(filters.provinces),
                                       keys=tuple(filters.keys))
        return self._events(changes, filters)

    def release_summary(self, release: ReleaseInfo, stored: dict | None) -> tuple[dict, dict[str, list[Event]]]:
        """(counts, {list: events}) of a release's page (rules.changes.release_summary): from the
        summary its figures stored when it was published, so only the few employers shown are
        read, or ranked here from every change for a release published before summaries were kept."""
        previous = self.previous_release(release)
        summary = (stored or {}).get("changes")
        if previous is None:
            summary = release_summary([])
            by_key = {}
        elif summary is None:
            events = self.changes_in_release(release)
            summary, by_key = release_summary(e.change for e in events), {e.source.key: e for e in events}
        else:
            keys = sorted({key for name in SUMMARY_LISTS for key in summary[name]})
            changes = self.release_changes(release.as_of, previous.as_of, keys=tuple(keys)) if keys else []
            by_key = {e.source.key: e for e in self._events(changes, Filters())}
        return summary["counts"], {name: [by_key[key] for key in summary[name] if key in by_key]
                                   for name in SUMMARY_LISTS}

    def recent_events(self, until: date, since: date, filters: Filters, limit: int) -> list[Event]:
        """Changes of the releases in (since, until], newest first, for feeds; never the first release."""
        first = self.first_release_day()
        if first is None:
            return []
        changes = self.recent_changes(until, max(since, first), RECENT_SCAN, province_codes=tuple(filters.provinces),
                                      keys=tuple(filters.keys))
        if filters.honour_roll:
            on_roll = self.on_honour_roll(until, filters, sorted({c.key for c in changes}))
            changes = [c for c in changes if c.key in on_roll]
        return self._events(changes, filters)[:limit]

    def _events(self, changes: list, filters: Filters) -> list[Event]:
        """Changes joined to the employers the filters select, with their public facts."""
        conditions = employer_conditions(replace(filters, keys=()))
        keys = sorted({c.key for c in changes} & set(filters.keys) if filters.keys else {c.key for c in changes})
        employers = {}
        for chunk in batches(keys):
            stmt = select(Employer).where(Employer.key.in_(chunk), *conditions).options(lazyload(Employer.intervals))
            employers.update((e.key, e) for e in self.session.scalars(stmt))
        events = []
        for item in changes:
            employer = employers.get(item.key)
            if employer is None:
                continue
            before, after = item.change.before, item.change.after
            if filters.statuses and not {s.status for s in (before, after) if s} & set(filters.statuses):
                continue
            events.append(Event(item, employer_row(employer, after or before)))
        return events
