"""A long run of daily releases in bounded space (issue 25): publishes `--days` daily releases of
`--employers` employers, each day from the day before with a few percent changed, and after each
one runs `congkhai compact` as the daily timer does. Prints per day the publish and compaction wall
and CPU seconds, the disk of the release directories, the archive, the search indexes and the
database; then the growth per day fitted over the steady days, the year extrapolated to
`--year-employers` (default 1,000,000: sizes scale with the employers), whether publish time grows
with the number of past releases, the time to restore and verify the oldest and a patched archived
release, and the portal's uncached pages (bench/pages.py) early in the run and on its last day.

    .venv/bin/python bench/year.py [--employers 100000] [--days 120] [--out /tmp/bench-year] [--keep]
                                   [--keyframe-every 7] [--page-requests 10]

Run it alone on the machine: every figure beside wall time is CPU time for that reason.
Target: a year at 1,000,000 employers under 40 GB of releases, archive and indexes together, and
publish time and page latency flat in the number of past releases.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from publish import directory_size, load, publish_in_child, run_sampled  # noqa: E402  (bench/publish.py)

STEADY_FROM = 8       # days before this one still fill the first keyframe's week
YEAR_TARGET_GB = 40


def pressure() -> str:
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return "no /proc/pressure/cpu"


def compact_in_child(data_dir: Path, keyframe_every: int) -> dict:
    """`congkhai compact` in a process of its own, as the daily timer runs it: wall, CPU (its own and
    its zstd processes') and its process tree's sampled peak memory."""
    env = {**os.environ, "CONGKHAI_DATA_DIR": str(data_dir), "CONGKHAI_ARCHIVE_KEYFRAME_EVERY": str(keyframe_every)}
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done, tree_peak_mb, tree_cpu = run_sampled([str(Path(sys.executable).parent / "congkhai"), "compact"], env=env)
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"compact failed:\n{done.stderr[-4000:]}")
    reaped = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"wall": wall, "cpu": max(reaped, tree_cpu), "peak_mb": tree_peak_mb, "said": done.stdout.strip()}


def sizes(data: Path) -> dict:
    database = sum(p.stat().st_size for p in data.glob("congkhai.db*"))
    return {"releases": directory_size(data / "releases"), "archive": directory_size(data / "archive"),
            "indexes": directory_size(data / "indexes"), "database": database}


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares growth per unit of x."""
    xs, ys = zip(*points)
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x in xs)


def pages(data: Path, requests: int) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "pages.py"), str(data), "--requests", str(requests)],
                          capture_output=True, text=True)
    if done.returncode:
        return f"bench/pages.py failed: {done.stderr[-2000:]}"
    return done.stdout


def restore_and_verify(data: Path, release_id: str) -> str:
    env = {**os.environ, "CONGKHAI_DATA_DIR": str(data)}
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "congkhai"), "verify", release_id, "--public-key",
                           str(data / "keys" / "signing.pub.pem")], env=env, capture_output=True, text=True)
    outcome = "verified" if done.returncode == 0 else f"NOT verified: {done.stderr.strip()[-500:]}"
    return f"{release_id}: restored and {outcome} in {time.perf_counter() - started:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--year-employers", type=int, default=1_000_000)
    parser.add_argument("--keyframe-every", type=int, default=7)
    parser.add_argument("--page-requests", type=int, default=10, help="URLs per page type for bench/pages.py")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-year"))
    parser.add_argument("--keep", action="store_true", help="keep the data directory (bench/pages.py can read it)")
    args = parser.parse_args()

    from congkhai.signing import generate_key
    from publisher.sample import generate_reports

    out, data = args.out, args.out / "data"
    shutil.rmtree(out, ignore_errors=True)
    generate_key(data / "keys" / "signing.key")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print(f"employers: {args.employers:,}; days: {args.days}; keyframe every {args.keyframe_every}; "
          f"load {load()}; {pressure()}")
    print(f"{'day':>4} {'publish s':>9} {'CPU s':>6} {'tree MB':>7} {'compact s':>9} {'CPU s':>6} {'tree MB':>7} "
          f"{'releases MB':>11} {'archive MB':>10} {'indexes MB':>10} {'db MB':>6}  load")
    first = date(2026, 1, 1)
    rows, early_pages, previous = [], None, None
    started_all = time.perf_counter()
    try:
        for number in range(1, args.days + 1):
            day = first + timedelta(days=number - 1)
            reports = out / "reports" / day.isoformat()
            generate_reports(reports, args.employers, day, seed=1, previous=previous)
            published = publish_in_child(reports, day, data, None)
            compacted = compact_in_child(data, args.keyframe_every)
            if previous is not None:
                shutil.rmtree(previous)  # the reports of two days are enough to make the next
            previous = reports
            row = {"day": number, "publish": published["total"], "publish_cpu": published["cpu"],
                   "publish_peak_mb": published["tree_peak_mb"],
                   "compact": compacted["wall"], "compact_cpu": compacted["cpu"],
                   "compact_peak_mb": compacted["peak_mb"],
                   **sizes(data), "load": load()}
            rows.append(row)
            print(f"{number:>4} {row['publish']:>9.1f} {row['publish_cpu']:>6.1f} {published['tree_peak_mb']:>7} "
                  f"{row['compact']:>9.1f} "
                  f"{row['compact_cpu']:>6.1f} {row['compact_peak_mb']:>7.0f} {row['releases'] / 1e6:>11.0f} "
                  f"{row['archive'] / 1e6:>10.1f} {row['indexes'] / 1e6:>10.0f} {row['database'] / 1e6:>6.0f}  "
                  f"{row['load']}", flush=True)
            if number == STEADY_FROM + 2:
                early_pages = pages(data, args.page_requests)
        report(args, rows, data, early_pages, time.perf_counter() - started_all)
    finally:
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


def report(args, rows: list[dict], data: Path, early_pages: str | None, seconds: float) -> None:
    steady = [r for r in rows if r["day"] >= STEADY_FROM]
    scale = args.year_employers / args.employers
    print(f"\n{len(rows)} days in {seconds / 60:.1f} min; load {load()}; {pressure()}")
    if len(steady) >= 2:
        per_day = {name: slope([(r["day"], r[name]) for r in steady]) for name in ("archive", "database")}
        last = rows[-1]
        fixed = last["releases"] + last["indexes"]  # the two serving releases and their indexes
        year = fixed * scale + per_day["archive"] * 365 * scale
        print(f"archive grows {per_day['archive'] / 1e6:.2f} MB a day at {args.employers:,} employers "
              f"(least squares over days {STEADY_FROM}-{last['day']}); the database "
              f"{per_day['database'] / 1e6:.2f} MB a day")
        print(f"serving releases and indexes: {fixed / 1e6:,.0f} MB")
        print(f"a year at {args.year_employers:,} employers, sizes scaled by {scale:g}: "
              f"{year / 1e9:,.1f} GB of releases, archive and indexes (target < {YEAR_TARGET_GB} GB: "
              f"{'met' if year / 1e9 < YEAR_TARGET_GB else 'NOT met'}); the database adds "
              f"{(last['database'] + per_day['database'] * (365 - last['day'])) * scale / 1e9:,.1f} GB")
        tenth = max(2, len(steady) // 10)
        head, tail = steady[:tenth], steady[-tenth:]
        for name, label in (("publish", "publish"), ("publish_cpu", "publish CPU"), ("compact", "compact"),
                            ("compact_cpu", "compact CPU")):
            a, b = statistics.median(r[name] for r in head), statistics.median(r[name] for r in tail)
            print(f"{label:<12} median of days {head[0]['day']}-{head[-1]['day']}: {a:6.1f} s; of days "
                  f"{tail[0]['day']}-{tail[-1]['day']}: {b:6.1f} s (ratio {b / a:.2f})")
        print(f"process trees' sampled peaks: publish {max(r['publish_peak_mb'] for r in rows):,} MB, "
              f"compaction {max(r['compact_peak_mb'] for r in rows):,} MB")
    archived = sorted(p.name for p in (data / "archive").iterdir() if not p.name.startswith("."))
    if archived:
        patched = [rid for rid in archived
                   if json.loads((data / "archive" / rid / "manifest.json").read_text())["base"]]
        for release_id in [archived[0]] + patched[-1:]:
            print(restore_and_verify(data, release_id))
    if early_pages:
        print(f"\nuncached pages on day {STEADY_FROM + 2}:\n{early_pages}")
    print(f"uncached pages on day {rows[-1]['day']}:\n{pages(data, args.page_requests)}")


if __name__ == "__main__":
    main()
