"""Throughput of the portal on the news-day peak, and the same lookups served by Datasette (issue 8).

Builds (or reuses) a published release, starts `gunicorn 'portal:create_app()'` on 127.0.0.1 and drives
it with wrk (a separate C process, so the load generator does not compete with Python for the GIL)
through a mixed workload:

    search 40 %        queries drawn by a Zipf law from a pool of real queries (names of the release's
                       employers, half typed without diacritics), as a news day repeats the same names
    employer pages 40 % Zipf over the employers' codes
    list pages 15 %    offender / evading / honour-roll lists, by province and page, the changes list
    batch checks 5 %   POST /api/v1/eligibility with 100 codes

at each concurrency (default 8, 32, 64) for a bounded time. The first pass after the server starts is
reported as "cold"; the next ones are warm (whatever the portal caches, it has then seen the pool).

With `--against TREE`, the same workload is sent instead to two portals on the same release, this
checkout's and TREE's (another checkout, e.g. `git worktree add /tmp/before HEAD~3`), one run after
the other in alternating order (A B, B A, ...) at each concurrency: a shared machine's speed drifts
over minutes, so only runs alternated this way compare two versions of the code.

With `--distinct`, the news day right after a release switch: a portal just started, every request
a URL not asked before (names, employers, filter combinations), so nothing comes from the cache.

With `--datasette`, the release's employers.csv is loaded into SQLite with an FTS5 index on the names
(sqlite-utils, as a team would in an afternoon), served by `datasette serve`, and the same search
and employer lookups are sent to both systems in this run: req/s and p95 side by side, and the recall
of accent-free queries (is the employer among the first page of results?) on both.

    .venv/bin/python bench/load.py [--employers N | --reuse DATA_DIR] [--duration S] [--concurrency 8,32,64]
                                   [--workers W] [--threads T] [--datasette] [--recall-queries N]
                                   [--against TREE [--rounds N]] [--distinct]

Needs `wrk` (Debian package) and, for --datasette, the `bench` extra (`pip install -e '.[bench]'`).
Targets: mixed workload >= 500 req/s, p95 < 100 ms, zero errors, at each concurrency.
"""
from __future__ import annotations

import argparse
import collections
import csv
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode



def _bench_portal():
    """bench/portal.py (the latency benchmark) under another name than the `portal` package."""
    spec = importlib.util.spec_from_file_location("bench_portal", Path(__file__).with_name("portal.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_shared = _bench_portal()
ROOT, Release, Server, load_release, prepare = _shared.ROOT, _shared.Release, _shared.Server, _shared.load_release, _shared.prepare
batch_codes, distinctive, free_port, machine_facts, search_path = (_shared.batch_codes, _shared.distinctive,
                                                                   _shared.free_port, _shared.machine_facts,
                                                                   _shared.search_path)

from congkhai.text import fold  # noqa: E402

TARGET_RPS, TARGET_P95_MS = 500, 100
MIX = (("search", 40), ("employer", 40), ("list", 15), ("batch", 5))
RECALL_PAGE = 50  # the first page a recall query must find its employer on
BATCH_CODES = 100
QUERY_POOL = 2_000       # distinct queries a news day repeats
ZIPF_S = 1.1
SEQUENCE = 40_000        # requests in the pre-drawn sequence wrk cycles through

# wrk's script: read the pre-drawn requests, give each connection its own starting point, report
# the figures the targets are about as one JSON line (wrk's own summary has no p95).
WRK_SCRIPT = r"""
local requests = {}
local counter = 0
function init(args)
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%S+)\t([^\t]*)\t?(.*)$")
    local headers = {["Accept-Language"] = "vi"}
    if body ~= "" then headers["Content-Type"] = "application/json" else body = nil end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  counter = math.random(#requests)
end
function request()
  counter = counter % #requests + 1
  return requests[counter]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_status": %d, "errors_timeout": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def zipf_weights(n: int, s: float = ZIPF_S) -> list[float]:
    return [1 / (rank ** s) for rank in range(1, n + 1)]


def query_pool(rng: random.Random, release: Release, size: int = QUERY_POOL) -> list[str]:
    """Queries as readers type them: a name or its distinctive end, half without diacritics."""
    pool = []
    for row in rng.sample(release.rows, min(size, len(release.rows))):
        text = rng.choice([row["name"], distinctive(row["name"], 3), distinctive(row["name"], 2)])
        pool.append(fold(text) if rng.random() < 0.5 else text)
    return pool


def list_path(rng: random.Random, release: Release) -> str:
    name = rng.choices(["offenders", "evading", "honour-roll", "changes"], [50, 25, 10, 15])[0]
    if name == "changes":
        return "/lists/changes?" + urlencode({"page": rng.randint(1, 3)})
    args = {"page": rng.choices([1, 2, 3, 10], [60, 20, 10, 10])[0]}
    if rng.random() < 0.6:
        args["province"] = rng.choice(release.rows)["province_code"]
    return f"/lists/{name}?" + urlencode(args)


@dataclass(frozen=True)
class Line:
    method: str
    path: str
    body: str = ""

    def tsv(self) -> str:
        return f"{self.method}\t{self.path}\t{self.body}"


def mixed_sequence(rng: random.Random, release: Release, mix=MIX, count: int = SEQUENCE,
                   search_url=None, employer_url=None) -> list[Line]:
    """The pre-drawn requests: each type by its share, queries and codes by a Zipf law."""
    search_url = search_url or (lambda q: search_path(q=q))
    employer_url = employer_url or (lambda key: f"/employers/{quote(key)}")
    queries = query_pool(rng, release)
    keys = [row["key"] for row in rng.sample(release.rows, min(len(release.rows), 20_000))]
    query_weights, key_weights = zipf_weights(len(queries)), zipf_weights(len(keys))
    kinds = rng.choices([k for k, _ in mix], [w for _, w in mix], k=count)
    drawn_queries = iter(rng.choices(queries, query_weights, k=count))
    drawn_keys = iter(rng.choices(keys, key_weights, k=count))
    out = []
    for kind in kinds:
        if kind == "search":
            out.append(Line("GET", search_url(next(drawn_queries))))
        elif kind == "employer":
            out.append(Line("GET", employer_url(next(drawn_keys))))
        elif kind == "list":
            out.append(Line("GET", list_path(rng, release)))
        else:
            body = json.dumps({"codes": batch_codes(rng, release.rows, BATCH_CODES), "date": release.as_of})
            out.append(Line("POST", "/api/v1/eligibility", body))
    return out


STATUS_CHOICES = ((), ("delinquent",), ("evading",), ("delinquent", "evading"), ("late",), ("compliant",))
LIST_SORTS = {"offenders": ("arrears", "months", "name", "since"), "evading": ("arrears", "months", "name", "since"),
              "honour-roll": ("name",)}


def distinct_sequence(rng: random.Random, release: Release, count: int = SEQUENCE, mix=MIX) -> list[Line]:
    """The news day right after a release switch: every request a different URL, so no answer can
    come from the cache. Searches for names of the register (half typed without diacritics) with
    filters, employers drawn at random, lists by province, sector, sort and size, batch checks of
    other codes; every list page a first page, so that none is past the end of its list."""
    rows, seen, out = release.rows, set(), []
    provinces = sorted({row["province_code"] for row in rows})
    sectors = sorted({row.get("sector") or "" for row in rows} - {""})

    def draw(kind: str) -> Line:
        row = rng.choice(rows)
        if kind == "search":
            name = rng.choice([row["name"], distinctive(row["name"], 3), distinctive(row["name"], 2)])
            return Line("GET", search_path(q=fold(name) if rng.random() < 0.5 else name,
                                           status=list(rng.choice(STATUS_CHOICES)),
                                           province=rng.choice([None, row["province_code"]]),
                                           sort=rng.choice([None, "arrears", "name"])))
        if kind == "employer":
            return Line("GET", f"/employers/{quote(row['key'])}")
        if kind == "list":
            name = rng.choice(list(LIST_SORTS))
            args = {"province": rng.choice(provinces), "sort": rng.choice(LIST_SORTS[name]),
                    "per_page": rng.choice([20, 50, 100])}
            if sectors and rng.random() < 0.5:
                args["sector"] = rng.choice(sectors)
            return Line("GET", f"/lists/{name}?" + urlencode(args))
        body = json.dumps({"codes": batch_codes(rng, rows, BATCH_CODES), "date": release.as_of})
        return Line("POST", "/api/v1/eligibility", body)

    for kind in rng.choices([k for k, _ in mix], [w for _, w in mix], k=count):
        for _attempt in range(50):  # a small register has few list combinations: draw again
            line = draw(kind)
            if (line.method, line.path, line.body) not in seen:
                seen.add((line.method, line.path, line.body))
                out.append(line)
                break
    return out


def kind_of(line: Line) -> str:
    """Which of MIX's request types a pre-drawn request is."""
    if line.method == "POST":
        return "batch"
    return {"/search": "search", "/employers/": "employer", "/lists/": "list"}[
        next(prefix for prefix in ("/search", "/employers/", "/lists/") if line.path.startswith(prefix))]


def answered(port: int, sequence: list[Line], clients: int = 4) -> tuple[list[Line], int]:
    """The sequence without the list pages that do not exist in this release (a page past the end of
    a small province's list is a 404, which is right but no load test); how many were dropped.
    Asked from several clients at once: one after the other, these cold pages took five minutes."""
    from concurrent.futures import ThreadPoolExecutor

    def status_of(path: str) -> int:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120).status
        except urllib.error.HTTPError as error:
            return error.code

    paths = sorted({line.path for line in sequence if line.path.startswith("/lists/")})
    with ThreadPoolExecutor(clients) as pool:
        status = dict(zip(paths, pool.map(status_of, paths)))
    kept = [line for line in sequence if status.get(line.path, 200) == 200]
    return kept, len(sequence) - len(kept)


def prime(port: int, sequence: list[Line], clients: int = 8) -> tuple[int, float]:
    """Request every distinct GET of the sequence once, so that "warm" means what it says: the portal
    has answered each page of the pool before. Returns (pages, seconds)."""
    from concurrent.futures import ThreadPoolExecutor

    paths = sorted({line.path for line in sequence if line.method == "GET"})

    def fetch(path: str) -> None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120).read()
        except urllib.error.HTTPError:
            pass  # an error page is not cached; the measured runs count it

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(fetch, paths))
    return len(paths), time.perf_counter() - started


def run_wrk(port: int, sequence: list[Line], concurrency: int, duration: int, threads: int, work: Path,
            server=None) -> dict:
    """One bounded wrk run; its JSON summary line plus req/s, the error total and, given the server,
    the portal's CPU milliseconds per request (what the two cores can afford)."""
    cpu_before = server.cpu_seconds() if server else 0.0
    requests_file, script = work / f"requests-{port}.tsv", work / "mix.lua"
    requests_file.write_text("\n".join(line.tsv() for line in sequence) + "\n", encoding="utf-8")
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    command = ["wrk", "-t", str(min(threads, concurrency)), "-c", str(concurrency), "-d", f"{duration}s",
               "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}", "--", str(requests_file)]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=duration + 60).stdout
    figures = json.loads(next(line for line in output.splitlines() if line.startswith("{")))
    figures["rps"] = figures["requests"] / figures["seconds"]
    figures["errors"] = sum(v for k, v in figures.items() if k.startswith("errors_"))
    if server:
        figures["cpu_ms"] = 1000 * (server.cpu_seconds() - cpu_before) / max(figures["requests"], 1)
    return figures


def verdict(figures: dict) -> str:
    met = figures["rps"] >= TARGET_RPS and figures["p95_ms"] < TARGET_P95_MS and figures["errors"] == 0
    return "met" if met else "NOT MET"


def row(label: str, figures: dict, with_verdict: bool = True) -> str:
    cpu = f"{figures['cpu_ms']:>9.2f}" if "cpu_ms" in figures else f"{'':>9}"
    text = (f"{label:28}{figures['requests']:>9,}{figures['rps']:>9.1f}{figures['p50_ms']:>9.1f}"
            f"{figures['p95_ms']:>9.1f}{figures['p99_ms']:>9.1f}{figures['errors']:>8}{cpu}")
    return text + (f"  {verdict(figures)}" if with_verdict else "")


HEADER = (f"{'run':28}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'CPU ms':>9}")


# ---- Datasette ------------------------------------------------------------------------------------------

class Datasette:
    """`datasette serve` over a SQLite copy of employers.csv with an FTS5 index on the names."""

    def __init__(self, release: Release, work: Path):
        self.csv = release.data_dir / "releases" / release.id / "employers.csv"
        self.db = work / "employers.db"
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def build(self) -> float:
        started = time.perf_counter()
        tool = shutil.which("sqlite-utils", path=str(Path(sys.executable).parent)) or "sqlite-utils"
        subprocess.run([tool, "insert", str(self.db), "employers", str(self.csv), "--csv", "--pk", "key"],
                       check=True, capture_output=True)
        subprocess.run([tool, "enable-fts", str(self.db), "employers", "name", "--fts5"], check=True,
                       capture_output=True)
        return time.perf_counter() - started

    def __enter__(self) -> "Datasette":
        tool = shutil.which("datasette", path=str(Path(sys.executable).parent)) or "datasette"
        self.process = subprocess.Popen(
            [tool, "serve", str(self.db), "--host", "127.0.0.1", "--port", str(self.port),
             "--setting", "default_page_size", "20", "--setting", "sql_time_limit_ms", "5000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/versions.json", timeout=5).read()
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError("datasette did not start")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=20)

    def search_url(self, query: str) -> str:
        return "/employers/employers?" + urlencode({"_search": query})

    def employer_url(self, key: str) -> str:
        return f"/employers/employers/{quote(key)}"

    def found(self, query: str, key: str) -> bool:
        url = (f"http://127.0.0.1:{self.port}/employers/employers.json?"
               + urlencode({"_search": query, "_shape": "array", "_col": "key", "_size": RECALL_PAGE}))
        return any(r["key"] == key for r in json.loads(urllib.request.urlopen(url, timeout=30).read()))


def found_by_portal(port: int, query: str, key: str) -> bool:
    url = f"http://127.0.0.1:{port}/search.json?" + urlencode({"q": query, "per_page": RECALL_PAGE})
    return any(r.get("key") == key for r in json.loads(urllib.request.urlopen(url, timeout=30).read())["results"])


def namesakes(release: Release) -> collections.Counter:
    """How many employers of the whole register bear each name (folded). At a million employers the
    sample generator repeats names (a hundred "Trường Tiểu học Nguyễn Hữu Cảnh"), and no name search
    can put all of a hundred namesakes on its first page of 50."""
    with open(release.data_dir / "releases" / release.id / "employers.csv", encoding="utf-8", newline="") as handle:
        return collections.Counter(fold(row["name"]) for row in csv.DictReader(handle))


def accent_free_queries(rng: random.Random, release: Release, count: int,
                        crowded: collections.Counter | None = None) -> tuple[list[tuple[str, str]], int]:
    """(query, key): employers' full names that carry diacritics or đ, typed without them, as citizens do;
    names borne by more than a page of namesakes (`crowded`) are left out, and counted."""
    marked = [r for r in release.rows if fold(r["name"]) != r["name"].lower()]
    drawn = rng.sample(marked, min(count, len(marked)))
    kept = [(fold(r["name"]), r["key"]) for r in drawn if not crowded or crowded[fold(r["name"])] <= RECALL_PAGE]
    return kept, len(drawn) - len(kept)


# ---- main ---------------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=1_000_000, help="employers of the release to build")
    parser.add_argument("--reuse", type=Path, help="data directory with a published release (e.g. bench/out/data)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    parser.add_argument("--concurrency", default="8,32,64", help="open connections, comma-separated")
    parser.add_argument("--workers", type=int, default=max(2, (os.cpu_count() or 1) * 2), help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--redis", default=None, help="REDIS_URL for the portal (shared rate limits and cache)")
    parser.add_argument("--datasette", action="store_true", help="also measure Datasette on the same lookups")
    parser.add_argument("--by-type", action="store_true", help="also run each request type alone (CPU per request)")
    parser.add_argument("--recall-queries", type=int, default=300, help="accent-free queries for the recall")
    parser.add_argument("--against", type=Path, help="another checkout: compare its portal with this one, "
                                                     "runs alternated, instead of the usual runs")
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds of each concurrency with --against")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "load")
    parser.add_argument("--keep", action="store_true", help="keep the built release in --out")
    parser.add_argument("--distinct", action="store_true",
                        help="every request a different URL, on a portal just started (as after a release switch)")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def portal_server(data_dir: Path, args: argparse.Namespace, out: Path, root: Path = ROOT, name: str = "gunicorn"):
    """The portal (of this checkout, or of `root`) under gunicorn; with --redis, under a cache prefix
    of its own, so that a server's first pass is cold even when an earlier run left its pages in
    that Redis database (nothing there is deleted: the old entries expire)."""
    env = {"REDIS_URL": args.redis, "CONGKHAI_CACHE_PREFIX": f"bench-load:{uuid.uuid4().hex}:page"} if args.redis else None
    return Server(data_dir, args.workers, out / f"{name}.log", env, root=root)


def memory_text(server) -> str:
    """Each worker's resident / anonymous memory, e.g. '[598/439, 604/441] MB'."""
    sizes = server.worker_memory_mb(("VmRSS", "RssAnon")).values()
    return "[" + ", ".join(f"{size['VmRSS']}/{size['RssAnon']}" for size in sizes) + "] MB"


def measure_portal(args, release: Release, work: Path, levels: list[int]) -> list[str]:
    rng = random.Random(23)
    sequence = mixed_sequence(rng, release)
    lines = [f"mixed workload: {', '.join(f'{k} {w} %' for k, w in MIX)}; {len(sequence):,} pre-drawn requests, "
             f"Zipf s={ZIPF_S} over {QUERY_POOL:,} queries and 20,000 codes; batch checks of {BATCH_CODES} codes",
             f"targets: >= {TARGET_RPS} req/s, p95 < {TARGET_P95_MS} ms, zero errors", "", HEADER]
    with portal_server(release.data_dir, args, args.out) as server:
        before = memory_text(server)
        sequence, dropped = answered(server.port, sequence)
        lines.insert(1, f"({dropped:,} requests for list pages past the end of their list left out)")
        cold = run_wrk(server.port, sequence, levels[0], args.duration, args.threads, work, server)
        lines.append(row(f"cold cache, c={levels[0]}", cold, with_verdict=False))
        pages, seconds = prime(server.port, sequence)
        lines.append(f"(then every one of the {pages:,} distinct pages of the sequence requested once, in {seconds:.0f} s)")
        for level in levels:
            lines.append(row(f"warm, c={level}", run_wrk(server.port, sequence, level, args.duration, args.threads,
                                                         work, server)))
        if args.by_type:
            lines += ["", "each request type alone, warm, c=8 (CPU ms: the portal's CPU per request, all processes)"]
            for kind, _ in MIX:  # the mixed sequence's own requests of that type, so pages stay primed
                alone = [line for line in sequence if kind_of(line) == kind]
                lines.append(row(kind, run_wrk(server.port, alone, 8, max(1, args.duration // 2), args.threads,
                                               work, server), with_verdict=False))
        after = memory_text(server)
    lines.append(f"gunicorn -w {args.workers}; worker memory, resident of which anonymous (the rest: mapped "
                 f"database and index pages, shared): {before} at start, {after} after")
    return lines


def measure_distinct(args, release: Release, work: Path, levels: list[int]) -> list[str]:
    """`--distinct`: a portal just started on the release (as right after a switch: nothing cached),
    every request a URL not asked before, each concurrency with URLs of its own."""
    sequence = distinct_sequence(random.Random(37), release, count=SEQUENCE * len(levels))
    share = len(sequence) // len(levels)
    lines = [f"distinct workload: {', '.join(f'{k} {w} %' for k, w in MIX)}; {len(sequence):,} different "
             f"requests, {share:,} for each concurrency; a portal just started, nothing primed",
             f"targets (issue 25): >= 300 req/s, p95 < 300 ms at c=32, zero errors", "", HEADER]
    with portal_server(release.data_dir, args, args.out) as server:
        for index, level in enumerate(levels):
            own = sequence[index * share:(index + 1) * share]
            lines.append(row(f"distinct, c={level}", run_wrk(server.port, own, level, args.duration, args.threads,
                                                             work, server), with_verdict=False))
        lines.append(f"gunicorn -w {args.workers}; worker memory, resident of which anonymous: {memory_text(server)}")
    return lines


def compare_with_tree(args, release: Release, work: Path, levels: list[int]) -> list[str]:
    """The mixed workload against this checkout's portal and the one of `--against`, both primed,
    runs alternated; the median ratio of each concurrency's rounds."""
    other = args.against.resolve()
    sequence = mixed_sequence(random.Random(23), release)
    names = ("this checkout", str(other))
    lines = [f"this checkout ({ROOT}) against {other}: the mixed workload, {args.rounds} alternated rounds "
             f"of {args.duration} s at each concurrency", "", f"{'':8}{HEADER}"]
    with portal_server(release.data_dir, args, args.out, name="this") as ours, \
            portal_server(release.data_dir, args, args.out, root=other, name="against") as theirs:
        servers = (ours, theirs)
        sequence, dropped = answered(ours.port, sequence)
        lines.insert(1, f"({dropped:,} requests for list pages past the end of their list left out)")
        for server in servers:
            prime(server.port, sequence)
            run_wrk(server.port, sequence, levels[0], max(1, args.duration // 3), args.threads, work, server)
        for level in levels:
            figures = {name: [] for name in names}
            for round_ in range(args.rounds):
                order = list(zip(names, servers))
                for name, server in order if round_ % 2 == 0 else reversed(order):
                    figures[name].append(run_wrk(server.port, sequence, level, args.duration, args.threads, work, server))
                    lines.append(f"{round_:<8}" + row(f"c={level} {'A' if server is ours else 'B'}", figures[name][-1]))
            ratios = {field: statistics.median(a[field] / b[field] for a, b in zip(*figures.values()))
                      for field in ("rps", "p95_ms", "cpu_ms")}
            lines.append(f"c={level}: A / B, median of the rounds: req/s x{ratios['rps']:.2f}, "
                         f"p95 x{ratios['p95_ms']:.2f}, CPU per request x{ratios['cpu_ms']:.2f}")
    lines.append(f"A: {names[0]}, B: {names[1]}; gunicorn -w {args.workers} each")
    return lines


def compare_with_datasette(args, release: Release, work: Path, levels: list[int]) -> list[str]:
    """The same search and employer lookups against both systems, then accent-free recall on both."""
    datasette = Datasette(release, work)
    lines = ["", f"Datasette: SQLite + FTS5 copy of employers.csv built in {datasette.build():.1f} s "
                 f"(sqlite-utils insert + enable-fts --fts5); one `datasette serve` process"]
    lookups = (("search", 50), ("employer", 50))
    ours = mixed_sequence(random.Random(29), release, lookups)
    theirs = mixed_sequence(random.Random(29), release, lookups, search_url=datasette.search_url,
                            employer_url=datasette.employer_url)
    queries, crowded = accent_free_queries(random.Random(31), release, args.recall_queries, namesakes(release))
    lines += ["search 50 % + employer lookups 50 %, same Zipf draws on both", "",
              f"{'':10}{HEADER}  {'Công khai / Datasette':>22}"]
    with portal_server(release.data_dir, args, args.out) as server, datasette:
        run_wrk(server.port, ours, levels[0], max(1, args.duration // 4), args.threads, work)      # warm both
        run_wrk(datasette.port, theirs, levels[0], max(1, args.duration // 4), args.threads, work)
        for level in levels:
            a = run_wrk(server.port, ours, level, args.duration, args.threads, work)
            b = run_wrk(datasette.port, theirs, level, args.duration, args.threads, work)
            lines.append(f"{'Công khai':10}" + row(f"c={level}", a, with_verdict=False))
            lines.append(f"{'Datasette':10}" + row(f"c={level}", b, with_verdict=False)
                         + f"  req/s x{a['rps'] / max(b['rps'], 0.001):.1f}, p95 x{b['p95_ms'] / max(a['p95_ms'], 0.001):.1f} lower")
        ours_found = sum(found_by_portal(server.port, q, k) for q, k in queries)
        theirs_found = sum(datasette.found(q, k) for q, k in queries)
    n = len(queries)
    lines += ["", f"recall of {n} accent-free queries (an employer's full name typed without diacritics; "
                  f"employer among the first {RECALL_PAGE} results): Công khai {ours_found}/{n} "
                  f"({100 * ours_found / n:.1f} %), Datasette {theirs_found}/{n} ({100 * theirs_found / n:.1f} %)",
              f"({crowded} drawn names left out: borne by more than {RECALL_PAGE} employers of the register)"]
    return lines


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.build_only:
        print(json.dumps(_shared.build_release(args.out, args.employers)))
        return
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    if args.against and not (args.against / "portal" / "__init__.py").is_file():
        raise SystemExit(f"--against {args.against}: not a checkout of this project (no portal/__init__.py)")
    levels = [int(c) for c in args.concurrency.split(",")]
    print(machine_facts())
    data_dir, built = prepare(args)
    if built:
        print(f"built a release of {args.employers:,} employers: sample {built['sample']} s, publish {built['publish']} s")
    release = load_release(data_dir)
    print(f"release {release.id}: {release.employers:,} employers from {data_dir}")
    try:
        with tempfile.TemporaryDirectory(prefix="congkhai-load-") as tmp:
            measured = compare_with_tree if args.against else measure_distinct if args.distinct else measure_portal
            for line in measured(args, release, Path(tmp), levels):
                print(line, flush=True)
            if args.datasette:
                for line in compare_with_datasette(args, release, Path(tmp), levels):
                    print(line, flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
