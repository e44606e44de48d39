"""The whole run: `build_release` is the pure part (inputs -> BuiltRelease), `publish` adds the
side effects in the order that keeps the previous release serving until the new one is complete:
rejects report -> release files (temporary dir, then atomic swap) -> one database transaction, in
which the search index (written aside meanwhile, install.IndexWrite) is swapped in before the commit
(the moment the release becomes current) -> `current` pointer and releases/index.json.

Every attempt is recorded in the run log (`runlog.py`); a fault (full disk, lost database, any
unexpected error) is raised as RunFailed with a message that says what happened and in which step,
after the files this run installed are taken back.

Reading the day's reports is publisher.read_reports; the files on disk and the lock,
publisher.install; the run's errors, publisher.errors.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import Counter
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

from . import feed_window
from .classify import apply_notices, classify_records, honour_roll
from .identity import match_identities
from .errors import Problem, RunFailed, UsageError, VerificationError, describe_fault
from .install import (FAILED_REJECTS, IndexWrite, point_at, publisher_lock, signer_of, take_back, write_files,
                      write_rejects)
from .read_reports import Reading, frozen_heap, no_garbage_collection
from .reconcile import reconcile
from .records import BuiltRelease, problem_rejects

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
    # keys -> {key: (employer attributes, last published state or None)} (Register.last_known),
    # for the few employers the build must know more of; None where no register is at hand.
    recall: object = None
    unit_owners: object = None  # unit codes -> {unit code: province} (Register.unit_owners)
    unit_keys: object = None    # unit codes -> {unit code: (key, tax code)} (Register.unit_keys)


def build_release(input_dir: Path, as_of: date, policy: Policy, now: datetime, previous: PreviousView,
                  allow_partial: bool = False, progress: Progress | None = None,
                  on_rejects=None, memo_dir: Path | None = None, accept_removals=frozenset(),
                  reading: Reading | None = None) -> BuiltRelease:
    """Read, validate, reconcile and classify the reports of one date; check each province against
    its last report (publisher/compare.py) and compare with the previous release.

    `on_rejects(rejects, failed)` is called before a verification failure is raised (failed=True), so
    the rejects report can be written even when nothing is published, and otherwise once the rows
    are checked (failed=False). `memo_dir` holds the rows each province's last run validated
    (publisher/memo.py); without it every row is validated. `accept_removals` are the provinces
    whose removals the operator confirmed. `reading`: the reports of `input_dir` already being read
    (read_reports.Reading), else they are read here.
    """
    progress = progress or Progress()
    reading = reading or Reading(input_dir, as_of, policy.mojibake, memo_dir)
    found, read_problems = reading.found, list(reading.problems)
    validated = []
    tick = progress.step("read+validate", len(found))
    for outcome in reading.outcomes:
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
    new_states = _interned_states(records)
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


def _interned_states(records) -> dict:
    """key -> State of each record, equal states one object: most of a register's employers are
    compliant with nothing owed, and a million separate tuples were the compare step's peak memory."""
    states, seen = {}, {}
    for record in records:
        state = record.state()
        states[record.key] = seen.setdefault(state, state)
    return states


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


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass
class PublishResult:
    release: BuiltRelease | None
    unchanged: bool                 # the same inputs were already published for this date
    rejects_csv: Path
    rejects_json: Path
    release_dir: Path | None = None


def refuse_future(day: date, now: datetime, schedule: Schedule) -> None:
    """UsageError when `day` is later than a run at `now` may publish ([schedule] max_days_ahead):
    a release dated in the future would list arrears not yet due."""
    if day > schedule.latest_as_of(now):
        allowed = (f", and the policy ([schedule] max_days_ahead) allows {schedule.max_days_ahead} day(s) ahead"
                   if schedule.max_days_ahead else "")
        raise UsageError(f"cannot publish {day.isoformat()}, a date in the future: today is "
                         f"{schedule.today(now).isoformat()} in {schedule.timezone.key}{allowed}; check the date "
                         f"(and the machine's clock)")


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
        signer = signer_of(settings)
        with publisher_lock(paths, run), frozen_heap():
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


def load_previous_view(engine, as_of: date, policy: Policy):
    """The register before `as_of` (store.Previous) and what the pure build needs of it; a release
    after `as_of` is a UsageError, since releases are published in date order."""
    from . import store

    with engine.connect() as conn, no_garbage_collection():
        previous = store.load_previous(conn, as_of, window_start(as_of, policy.commendation_window_months))
    if previous.later is not None:
        raise UsageError(f"a release for {previous.later['id']} already exists; releases are published in date "
                         f"order, so {as_of.isoformat()} can no longer be published")
    view = PreviousView(previous.release["as_of"] if previous.release else None, previous.states,
                        {k: v[1] for k, v in previous.employers.items()}, previous.disqualified,
                        previous.followed, recall=store.reader(engine, "last_known"),
                        unit_owners=store.reader(engine, "unit_owners"), unit_keys=store.reader(engine, "unit_keys"))
    return previous, view


def _publish_locked(input_dir, as_of, settings, allow_partial, progress, now, policy, paths, signer,
                    accept_removals=frozenset()) -> PublishResult:
    from . import store

    engine = store.make_engine(settings["DATABASE_URL"])
    reading = None
    try:
        store.init_db(engine)
        # The reports are read by worker processes while this one loads the register.
        reading = Reading(Path(input_dir), as_of, policy.mojibake, paths.row_memo)
        progress.step("previous")  # the register as the last release left it, to compare with
        previous, view = load_previous_view(engine, as_of, policy)
        progress.done("previous")
        written: dict = {}

        def keep_rejects(rejects, failed):
            written["paths"] = write_rejects(paths.rejects(as_of.isoformat()), rejects, as_of,
                                             FAILED_REJECTS if failed else "rejects")

        with no_garbage_collection():
            built = build_release(Path(input_dir), as_of, policy, now or utcnow(), view, allow_partial, progress,
                                  on_rejects=keep_rejects, memo_dir=paths.row_memo, accept_removals=accept_removals,
                                  reading=reading)
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
                point_at(paths, progress, index_entry(descriptor, same["datapackage_sha256"]))
            return result
        # New and renamed (moved, re-sectored...) employers, computed once for the index and the database.
        # A re-run of a published date compares with what that run wrote, not with the day before, so
        # its index is built whole and the database step compares again after undoing that run.
        employer_changes = None if same else store.attribute_changes(previous.employers, built.records)
        with engine.connect() as conn:  # published so far, and those this release publishes
            from congkhai.register import Register
            built.corrections = Register(conn).corrections(include_pending=True)
        installed: list[tuple[Path, Path | None]] = []
        index = IndexWrite(built, previous, paths, employer_changes)
        try:
            files = write_files(built, previous, settings, signer, paths, engine, progress, installed)
            index.start()
            tick = progress.step("database", len(built.records) + 2 * len(built.changes))
            # The index is installed before the transaction commits: the commit makes the release current.
            store.store_release(engine, built, previous, files["datapackage_sha256"], progress=tick,
                                employer_changes=employer_changes,
                                before_commit=lambda: index.finish(progress, installed))
            progress.done("database")
        except BaseException:
            index.cancel()
            take_back(installed)
            raise
        take_back(installed, committed=True)
        feed_window.save(paths.feed_window(built.id), files["feed_window"], settings)
        feed_window.prune(paths.feed_windows, {built.id, *([previous.release["id"]] if previous.release else [])})
        with engine.connect() as conn:
            from .notices import write_notices
            write_notices(conn, built.as_of, paths.rejects(built.id) / "notices.csv")
        point_at(paths, progress, files["index_entry"])
        return result
    finally:
        if reading is not None:
            reading.close()
        engine.dispose()


