"""`congkhai`: the thin command line over the publisher. It parses arguments, shows progress and
prints summaries; all the work is done by functions it calls.

Exit status: 0 success, 1 verification failure (nothing published) or a failed check, 2 bad usage,
3 the run failed on a fault (full disk, lost database...: nothing new published, the current release
unchanged), 75 (EX_TEMPFAIL) `run-daily` before the deadline with provinces missing (nothing published,
try again later).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from congkhai.config import Paths, load_settings
from congkhai.logs import LOG_FORMATS, check_format, configure
from congkhai.statuses import STATUSES
from congkhai.rules.disputes import DISPUTE_STATUSES, REJECTED, UPHELD

from .errors import VerificationError
from .pipeline import FAILED_REJECTS, Progress, RunFailed, UsageError
from .sample_layouts import LAYOUT_NAMES, MIXED

EXIT_FAULT = 3
EXIT_WAITING = 75  # sysexits.h EX_TEMPFAIL: a timer or cron treats it as "not yet"


class TqdmProgress(Progress):
    """One progress bar per step, on stderr, so stdout stays a clean summary."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.bars = {}

    def step(self, name, total=None):
        if not self.enabled:
            return super().step(name, total)
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"{name:<14}", unit="", leave=True, file=sys.stderr, dynamic_ncols=True)
        self.bars[name] = bar
        return bar.update

    def done(self, name):
        bar = self.bars.pop(name, None)
        if bar is not None:
            bar.close()


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a moment in the form YYYY-MM-DDTHH:MM[:SS][+07:00]") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="congkhai", description="Công khai: publish the list of employers behind "
                                     "on social, health and unemployment insurance contributions.")
    parser.add_argument("--log-format", choices=LOG_FORMATS,
                        help="json: one JSON line per step and run on stderr (default: CONGKHAI_LOG_FORMAT, else text)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sample", help="generate realistic provincial reports for all provinces")
    p.add_argument("--out", type=Path, required=True, help="directory to write the reports into")
    p.add_argument("--employers", type=int, default=2000, help="number of employers in the whole country")
    p.add_argument("--as-of", type=_date, required=True, help="date of the reports, YYYY-MM-DD")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same reports)")
    p.add_argument("--previous", type=Path, help="the previous day's reports: produce the next day's from them")
    p.add_argument("--correct", type=Path, metavar="DIR",
                   help="reports of --as-of already published: write one province's corrected report of them")
    p.add_argument("--layout", action="append", metavar="NAME",
                   help=f"how the reports are laid out: {', '.join(LAYOUT_NAMES)} (the first is the default), or "
                        f"{MIXED} (all of them, dealt over the provinces by the seed); repeat or list with commas for "
                        f"a mix of some. A next day (--previous) keeps each province's layout")

    p = sub.add_parser("publish", help="verify, classify and publish the reports of one date")
    p.add_argument("--input", type=Path, required=True, help="directory with one report per province")
    p.add_argument("--as-of", type=_date, required=True, help="date of the reports, YYYY-MM-DD")
    p.add_argument("--allow-partial", action="store_true",
                   help="publish the provinces that passed when others fail (the release says so)")
    p.add_argument("--accept-removals", metavar="PROVINCE", action="append", default=[],
                   help="confirm that the employers this province's report leaves out (listed offenders among them) "
                        "or its drop against the last report are real; repeat for several provinces (the run log and "
                        "the release record it)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--dry-run", action="store_true",
                   help="publish nothing: show what was understood of each report and what would be published "
                        "(as `congkhai inspect`)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="with --dry-run")

    p = sub.add_parser("inspect", help="show what the publisher understands of a day's reports and whether it would "
                                        "publish them, without publishing or writing anything")
    p.add_argument("paths", type=Path, nargs="*", metavar="FILE",
                   help="reports to inspect (or one directory); instead of --input")
    p.add_argument("--input", type=Path, help="directory with one report per province")
    p.add_argument("--as-of", type=_date, required=True, help="date of the reports, YYYY-MM-DD")
    p.add_argument("--accept-removals", metavar="PROVINCE", action="append", default=[], help="as for publish")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("withdraw", help="take back the latest release, published by mistake: its changes are "
                                         "corrected in public and the release before it serves again; no file "
                                         "is deleted")
    p.add_argument("date", type=_date, help="the release's date, YYYY-MM-DD")
    p.add_argument("--reason", required=True, help="why it is withdrawn (published with the corrections)")

    p = sub.add_parser("run-daily", help="publish today's reports from the incoming directory when every province "
                                          "is in, or at the deadline with those that are")
    p.add_argument("--incoming", type=Path, help="directory holding one YYYY-MM-DD directory per date "
                                                 "(default: CONGKHAI_INCOMING_DIR)")
    p.add_argument("--date", type=_date, help="the date to publish (default: today in the schedule's time zone)")
    p.add_argument("--now", type=_moment, help="pretend it is this moment (tests, rehearsals); a time without an "
                                               "offset is local time of the schedule")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = sub.add_parser("status", help="show the current release, today's missing provinces and the last failed run")
    p.add_argument("--incoming", type=Path, help="as for run-daily")
    p.add_argument("--now", type=_moment, help="as for run-daily")

    p = sub.add_parser("keygen", help="create the Ed25519 key that signs releases and receipts")
    p.add_argument("--force", action="store_true", help="replace an existing key")

    p = sub.add_parser("verify", help="check every hash and the signature of a release directory")
    p.add_argument("release_dir", type=Path)
    p.add_argument("--public-key", type=Path, help="PEM file of the agency's public key (the portal serves it at "
                                                    "/data/public-key.pem); default: the public half of the "
                                                    "configured signing key, when there is one")

    sub.add_parser("backfill-results", help="compute from the status history the daily results of releases "
                                            "published without them")
    p = sub.add_parser("db", help="the database schema: upgrade it through the migrations, or show its revision")
    p.add_argument("action", choices=("upgrade", "current"))
    p.add_argument("--revision", default="head", help="upgrade to this revision (default: head)")

    p = sub.add_parser("correct", help="record a province's corrected report for a published date as corrections "
                                       "(published with the next release; history is not rewritten)")
    p.add_argument("--input", type=Path, required=True, help="directory with the corrected report(s)")
    p.add_argument("--as-of", type=_date, required=True, help="the published date they correct, YYYY-MM-DD")

    p = sub.add_parser("notices", help="write the notices to send: employers due to be listed unless they pay")
    p.add_argument("--as-of", type=_date, required=True, help="date of a published release, YYYY-MM-DD")
    p.add_argument("--out", type=Path, help="CSV file to write (default: rejects/<date>/notices.csv in the data dir)")

    p = sub.add_parser("diff", help="what changed between the releases of two dates")
    p.add_argument("date_a", type=_date)
    p.add_argument("date_b", type=_date)
    p.add_argument("--format", choices=("text", "csv", "json"), default="text")

    p = sub.add_parser("disputes", help="employers' disputes of their entries (right of reply), for the staff")
    disputes = p.add_subparsers(dest="disputes_command", required=True, metavar="ACTION")
    q = disputes.add_parser("list", help="disputes, oldest first")
    q.add_argument("--status", choices=DISPUTE_STATUSES, help="only disputes of this status")
    q = disputes.add_parser("show", help="everything about one dispute, contact details included")
    q.add_argument("reference")
    q = disputes.add_parser("resolve", help="record the decision on an open dispute")
    q.add_argument("reference")
    outcome = q.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--upheld", dest="outcome", action="store_const", const=UPHELD,
                         help="the employer is right: the entry is corrected")
    outcome.add_argument("--rejected", dest="outcome", action="store_const", const=REJECTED,
                         help="the entry stands")
    q.add_argument("--note", required=True, help="the decision and its grounds, as the employer will read it")
    q.add_argument("--correct-status", choices=STATUSES, help="upheld: the status the entry should have had")
    q.add_argument("--correct-from", type=_date, help="upheld: the date the corrected status applies from")
    q = disputes.add_parser("sample", help="open a few realistic disputes about listed employers (demo)")
    q.add_argument("--count", type=int, default=3)
    q.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        configure(check_format(args.log_format or settings["CONGKHAI_LOG_FORMAT"]))
    except ValueError as error:
        parser.error(str(error))
    try:
        return COMMANDS[args.command](args, settings)
    except UsageError as error:
        print(f"congkhai: error: {error}", file=sys.stderr)
        return 2
    except RunFailed as error:
        print(f"congkhai: the run failed: {error}. Nothing new was published; the current release is unchanged.",
              file=sys.stderr)
        print(f"  The failure is recorded in {Paths(settings['CONGKHAI_DATA_DIR']).run_log} (`congkhai status`).",
              file=sys.stderr)
        return EXIT_FAULT
    except BrokenPipeError:
        # `congkhai diff ... | head`: the reader left; say nothing more (Python's documented recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def cmd_sample(args, settings) -> int:
    from .sample import generate_reports

    if args.employers < 34:
        raise UsageError("--employers must be at least 34 (one per province)")
    from .sample import SampleError, corrected_report

    if args.layout and (args.previous or args.correct):
        raise UsageError("--layout chooses the layouts of a first day: --previous and --correct keep each report's own")
    if args.correct:
        if args.previous:
            raise UsageError("--correct and --previous cannot be combined")
        try:
            path = corrected_report(args.correct, args.out, args.as_of, seed=args.seed)
        except SampleError as error:
            raise UsageError(str(error)) from None
        print(f"Corrected report of {args.as_of.isoformat()}: {path}")
        return 0

    progress = TqdmProgress(enabled=sys.stderr.isatty())
    tick = progress.step("sample", None if args.previous else args.employers)
    try:
        summary = generate_reports(args.out, args.employers, args.as_of, seed=args.seed, previous=args.previous,
                                   progress=tick, layouts=args.layout)
    except (SampleError, ValueError) as error:
        raise UsageError(str(error)) from None
    finally:
        progress.done("sample")
    print(summary.describe())
    return 0


def cmd_publish(args, settings) -> int:
    from .pipeline import publish

    if args.dry_run:
        return cmd_inspect(args, settings)
    progress = TqdmProgress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        result = publish(args.input, args.as_of, settings, allow_partial=args.allow_partial, progress=progress,
                         accept_removals=args.accept_removals)
    except VerificationError as error:
        return _verification_failed(error, args.as_of, settings)
    _print_published(result)
    return 0


def cmd_inspect(args, settings) -> int:
    """Exit 0 when `publish` would publish every province, 1 otherwise."""
    from .inspect import inspect_files, render_text

    paths = list(getattr(args, "paths", None) or []) + ([args.input] if args.input else [])
    if not paths:
        raise UsageError("give the reports to inspect (FILE…) or --input DIR")
    result = inspect_files(paths, args.as_of, settings, args.accept_removals)
    print(json.dumps(result, ensure_ascii=False, indent=1, default=str) if args.format == "json"
          else render_text(result))
    return 0 if result["publishable"] else 1


def cmd_withdraw(args, settings) -> int:
    from .withdraw import withdraw

    done = withdraw(args.date, args.reason, settings)
    print(f"Release {done.release_id} withdrawn: {done.corrections:,} correction(s) published; "
          + (f"release {done.back_to} serves again." if done.back_to else "no release serves now."))
    return 0


def _verification_failed(error: VerificationError, day: date, settings) -> int:
    rejects = Paths(settings["CONGKHAI_DATA_DIR"]).rejects(day.isoformat())
    print(f"Verification failed: nothing was published for {day.isoformat()}; the current release is "
          f"unchanged.", file=sys.stderr)
    for problem in error.problems:
        print(f"  - {problem}", file=sys.stderr)
    print(f"Rejected rows of this run: {rejects / (FAILED_REJECTS + '.csv')}", file=sys.stderr)
    return 1


def _print_published(result) -> None:
    built = result.release
    counts = built.counts()
    if result.unchanged:
        print(f"Release {built.id} was already published from the same inputs and policy; nothing to do.")
    else:
        print(f"Published release {built.id}" + (" (PARTIAL)" if built.partial else ""))
    print(f"  rows read:      {counts['rows_read']:>10,}")
    print(f"  rows rejected:  {counts['rows_rejected']:>10,}   report: {result.rejects_csv}")
    print(f"  employers:      {counts['employers']:>10,}")
    for status, number in counts["by_status"].items():
        print(f"    {status:<12}  {number:>10,}")
    print(f"  honour roll:    {counts['honour_roll']:>10,}")
    print(f"  changes:        {counts['changes']:>10,}  since {built.previous_as_of or 'nothing (first release)'}")
    print(f"  total arrears:  {counts['arrears_total']:>14,} VND")
    for code, reason in built.missing_provinces.items():
        print(f"  LEFT OUT {code}: {reason}")
    if result.release_dir:
        print(f"  files:          {result.release_dir}")


def _now(args) -> datetime:
    return args.now or datetime.now(timezone.utc)


def cmd_run_daily(args, settings) -> int:
    from .daily import NOTHING_NEW, WAIT, run_daily

    progress = TqdmProgress(enabled=not args.quiet and sys.stderr.isatty())
    now = _now(args)
    try:
        outcome = run_daily(settings, now, day=args.date, incoming=args.incoming, progress=progress)
    except VerificationError as error:
        return _verification_failed(error, args.date or _local_day(settings, now), settings)
    arrivals = outcome.arrivals
    day, deadline = arrivals.day.isoformat(), f"{outcome.deadline:%H:%M} {outcome.deadline.tzinfo}"
    if arrivals.arriving:
        print(f"Still arriving (not read): {', '.join(arrivals.arriving)}")
    if outcome.decision == WAIT:
        print(f"Nothing published for {day}: before the deadline ({deadline}) {len(arrivals.missing)} of {arrivals.expected} "
              f"province(s) have no complete report in {arrivals.directory}:", file=sys.stderr)
        for name in arrivals.missing_names():
            print(f"  - {name}", file=sys.stderr)
        return EXIT_WAITING
    if outcome.decision == NOTHING_NEW:
        print(f"Release {day} is already published from the reports now in {arrivals.directory}; nothing to do.")
        return 0
    if arrivals.missing:
        print(f"Deadline {deadline} passed: publishing {day} without {len(arrivals.missing)} province(s): "
              f"{', '.join(arrivals.missing_names())}")
    _print_published(outcome.published)
    return 0


def _local_day(settings, now: datetime) -> date:
    from congkhai.policy import load_schedule

    return load_schedule(settings["CONGKHAI_POLICY"]).local(now).date()


def cmd_status(args, settings) -> int:
    from .daily import status

    found = status(settings, _now(args), incoming=args.incoming)
    current, releases = found.current, found.releases
    if found.database_error:
        print(f"Database: {found.database_error}")
    elif current is None:
        print("No release has been published yet.")
    else:
        counts = current["counts"]
        print(f"Current release: {current['id']}" + (" (partial)" if current["partial"] else ""))
        created, zone = _in_utc(current["created_at"]), found.deadline.tzinfo
        print(f"  created:     {created:%Y-%m-%d %H:%M:%S} UTC ({created.astimezone(zone):%H:%M} {zone})")
        print(f"  employers:   {counts['employers']:,}")
        for status_name, number in counts["by_status"].items():
            print(f"    {status_name:<12}{number:>10,}")
        print(f"  honour roll: {counts['honour_roll']:,}")
        print(f"  arrears:     {counts['arrears_total']:,} VND")
        print(f"  releases:    {len(releases)} ({releases[0]['id']} .. {releases[-1]['id']})")
    arrivals = found.arrivals
    state = "passed" if found.deadline_passed else "not yet"
    print(f"Today, {arrivals.day.isoformat()} (deadline {found.deadline:%H:%M} {found.deadline.tzinfo}, {state}): "
          f"{arrivals.expected - len(arrivals.missing)} of {arrivals.expected} provinces in {arrivals.directory}")
    if arrivals.missing:
        label = "LATE" if found.deadline_passed else "missing"
        print(f"  {label}: {', '.join(arrivals.missing_names())}")
    if arrivals.arriving:
        print(f"  still arriving: {', '.join(arrivals.arriving)}")
    if found.today:
        print(f"  published: {found.today['id']}" + (f" (partial, without {', '.join(sorted(found.today['missing_provinces']))})"
                                                     if found.today["partial"] else " (complete)"))
        if found.arrived_since_release:
            print(f"  arrived since: {', '.join(found.arrived_since_release)}; the next `congkhai run-daily` "
                  f"re-publishes the date with them")
    else:
        print("  published: not yet")
    if found.last_run:
        print(f"Last run:        {_describe_run(found.last_run)}")
    if found.last_failure:
        print(f"Last failed run: {_describe_run(found.last_failure)}")
    return 1 if found.database_error else 0


def _describe_run(run: dict) -> str:
    when = run.get("started_at") or run.get("recorded_at") or "?"
    outcome = run.get("outcome") or "in progress (no end recorded yet)"
    text = f"{when} {run.get('command', '?')} {run.get('as_of', '?')}: {outcome}"
    if run.get("release_id"):
        text += f", release {run['release_id']}" + (" (partial)" if run.get("partial") else "")
    if run.get("duration_s") is not None:
        text += f", {run['duration_s']} s"
    if run.get("reason"):
        text += f"; {run['reason']}"
    return text


def cmd_diff(args, settings) -> int:
    from congkhai.history import changes_between, complete_releases

    from .store import make_engine

    engine = make_engine(settings["DATABASE_URL"])
    with engine.connect() as conn:
        dates = {r["as_of"] for r in complete_releases(conn)}
        for day in (args.date_a, args.date_b):
            if day not in dates:
                raise UsageError(f"no release for {day.isoformat()}")
        changes = changes_between(conn, args.date_a, args.date_b)
    engine.dispose()
    rows = [{"key": c.key, "change": c.kind, "newly_listed": c.newly_listed, "resolved": c.resolved,
             "status_before": c.before.status if c.before else "", "status_after": c.after.status if c.after else "",
             "arrears_before": c.before.arrears_total if c.before else 0,
             "arrears_after": c.after.arrears_total if c.after else 0} for c in changes]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    elif args.format == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["key"])
        writer.writeheader()
        writer.writerows({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()} for row in rows)
    else:
        print(f"{len(rows)} change(s) from {args.date_a} to {args.date_b}")
        for row in rows:
            print(f"  {row['key']:<16} {row['change']:<16} {row['status_before'] or '-':>10} -> "
                  f"{row['status_after'] or '-':<10} {row['arrears_before']:>16,} -> {row['arrears_after']:>16,}")
    return 0


def cmd_backfill_results(args, settings) -> int:
    from .store import backfill_results, init_db, make_engine

    engine = make_engine(settings["DATABASE_URL"])
    init_db(engine)
    with engine.begin() as conn:
        written = backfill_results(conn)
    engine.dispose()
    print(f"Daily results written for {len(written)} release(s)" + (f": {', '.join(written)}" if written else ""))
    return 0


def cmd_correct(args, settings) -> int:
    from .correct import correct

    try:
        result = correct(args.input, args.as_of, settings)
    except VerificationError as error:
        print(f"Corrected report NOT accepted: {error}", file=sys.stderr)
        return 1
    print(f"{len(result.recorded)} correction(s) for {args.as_of.isoformat()} from province(s) "
          f"{', '.join(result.provinces)}; they are published with the next release")
    for key in result.unknown:
        print(f"  skipped {key}: never published, so there is nothing to correct")
    return 0


def cmd_notices(args, settings) -> int:
    from congkhai.history import complete_releases

    from .notices import write_notices
    from .store import init_db, make_engine

    out = args.out or Paths(settings["CONGKHAI_DATA_DIR"]).rejects(args.as_of.isoformat()) / "notices.csv"
    engine = make_engine(settings["DATABASE_URL"])
    init_db(engine)
    try:
        with engine.connect() as conn:
            if args.as_of not in {r["as_of"] for r in complete_releases(conn)}:
                raise UsageError(f"--as-of: no release for {args.as_of.isoformat()}")
            count = write_notices(conn, args.as_of, out)
    finally:
        engine.dispose()
    print(f"{count} notice(s) to send on {args.as_of.isoformat()}: {out}")
    return 0


def cmd_keygen(args, settings) -> int:
    from congkhai.signing import SigningKeyError, generate_key

    path = Path(settings["CONGKHAI_SIGNING_KEY"])
    try:
        generate_key(path, force=args.force)
    except SigningKeyError as error:
        raise UsageError(f"{error} (old releases stay verifiable with the public key published in each)") from None
    print(f"Signing key written to {path}")
    return 0


def cmd_verify(args, settings) -> int:
    from congkhai.release_format import verify_release

    from congkhai.signing import public_key_path

    if not args.release_dir.is_dir():
        raise UsageError(f"{args.release_dir}: not a release directory")
    trusted = args.public_key or public_key_path(settings["CONGKHAI_SIGNING_KEY"])
    if args.public_key and not args.public_key.is_file():
        raise UsageError(f"{args.public_key}: no such public key file")
    expected = trusted.read_text(encoding="ascii") if trusted.is_file() else None
    problems = verify_release(args.release_dir, expected)
    if problems:
        print(f"{args.release_dir}: NOT verified", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    if expected is None:
        # Anyone can re-sign a copy with a key of their own and ship it inside: only the agency's
        # published key proves who signed, so without one the check cannot pass.
        print(f"{args.release_dir}: the files match SHA256SUMS and its signature matches the key shipped inside the "
              f"release, but that does not prove who signed it. Download the agency's public key (the portal's "
              f"/data/public-key.pem) and run again with --public-key.", file=sys.stderr)
        return 1
    print(f"{args.release_dir}: every file matches SHA256SUMS and the signature is the agency's ({trusted})")
    return 0


def _in_utc(moment: datetime) -> datetime:
    """A stored moment in UTC: SQLite gives it back without its zone, PostgreSQL in the session's."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _utc_text(moment: datetime) -> str:
    return f"{_in_utc(moment):%Y-%m-%d %H:%M:%S} UTC"


def _describe_dispute(dispute: dict) -> list[str]:
    attachment = (f"{dispute['attachment_type']}, {dispute['attachment_bytes']:,} bytes, sha256 "
                  f"{dispute['attachment_sha256']}" if dispute["attachment_type"] else "none")
    lines = [f"Dispute {dispute['reference']}: {dispute['status']}",
             f"  employer:    {dispute['employer_key']}",
             f"  opened:      {dispute['opened_on']} ({_utc_text(dispute['created_at'])})",
             f"  contact:     {dispute['contact_name']}, {dispute['contact']}",
             f"  attachment:  {attachment}",
             "  reason:", *("    " + line for line in dispute["reason"].splitlines())]
    if dispute["resolved_at"]:
        lines += [f"  resolved:    {_utc_text(dispute['resolved_at'])}", f"  note:        {dispute['resolution_note']}"]
    if dispute["corrected_status"]:
        lines.append(f"  correction:  {dispute['corrected_status']} from {dispute['corrected_from']}")
    return lines


def _dispute_table(rows: list[dict]) -> list[str]:
    """`disputes list` as aligned columns, the employer's name last (the one column of any length)."""
    from congkhai.provinces import by_code

    if not rows:
        return []
    provinces = by_code()
    cells = [(row["reference"], row["status"], str(row["opened_on"]), row["employer_key"],
              provinces[row["province_code"]].short_name if row["province_code"] in provinces else "-",
              "yes" if row["attachment_type"] else "", row["employer_name"] or "(not in the register)")
             for row in rows]
    header = ("reference", "status", "opened", "employer", "province", "attachment", "name")
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header) - 1)]
    return ["  " + "  ".join([*(text.ljust(width) for text, width in zip(line, widths)), line[-1]]).rstrip()
            for line in [header, *cells]]


def cmd_disputes(args, settings) -> int:
    from datetime import datetime, timezone

    from congkhai import disputes

    from .store import init_db, make_engine

    engine = make_engine(settings["DATABASE_URL"])
    init_db(engine)
    try:
        with engine.begin() as conn:
            if args.disputes_command == "list":
                rows = disputes.list_disputes(conn, args.status)
                print(f"{len(rows)} dispute(s)" + (f" {args.status}" if args.status else ""))
                print("\n".join(_dispute_table(rows)))
            elif args.disputes_command == "show":
                found = disputes.get_dispute(conn, args.reference)
                if found is None:
                    raise UsageError(f"no dispute has the reference {args.reference}")
                print("\n".join(_describe_dispute(found)))
            elif args.disputes_command == "resolve":
                try:
                    found, correction = disputes.resolve_dispute(
                        conn, args.reference, args.outcome, args.note, datetime.now(timezone.utc),
                        args.correct_status, args.correct_from)
                except disputes.DisputeError as error:
                    raise UsageError(str(error)) from None
                print("\n".join(_describe_dispute(found)))
                if correction:
                    print(f"  leads to a correction of {correction.employer_key}: "
                          f"{correction.status or 'facts in the note'}"
                          + (f" from {correction.valid_from}" if correction.valid_from else ""))
                    print(f"  correction {correction.correction_id} recorded; the next release publishes it"
                          if correction.correction_id else
                          "  no correction recorded (no corrected status, or an employer never published): "
                          "record it with `congkhai correct` if the register must change")
            else:
                cmd_disputes_sample(conn, args, settings)
    finally:
        engine.dispose()
    return 0


def cmd_disputes_sample(conn, args, settings) -> None:
    from datetime import datetime, timezone

    from congkhai import disputes
    from congkhai.history import latest_release, states_on
    from congkhai.statuses import OFFENDER_STATUSES

    from .sample import sample_disputes

    current = latest_release(conn)
    if current is None:
        raise UsageError("no release has been published yet: publish one before opening sample disputes")
    now = datetime.now(timezone.utc)
    listed = [key for key, state in states_on(conn, current["as_of"]).items() if state.status in OFFENDER_STATUSES]
    for submission in sample_disputes(listed, args.count, current["as_of"], args.seed):
        reference = disputes.open_dispute(conn, submission, now, int(settings["CONGKHAI_DISPUTE_MAX_OPEN"]),
                                          settings["CONGKHAI_DATA_DIR"])
        print(f"Opened dispute {reference} about {submission.employer_key}")


def cmd_db(args, settings) -> int:
    from congkhai import migrations

    from .store import make_engine

    engine = make_engine(settings["DATABASE_URL"])
    try:
        if args.action == "upgrade":
            migrations.upgrade(engine, args.revision)
        revision = migrations.current(engine)
    finally:
        engine.dispose()
    latest = migrations.head()
    print(f"{engine.url.render_as_string(hide_password=True)}: at revision {revision or 'none (empty database)'}"
          + ("" if revision == latest else f"; the newest is {latest}, run `congkhai db upgrade`"))
    return 0


COMMANDS = {"db": cmd_db, "sample": cmd_sample, "publish": cmd_publish, "inspect": cmd_inspect,
            "withdraw": cmd_withdraw, "run-daily": cmd_run_daily, "status": cmd_status, "diff": cmd_diff, "keygen": cmd_keygen, "verify": cmd_verify,
            "disputes": cmd_disputes, "backfill-results": cmd_backfill_results,
            "correct": cmd_correct, "notices": cmd_notices}

if __name__ == "__main__":
    sys.exit(main())
