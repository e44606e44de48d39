"""The whole run: `build_release` is the pure part (inputs -> BuiltRelease), `publish` adds the
side effects in the order that keeps the previous release serving until the new one is complete:
rejects report -> release files (temporary dir, then atomic swap) -> search index -> one database
transaction (the moment the release becomes current) -> `current` pointer and releases/index.json.

Every attempt is recorded in the run log (`runlog.py`); a fault (full disk, lost database, any
unexpected error) is raised as RunFailed with a message that says what happened and in which step,
after the files this run installed are taken back.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from congkhai.logs import event
from congkhai.statuses import OFFENDER_STATUSES
from congkhai.policy import Policy, Schedule
from congkhai.provinces import by_code
from congkhai.rules.changes import diff_states
from congkhai.rules.commendation import window_start
from congkhai.rules.results import daily_results
from congkhai.text import neutralise

from .classify import apply_notices, classify_records, honour_roll
from .identity import match_identities
from . import memo
from .errors import Problem, ReportError, VerificationError
from .read import discover_reports, read_report
from .reconcile import reconcile
from .records import BuiltRelease, problem_rejects
from .validate import default_check, validate_report

log = logging.getLogger("congkhai.publisher")


class Progress:
    """What the CLI shows and the benchmark times; the default shows nothing.

    `step(name, total)` starts a step and returns a callable(n) that advances it; `done(name)` ends it.
    """

    def step(self, name: str, total: int | None = None):
        return lambda n=1: None

    def done(self, name: str) -> None:
        pass


def input_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass
class PreviousView:
    """What the pure build needs to know of the register before this release."""
    as_of: date | None
    states: dict
    province_of: dict       # key -> province code of the previously published employers
    disqualified: set
    followed: set | None = None  # None: the policy does not require a full history for the honour roll
    # keys -> {key: (employer attributes, last published state or None)} (congkhai.history.last_known),
    # for the few employers the build must know more of; None where no register is at hand.
    recall: object = None
    unit_owners: object = None  # unit codes -> {unit code: province} (congkhai.history.unit_owners)
    unit_keys: object = None    # unit codes -> {unit code: (key, tax code)} (congkhai.history.unit_keys)


def build_release(input_dir: Path, as_of: date, policy: Policy, now: datetime, previous: PreviousView,
                  allow_partial: bool = False, progress: Progress | None = None,
                  on_rejects=None, memo_dir: Path | None = None, accept_removals=frozenset()) -> BuiltRelease:
    """Read, validate, reconcile and classify the reports of one date; check each province against
    its last report (publisher/compare.py) and compare with the previous release.

    `on_rejects(rejects, failed)` is called before a verification failure is raised (failed=True), so
    the rejects report can be written even when nothing is published, and otherwise once the rows
    are checked (failed=False). `memo_dir` holds the rows each province's last run validated
    (publisher/memo.py); without it every row is validated. `accept_removals` are the provinces
    whose removals the operator confirmed.
    """
    progress = progress or Progress()
    found, read_problems = discover_reports(input_dir)
    validated = []
    tick = progress.step("read+validate", len(found))
    for outcome in _read_all(found, as_of, policy.mojibake, memo_dir):
        if isinstance(outcome, Problem):
            read_problems.append(outcome)
        else:
            validated.append(outcome)
        tick(1)
    validated.sort(key=lambda v: v.report.province_code)
    progress.done("read+validate")
    rejects = [r for v in validated for r in v.rejects]
    progress.step("reconcile")
    try:
        reconciled = reconcile(validated, read_problems, policy, allow_partial)
    except VerificationError as error:
        if on_rejects:
            on_rejects(rejects + problem_rejects(error.problems), True)
        error.reports = _report_summaries(validated, error.problems)  # unclassified: statuses are not known
        raise
    progress.done("reconcile")
    progress.step("classify")
    rekeyed = match_identities(reconciled.records, previous.states, previous.unit_keys)
    reconciled.rejects.extend(rekeyed)
    records = classify_records(reconciled.records, policy)
    returning = _returning(records, previous, as_of)
    apply_notices(records, previous.states, as_of, policy, first_release=previous.as_of is None,
                  returning=returning)
    summaries = _report_summaries(validated, reconciled.problems)
    progress.done("classify")
    progress.step("plausibility")
    records, verification = _against_previous(records, reconciled, previous, policy, as_of, allow_partial,
                                              frozenset(accept_removals), on_rejects)
    progress.done("plausibility")
    progress.step("compare")
    new_states = {r.key: r.state() for r in records}
    published = set(reconciled.provinces)
    keys = set(new_states) | {k for k, code in previous.province_of.items() if code in published}
    changes = diff_states(previous.states, new_states, keys=keys)
    province_of = {r.key: r.province_code for r in records}
    # The first release has no day before it: its employers are reported, not newly listed.
    results = daily_results(((r.province_code, new_states[r.key]) for r in records),
                            ((province_of.get(c.key) or previous.province_of.get(c.key), c) for c in changes)
                            if previous.as_of is not None else (), reconciled.provinces)
    progress.done("compare")
    return BuiltRelease(
        as_of=as_of, created_at=now, policy=policy, records=records, changes=changes, rejects=reconciled.rejects,
        provinces=reconciled.provinces, missing_provinces=reconciled.missing_provinces,
        commendable=honour_roll(records, previous.disqualified,
                                previous.followed if policy.commendation_requires_full_history else None), input_digest=input_digest(list(found.values())),
        previous_as_of=previous.as_of, rows_read=reconciled.rows_read, results=results, verification=verification,
        problems=reconciled.problems, reports=summaries)


def _report_summaries(validated, problems) -> dict:
    """What was read of each report (publisher/understood.py) and the statuses given to its rows, by
    province: what `congkhai inspect` shows a clerk, whether or not the province then passes its
    checks. Called once the records are classified."""
    from .understood import checks_summary, first_rows, identifiers, layout_summary

    summaries = {}
    for item in validated:
        report = item.report
        control = [p for p in problems if p.source == report.source and p.line == report.totals_line]
        summaries[report.province_code] = {
            "source": report.source, "format": report.format, "sha256": report.sha256,
            "title_lines": report.title_lines, "rows_read": item.rows_read, "rows_rejected": item.rejected_rows,
            "employers": len(item.records), "totals_line": report.totals_line, "column_sums": dict(item.column_sums),
            "statuses": dict(Counter(record.status for record in item.records)),
            "layout": layout_summary(item), "checks": checks_summary(item, control),
            "identifiers": identifiers(item.records), "first_rows": first_rows(item.records)}
    return summaries


def _recall(previous: PreviousView, keys, as_of: date) -> dict:
    return previous.recall(keys, as_of) if previous.recall is not None and keys else {}


def _returning(records, previous: PreviousView, as_of: date) -> dict:
    """The last published state of offenders reported again after a gap in the register's reports:
    their notice continues, or they are listed at once, as if they had never been away."""
    keys = [r.key for r in records if r.status in OFFENDER_STATUSES and r.key not in previous.states
            and r.key in previous.province_of]
    return {key: state for key, (_, state) in _recall(previous, keys, as_of).items() if state is not None}


def _against_previous(records, reconciled, previous: PreviousView, policy: Policy, as_of: date, allow_partial: bool,
                      accepted: frozenset, on_rejects) -> tuple[list, dict]:
    """Each province against its last report (compare.py). A province that fails fails the run, or
    with `allow_partial` is left out; employers whose row was rejected are carried over. Returns the
    records to publish and what the release records of its verification."""
    from .compare import carried_record, compare_with_previous

    comparison = compare_with_previous(
        records, reconciled.provinces, reconciled.rejected_keys, reconciled.sources, previous.states,
        previous.province_of, previous.as_of, policy, accepted,
        names=lambda keys: {key: employer["name"] for key, (employer, _) in _recall(previous, keys, as_of).items()},
        unit_owners=previous.unit_owners)
    rejects = reconciled.rejects + comparison.notes
    failed = {problem.province_code: str(problem) for problem in reversed(comparison.problems)}
    problems = reconciled.problems + comparison.problems  # those that leave provinces out, if any
    if failed and (not allow_partial or set(failed) >= set(reconciled.provinces)):
        if on_rejects:
            on_rejects(rejects + problem_rejects(problems), True)
        raise VerificationError(problems)
    if on_rejects:
        on_rejects(rejects + problem_rejects(problems if failed else reconciled.problems), False)
    reconciled.rejects = rejects
    if failed:
        reconciled.problems = problems
        reconciled.provinces = [code for code in reconciled.provinces if code not in failed]
        reconciled.missing_provinces = dict(sorted({**reconciled.missing_provinces, **failed}.items()))
        records = [r for r in records if r.province_code not in failed]
    known = _recall(previous, [key for key, (code, _) in comparison.carried.items() if code not in failed], as_of)
    carried = [carried_record(key, known[key][0], previous.states[key], code, reconciled.sources[code], line, as_of)
               for key, (code, line) in comparison.carried.items() if key in known]
    if carried:
        records = sorted(records + carried, key=lambda r: r.key)
    verification = {
        "without_control_totals": [code for code in reconciled.without_totals if code not in failed],
        "accepted_removals": {code: found for code, found in comparison.verification.items() if code not in failed},
        "not_reported": sorted(r.key for r in carried),
    }
    return records, verification


# Below this many bytes of reports, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 4_000_000


def _read_one(job: tuple[str, Path, date, str, Path | None]):
    """One province: its validated report, or the Problem that makes it unreadable. With a memo
    directory, rows the last run validated are recalled and this run's are remembered."""
    code, path, as_of, mojibake, memo_dir = job
    check = default_check(mojibake)
    province_memo = memo.load(memo_dir, code, check.schema_digest, mojibake)
    try:  # a streamed report's damaged row is met while validating
        validated = validate_report(read_report(path, code, as_of, stream=True), as_of, check, province_memo)
    except ReportError as error:
        problem = error.problem
        return Problem(problem.source, problem.message, problem.line, problem.field, code)
    if province_memo is not None:
        memo.save(memo_dir, code, check.schema_digest, mojibake, province_memo)
    return validated


def _read_all(found: dict[str, Path], as_of: date, mojibake: str = "repair", memo_dir: Path | None = None):
    """Read and validate every report, on every core for a national-size input (largest first, so
    the big provinces do not finish last); results arrive as they complete."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    jobs = sorted(((code, path, as_of, mojibake, memo_dir) for code, path in found.items()),
                  key=lambda j: -j[1].stat().st_size)
    workers = min(os.cpu_count() or 1, 4, len(jobs))
    if workers < 2 or sum(j[1].stat().st_size for j in jobs) < PARALLEL_MIN_BYTES:
        yield from map(_read_one, jobs)
        return
    with _no_garbage_collection(), ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        for future in as_completed([pool.submit(_read_one, job) for job in jobs]):
            yield future.result()


@contextmanager
def _no_garbage_collection():
    """Building a million records makes no reference cycles, yet the collector would walk the
    growing heap again and again, in this process and in forked workers (copying every page it
    touches); it stays off while the reports are read and frozen objects are left alone."""
    import gc

    if not gc.isenabled():  # already inside such a block
        yield
        return
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


FAILED_REJECTS = "failed-run-rejects"


def write_rejects(directory: Path, rejects, as_of: date, name: str = "rejects") -> tuple[Path, Path]:
    """<name>.csv and <name>.json for the date: file, row, field, value, reason. A run that fails
    writes FAILED_REJECTS instead, so the report of the release already published stays its own."""
    import csv

    directory.mkdir(parents=True, exist_ok=True)
    fields = ["source", "line", "field", "value", "reason", "province_code"]
    rows = [{f: getattr(r, f) for f in fields} for r in rejects]
    csv_path, json_path = directory / f"{name}.csv", directory / f"{name}.json"
    tmp = csv_path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: neutralise(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows)
    tmp.replace(csv_path)
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"as_of": as_of.isoformat(), "count": len(rows), "rejects": rows},
                              ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(json_path)
    return csv_path, json_path


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass
class PublishResult:
    release: BuiltRelease | None
    unchanged: bool                 # the same inputs were already published for this date
    rejects_csv: Path
    rejects_json: Path
    release_dir: Path | None = None


class UsageError(Exception):
    """The run was asked for something that cannot be done (exit status 2)."""


def refuse_future(day: date, now: datetime, schedule: Schedule) -> None:
    """UsageError when `day` is later than a run at `now` may publish ([schedule] max_days_ahead):
    a release dated in the future would list arrears not yet due."""
    if day > schedule.latest_as_of(now):
        allowed = (f", and the policy ([schedule] max_days_ahead) allows {schedule.max_days_ahead} day(s) ahead"
                   if schedule.max_days_ahead else "")
        raise UsageError(f"cannot publish {day.isoformat()}, a date in the future: today is "
                         f"{schedule.today(now).isoformat()} in {schedule.timezone.key}{allowed}; check the date "
                         f"(and the machine's clock)")


class RunFailed(Exception):
    """A fault stopped the run (full disk, lost database, an unexpected error): nothing new is
    published and the current release is unchanged. The message is for the operator, not a traceback."""

    def __init__(self, message: str, step: str | None = None):
        super().__init__(message)
        self.step = step


def describe_fault(error: BaseException, step: str | None) -> str:
    """What went wrong, in one sentence an operator can act on."""
    import errno

    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    where = f" in step '{step}'" if step else ""
    if isinstance(error, DBAPIError):
        detail = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
        if "disk is full" in detail:
            return f"the disk is full{where} (database: {detail}); free space and run again"
        if error.statement is None:
            return f"cannot connect to the database{where} ({detail}); nothing was written to it"
        if error.connection_invalidated:
            return (f"the connection to the database was lost{where} ({detail}); its transaction was not "
                    f"committed, so the database still serves the previous release; run again once it is back")
        return f"database error{where}: {detail}; its transaction was rolled back"
    if isinstance(error, SQLAlchemyError):
        return f"database error{where}: {error}"
    if isinstance(error, OSError):
        name = f" writing {error.filename}" if error.filename else ""
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"the disk is full{where}{name}; free space in the data directory and run again"
        return f"cannot read or write a file{where}{name}: {error.strerror or error}"
    return f"unexpected error{where}: {error.__class__.__name__}: {error}"


class _RecordedSteps(Progress):
    """The caller's progress, with each step recorded in the run log and timed in the structured log."""

    def __init__(self, inner: Progress, run):
        self.inner, self.run, self.started = inner, run, {}

    def step(self, name: str, total: int | None = None):
        self.run.begin_step(name)
        self.started[name] = time.monotonic()
        return self.inner.step(name, total)

    def done(self, name: str) -> None:
        self.inner.done(name)
        started = self.started.pop(name, None)
        if started is not None:
            event(log, f"step {name} done", event="step", run_id=self.run.run_id, release_id=self.run.as_of,
                  step=name, duration_ms=round((time.monotonic() - started) * 1000, 1))


def publish(input_dir: Path, as_of: date, settings: dict, allow_partial: bool = False,
            progress: Progress | None = None, now: datetime | None = None, command: str = "publish",
            source: Path | None = None, accept_removals=()) -> PublishResult:
    """Run the whole publication for one date and record it in the run log (`source` is the input
    it names, when `input_dir` is a copy; `accept_removals`, the provinces whose removals against
    their last report the operator confirmed).

    Raises VerificationError (nothing published), UsageError, or RunFailed (a fault; nothing new published)."""
    from congkhai.config import Paths
    from sqlalchemy.exc import SQLAlchemyError

    from congkhai.policy import PolicyError, load_policy, load_schedule

    from .runlog import FAILED, PUBLISHED, UNCHANGED, RunRecord

    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    accepted = frozenset(accept_removals)
    run = RunRecord(paths.run_log, command, as_of.isoformat(), os.fspath(source or input_dir),
                    accept_removals=sorted(accepted))
    try:
        try:
            policy = load_policy(settings["CONGKHAI_POLICY"])
            schedule = load_schedule(settings["CONGKHAI_POLICY"])
        except PolicyError as error:
            raise UsageError(str(error)) from None
        unknown = sorted(code for code in accepted if code not in by_code())
        if unknown:
            raise UsageError(f"--accept-removals: {', '.join(unknown)} is no province code of datasets/provinces.csv")
        now = now or utcnow()
        refuse_future(as_of, now, schedule)
        signer = _signer(settings)
        with _publisher_lock(paths, run):
            result = _publish_locked(input_dir, as_of, settings, allow_partial, _RecordedSteps(progress or Progress(),
                                     run), now, policy, paths, signer, accepted)
    except VerificationError as error:
        run.finish(FAILED, f"verification failed, nothing published: {error}",
                   missing={p.province_code: str(p) for p in error.problems if p.province_code})
        raise
    except UsageError as error:
        run.finish(FAILED, str(error))
        raise
    except Exception as error:
        failure = RunFailed(describe_fault(error, run.step), run.step)
        if not isinstance(error, (OSError, SQLAlchemyError)):  # a defect: keep its traceback in the log
            event(log, str(failure), logging.ERROR, exc_info=error, event="run_error", run_id=run.run_id)
        run.finish(FAILED, str(failure))
        raise failure from error
    run.finish(UNCHANGED if result.unchanged else PUBLISHED, release=result.release,
               verification=result.release.verification)
    return result


@contextmanager
def _publisher_lock(paths, run):
    """One publisher at a time per data directory; what a crashed run left behind is swept here,
    and its unfinished entry in the run log is closed."""
    import fcntl

    from .archive import remove_stale_temporaries
    from .runlog import record_interrupted

    paths.data_dir.mkdir(parents=True, exist_ok=True)
    with open(paths.data_dir / ".publish.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"another `congkhai publish` is running on {paths.data_dir}") from None
        for directory in (paths.releases, paths.indexes):
            if directory.is_dir():
                remove_stale_temporaries(directory)
        record_interrupted(paths.run_log)
        run.start()
        yield


def load_previous_view(engine, as_of: date, policy: Policy):
    """The register before `as_of` (store.Previous) and what the pure build needs of it; a release
    after `as_of` is a UsageError, since releases are published in date order."""
    from . import store

    with engine.connect() as conn, _no_garbage_collection():
        previous = store.load_previous(conn, as_of, window_start(as_of, policy.commendation_window_months))
    if previous.later is not None:
        raise UsageError(f"a release for {previous.later['id']} already exists; releases are published in date "
                         f"order, so {as_of.isoformat()} can no longer be published")
    view = PreviousView(previous.release["as_of"] if previous.release else None, previous.states,
                        {k: v[1] for k, v in previous.employers.items()}, previous.disqualified,
                        previous.followed, recall=store.recaller(engine), unit_owners=store.unit_owner_finder(engine),
                        unit_keys=store.unit_key_finder(engine))
    return previous, view


def _publish_locked(input_dir, as_of, settings, allow_partial, progress, now, policy, paths, signer,
                    accept_removals=frozenset()) -> PublishResult:
    from . import store

    engine = store.make_engine(settings["DATABASE_URL"])
    try:
        store.init_db(engine)
        progress.step("previous")  # the register as the last release left it, to compare with
        previous, view = load_previous_view(engine, as_of, policy)
        progress.done("previous")
        written: dict = {}

        def keep_rejects(rejects, failed):
            written["paths"] = write_rejects(paths.rejects(as_of.isoformat()), rejects, as_of,
                                             FAILED_REJECTS if failed else "rejects")

        with _no_garbage_collection():
            built = build_release(Path(input_dir), as_of, policy, now or utcnow(), view, allow_partial, progress,
                                  on_rejects=keep_rejects, memo_dir=paths.row_memo, accept_removals=accept_removals)
        previous.states.clear()  # compared; the changes keep the few states they need
        result = PublishResult(built, False, *written["paths"], paths.release(built.id))
        same = previous.same_date
        if same is not None and same["state"] == "complete" and same["input_digest"] == built.input_digest \
                and same["policy"] == policy.to_dict():
            result.unchanged = True
            if paths.release(built.id).is_dir():  # again, in case a run was killed right after its database step
                from .datapackage import index_entry
                from .package import DATAPACKAGE
                descriptor = json.loads((paths.release(built.id) / DATAPACKAGE).read_text(encoding="utf-8"))
                _point_at(paths, progress, index_entry(descriptor, same["datapackage_sha256"]))
            return result
        # New and renamed (moved, re-sectored...) employers, computed once for the index and the database.
        # A re-run of a published date compares with what that run wrote, not with the day before, so
        # its index is built whole and the database step compares again after undoing that run.
        employer_changes = None if same else store.attribute_changes(previous.employers, built.records)
        with engine.connect() as conn:  # published so far, and those this release publishes
            from congkhai.corrections import correction_rows
            built.corrections = correction_rows(conn, include_pending=True)
        installed: list[tuple[Path, Path | None]] = []
        try:
            files = _write_files(built, previous, settings, signer, paths, engine, progress, installed)
            _write_index(built, previous, paths, progress, employer_changes, installed)
            tick = progress.step("database", len(built.records) + 2 * len(built.changes))
            with engine.begin() as conn:  # the moment the release becomes current for the portal
                store.write_release(conn, built, previous, files["datapackage_sha256"], progress=tick,
                                    employer_changes=employer_changes)
                from congkhai.corrections import publish_pending
                publish_pending(conn, built.id)
            progress.done("database")
        except BaseException:
            _take_back(installed)
            raise
        _take_back(installed, committed=True)
        with engine.connect() as conn:
            from .notices import write_notices
            write_notices(conn, built.as_of, paths.rejects(built.id) / "notices.csv")
        _point_at(paths, progress, files["index_entry"])
        return result
    finally:
        engine.dispose()


def _point_at(paths, progress: Progress, entry: dict) -> None:
    """The last step: `current` and releases/index.json follow the database."""
    from .archive import switch_current, update_release_index

    progress.step("current")
    switch_current(paths.releases, entry["id"])
    update_release_index(paths.releases, entry)
    progress.done("current")


def _take_back(installed: list[tuple[Path, Path | None]], committed: bool = False) -> None:
    """After the database step: delete the directories the new ones replaced (committed), or undo
    this run's installations (failed), so the files stay those of the release the database serves."""
    import shutil

    from .archive import install_release_dir

    for final, replaced in reversed(installed):
        try:
            if committed:
                if replaced is not None:
                    shutil.rmtree(replaced)
            elif replaced is not None:
                install_release_dir(replaced, final)  # swap the replaced one back; the failed one is deleted
            else:
                shutil.rmtree(final)
        except OSError as error:
            event(log, f"could not clean up {final} after the run: {error}; the next run sweeps it", logging.WARNING)


# Changes of earlier releases loaded for the feeds' window. One busy day of a national register
# brings ~20,000 changes, so this keeps the latest day or two whole; quieter feeds (newly evading)
# may then reach back less than the window's 90 days.
FEED_HISTORY_LIMIT = 50_000


def _signer(settings: dict):
    from congkhai.signing import SigningKeyError, load_signer

    try:
        return load_signer(settings["CONGKHAI_SIGNING_KEY"])
    except (SigningKeyError, FileNotFoundError) as error:
        raise UsageError(f"no usable signing key at {settings['CONGKHAI_SIGNING_KEY']} ({error}); create one with "
                         f"`congkhai keygen` or set CONGKHAI_SIGNING_KEY") from None


def _write_files(built: BuiltRelease, previous, settings: dict, signer, paths, engine, progress: Progress,
                 installed: list) -> dict:
    """The release directory, written aside and swapped in whole; (final, replaced) goes to `installed`."""
    import shutil
    from datetime import timedelta

    from congkhai.disputes import disputed_since_by_key
    from congkhai.history import recent_changes

    from . import store
    from .archive import install_release_dir, make_temp_release_dir
    from .package import write_release_files

    progress.step("files")
    earlier = []
    with engine.connect() as conn:
        if previous.release is not None:
            since = built.as_of - timedelta(days=int(settings["CONGKHAI_FEED_MAX_DAYS"]))
            earlier = recent_changes(conn, previous.release["as_of"], since, FEED_HISTORY_LIMIT)
        removed = store.employer_refs(conn, [c.key for c in built.changes if c.after is None])
        disputed = disputed_since_by_key(conn)
    tmp = make_temp_release_dir(paths.releases, built.id)
    try:
        files = write_release_files(built, tmp, settings, signer, previous.release["id"] if previous.release else None,
                                    feed_items=earlier, removed=removed, disputed=disputed)
        installed.append((paths.release(built.id), install_release_dir(tmp, paths.release(built.id),
                                                                       keep_replaced=True)))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress.done("files")
    return files


def _write_index(built: BuiltRelease, previous, paths, progress: Progress,
                 employer_changes: tuple[list[str], list[str]] | None, installed: list) -> None:
    """The release's search index: yesterday's plus today's changes, or built whole the first time
    (and for a re-run of a date, when `employer_changes` is None, or when yesterday's index is in
    an older format)."""
    import shutil

    from congkhai import search

    from .archive import install_release_dir

    target = paths.search_index(built.id)
    staging = target.with_name(f".{built.id}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    base = paths.search_index(previous.release["id"]) if previous.release else None
    if base is not None and employer_changes is not None and search.updatable(base):
        changed_keys = employer_changes[1]
        touched = {c.key for c in built.changes if c.after is not None} | set(changed_keys)  # new ones are changes
        upserts = [search.document(r) for r in built.records if r.key in touched]
        deletes = [c.key for c in built.changes if c.after is None]
        tick = progress.step("index", len(upserts))
        search.update_index(base, staging, upserts, deletes, progress=lambda n: None)
        tick(len(upserts))
    else:
        tick = progress.step("index", len(built.records))
        search.build_index(staging, (search.document(r) for r in built.records), procs=2)
        tick(len(built.records))
    try:
        installed.append((target, install_release_dir(staging, target, keep_replaced=True)))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    progress.done("index")
