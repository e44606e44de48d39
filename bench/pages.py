"""Every page type uncached (issue 25): the first reader of each URL right after a release switch.

Opens the portal in this process on a published data directory (`bench/load.py --keep` leaves one in
/tmp/bench-load/data, `bench/year.py --keep` one with a long history) and asks, for each page type,
`--requests` URLs that differ from each other (provinces, sectors, sorts, pages, words), each one
the first of its kind: no URL is asked twice, and the process's per-release caches (figures, the
current release) are emptied before every request, as a worker finds them after a switch. Prints per
type the wall time (p50, p95, max) and the CPU milliseconds of the request (this thread's CPU time:
SQLite and the rendering run in it), beside the targets: p95 < 300 ms, none over 1 s. The release's
search index is opened first, as gunicorn's master does before it forks the workers.

    .venv/bin/python bench/pages.py DATA_DIR [--requests 20] [--types honour-roll,province,...] [--seed 5]

Run it alone: it measures wall time as well as CPU time.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from congkhai.provinces import all_provinces  # noqa: E402

TARGET_P95_MS, TARGET_MAX_MS = 300, 1000
COMMON_WORDS = ("cong ty", "xay dung", "thuong mai", "dich vu", "san xuat", "tnhh", "co phan", "viet nam")
SORTS = ("arrears", "months", "since", "name")


def url(path: str, **args) -> str:
    query = urlencode({k: v for k, v in args.items() if v not in (None, "", ())}, doseq=True)
    return f"{path}?{query}" if query else path


def sample(data_dir: Path, size: int = 2000, seed: int = 3) -> tuple[dict, list[dict]]:
    """The current release's entry in releases/index.json and a uniform sample of its employers."""
    index = json.loads((data_dir / "releases" / "index.json").read_text(encoding="utf-8"))
    current = next(r for r in index["releases"] if r["id"] == index["current"])
    rng, rows = random.Random(seed), []
    with open(data_dir / "releases" / current["id"] / "employers.csv", encoding="utf-8", newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            if n < size:
                rows.append(row)
            elif (slot := rng.randrange(n + 1)) < size:
                rows[slot] = row
    return index, rows


def page_types(rng: random.Random, index: dict, rows: list[dict]) -> dict:
    """Per page type, a function drawing one URL of that type."""
    provinces = sorted({r["province_code"] for r in rows})
    slugs = [p.slug for p in all_provinces() if p.code in provinces]  # the page's own address, not a redirect
    sectors = sorted({r["sector"] for r in rows if r.get("sector")})
    days = [r["as_of"] for r in index["releases"]]
    names = [r["name"] for r in rows]

    def pick(values):
        return rng.choice(values) if values else None

    def long_query():
        text = ""
        while len(text) < 200:
            text += " " + pick(names)
        return text[:200].strip()

    return {
        "home": lambda: url("/", lang=pick(["vi", "en"])),
        "honour-roll": lambda: url("/lists/honour-roll", province=pick([None, pick(provinces)]),
                                   sort=pick(["name", "since"]), page=pick([1, 1, 2, 5])),
        "offenders": lambda: url("/lists/offenders", province=pick([None, pick(provinces)]),
                                 sector=pick([None, pick(sectors)]), sort=pick(SORTS), page=pick([1, 1, 2, 10]),
                                 per_page=pick([20, 50, 100])),
        "evading": lambda: url("/lists/evading", province=pick([None, pick(provinces)]), sort=pick(SORTS),
                               page=pick([1, 2])),
        "changes": lambda: url("/lists/changes", province=pick([None, pick(provinces)]),
                               kind=pick(["all", "newly_listed", "resolved"]), sort=pick(["change", "name"])),
        "province": lambda: url(f"/provinces/{pick(slugs)}"),
        "provinces": lambda: url("/provinces", as_of=pick([None, pick(days)])),
        "search-common": lambda: url("/search", q=pick(COMMON_WORDS), province=pick([None, pick(provinces)]),
                                     sort=pick(["relevance", "arrears", "name"])),
        "search-200": lambda: url("/search", q=long_query()),
        "employer": lambda: url(f"/employers/{pick(rows)['key']}"),
        "results": lambda: url("/results", province=pick([None, pick(provinces)])),
        "inspections": lambda: url("/inspections", province=pick([None, pick(provinces)])),
        "corrections": lambda: url("/corrections"),
        "data": lambda: url("/data"),
        "release": lambda: url(f"/releases/{pick(days)}"),
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(app, paths: list[str]) -> tuple[list[float], list[float], list[int]]:
    """Wall and CPU milliseconds and status of each path, every per-process cache emptied first."""
    walls, cpus, statuses = [], [], []
    client = app.test_client()
    for path in paths:
        app.extensions.pop("congkhai.cache", None)
        wall, cpu = time.perf_counter(), time.thread_time()
        response = client.get(path)
        response.get_data()
        cpus.append((time.thread_time() - cpu) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
        statuses.append(response.status_code)
    return walls, cpus, statuses


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--requests", type=int, default=20, help="distinct URLs per page type")
    parser.add_argument("--types", default="", help="comma-separated page types (default: all)")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)

    os.environ["CONGKHAI_DATA_DIR"] = str(args.data_dir.resolve())
    os.environ.setdefault("SECRET_KEY", "bench-pages")
    os.environ["CONGKHAI_PAGE_RATE_LIMIT"] = "1000000 per minute"  # one client asks every URL
    from portal import create_app
    from portal.search import warm
    app = create_app()
    warm(app)  # as gunicorn's master does before forking (gunicorn.conf.py): the index is opened once
    index, rows = sample(args.data_dir)
    rng = random.Random(args.seed)
    types = page_types(rng, index, rows)
    wanted = [t for t in args.types.split(",") if t] or list(types)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    pressure = Path("/proc/pressure/cpu").read_text().splitlines()[0] if Path("/proc/pressure/cpu").exists() else "n/a"
    print(f"release {index['current']}, {len(index['releases'])} releases; load average {load}; cpu pressure {pressure}")
    print(f"{'page type':<15} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu ms p50':>10} {'cpu ms max':>10}  "
          f"statuses")
    failed = False
    for name in wanted:
        paths, seen = [], set()
        for _ in range(args.requests * 20):
            path = types[name]()
            if path not in seen:
                seen.add(path)
                paths.append(path)
            if len(paths) == args.requests:
                break
        walls, cpus, statuses = measure(app, paths)
        p95, worst = percentile(walls, 0.95), max(walls)
        met = p95 < TARGET_P95_MS and worst < TARGET_MAX_MS
        failed |= not met
        codes = ",".join(f"{code}x{statuses.count(code)}" for code in sorted(set(statuses)))
        print(f"{name:<15} {len(paths):>3} {statistics.median(walls):>8.0f} {p95:>8.0f} {worst:>8.0f} "
              f"{statistics.median(cpus):>10.0f} {max(cpus):>10.0f}  {codes}{'' if met else '  (target missed)'}")
        slowest = max(range(len(walls)), key=walls.__getitem__)
        if not met:
            print(f"    slowest: {paths[slowest]}")
    print(f"targets: p95 < {TARGET_P95_MS} ms and none over {TARGET_MAX_MS} ms per page type: "
          f"{'met' if not failed else 'missed'}")


if __name__ == "__main__":
    main()
