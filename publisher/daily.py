"""Daily operation: provinces drop their reports into incoming/<date>/; `congkhai run-daily`,
started every few minutes by a timer, publishes the date as soon as every province is in, or at the
deadline with those that are (the release names the missing ones); before the deadline with a
province missing it publishes nothing and says who is missing. A report arriving after a partial
release re-publishes the date, complete.

A report is "in" once its file is complete: not a dotfile, not *.part or *.tmp, and unchanged for
the schedule's `settle_seconds` (provinces write under a temporary name and rename; see
datasets/README.md). The complete files are copied aside before the run reads them, so a province
replacing its file mid-run cannot mix two versions into one release.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from congkhai.config import Paths
from congkhai.policy import PolicyError, Schedule, load_policy, load_schedule
from congkhai.provinces import by_code

from .errors import UsageError
from .pipeline import Progress, PublishResult, input_digest, publish, refuse_future
from .read import REPORT_SUFFIXES, report_province

IN_TRANSIT_SUFFIXES = (".part", ".filepart", ".tmp")  # .filepart: WinSCP's upload name
PUBLISH, PUBLISH_PARTIAL, WAIT, NOTHING_NEW = "publish", "publish-partial", "wait", "nothing-new"


@dataclass
class Arrivals:
    """What incoming/<date>/ holds at a moment."""
    day: date
    directory: Path
    complete: list[Path] = field(default_factory=list)    # files the run will read
    arriving: list[str] = field(default_factory=list)     # names still being written
    provinces: set[str] = field(default_factory=set)      # codes with a complete report
    missing: list[str] = field(default_factory=list)      # codes without one, in official order

    @property
    def expected(self) -> int:
        return len(by_code())

    def missing_names(self) -> list[str]:
        names = by_code()
        return [f"{code} {names[code].name}" for code in self.missing]


def scan(directory: Path, day: date, now: datetime, settle_seconds: int) -> Arrivals:
    """Sort the files of one date's incoming directory into complete and still arriving."""
    directory = Path(directory)
    found = Arrivals(day, directory)
    entries = sorted(directory.iterdir()) if directory.is_dir() else []
    for path in entries:
        if not path.is_file():
            continue
        if path.name.startswith((".", "~$")) or path.suffix.lower() in IN_TRANSIT_SUFFIXES:
            found.arriving.append(path.name)
            continue
        # A time ahead of `now` comes from a skewed clock or a preserved timestamp, not from a
        # write in progress: such a file is judged by its name alone.
        if 0 <= now.timestamp() - path.stat().st_mtime < settle_seconds:
            found.arriving.append(path.name)
            continue
        found.complete.append(path)
        code = report_province(path.name)
        if code and path.suffix.lower() in REPORT_SUFFIXES:
            found.provinces.add(code)
    found.missing = [code for code in by_code() if code not in found.provinces]
    return found


def decide(arrivals: Arrivals, now: datetime, schedule: Schedule) -> str:
    """PUBLISH when every province is in, PUBLISH_PARTIAL at or after the deadline, else WAIT."""
    if not arrivals.missing:
        return PUBLISH
    if now >= schedule.deadline_of(arrivals.day):
        return PUBLISH_PARTIAL
    return WAIT


@dataclass
class DailyResult:
    decision: str
    arrivals: Arrivals
    deadline: datetime
    published: PublishResult | None = None
    compaction: object | None = None      # publisher.compact.Compaction of the tick after a release


def run_daily(settings: dict, now: datetime, day: date | None = None, incoming: Path | None = None,
              progress: Progress | None = None) -> DailyResult:
    """One tick of the daily timer. Raises what `publish` raises (VerificationError, UsageError, RunFailed)."""
    from .runlog import WAITING, RunRecord

    try:
        schedule = load_schedule(settings["CONGKHAI_POLICY"])
    except PolicyError as error:
        raise UsageError(str(error)) from None
    local = schedule.local(now)
    day = day or local.date()
    refuse_future(day, now, schedule)  # at once, rather than wait for a date that has not come
    directory = Path(incoming or settings["CONGKHAI_INCOMING_DIR"]) / day.isoformat()
    arrivals = scan(directory, day, local, schedule.settle_seconds)
    result = DailyResult(decide(arrivals, local, schedule), arrivals, schedule.deadline_of(day))
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    if result.decision == WAIT:
        run = RunRecord(paths.run_log, "run-daily", day.isoformat(), os.fspath(directory))
        run.finish(WAITING, f"before the deadline {result.deadline:%H:%M} with {len(arrivals.missing)} province(s) "
                            f"missing: nothing published", missing={code: "no report yet" for code in arrivals.missing})
        return result
    if _already_published(settings, day, arrivals.complete):
        result.decision = NOTHING_NEW
        result.compaction = _compact_if_pending(paths, settings)
        return result
    with tempfile.TemporaryDirectory(prefix=f"congkhai-{day.isoformat()}-") as snapshot:
        for path in arrivals.complete:
            shutil.copy2(path, Path(snapshot) / path.name)
        result.published = publish(Path(snapshot), day, settings, allow_partial=result.decision == PUBLISH_PARTIAL,
                                   progress=progress, now=local.astimezone(timezone.utc).replace(microsecond=0),
                                   command="run-daily", source=directory)
    return result


def _compact_if_pending(paths: Paths, settings: dict):
    """The first tick after a release archives what no longer serves, in this process of its own
    rather than the publish's (publisher.compact)."""
    from .compact import compact_locked, pending

    if not pending(paths):
        return None
    return compact_locked(paths, int(settings["CONGKHAI_ARCHIVE_KEYFRAME_EVERY"]))


def _already_published(settings: dict, day: date, files: list[Path]) -> bool:
    """The date's release came from exactly these files under this policy, and its files, `current`
    and releases/index.json all agree with the database: nothing to do, not even a publishing run.
    Any doubt (or a database that does not answer) says no, and the run that follows repairs or
    reports what is wrong."""
    import json

    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from congkhai.register.tables import R

    from congkhai.release_format import file_sha256

    from .archive import current_release_id
    from .package import DATAPACKAGE
    from .store import make_engine

    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    if not files or current_release_id(paths.releases) != day.isoformat():
        return False
    try:
        engine = make_engine(settings["DATABASE_URL"])
        try:
            with engine.connect() as conn:
                row = conn.execute(select(R).where(R.c.as_of == day, R.c.state == "complete")).mappings().first()
        finally:
            engine.dispose()
        policy = load_policy(settings["CONGKHAI_POLICY"]).to_dict()
        index = json.loads(paths.release_index.read_text(encoding="utf-8"))
        sha = file_sha256(paths.release(day.isoformat()) / DATAPACKAGE)
    except (SQLAlchemyError, PolicyError, OSError, ValueError):
        return False
    if row is None or row["input_digest"] != input_digest(files) or row["policy"] != policy:
        return False
    entry = next((e for e in index.get("releases", []) if e.get("id") == day.isoformat()), None)
    return sha == row["datapackage_sha256"] and entry is not None and entry.get("datapackage_sha256") == sha


@dataclass
class Status:
    """What `congkhai status` shows: the current release, today's arrivals, the last runs."""
    now: datetime
    arrivals: Arrivals
    deadline: datetime
    current: dict | None = None
    releases: list = field(default_factory=list)
    today: dict | None = None           # the release of today's date, if published
    database_error: str | None = None
    last_run: dict | None = None
    last_failure: dict | None = None

    @property
    def deadline_passed(self) -> bool:
        return self.now >= self.deadline

    @property
    def arrived_since_release(self) -> list[str]:
        """Provinces a partial release of today left out that have sent a report since."""
        if not self.today or not self.today["partial"]:
            return []
        return [code for code in sorted(self.today["missing_provinces"] or {}) if code in self.arrivals.provinces]


def status(settings: dict, now: datetime, incoming: Path | None = None) -> Status:
    """Gather the status from the incoming directory, the database and the run log; a database
    that does not answer is reported, not raised, since the operator needs the rest then most."""
    from sqlalchemy.exc import SQLAlchemyError

    from congkhai.register import Register

    from . import runlog
    from .errors import describe_fault
    from .store import init_db, make_engine

    try:
        schedule = load_schedule(settings["CONGKHAI_POLICY"])
    except PolicyError as error:
        raise UsageError(str(error)) from None
    local = schedule.local(now)
    day = local.date()
    directory = Path(incoming or settings["CONGKHAI_INCOMING_DIR"]) / day.isoformat()
    found = Status(local, scan(directory, day, local, schedule.settle_seconds), schedule.deadline_of(day))
    try:
        engine = make_engine(settings["DATABASE_URL"])
        try:
            init_db(engine)
            with engine.connect() as conn:
                register = Register(conn)
                found.current = register.latest_release()
                found.releases = register.complete_releases()
        finally:
            engine.dispose()
    except SQLAlchemyError as error:
        found.database_error = describe_fault(error, None)
    found.today = next((r for r in found.releases if r["as_of"] == day), None)
    entries = runlog.read(Paths(settings["CONGKHAI_DATA_DIR"]).run_log)
    runs = runlog.runs(entries)
    found.last_run = runs[-1] if runs else None
    found.last_failure = runlog.last_failure(entries)
    return found
