"""Queries over the status intervals, shared by the publisher, the CLI and the portal.

Everything here answers "as of a date" from the intervals: the state of one employer or of all
employers on a day, the changes a release brought, and the difference between any two dates.
Functions take a SQLAlchemy Connection or Session (anything with `.execute`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import and_, func, or_, select

from .models import NOTICE, Employer, Release, StatusInterval
from .rules.changes import Change, State, diff_states
from .rules.intervals import covers_sql
from .rules.commendation import followed_since_sql, in_arrears_within_sql

E = Employer.__table__
I = StatusInterval.__table__
R = Release.__table__
STREAM_ROWS = 20_000  # rows a whole-register query holds at once (PostgreSQL would buffer them all)

STATE_COLUMNS = (I.c.status, I.c.arrears_bhxh, I.c.arrears_bhyt, I.c.arrears_bhtn, I.c.arrears_total, I.c.months_late,
                 I.c.evasion_decision, I.c.evasion_decision_date, I.c.enforcement_stage, I.c.notice_from, I.c.listing_on,
                 I.c.not_reported_since, I.c.arrears_bhtnld, I.c.interest)


def covers(day: date):
    """SQL condition: the interval is in force on `day`."""
    return covers_sql(I, day)


def state_of(row) -> State:
    return State(*(row[c.name] for c in STATE_COLUMNS))


def complete_releases(conn) -> list:
    return list(conn.execute(select(R).where(R.c.state == "complete").order_by(R.c.as_of)).mappings())


def latest_release(conn, on_or_before: date | None = None):
    query = select(R).where(R.c.state == "complete")
    if on_or_before is not None:
        query = query.where(R.c.as_of <= on_or_before)
    return conn.execute(query.order_by(R.c.as_of.desc()).limit(1)).mappings().first()


def states_on(conn, day: date, province_codes: list[str] | None = None) -> dict[str, State]:
    """Every employer's state on `day`, by key."""
    query = select(E.c.key, *STATE_COLUMNS).select_from(I.join(E, E.c.id == I.c.employer_id)).where(covers(day))
    if province_codes is not None:
        query = query.where(E.c.province_code.in_(province_codes))
    rows = conn.execute(query.execution_options(yield_per=STREAM_ROWS)).mappings()
    return {row["key"]: state_of(row) for row in rows}


def state_of_employer_on(conn, employer_id: int, day: date) -> State | None:
    row = conn.execute(select(*STATE_COLUMNS).where(I.c.employer_id == employer_id, covers(day))).mappings().first()
    return state_of(row) if row else None


def changes_between(conn, day_a: date, day_b: date) -> list[Change]:
    """What changed from the register on `day_a` to the register on `day_b` (`congkhai diff`)."""
    return diff_states(states_on(conn, day_a), states_on(conn, day_b))


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


def published_at(conn, release_day: date) -> datetime | None:
    """When the release of `release_day` was published, zone-aware (SQLite keeps it without its zone: UTC)."""
    moment = conn.execute(select(R.c.created_at).where(R.c.as_of == release_day)).scalar()
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def release_changes(conn, release_day: date, previous_day: date | None, limit: int | None = None,
                    province_codes: tuple = (), keys: tuple = ()) -> list[ReleaseChange]:
    """Changes brought by the release of `release_day`: intervals that start or end on that day,
    optionally only of some provinces or employers (selected in SQL, so a filtered feed sees all).

    The closed interval is looked up by employer and start (`valid_from < release_day` holds for
    every interval that ends that day): joined on `valid_to` alone, SQLite read all the day's
    closed intervals for each employer, minutes for a register of 100,000 after a normal day."""
    opened = I.alias("opened")
    closed = I.alias("closed")
    query = (select(E.c.key, E.c.name, E.c.province_code, E.c.tax_code, E.c.personal_id_masked, E.c.sector,
                    *(opened.c[c.name].label("after_" + c.name) for c in STATE_COLUMNS),
                    *(closed.c[c.name].label("before_" + c.name) for c in STATE_COLUMNS))
             .select_from(E.outerjoin(opened, and_(opened.c.employer_id == E.c.id, opened.c.valid_from == release_day))
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
    published = published_at(conn, release_day)
    for row in conn.execute(query).mappings():
        after = State(*(row["after_" + c.name] for c in STATE_COLUMNS)) if row["after_status"] else None
        before = State(*(row["before_" + c.name] for c in STATE_COLUMNS)) if row["before_status"] else None
        if previous_day is None:
            before = None
        change = diff_states({row["key"]: before} if before else {}, {row["key"]: after} if after else {})
        if change:
            out.append(ReleaseChange(release_day, change[0], row["key"], row["name"], row["province_code"],
                                     row["tax_code"] or row["personal_id_masked"] or "", row["sector"], published))
    return out


def recent_changes(conn, until: date, since: date, limit: int, province_codes: tuple = (),
                   keys: tuple = ()) -> list[ReleaseChange]:
    """Changes of the releases in (since, until], newest release first, at most `limit`."""
    all_days = [r["as_of"] for r in complete_releases(conn)]
    days = [day for day in all_days if since < day <= until]
    out: list[ReleaseChange] = []
    for day in sorted(days, reverse=True):
        earlier = [d for d in all_days if d < day]
        out.extend(release_changes(conn, day, earlier[-1] if earlier else None, limit=limit - len(out),
                                   province_codes=province_codes, keys=keys))
        if len(out) >= limit:
            break
    return out


def followed_since(conn, start: date) -> set[str]:
    """Employers the register has a state of on `start` or earlier: followed for the whole window."""
    query = (select(E.c.key).select_from(I.join(E, E.c.id == I.c.employer_id)).where(followed_since_sql(I, start))
             .distinct())
    return set(conn.execute(query.execution_options(yield_per=STREAM_ROWS)).scalars())


def last_known(conn, keys, before: date, batch: int = 500) -> dict[str, tuple[dict, State | None]]:
    """Employers by key: their attributes, and the last state a release before `before` published
    of them (None if none did). For the few employers the publisher must know more of than
    yesterday's states: those whose row was rejected, and those reported again after a gap."""
    keys = sorted(set(keys))
    found: dict[str, tuple[dict, State | None]] = {}
    for start in range(0, len(keys), batch):
        latest = (select(I.c.employer_id, func.max(I.c.valid_from).label("valid_from"))
                  .join(E, E.c.id == I.c.employer_id)
                  .where(E.c.key.in_(keys[start:start + batch]), I.c.valid_from < before)
                  .group_by(I.c.employer_id).subquery())
        query = (select(E, *STATE_COLUMNS)
                 .select_from(E.outerjoin(latest, latest.c.employer_id == E.c.id)
                              .outerjoin(I, and_(I.c.employer_id == E.c.id, I.c.valid_from == latest.c.valid_from)))
                 .where(E.c.key.in_(keys[start:start + batch])))
        for row in conn.execute(query).mappings():
            employer = {column.name: row[column] for column in E.c}
            found[employer["key"]] = (employer, state_of({c.name: row[c] for c in STATE_COLUMNS})
                                      if row[I.c.status] is not None else None)
    return found


def unit_owners(conn, unit_codes, batch: int = 500) -> dict[str, str]:
    """The province each of these agency unit codes is registered in, for those the register knows
    (an empty code, of an employer reported by its tax code only, names none)."""
    codes = sorted(set(unit_codes) - {""})
    found: dict[str, str] = {}
    for start in range(0, len(codes), batch):
        query = select(E.c.unit_code, E.c.province_code).where(E.c.unit_code.in_(codes[start:start + batch]))
        found.update((unit_code, province) for unit_code, province in conn.execute(query))
    return found


def unit_keys(conn, unit_codes, batch: int = 500) -> dict[str, tuple[str, str | None]]:
    """(key, tax code) of the employers registered under these agency unit codes: how a list that
    carries only unit codes finds the employers the register knows by their tax code."""
    codes = sorted(set(unit_codes) - {""})
    found: dict[str, tuple[str, str | None]] = {}
    for start in range(0, len(codes), batch):
        query = select(E.c.unit_code, E.c.key, E.c.tax_code).where(E.c.unit_code.in_(codes[start:start + batch]))
        found.update((unit_code, (key, tax_code)) for unit_code, key, tax_code in conn.execute(query))
    return found


def disqualified_keys(conn, window_start: date, before: date) -> set[str]:
    """Employers not compliant at some point in [window_start, before): they cannot be commended."""
    query = (select(E.c.key).select_from(I.join(E, E.c.id == I.c.employer_id))
             .where(in_arrears_within_sql(I, window_start, before - timedelta(days=1)))
             .distinct())
    return set(conn.execute(query.execution_options(yield_per=STREAM_ROWS)).scalars())


def notices_on(conn, day: date) -> list[dict]:
    """Employers in their notice period on `day` (not yet listed), with what a notice letter needs:
    address and amounts. Selected by status in SQL (ix_intervals_status_to), so it costs the
    notices, not the register."""
    query = (select(E.c.key, E.c.tax_code, E.c.unit_code, E.c.name, E.c.address, E.c.province_code,
                    I.c.arrears_bhxh, I.c.arrears_bhyt, I.c.arrears_bhtn, I.c.arrears_bhtnld, I.c.arrears_total,
                    I.c.interest, I.c.months_late, I.c.notice_from, I.c.listing_on)
             .select_from(I.join(E, E.c.id == I.c.employer_id))
             .where(I.c.status == NOTICE, covers(day)).order_by(I.c.listing_on, E.c.province_code, E.c.key))
    return [dict(row) for row in conn.execute(query).mappings()]
