"""Every read the portal makes: releases, employer states on a date, figures, changes, release files.

Views ask this module and never build SQL. Everything is answered for a *day* from the status
intervals, so "today" and "as of a past date" are the same query. The current release is the
newest complete one, looked up at most every few seconds per process: several workers on several
nodes read the same database and a new release swaps in for all of them as soon as it is complete.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict, defaultdict
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from flask import current_app, g, has_request_context
from sqlalchemy import and_, bindparam, event, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, lazyload

from congkhai import disputes, history
from congkhai.config import Paths
from congkhai.models import (OFFENDER_STATUSES, STATUSES, Correction, DailyResult, Employer, Receipt,
                             Release, StatusInterval)
from congkhai.policy import Policy, load_schedule
from congkhai.provinces import by_code
from congkhai.release_format import PUBLIC_KEY, SIGNATURE, SUMS, read_sums, verify_release
from congkhai.rules.changes import Change, State, leaving_reason
from congkhai.rules.classification import is_offender
from congkhai.rules.commendation import commendable_sql
from congkhai.rules.intervals import covers_sql
from congkhai.rules.retention import completed_sql
from congkhai.rules.results import FIGURES, tally_sql
from congkhai.search import parse_identifier
from congkhai.signing import key_id, public_key_path
from congkhai.taxcode import is_personal_number, normalise_unit_code, personal_id_hash

from .database import db

CURRENT_RELEASE_SECONDS = 10
FIGURES_CACHED = 64
KEY_BATCH = 5000
RECENT_SCAN = 100_000  # changes read for a feed (already of its provinces and employers) before the window

SI = StatusInterval


@dataclass(frozen=True)
class ReleaseInfo:
    """A complete release, detached from the session so it can be cached between requests."""
    id: str
    as_of: date
    created_at: datetime
    partial: bool
    provinces: list
    missing_provinces: dict
    policy: Policy
    counts: dict
    datapackage_sha256: str | None
    verification: dict = field(default_factory=dict)  # what the checks let through (publisher/compare.py)

    @classmethod
    def of(cls, row: Release) -> "ReleaseInfo":
        missing = row.missing_provinces
        if isinstance(missing, list):
            missing = {code: "" for code in missing}
        return cls(row.id, row.as_of, row.created_at, bool(row.partial), list(row.provinces or []),
                   dict(missing or {}), Policy.from_dict(row.policy), dict(row.counts or {}), row.datapackage_sha256,
                   dict(row.verification or {}))

    def to_dict(self) -> dict:
        return asdict(self)


SQLITE_MMAP_BYTES = 1 << 32   # SQLite caps it at its build's limit (2 GB in Debian's)


def read_sqlite_through_mmap(engine) -> None:
    """On SQLite, read the database through a memory map instead of a read() per page: at a million
    employers a batch check's lookups cost about a quarter less CPU, and the pages stay in the OS's
    page cache, shared by every worker, rather than in a cache per connection."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _map_sqlite_file)


def _map_sqlite_file(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()


def _cache() -> dict:
    return current_app.extensions.setdefault("congkhai.cache", {"current": None, "figures": OrderedDict()})


def _complete():
    return select(Release).where(Release.state == "complete")


def current_release() -> ReleaseInfo | None:
    """The newest complete release, re-read at most every CURRENT_RELEASE_SECONDS per process, and
    the same one for the rest of a request once read: a page that straddles the refresh moment
    does not answer from one release and call another the latest."""
    if has_request_context() and "current_release" in g:
        return g.current_release
    cache = _cache()
    cached = cache["current"]
    if cached is None or time.monotonic() - cached[0] > CURRENT_RELEASE_SECONDS:
        row = db.session.scalars(_complete().order_by(Release.as_of.desc()).limit(1)).first()
        cached = cache["current"] = (time.monotonic(), ReleaseInfo.of(row) if row else None)
    if has_request_context():
        g.current_release = cached[1]
    return cached[1]


def disputes_generation() -> str:
    """Changes whenever a dispute is opened or resolved (read at most every CURRENT_RELEASE_SECONDS):
    pages mark open disputes live, between releases, so cached answers are keyed on it too."""
    cache = _cache()
    cached = cache.get("disputes")
    if cached is None or time.monotonic() - cached[0] > CURRENT_RELEASE_SECONDS:
        row = db.session.execute(disputes.generation_query()).one()
        cached = cache["disputes"] = (time.monotonic(), "-".join(str(value or 0) for value in row))
    return cached[1]


def fresh_register(app) -> tuple[ReleaseInfo | None, str] | None:
    """The current release and disputes generation as this process last read them, while both are
    within CURRENT_RELEASE_SECONDS (what the two functions above would answer without a query), else
    None. For the page cache's shortcut, which answers outside any request or app context."""
    cache = app.extensions.get("congkhai.cache") or {}
    release, generation, now = cache.get("current"), cache.get("disputes"), time.monotonic()
    if release is None or generation is None or now - min(release[0], generation[0]) > CURRENT_RELEASE_SECONDS:
        return None
    return release[1], generation[1]


def known_current_release_id() -> str | None:
    """The current release's id as this worker last read it, without a query (for request logs,
    which must not fail or slow down when the database does)."""
    cached = _cache()["current"]
    return cached[1].id if cached is not None and cached[1] is not None else None


def get_release(release_id: str) -> ReleaseInfo | None:
    row = db.session.scalars(_complete().where(Release.id == release_id)).first()
    return ReleaseInfo.of(row) if row else None


def list_releases() -> list[ReleaseInfo]:
    return [ReleaseInfo.of(row) for row in db.session.scalars(_complete().order_by(Release.as_of.desc()))]


def release_in_force(day: date) -> ReleaseInfo | None:
    """The newest complete release on or before `day`: the one whose data describe that day."""
    row = db.session.scalars(_complete().where(Release.as_of <= day).order_by(Release.as_of.desc()).limit(1)).first()
    return ReleaseInfo.of(row) if row else None


def previous_release(release: ReleaseInfo) -> ReleaseInfo | None:
    row = db.session.scalars(_complete().where(Release.as_of < release.as_of)
                             .order_by(Release.as_of.desc()).limit(1)).first()
    return ReleaseInfo.of(row) if row else None


def first_release_day() -> date | None:
    return db.session.scalar(select(func.min(Release.as_of)).where(Release.state == "complete"))


# ---- employers and their states ------------------------------------------------------------------

def covering(day: date, interval=SI):
    return covers_sql(interval, day)


def state_of(interval: StatusInterval | None) -> State | None:
    """An interval's State, every field as stored (a fund the report did not split out stays None)."""
    if interval is None:
        return None
    return State(*(getattr(interval, column.name) for column in history.STATE_COLUMNS))


def employer_by_key(key: str) -> Employer | None:
    return db.session.scalars(select(Employer).where(Employer.key == key)).first()


def find_employer(code: str) -> Employer | None:
    """The employer a typed code names: a tax code (any dashes or spaces), an agency unit code in any
    case, spacing or width, or a household owner's full personal number, matched by its digest (the
    number itself is never stored)."""
    identifier = parse_identifier(code)
    if identifier:
        found = employer_by_identifier(tax_code=identifier, unit_code=identifier)
        if found:
            return found
    if is_personal_number(code):
        return db.session.scalars(select(Employer).where(Employer.personal_id_hash == personal_id_hash(code))
                                  .limit(1)).first()
    unit_code = normalise_unit_code(code)
    return employer_by_identifier(unit_code=unit_code) if unit_code and unit_code != identifier else None


def employer_by_identifier(tax_code: str | None = None, unit_code: str | None = None) -> Employer | None:
    """An employer by its tax code (enterprise or branch) or by the agency's unit code."""
    if tax_code:
        found = db.session.scalars(select(Employer).where(Employer.tax_code == tax_code).limit(1)).first()
        if found:
            return found
    if unit_code:
        return db.session.scalars(select(Employer).where(Employer.unit_code == unit_code).limit(1)).first()
    return None


def interval_on(employer: Employer, day: date) -> StatusInterval | None:
    return next((interval for interval in employer.intervals if interval.covers(day)), None)


def employer_row(employer: Employer, interval: StatusInterval | None) -> dict:
    """The public facts of an employer in one state: what lists, results and the JSON twins show."""
    province = by_code().get(employer.province_code)
    row = {
        "key": employer.key,
        "name": employer.name,
        "tax_code": employer.tax_code,
        "unit_code": employer.unit_code,
        "personal_id_masked": employer.personal_id_masked if employer.is_household else None,
        "is_household": employer.is_household,
        "province_code": employer.province_code,
        "province": province.name if province else employer.province_code,
        "ownership_type": employer.ownership_type,
        "sector": employer.sector,
        "employees": employer.employees,
    }
    if interval is not None:
        row.update(
            status=interval.status,
            arrears_total=interval.arrears_total,
            arrears_bhxh=interval.arrears_bhxh,
            arrears_bhyt=interval.arrears_bhyt,
            arrears_bhtn=interval.arrears_bhtn,
            arrears_bhtnld=interval.arrears_bhtnld,
            interest=interval.interest,
            months_late=interval.months_late,
            evasion_decision=interval.evasion_decision,
            evasion_decision_date=interval.evasion_decision_date,
            enforcement_stage=interval.enforcement_stage,
            notice_from=interval.notice_from,
            listing_on=interval.listing_on,
            not_reported_since=interval.not_reported_since,
            since=getattr(interval, "valid_from", None),
        )
    return row


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


def _employer_conditions(filters: Filters) -> list:
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


def _state_conditions(day: date, filters: Filters) -> list:
    conditions = [covering(day), *_employer_conditions(filters)]
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


def commendation_of(release) -> dict:
    """The honour-roll rule of a release's policy, as keyword arguments for Filters and figures_on."""
    return {"window_months": release.policy.commendation_window_months,
            "full_history": release.policy.commendation_requires_full_history}


@dataclass
class Page:
    rows: list
    total: int
    page: int
    per_page: int


def _joined(*columns):
    return select(*columns).select_from(Employer).join(SI, SI.employer_id == Employer.id)


def states_on(day: date, filters: Filters, sort: str = "arrears", page: int = 1, per_page: int = 20) -> Page:
    conditions = _state_conditions(day, filters)
    total = db.session.scalar(_joined(func.count()).where(*conditions))
    stmt = (_joined(Employer, SI).where(*conditions).order_by(*SORTS[sort]())
            .options(lazyload(Employer.intervals)).offset((page - 1) * per_page).limit(per_page))
    rows = [employer_row(employer, interval) for employer, interval in db.session.execute(stmt)]
    return Page(rows, total, page, per_page)


def iter_states_on(day: date, filters: Filters, sort: str = "arrears", batch: int = 2000):
    """Every row of a filtered view, in order, for CSV downloads of the whole view."""
    stmt = (_joined(Employer, SI).where(*_state_conditions(day, filters)).order_by(*SORTS[sort]())
            .options(lazyload(Employer.intervals)).execution_options(yield_per=batch))
    for employer, interval in db.session.execute(stmt):
        yield employer_row(employer, interval)


def distinct_values(day: date, column: str, statuses: tuple = (), limit: int = 300) -> list[str]:
    """Sectors or ownership types present on a day, for the filter controls of list pages."""
    attribute = {"sector": Employer.sector, "ownership_type": Employer.ownership_type}[column]
    conditions = [covering(day), attribute != ""]
    if statuses:
        conditions.append(SI.status.in_(statuses))
    stmt = _joined(attribute).where(*conditions).group_by(attribute).order_by(attribute).limit(limit)
    return list(db.session.scalars(stmt))


# ---- figures -------------------------------------------------------------------------------------

@dataclass
class Figures:
    """Counts and arrears per status, overall and per province, on one day."""
    day: date
    by_status: dict
    arrears_by_status: dict
    provinces: list = field(default_factory=list)
    honour_roll: int = 0

    @property
    def offenders(self) -> int:
        return sum(self.by_status[s] for s in OFFENDER_STATUSES)

    @property
    def offender_arrears(self) -> int:
        return sum(self.arrears_by_status[s] for s in OFFENDER_STATUSES)

    @property
    def arrears_total(self) -> int:
        return sum(self.arrears_by_status.values())

    def to_dict(self) -> dict:
        return {"day": self.day, "by_status": self.by_status, "arrears_by_status": self.arrears_by_status,
                "offenders": self.offenders, "offender_arrears": self.offender_arrears,
                "arrears_total": self.arrears_total, "honour_roll": self.honour_roll,
                "provinces": self.provinces}


def figures_on(day: date, window_months: int, full_history: bool = True) -> Figures:
    """Aggregates for a day; cached per process, as the history of a past day never changes."""
    cache = _cache()["figures"]
    cache_key = (day, window_months, full_history, current_release().id if current_release() else None)
    if cache_key in cache:
        cache.move_to_end(cache_key)
        return cache[cache_key]
    per_province = defaultdict(lambda: {s: [0, 0] for s in STATUSES})
    for code, status, count, arrears in db.session.execute(tally_sql(day)):
        per_province[code][status] = [count, int(arrears or 0)]
    names = by_code()
    provinces = []
    for code, cells in sorted(per_province.items()):
        province = names.get(code)
        provinces.append({
            "code": code,
            "name": province.name if province else code,
            "short_name": province.short_name if province else code,
            "slug": province.slug if province else code,
            "employers": sum(c for c, _ in cells.values()),
            "by_status": {s: c for s, (c, _) in cells.items()},
            "offenders": sum(cells[s][0] for s in OFFENDER_STATUSES),
            "offender_arrears": sum(cells[s][1] for s in OFFENDER_STATUSES),
            "arrears_total": sum(a for _, a in cells.values()),
        })
    figures = Figures(
        day=day,
        by_status={s: sum(p["by_status"][s] for p in provinces) for s in STATUSES},
        arrears_by_status={s: sum(per_province[p["code"]][s][1] for p in provinces) for s in STATUSES},
        provinces=provinces,
        honour_roll=db.session.scalar(_joined(func.count()).where(
            *_state_conditions(day, Filters(honour_roll=True, window_months=window_months,
                                            full_history=full_history)))),
    )
    cache[cache_key] = figures
    while len(cache) > FIGURES_CACHED:
        cache.popitem(last=False)
    return figures


# ---- changes -------------------------------------------------------------------------------------

@dataclass
class Event:
    """One employer's change on the day of a release, with the employer's public facts."""
    source: history.ReleaseChange
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


def _events(changes: list, filters: Filters) -> list[Event]:
    """History's changes joined to the employers the filters select, with their public facts."""
    conditions = _employer_conditions(replace(filters, keys=()))
    keys = sorted({c.key for c in changes} & set(filters.keys) if filters.keys else {c.key for c in changes})
    employers = {}
    for start in range(0, len(keys), KEY_BATCH):
        stmt = (select(Employer).where(Employer.key.in_(keys[start:start + KEY_BATCH]), *conditions)
                .options(lazyload(Employer.intervals)))
        employers.update((e.key, e) for e in db.session.scalars(stmt))
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


def changes_in_release(release: ReleaseInfo, filters: Filters | None = None) -> list[Event]:
    """What the release changed since the previous one (nothing for the very first release)."""
    filters = filters or Filters()
    previous = previous_release(release)
    if previous is None:
        return []
    changes = history.release_changes(db.session, release.as_of, previous.as_of,
                                      province_codes=tuple(filters.provinces), keys=tuple(filters.keys))
    return _events(changes, filters)


def recent_events(until: date, since: date, filters: Filters, limit: int) -> list[Event]:
    """Changes of the releases in (since, until], newest first, for feeds; never the first release."""
    first = first_release_day()
    if first is None:
        return []
    changes = history.recent_changes(db.session, until, max(since, first), RECENT_SCAN,
                                     province_codes=tuple(filters.provinces), keys=tuple(filters.keys))
    if filters.honour_roll:
        on_roll = _on_honour_roll(until, filters, sorted({c.key for c in changes}))
        changes = [c for c in changes if c.key in on_roll]
    return _events(changes, filters)[:limit]


def _on_honour_roll(day: date, filters: Filters, keys: list[str]) -> set[str]:
    """Which of `keys` are on the honour roll on `day`: the roll is a rule over a window, not a
    status, so its feed must follow its members rather than every employer's changes."""
    found = set()
    for start in range(0, len(keys), KEY_BATCH):
        conditions = _state_conditions(day, replace(filters, keys=tuple(keys[start:start + KEY_BATCH])))
        found.update(db.session.scalars(_joined(Employer.key).where(*conditions)))
    return found


# ---- one employer's life on the register ----------------------------------------------------------

def history_of(employer: Employer) -> list[dict]:
    return [{"valid_from": i.valid_from, "valid_to": i.valid_to, **state_of(i)._asdict()}
            for i in employer.intervals]


def listing_episodes(employer: Employer, policy: Policy) -> list[dict]:
    """Each stretch on the offender list: when it began and why, when it ended and why."""
    episodes = []
    intervals = list(employer.intervals)
    for index, interval in enumerate(intervals):
        if not is_offender(interval.status):
            continue
        previous = intervals[index - 1] if index else None
        if previous is None or not is_offender(previous.status) or previous.valid_to != interval.valid_from:
            reason = ("evasion_decision" if interval.status == "evading" else "months_late")
            episodes.append({"listed_on": interval.valid_from, "status": interval.status, "reason": reason,
                             "months_late": interval.months_late, "evasion_decision": interval.evasion_decision,
                             "threshold_months": policy.delinquent_min_months,
                             "left_on": None, "leaving_reason": None})
        following = intervals[index + 1] if index + 1 < len(intervals) else None
        if interval.valid_to is None:
            continue
        if following is None or following.valid_from != interval.valid_to:
            episodes[-1].update(left_on=interval.valid_to, leaving_reason=leaving_reason(state_of(interval), None))
        elif not is_offender(following.status):
            episodes[-1].update(left_on=interval.valid_to,
                                leaving_reason=leaving_reason(state_of(interval), state_of(following)))
    return episodes


# ---- release files on disk ---------------------------------------------------------------------------

def release_dir(release_id: str) -> Path:
    return Paths(current_app.config["CONGKHAI_DATA_DIR"]).release(release_id)


def search_index_dir(release_id: str) -> Path:
    return Paths(current_app.config["CONGKHAI_DATA_DIR"]).search_index(release_id)


def release_files(release_id: str) -> dict:
    """Files of a published release with sizes and the hashes its signed SHA256SUMS lists."""
    directory = release_dir(release_id)
    sums_path = directory / SUMS
    sums = read_sums(sums_path.read_text(encoding="utf-8", errors="replace"))[0] if sums_path.is_file() else {}
    files = []
    if directory.is_dir():
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix()
            files.append({"name": name, "bytes": path.stat().st_size, "sha256": sums.get(name)})
    package = None
    package_path = directory / "datapackage.json"
    if package_path.is_file():
        package = json.loads(package_path.read_text(encoding="utf-8"))
    return {"directory_exists": directory.is_dir(), "files": files, "datapackage": package,
            "signed": (directory / SIGNATURE).is_file()}


def release_hour() -> str:
    """When the daily release is due ('18:30'): the deadline `congkhai run-daily` keeps, from the
    [schedule] of the configured policy file, so the pages say what the publisher does."""
    cache = _cache()
    path = current_app.config["CONGKHAI_POLICY"]
    if cache.get("schedule", (None,))[0] != path:
        cache["schedule"] = (path, load_schedule(path).deadline.strftime("%H:%M"))
    return cache["schedule"][1]


def coverage(release: ReleaseInfo, day: date) -> dict:
    """What a list or result covers, so that "not on the list" means something."""
    policy = release.policy
    hour = release_hour()
    latest = current_release()
    is_latest = latest is not None and latest.id == release.id
    names = by_code()
    return {
        "release_id": release.id,
        "release_date": release.as_of,
        "data_cutoff": release.as_of,
        "day": day,
        "published_at": release.created_at,
        "is_latest": is_latest,
        "next_release_due": (date.fromordinal(release.as_of.toordinal() + policy.release_every_days)
                             if is_latest else None),
        "next_release_hour": hour,
        "min_arrears_vnd": policy.min_arrears_vnd,
        "delinquent_min_months": policy.delinquent_min_months,
        "commendation_window_months": policy.commendation_window_months,
        "eligibility_rule": policy.eligibility_rule,
        "policy_version": policy.version,
        "partial": release.partial,
        "missing_provinces": [names[c].name if c in names else c for c in sorted(release.missing_provinces)],
        "provinces_published": len(release.provinces),
        "without_control_totals": [names[c].name if c in names else c
                                   for c in release.verification.get("without_control_totals", [])],
        "accepted_removals": [names[c].name if c in names else c
                              for c in sorted(release.verification.get("accepted_removals", {}))],
        "not_reported": len(release.verification.get("not_reported", [])),
    }


def public_key_pem() -> str | None:
    """The publishing key: as shipped in the current release, else beside the configured private key."""
    latest = current_release()
    candidates = [release_dir(latest.id) / PUBLIC_KEY] if latest else []
    candidates.append(public_key_path(current_app.config["CONGKHAI_SIGNING_KEY"]))
    for path in candidates:
        if path.is_file():
            return path.read_text(encoding="ascii")
    return None


# ---- eligibility checks and receipts (portal.eligibility, portal.api) --------------------------------

ELIGIBILITY_CHUNK = 900  # values per IN list: well under every engine's limit on bound parameters
_CODE_COLUMNS = {"tax_code": "tax_code", "unit_code": "unit_code", "personal_number": "personal_id_hash"}
_MATCH_EMPLOYER = ("key", "name", "tax_code", "unit_code", "personal_id_masked", "province_code")
_MATCH_STATE = ("status", "valid_from", "arrears_total", "months_late", "evasion_decision", "evasion_decision_date",
                "enforcement_stage")


def _eligibility_match(row) -> dict:
    """Public facts of an employer and its state on the day, as plain JSON values for a receipt."""
    household = row["tax_code"] is None
    employer = {"key": row["key"], "name": row["name"], "tax_code": row["tax_code"], "unit_code": row["unit_code"],
                "personal_id_masked": row["personal_id_masked"] if household else None,
                "province_code": row["province_code"]}
    state = None
    if row["status"] is not None:
        decision_day = row["evasion_decision_date"]
        state = {"status": row["status"], "since": row["valid_from"].isoformat(),
                 "arrears_total": int(row["arrears_total"]), "months_late": int(row["months_late"]),
                 "evasion_decision": row["evasion_decision"],
                 "evasion_decision_date": decision_day.isoformat() if decision_day else None,
                 "enforcement_stage": row["enforcement_stage"]}
    return {"employer": employer, "state": state}


def _codes_statement(kind: str):
    """The batch check's query for one kind of code: built once, a Core statement on the tables
    with an expanding IN, run on the session's connection. The ORM's per-statement work (building,
    compiling the cache key, making entities) was more than SQLite's own for a hundred codes."""
    statements = _cache().setdefault("codes_statements", {})
    if kind not in statements:
        employer, interval = Employer.__table__.c, SI.__table__.c
        column = employer[_CODE_COLUMNS[kind]]
        statements[kind] = (select(column.label("code"), *(employer[name] for name in _MATCH_EMPLOYER),
                                   *(interval[name] for name in _MATCH_STATE))
                            .select_from(Employer.__table__)
                            .outerjoin(SI.__table__, and_(interval.employer_id == employer.id,
                                                          covering(bindparam("day"), interval)))
                            .where(column.in_(bindparam("codes", expanding=True)))
                            .order_by(employer.key))
    return statements[kind]


def employers_for_codes(day: date, wanted: dict[str, set]) -> dict[tuple, dict]:
    """Employers and their state on `day` for many codes at once: one query per kind and chunk.

    `wanted`: {"tax_code": {...}, "unit_code": {...}, "personal_number": {stored hashes}}.
    Returns {(kind, value): {"employer": ..., "state": ... or None}}; codes not found are absent.
    """
    found: dict[tuple, dict] = {}
    connection = db.session.connection()
    for kind, values in wanted.items():
        values = sorted(values)
        for start in range(0, len(values), ELIGIBILITY_CHUNK):
            rows = connection.execute(_codes_statement(kind),
                                      {"day": day, "codes": values[start:start + ELIGIBILITY_CHUNK]}).mappings()
            for row in rows:
                found.setdefault((kind, row["code"]), _eligibility_match(row))
    return found


def release_datapackage_sha256(release: ReleaseInfo) -> str | None:
    """The hash recorded with the release, else the one of its datapackage.json on disk."""
    if release.datapackage_sha256:
        return release.datapackage_sha256
    path = release_dir(release.id) / "datapackage.json"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def receipt_by_id(receipt_id: str) -> Receipt | None:
    """The stored receipt, detached: receipts never change once kept, so nothing tracks or reloads them."""
    if len(receipt_id) > 40:
        return None
    row = db.session.execute(select(Receipt.__table__).where(Receipt.__table__.c.id == receipt_id)).mappings().first()
    return Receipt(**row) if row else None


def store_receipt(receipt_id: str, created_at: datetime, release_id: str, body: bytes, signature: str) -> Receipt:
    """Keep a receipt for good (the caller has looked for it first) and return it; one with the same
    id (the same content) stored meanwhile by another worker is never replaced: that one is
    returned. The receipt given back is built from the values: the ORM's reload of the 40 KB body
    after the commit was a tenth of a batch check."""
    values = {"id": receipt_id, "created_at": created_at, "release_id": release_id, "body": body.decode("utf-8"),
              "signature": signature}
    try:
        db.session.execute(Receipt.__table__.insert().values(**values))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return receipt_by_id(receipt_id)
    return Receipt(**values)


def verification_keys() -> dict[str, str]:
    """Public keys a receipt may be signed with, by key id: the configured key, the one shipped in
    the current release, and earlier keys kept as keys/*.pub.pem after a rotation."""
    paths = [public_key_path(current_app.config["CONGKHAI_SIGNING_KEY"])]
    latest = current_release()
    if latest is not None:
        paths.append(release_dir(latest.id) / PUBLIC_KEY)
    keys_dir = Paths(current_app.config["CONGKHAI_DATA_DIR"]).keys
    if keys_dir.is_dir():
        paths.extend(sorted(keys_dir.glob("*.pub.pem")))
    keys = {}
    for path in paths:
        if path.is_file():
            pem = path.read_text(encoding="ascii")
            keys[key_id(pem)] = pem
    return keys


# ---- disputes (right of reply) ------------------------------------------------------------------------------

def disputed_since(key: str) -> date | None:
    """The day an entry became disputed by its employer, live from the open disputes; None if it is not."""
    return disputed_since_of([key]).get(key)


def disputed_since_of(keys: list[str]) -> dict[str, date]:
    """Key -> the day since when, for those of `keys` (a page of rows) whose entries are disputed now."""
    return disputes.disputed_since_by_key(db.session, keys) if keys else {}


def disputed_entries() -> dict[str, date]:
    """Key -> the day since when, for every entry disputed now (a download of a whole view)."""
    return disputes.disputed_since_by_key(db.session)


def open_dispute(submission: disputes.Submission, now: datetime) -> str:
    """Store a checked dispute and its attachment; returns its reference."""
    config = current_app.config
    try:
        reference = disputes.open_dispute(db.session, submission, now, int(config["CONGKHAI_DISPUTE_MAX_OPEN"]),
                                          config["CONGKHAI_DATA_DIR"])
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    _cache().pop("disputes", None)  # this worker's cached pages show the mark at once; others within seconds
    return reference


def dispute_status(reference: str, employer_key: str) -> dict | None:
    return disputes.dispute_of_employer(db.session, reference, employer_key)
# ---- daily results (portal.results) ---------------------------------------------------------------

def results_series(province_code: str | None = None) -> list[dict]:
    """The daily results, one row per release, of a province or of the country (all its provinces)."""
    columns = [func.sum(getattr(DailyResult, name)).label(name) for name in FIGURES]
    stmt = (select(DailyResult.release_id, DailyResult.as_of, func.count().label("provinces"), *columns)
            .group_by(DailyResult.release_id, DailyResult.as_of).order_by(DailyResult.as_of))
    if province_code is not None:
        stmt = stmt.where(DailyResult.province_code == province_code)
    # SUM skips NULL and is NULL when every row is: an amount no province reported apart stays unknown.
    return [{**row, **{name: None if row[name] is None else int(row[name]) for name in FIGURES}}
            for row in db.session.execute(stmt).mappings()]


def results_of_provinces(start: date, releases: tuple) -> dict[str, dict]:
    """Per province: the offender arrears at the release of `start`, and what the releases of
    `releases` recovered, for the recovery-rate ranking."""
    out: dict[str, dict] = defaultdict(lambda: {"arrears_at_start": 0, "recovered": 0, "reported": 0})
    stmt = select(DailyResult.province_code, DailyResult.arrears_offenders).where(DailyResult.as_of == start)
    for code, arrears in db.session.execute(stmt):
        out[code]["arrears_at_start"] = int(arrears)
    if releases:
        stmt = (select(DailyResult.province_code, func.sum(DailyResult.recovered), func.count())
                .where(DailyResult.as_of.in_(releases)).group_by(DailyResult.province_code))
        for code, recovered, count in db.session.execute(stmt):
            out[code]["recovered"] = int(recovered or 0)
            out[code]["reported"] = int(count)
    return dict(out)


# ---- planned inspections (portal.inspections) ---------------------------------------------------

def stage_texts_on(day: date, months_min: int) -> list[str | None]:
    """The enforcement stages, as reported, of employers at least `months_min` months behind on
    `day`: a handful of texts, which the rules read into stages."""
    stmt = (select(SI.enforcement_stage).where(covering(day), SI.months_late >= months_min)
            .group_by(SI.enforcement_stage))
    return list(db.session.scalars(stmt))


# ---- commendation checks and verification codes (portal.eligibility) -----------------------------

@dataclass(frozen=True)
class Span:
    """An interval of an employer's history, as the commendation rule reads it."""
    valid_from: date
    valid_to: date | None
    status: str


def histories_of(keys: set[str]) -> dict[str, list[Span]]:
    """The status history of many employers at once, by key, oldest first."""
    out: dict[str, list[Span]] = defaultdict(list)
    keys = sorted(keys)
    for start in range(0, len(keys), ELIGIBILITY_CHUNK):
        stmt = (select(Employer.key, SI.valid_from, SI.valid_to, SI.status).join(SI, SI.employer_id == Employer.id)
                .where(Employer.key.in_(keys[start:start + ELIGIBILITY_CHUNK])).order_by(Employer.key, SI.valid_from))
        for key, valid_from, valid_to, status in db.session.execute(stmt):
            out[key].append(Span(valid_from, valid_to, status))
    return dict(out)


def receipts_with_prefix(prefix: str, limit: int = 10) -> list[Receipt]:
    """Receipts whose id starts with `prefix` (hex): a range scan of the primary key."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    stmt = select(Receipt).where(Receipt.id >= prefix, Receipt.id < upper).order_by(Receipt.id).limit(limit)
    return list(db.session.scalars(stmt))


# ---- readiness ----------------------------------------------------------------------------------------

VERIFY_RETRY_SECONDS = 30


def database_reachable() -> bool:
    db.session.execute(select(1))
    return True


def fresh_current_release() -> ReleaseInfo | None:
    """The current release read now, not through the few seconds' cache: readiness must see the database."""
    row = db.session.scalars(_complete().order_by(Release.as_of.desc()).limit(1)).first()
    return ReleaseInfo.of(row) if row else None


def release_problems(release_id: str) -> list[str]:
    """What is wrong with this node's copy of a release's files (SHA256SUMS, signature); empty when intact.

    A release's files never change, so a passed check is kept for the process's life; a failed one
    is tried again after VERIFY_RETRY_SECONDS (a copy may still be arriving)."""
    cache = current_app.extensions.setdefault("congkhai.verified", {})
    known = cache.get(release_id)
    if known is not None and (not known[1] or time.monotonic() - known[0] < VERIFY_RETRY_SECONDS):
        return known[1]
    agency_key = public_key_path(current_app.config["CONGKHAI_SIGNING_KEY"])
    problems = verify_release(release_dir(release_id),
                              agency_key.read_text(encoding="ascii") if agency_key.is_file() else None)
    cache[release_id] = (time.monotonic(), problems)
    return problems


# ---- corrections: what the list said, and what we now know -----------------------------------------

def corrections(known_at: date | None = None, keys: tuple = (), limit: int | None = None) -> list[dict]:
    """Corrections published by the release of `known_at` (None: by the current one), newest first."""
    from congkhai.corrections import correction_rows

    return correction_rows(db.session, known_at=known_at, keys=keys, limit=limit)


def known_answer(employer: Employer, day: date, known_at: date | None) -> dict:
    """Both answers for one employer and day: the state the list showed, and the state known at
    `known_at` (None: now) once the corrections published by then are applied."""
    from congkhai.corrections import views_of
    from congkhai.rules.corrections import known_state

    published = state_of(interval_on(employer, day))
    rows = corrections(known_at, keys=(employer.key,))
    known, correction = known_state(published, views_of(rows), day, known_at)
    return {"published": published, "known": known, "known_at": known_at,
            "correction": next((r for r in rows if correction and r["id"] == correction.id), None),
            "corrections": rows}


def recently_completed(day: date, days: int, filters: Filters, limit: int = 200) -> list[dict]:
    """Employers that left the offender list by paying in full within the `days` before `day` and
    are still paid up (congkhai.rules.retention). Selected through the intervals' end dates
    (ix_intervals_to), so it costs the recent changes, not the register."""
    after = aliased(SI)
    stmt = (select(Employer, SI, after.valid_from).select_from(Employer).join(SI, SI.employer_id == Employer.id)
            .join(after, completed_sql(SI, after, day, days, filters.statuses or OFFENDER_STATUSES))
            .where(*_employer_conditions(filters))
            .order_by(SI.valid_to.desc(), Employer.key).options(lazyload(Employer.intervals)).limit(limit))
    return [{**employer_row(employer, interval), "completed_on": completed_on}
            for employer, interval, completed_on in db.session.execute(stmt)]


def any_published_correction() -> bool:
    """Whether the register has published any correction (most have none: a batch check then need
    not look). Corrections are published only by a release, so the answer holds until the current
    release changes, and is re-read then."""
    release = current_release()
    stamp = (release.id, release.created_at) if release else None
    cached = _cache().get("any_correction")
    if cached is None or cached[0] != stamp:
        found = db.session.scalar(select(exists().where(Correction.recorded_in_release.isnot(None))))
        cached = _cache()["any_correction"] = (stamp, bool(found))
    return cached[1]


def corrected_on(day: date, keys: list[str]) -> list[str]:
    """Which of `keys` have a published correction applying to `day` (receipts name them)."""
    from congkhai.corrections import views_of

    if not any_published_correction():
        return []
    found = set()
    for start in range(0, len(keys), KEY_BATCH):
        rows = corrections(keys=tuple(keys[start:start + KEY_BATCH]))
        found.update(row["key"] for row, view in zip(rows, views_of(rows)) if view.applies(day))
    return sorted(found)
