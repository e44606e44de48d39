"""`congkhai run-daily` and `status`: the scheduled run that publishes when the provinces are in (or
at the deadline), and what the operator asks of it."""
from __future__ import annotations

import sys
from datetime import date, datetime

from ..errors import VerificationError
from .common import EXIT_WAITING, describe_compaction, TqdmProgress, in_utc, now_of, print_published, verification_failed


def cmd_run_daily(args, settings) -> int:
    from ..daily import NOTHING_NEW, WAIT, run_daily

    progress = TqdmProgress(enabled=not args.quiet and sys.stderr.isatty())
    now = now_of(args)
    try:
        outcome = run_daily(settings, now, day=args.date, incoming=args.incoming, progress=progress)
    except VerificationError as error:
        return verification_failed(error, args.date or _local_day(settings, now), settings)
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
        if outcome.compaction is not None:
            print(describe_compaction(outcome.compaction))
        return 0
    if arrivals.missing:
        print(f"Deadline {deadline} passed: publishing {day} without {len(arrivals.missing)} province(s): "
              f"{', '.join(arrivals.missing_names())}")
    print_published(outcome.published)
    return 0


def _local_day(settings, now: datetime) -> date:
    from congkhai.policy import load_schedule

    return load_schedule(settings["CONGKHAI_POLICY"]).local(now).date()


def cmd_status(args, settings) -> int:
    from ..daily import status

    found = status(settings, now_of(args), incoming=args.incoming)
    current, releases = found.current, found.releases
    if found.database_error:
        print(f"Database: {found.database_error}")
    elif current is None:
        print("No release has been published yet.")
    else:
        counts = current["counts"]
        print(f"Current release: {current['id']}" + (" (partial)" if current["partial"] else ""))
        created, zone = in_utc(current["created_at"]), found.deadline.tzinfo
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

