"""Reading and validating a national day's reports (issue 23: no slower for reading every layout).

Writes N employers (default 1,000,000) of sample reports in the given layouts (`congkhai sample
--layout`, default the standard one), then reads and validates all 34 of them, as the publisher's
first step does (publisher.read_reports.read_all, its worker processes included, no memo of the last
run), in a child process per round. With `--against TREE` (another checkout, e.g. `git worktree
add /tmp/before HEAD~5`), each round runs this checkout's code and TREE's, alternated (this one
first on odd rounds), and prints the ratios of wall and CPU time. Each line gives wall seconds,
CPU seconds of the child and its workers (sampled from /proc, as bench/publish.py does), the peak
resident memory of the whole process tree (summed over its processes, sampled every 0.1 s), the records read, the load average before and
after, and the CPU pressure (/proc/pressure/cpu, avg10) after.

    python bench/read.py [--employers N] [--layout standard|mixed|NAME,…] [--rounds 3] [--against TREE]
                         [--out bench/out/read] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from publish import run_sampled  # noqa: E402  (bench/publish.py: the whole process tree sampled from /proc)
ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 25)
CHILD = """
import json, os, sys, time
sys.path.insert(0, {tree!r})
from datetime import date
from pathlib import Path
try:
    from publisher.read_reports import read_all
except ImportError:  # --against a tree from before publisher/read_reports.py
    from publisher.pipeline import _read_all as read_all
from publisher.read import discover_reports
found, problems = discover_reports(Path({reports!r}))
started, times = time.perf_counter(), os.times()
records = rejected = failed = 0
for outcome in read_all(found, date.fromisoformat({as_of!r})):
    if hasattr(outcome, "records"):
        records += len(outcome.records)
        rejected += outcome.rejected_rows
    else:
        failed += 1
        print(outcome, file=sys.stderr)
wall = time.perf_counter() - started
cpu = sum(after - before for after, before in zip(os.times()[:4], times[:4]))
print(json.dumps({{"wall": round(wall, 2), "cpu": round(cpu, 1), "records": records, "rejected": rejected,
                  "failed": failed}}))
"""


def pressure() -> str:
    try:
        line = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return "n/a"
    return next(part for part in line.split() if part.startswith("avg10="))


def load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def read_in_child(tree: Path, reports: Path) -> dict:
    """Read the reports with checkout `tree`'s code; wall, CPU, peak tree memory and counts."""
    code = CHILD.format(tree=str(tree), reports=str(reports), as_of=AS_OF.isoformat())
    before = load()
    done, peak, tree_cpu = run_sampled([sys.executable, "-c", code], cwd=tree, every=0.1)
    if done.returncode:
        sys.exit(f"reading with {tree} failed:\n{done.stderr[-4000:]}")
    out = done.stdout
    result = json.loads(out.strip().splitlines()[-1])
    return {**result, "cpu": round(max(result["cpu"], tree_cpu), 1), "peak_tree_mb": peak, "load_before": before,
            "load_after": load(),
            "pressure_after": pressure()}


def line(name: str, r: dict) -> str:
    return (f"{name:<8} wall {r['wall']:7.2f} s  cpu {r['cpu']:7.1f} s  peak tree {r['peak_tree_mb']:6,} MB  "
            f"records {r['records']:,} (rejected {r['rejected']:,}, failed reports {r['failed']})  "
            f"load {r['load_before']} -> {r['load_after']}  cpu {r['pressure_after']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=1_000_000)
    parser.add_argument("--layout", default="standard")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another checkout to compare with (alternated)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "read")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the generated reports")
    args = parser.parse_args()
    reports = args.out / f"{args.layout.replace(',', '+')}-{args.employers}"
    print(f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    if not (args.keep and reports.is_dir()):
        shutil.rmtree(reports, ignore_errors=True)
        started = time.perf_counter()
        subprocess.run([str(ROOT / ".venv" / "bin" / "congkhai"), "sample", "--out", str(reports), "--employers",
                        str(args.employers), "--as-of", AS_OF.isoformat(), "--seed", "1", "--layout", args.layout],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"reports written in {time.perf_counter() - started:.0f} s")
    size = sum(p.stat().st_size for p in reports.iterdir()) / 2**20
    print(f"{args.employers:,} employers, layouts {args.layout}, {size:,.0f} MB of reports; load {load()}, "
          f"cpu {pressure()}")
    trees = [("this", ROOT)] + ([("against", args.against.resolve())] if args.against else [])
    results: dict[str, list[dict]] = {name: [] for name, _ in trees}
    for round_number in range(1, args.rounds + 1):
        order = trees if round_number % 2 else list(reversed(trees))
        for name, tree in order:
            result = read_in_child(tree, reports)
            results[name].append(result)
            print(f"round {round_number} " + line(name, result), flush=True)
    for name, runs in results.items():
        print(f"median   {name:<8} wall {statistics.median(r['wall'] for r in runs):.2f} s, cpu "
              f"{statistics.median(r['cpu'] for r in runs):.1f} s, peak tree "
              f"{statistics.median(r['peak_tree_mb'] for r in runs):,.0f} MB")
    if args.against:
        for measure in ("wall", "cpu"):
            ratios = [a[measure] / b[measure] for a, b in zip(results["this"], results["against"])]
            print(f"ratio this/against {measure}: {', '.join(f'{r:.3f}' for r in ratios)} "
                  f"(median {statistics.median(ratios):.3f})")
    if not args.keep:
        shutil.rmtree(reports, ignore_errors=True)


if __name__ == "__main__":
    main()
