"""Does a portal worker's memory grow with requests? (issue 9)

The soak (`bench/soak.py`) samples gunicorn workers' RSS while releases switch underneath, where
new indexes and fresh caches make steps that a slope cannot tell from a leak. This runs the same
mixed workload (`bench/load.py`'s `mixed_sequence`) through one in-process app on one release,
pass after pass over the same requests: after the first pass every cache holds what it will hold,
so anonymous memory must stay level, and tracemalloc names the lines that kept what grew.
The requests come from several threads (4, as gunicorn.conf.py's gthread workers): anything held per
thread (a Whoosh searcher per thread once cost 90 MB each at a million employers) shows in the first pass.

    .venv/bin/python bench/worker_memory.py --reuse DATA_DIR [--requests 4000] [--passes 5] [--threads 4] [--redis URL]
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import random
import sys
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
_spec = importlib.util.spec_from_file_location("bench_load", BENCH / "load.py")
_load = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _load
_spec.loader.exec_module(_load)

GENEROUS = "1000000/minute"


def anonymous_mb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return int(next(line for line in status if line.startswith("RssAnon")).split()[1]) // 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", type=Path, required=True, help="data directory with a published release")
    parser.add_argument("--requests", type=int, default=4000, help="requests in one pass")
    parser.add_argument("--passes", type=int, default=5, help="passes over the same requests (the first warms)")
    parser.add_argument("--redis", default=None, help="REDIS_URL: the page cache there, as in production")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads sending the requests, as gunicorn.conf.py's gthread workers run them "
                             "(anything held per thread multiplies by this)")
    args = parser.parse_args(argv)
    from portal import create_app

    release = _load.load_release(args.reuse)
    sequence = _load.mixed_sequence(random.Random(23), release, count=args.requests)
    app = create_app({"CONGKHAI_DATA_DIR": str(args.reuse), "SECRET_KEY": "bench", "REDIS_URL": args.redis,
                      "CONGKHAI_API_RATE_LIMIT": GENEROUS, "CONGKHAI_PAGE_RATE_LIMIT": GENEROUS,
                      "CONGKHAI_BATCH_RATE_LIMIT": GENEROUS})
    print(_load.machine_facts())
    print(f"release {release.id}: {release.employers:,} employers; {len(sequence):,} requests a pass "
          f"from {args.threads} threads; page cache {'Redis ' + args.redis if args.redis else 'in this process'}")

    def status(line) -> int:
        client = app.test_client()
        response = (client.get(line.path) if line.method == "GET"
                    else client.post(line.path, data=line.body, content_type="application/json"))
        return response.status_code

    def one_pass(pool) -> int:
        errors = sum(code >= 400 for code in pool.map(status, sequence))
        gc.collect()
        return errors

    sizes = []
    print(f"before the first request: anonymous memory {anonymous_mb():,} MB", flush=True)
    with ThreadPoolExecutor(args.threads) as pool:
        for number in range(1, args.passes + 1):
            if number == 2:
                tracemalloc.start(10)
                start = tracemalloc.take_snapshot()
            errors = one_pass(pool)
            sizes.append(anonymous_mb())
            print(f"after pass {number}: anonymous memory {sizes[-1]:,} MB, {errors} answers >= 400 (list pages past the end of a small list are 404s)", flush=True)
    grown = sum(stat.size_diff for stat in tracemalloc.take_snapshot().compare_to(start, "filename"))
    print(f"passes 2-{args.passes}: anonymous memory {sizes[1] - sizes[0]:+,} MB after the warm-up pass, then "
          f"{sizes[-1] - sizes[1]:+,} MB over {(args.passes - 2) * len(sequence):,} more requests; "
          f"Python allocations still held {grown / 1024:+,.1f} KiB")
    print("verdict: " + ("level" if sizes[-1] - sizes[1] <= 1 else "GROWING"))
    return 0 if sizes[-1] - sizes[1] <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
