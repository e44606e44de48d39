"""Benchmark of `congkhai publish` on a national-scale release (issue 2 and 3 targets).

Generates N employers (default 1,000,000) of sample reports for day 1 and, from them, day 2 with
a few percent changed; then publishes both, each in its own process, printing the time of every
step, the peak memory (max RSS) and the size of what was written.

    python bench/publish.py [--employers N] [--out bench/out] [--database-url URL] [--keep] [--next-days N]
                            [--against TREE]

With `--against TREE` (another checkout, e.g. a `git worktree` of the previous commit), every day's
reports are also published by that checkout's code into a data directory of its own (SQLite), the
two runs of each day alternated (this one first on odd days, the other first on even days), and
each release line is followed by the other's and the ratios of wall and CPU time.

With a PostgreSQL URL (postgresql+psycopg://postgres@127.0.0.1:5432/test) both releases go to a
fresh schema of that database, dropped at the end unless --keep. Every release line gives the
load average before and after it and the CPU seconds it used, since the wall-clock time depends on
what else runs on the machine.

Targets on a 2-core machine (issue 25): first release < 5 min, next-day release < 60 s, the whole
process tree's peak resident size < 2 GB (the sum over the publish and its workers, sampled every
0.2 s from /proc while it runs).
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
import threading
import time
import uuid
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
    started, times = time.perf_counter(), os.times()
    result = publish(Path(input_dir), date.fromisoformat(as_of), settings, progress=timing)
    total = time.perf_counter() - started
    cpu = sum(after - before for after, before in zip(os.times()[:4], times[:4]))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers_peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"steps": timing.seconds, "total": round(total, 2), "cpu": round(cpu, 1),
                      "peak_mb": round(peak_mb), "workers_peak_mb": round(workers_peak_mb),
                      "counts": result.release.counts()}))


PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS = os.sysconf("SC_CLK_TCK")


def tree_sample(root: int) -> tuple[int, float]:
    """Resident kilobytes of process `root` and every process below it, and the CPU seconds they
    used (each one's own and that of the children it reaped), read now from /proc/<pid>/stat. The
    CPU sum counts what os.times() in the root misses: processes that are not its children, such
    as workers forked by a multiprocessing server."""
    children: dict[int, list[int]] = {}
    sizes: dict[int, tuple[int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                text = stat.read()
        except OSError:
            continue  # ended while read
        fields = text[text.rindex(")") + 2:].split()  # the name, in brackets, may hold spaces
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        sizes[pid] = (int(fields[21]) * PAGE_KB, sum(int(value) for value in fields[11:15]))
    rss = ticks = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        size, used = sizes.get(pid, (0, 0))
        rss, ticks = rss + size, ticks + used
        todo += children.get(pid, [])
    return rss, ticks / TICKS


def run_sampled(command: list[str], env: dict | None = None, every: float = 0.2,
                cwd: Path | None = None) -> tuple[subprocess.CompletedProcess, int, float]:
    """Run a command and sample its whole process tree (workers, zstd) every `every` seconds;
    returns (its result, the largest summed resident size in MB, the most CPU seconds the tree was
    seen to have used: the last `every` seconds of a process that no process of the tree reaps are missed)."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                          cwd=cwd) as child:
        peak, cpu, outputs = 0, 0.0, {}
        reader = threading.Thread(target=lambda: outputs.update(zip(("out", "err"), child.communicate())))
        reader.start()
        while reader.is_alive():
            rss, used = tree_sample(child.pid)
            peak, cpu = max(peak, rss), max(cpu, used)
            reader.join(every)
    return (subprocess.CompletedProcess(command, child.returncode, outputs["out"], outputs["err"]), round(peak / 1024),
            cpu)


def publish_in_child(input_dir: Path, as_of: date, data_dir: Path, database_url: str | None,
                     tree: Path = ROOT) -> dict:
    """Publish in a child process running the code of checkout `tree` (its own bench/publish.py);
    `tree_peak_mb` is the whole process tree's resident size at its sampled peak, `cpu` the CPU
    seconds of the whole tree (the child's own figure, or the sampled one when that is larger)."""
    command = [sys.executable, str(tree / "bench" / "publish.py"), "--run-one", str(input_dir), as_of.isoformat(),
               str(data_dir), database_url or ""]
    done, tree_peak_mb, tree_cpu = run_sampled(command)
    if done.returncode:
        sys.exit(f"publishing {as_of} failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "cpu": round(max(result["cpu"], tree_cpu), 1), "tree_peak_mb": tree_peak_mb}


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


class PostgresSchema:
    """A fresh schema for the run in the database of `url`; `url_for_run` points the publisher at it."""

    def __init__(self, url: str, keep: bool):
        import sqlalchemy as sa

        self.sa, self.keep = sa, keep
        self.name = "bench_" + uuid.uuid4().hex[:8]
        self.engine = sa.create_engine(url)
        with self.engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {self.name}"))
        self.url_for_run = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{self.name}"

    def size(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(self.sa.text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema AND c.relkind = 'r'"),
                {"schema": self.name}).scalar())

    def close(self):
        if not self.keep:
            with self.engine.begin() as conn:
                conn.execute(self.sa.text(f"DROP SCHEMA {self.name} CASCADE"))
        self.engine.dispose()


def load() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--database-url", default=None,
                        help="default: SQLite in the data directory; a PostgreSQL URL gets a fresh schema")
    parser.add_argument("--keep", action="store_true", help="keep the generated reports and data")
    parser.add_argument("--next-days", type=int, default=1,
                        help="days published after the first (the second one onwards is a steady-state day)")
    parser.add_argument("--against", type=Path, help="another checkout: publish the same reports with its code too, "
                                                     "alternated, and print the ratios")
    parser.add_argument("--run-one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.against and not (args.against / "bench" / "publish.py").is_file():
        raise SystemExit(f"--against {args.against}: not a checkout of this project (no bench/publish.py)")
    if args.run_one:
        run_one(*args.run_one[:3], args.run_one[3] or None)
        return

    from publisher.sample import generate_reports

    day1 = date(2026, 11, 24)
    out = args.out
    shutil.rmtree(out, ignore_errors=True)
    reports1, data = out / "reports" / day1.isoformat(), out / "data"
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    postgres = PostgresSchema(args.database_url, args.keep) if (args.database_url or "").startswith("postgres") else None
    database_url = postgres.url_for_run if postgres else args.database_url
    print(f"employers: {args.employers:,}; database: {database_url or 'SQLite'}")
    started = time.perf_counter()
    generate_reports(reports1, args.employers, day1, seed=1)
    print(f"sample day 1:   {time.perf_counter() - started:8.1f} s  ({directory_size(reports1) / 1e6:,.0f} MB of reports)")
    days = [(day1, reports1)]
    for number in range(2, args.next_days + 2):  # each day from the one before, a few percent changed
        day = day1 + timedelta(days=number - 1)
        reports = out / "reports" / day.isoformat()
        started = time.perf_counter()
        generate_reports(reports, args.employers, day, seed=1, previous=days[-1][1])
        print(f"sample day {number}:   {time.perf_counter() - started:8.1f} s")
        days.append((day, reports))

    from congkhai.signing import generate_key

    generate_key(data / "keys" / "signing.key")
    theirs = out / "data-against"
    if args.against:
        generate_key(theirs / "keys" / "signing.key")
    try:
        for number, (day, reports) in enumerate(days):
            label = "first release" if number == 0 else "next-day release"
            runs = [("this", ROOT, data, database_url)]
            if args.against:
                runs.append(("against", args.against.resolve(), theirs, None))
                runs = runs[::-1] if number % 2 else runs
            results = {}
            for name, tree, data_dir, url in runs:
                load_before = load()
                results[name] = result = publish_in_child(reports, day, data_dir, url, tree)
                result["load"] = f"load {load_before} before, {load()} after"
            result = results["this"]
            counts = result["counts"]
            print(f"\n{label} ({day}): {result['total']:.1f} s ({result['cpu']:.1f} CPU s; {result['load']}), "
                  f"whole process tree's sampled peak {result['tree_peak_mb']:,} MB (largest process "
                  f"{result['peak_mb']:,} MB, largest worker {result['workers_peak_mb']:,} MB), "
                  f"{counts['employers']:,} employers, {counts['rows_rejected']:,} rejected, "
                  f"{counts['changes']:,} changes")
            other = results.get("against")
            for step, seconds in result["steps"].items():
                second = f"{other['steps'][step]:>8.1f} s" if other and step in other["steps"] else ""
                print(f"  {step:<16}{seconds:>8.1f} s{second}")
            if other:
                print(f"  against {args.against} ({'after' if number % 2 == 0 else 'before'} this one; its steps "
                      f"in the second column): {other['total']:.1f} s ({other['cpu']:.1f} CPU s; {other['load']}), "
                      f"process tree {other['tree_peak_mb']:,} MB (largest process {other['peak_mb']:,} MB), "
                      f"{other['counts']['employers']:,} employers; this / against: wall "
                      f"{result['total'] / other['total']:.2f}, CPU {result['cpu'] / max(other['cpu'], 0.1):.2f}")
        database_mb = (postgres.size() if postgres else directory_size(data)) / 1e6
        last = days[-1][0].isoformat()
        print(f"\nrelease directory: {directory_size(data / 'releases' / last) / 1e6:,.0f} MB; "
              f"search index: {directory_size(data / 'indexes' / last) / 1e6:,.0f} MB; "
              f"{'PostgreSQL schema' if postgres else 'data directory with the SQLite database'}: {database_mb:,.0f} MB")
    finally:
        if postgres:
            postgres.close()
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
