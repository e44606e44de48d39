"""What several `congkhai` commands share: the exit statuses, the progress bars and the summaries
printed after a publication or a refused one."""
from __future__ import annotations

import sys
from datetime import date, datetime, timezone

from congkhai.config import Paths

from ..errors import VerificationError
from ..install import FAILED_REJECTS
from ..pipeline import Progress


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


def verification_failed(error: VerificationError, day: date, settings) -> int:
    rejects = Paths(settings["CONGKHAI_DATA_DIR"]).rejects(day.isoformat())
    print(f"Verification failed: nothing was published for {day.isoformat()}; the current release is "
          f"unchanged.", file=sys.stderr)
    for problem in error.problems:
        print(f"  - {problem}", file=sys.stderr)
    print(f"Rejected rows of this run: {rejects / (FAILED_REJECTS + '.csv')}", file=sys.stderr)
    return 1


def print_published(result) -> None:
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


def now_of(args) -> datetime:
    return args.now or datetime.now(timezone.utc)


def in_utc(moment: datetime) -> datetime:
    """A stored moment in UTC: SQLite gives it back without its zone, PostgreSQL in the session's."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)



def describe_compaction(done) -> str:
    if not done.archived and not done.indexes_removed and done.index_rebuilt is None:
        return "Nothing to compact: only the current and the previous release are kept whole."
    rebuilt = ("" if done.index_rebuilt is None else
               f"; the current search index ({done.index_rebuilt:.0%} dead rows) built again as the next one's base")
    return (f"Archived {len(done.archived)} release(s) ({', '.join(done.archived) or 'none'}; whole copies: "
            f"{', '.join(done.keyframes) or 'none'}): {done.bytes_before / 1e6:,.1f} MB now take "
            f"{done.bytes_after / 1e6:,.1f} MB; search indexes removed: {', '.join(done.indexes_removed) or 'none'}"
            f"{rebuilt}")
