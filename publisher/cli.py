"""`congkhai`: the thin command line over the publisher. It parses arguments, shows progress and
prints summaries; all the work is done by functions it calls.

Exit status: 0 success, 1 verification failure (nothing published) or a failed check, 2 bad usage.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

from congkhai.config import Paths, load_settings

from .errors import VerificationError
from .pipeline import FAILED_REJECTS, Progress, UsageError


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="congkhai", description="Công khai: publish the list of employers behind "
                                     "on social, health and unemployment insurance contributions.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sample", help="generate realistic provincial reports for all provinces")
    p.add_argument("--out", type=Path, required=True, help="directory to write the reports into")
    p.add_argument("--employers", type=int, default=2000, help="number of employers in the whole country")
    p.add_argument("--as-of", type=_date, required=True, help="date of the reports, YYYY-MM-DD")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same reports)")
    p.add_argument("--previous", type=Path, help="the previous day's reports: produce the next day's from them")
    p.add_argument("--correct", type=Path, metavar="DIR",
                   help="reports of --as-of already published: write one province's corrected report of them")

    p = sub.add_parser("publish", help="verify, classify and publish the reports of one date")
    p.add_argument("--input", type=Path, required=True, help="directory with one report per province")
    p.add_argument("--as-of", type=_date, required=True, help="date of the reports, YYYY-MM-DD")
    p.add_argument("--allow-partial", action="store_true",
                   help="publish the provinces that passed when others fail (the release says so)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    sub.add_parser("status", help="show the current release and its counts")

    p = sub.add_parser("keygen", help="create the Ed25519 key that signs releases and receipts")
    p.add_argument("--force", action="store_true", help="replace an existing key")

    p = sub.add_parser("verify", help="check every hash and the signature of a release directory")
    p.add_argument("release_dir", type=Path)
    p.add_argument("--public-key", type=Path, help="PEM file of the agency's public key (the portal serves it at "
                                                    "/data/public-key.pem); default: the public half of the "
                                                    "configured signing key, when there is one")

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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        return COMMANDS[args.command](args, settings)
    except UsageError as error:
        print(f"congkhai: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `congkhai diff ... | head`: the reader left; say nothing more (Python's documented recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def cmd_sample(args, settings) -> int:
    from .sample import generate_reports

    if args.employers < 34:
        raise UsageError("--employers must be at least 34 (one per province)")
    from .sample import SampleError, corrected_report

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
                                   progress=tick)
    except (SampleError, ValueError) as error:
        raise UsageError(str(error)) from None
    finally:
        progress.done("sample")
    print(summary.describe())
    return 0


def cmd_publish(args, settings) -> int:
    from .pipeline import publish

    progress = TqdmProgress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        result = publish(args.input, args.as_of, settings, allow_partial=args.allow_partial, progress=progress)
    except VerificationError as error:
        rejects = Paths(settings["CONGKHAI_DATA_DIR"]).rejects(args.as_of.isoformat())
        print(f"Verification failed: nothing was published for {args.as_of.isoformat()}; the current release is "
              f"unchanged.", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        print(f"Rejected rows of this run: {rejects / (FAILED_REJECTS + '.csv')}", file=sys.stderr)
        return 1
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
    return 0


def cmd_status(args, settings) -> int:
    from congkhai.history import complete_releases, latest_release

    from .store import init_db, make_engine

    engine = make_engine(settings["DATABASE_URL"])
    init_db(engine)
    with engine.connect() as conn:
        current = latest_release(conn)
        releases = complete_releases(conn)
    engine.dispose()
    if current is None:
        print("No release has been published yet.")
        return 0
    counts = current["counts"]
    print(f"Current release: {current['id']}" + (" (partial)" if current["partial"] else ""))
    print(f"  created:     {current['created_at']}")
    print(f"  employers:   {counts['employers']:,}")
    for status, number in counts["by_status"].items():
        print(f"    {status:<12}{number:>10,}")
    print(f"  honour roll: {counts['honour_roll']:,}")
    print(f"  arrears:     {counts['arrears_total']:,} VND")
    print(f"  releases:    {len(releases)} ({releases[0]['id']} .. {releases[-1]['id']})")
    return 0


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
    from .archive import verify_release

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


COMMANDS = {"sample": cmd_sample, "publish": cmd_publish, "status": cmd_status, "diff": cmd_diff,
            "correct": cmd_correct, "notices": cmd_notices, "keygen": cmd_keygen, "verify": cmd_verify}

if __name__ == "__main__":
    sys.exit(main())
