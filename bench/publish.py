"""Benchmark of `congkhai publish` on a national-scale release (issue 2 and 3 targets).

Generates N employers (default 1,000,000) of sample reports for day 1 and, from them, day 2 with
a few percent changed; then publishes both, each in its own process, printing the time of every
step, the peak memory (max RSS) and the size of what was written.

    python bench/publish.py [--employers N] [--out bench/out] [--database-url URL] [--keep]

Targets on a 2-core machine: first release < 10 min, peak memory < 2 GB, next-day release < 2 min,
files + hashes + feeds add < 2 min.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def run_one(input_dir: str, as_of: str, data_dir: str, database_url: str | None) -> None:
    """Child process: publish one date and print step timings as JSON on the last line."""
    from congkhai.config import load_settings
    from publisher.pipeline import Progress, publish

    class Timing(Progress):
        def __init__(self):
            self.started, self.seconds = {}, {}

        def step(self, name, total=None):
            self.started[name] = time.perf_counter()
            return super().step(name, total)

        def done(self, name):
            if name in self.started:
                self.seconds[name] = round(time.perf_counter() - self.started.pop(name), 2)

    timing = Timing()
    settings = load_settings(env={}, CONGKHAI_DATA_DIR=data_dir, DATABASE_URL=database_url)
    started = time.perf_counter()
    result = publish(Path(input_dir), date.fromisoformat(as_of), settings, progress=timing)
    total = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"steps": timing.seconds, "total": round(total, 2), "peak_mb": round(peak_mb),
                      "counts": result.release.counts()}))


def publish_in_child(input_dir: Path, as_of: date, data_dir: Path, database_url: str | None) -> dict:
    command = [sys.executable, __file__, "--run-one", str(input_dir), as_of.isoformat(), str(data_dir),
               database_url or ""]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--database-url", default=None, help="default: SQLite in the data directory")
    parser.add_argument("--keep", action="store_true", help="keep the generated reports and data")
    parser.add_argument("--run-one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        run_one(*args.run_one[:3], args.run_one[3] or None)
        return

    from publisher.sample import generate_reports

    day1 = date(2026, 11, 24)
    day2 = day1 + timedelta(days=1)
    out = args.out
    shutil.rmtree(out, ignore_errors=True)
    reports1, reports2, data = out / "reports" / day1.isoformat(), out / "reports" / day2.isoformat(), out / "data"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print(f"employers: {args.employers:,}; database: {args.database_url or 'SQLite'}")
    started = time.perf_counter()
    generate_reports(reports1, args.employers, day1, seed=1)
    print(f"sample day 1:   {time.perf_counter() - started:8.1f} s  ({directory_size(reports1) / 1e6:,.0f} MB of reports)")
    started = time.perf_counter()
    generate_reports(reports2, args.employers, day2, seed=1, previous=reports1)
    print(f"sample day 2:   {time.perf_counter() - started:8.1f} s")

    env_key = data / "keys" / "signing.key"
    try:
        from congkhai.signing import generate_key
        generate_key(env_key)
    except ImportError:
        pass
    for label, reports, day in (("first release", reports1, day1), ("next-day release", reports2, day2)):
        result = publish_in_child(reports, day, data, args.database_url)
        counts = result["counts"]
        print(f"\n{label} ({day}): {result['total']:.1f} s, peak memory {result['peak_mb']:,} MB, "
              f"{counts['employers']:,} employers, {counts['rows_rejected']:,} rejected, {counts['changes']:,} changes")
        for step, seconds in result["steps"].items():
            print(f"  {step:<16}{seconds:>8.1f} s")
    print(f"\nrelease directory: {directory_size(data / 'releases' / day2.isoformat()) / 1e6:,.0f} MB; "
          f"search index: {directory_size(data / 'indexes' / day2.isoformat()) / 1e6:,.0f} MB; "
          f"database: {directory_size(data) / 1e6:,.0f} MB in all")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
