"""Benchmark of the portal as deployed: gunicorn workers serving a national-scale release, measured
over loopback from this process (issue 4 and 5 targets).

Builds a release of N sample employers (default 1,000,000) or reuses a data directory (such as the
one `bench/publish.py --keep` leaves in bench/out/data), starts `gunicorn 'portal:create_app()'` on
127.0.0.1, warms it up, then sends a bounded number of requests of each type from a few client
threads: searches (names with and without diacritics from the release's employers.csv,
abbreviations, typos, codes, filters, sorts, pages), employer pages and their JSON twins, and
batch eligibility checks of 1,000 codes (real, unknown, malformed, duplicate) through the API and
the /eligibility form. Prints count, errors and latency percentiles per type beside the targets.

    .venv/bin/python bench/portal.py [--employers N | --reuse DATA_DIR] [--requests N] [--concurrency C]
                                     [--workers W] [--batches B] [--out bench/out/portal] [--keep]

Targets: search p95 < 100 ms, employer page p95 < 30 ms, batch check of 1,000 codes < 2 s.
Latencies are client-side: loopback connection, queueing behind busy workers, rendering, reading.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import itertools
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

from stdnum.vn import mst

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from congkhai.text import fold  # noqa: E402

RELEASE_DAY = date(2026, 11, 24)
SAMPLE_ROWS = 20_000           # employers read from employers.csv to draw queries and keys from
BATCH_SIZE = 1000              # codes per eligibility check: the most /eligibility accepts
TARGETS_MS = {"search": 100, "employer page": 30}
BATCH_TARGET_MS = 2000
STARTUP_SECONDS = 120          # a cold 1M release: importing, opening the database and index
REQUEST_TIMEOUT = 60
GENEROUS_LIMIT = "1000000 per minute"  # the benchmark measures latency, not the rate limiter

# Legal forms as written in names, and what people type instead (issue 4: cty, tnhh, cp, ctcp...).
ABBREVIATIONS = [
    ("công ty tnhh một thành viên", ["cty tnhh mtv", "tnhh mtv"]),
    ("công ty tnhh mtv", ["cty tnhh mtv", "tnhh mtv"]),
    ("công ty tnhh", ["cty tnhh", "tnhh"]),
    ("công ty cổ phần", ["ctcp", "cty cp", "cty co phan"]),
    ("hợp tác xã", ["htx"]),
    ("doanh nghiệp tư nhân", ["dntn"]),
    ("chi nhánh", ["cn"]),
]
COMMON_WORDS = ["", "", "xay dung", "thuong mai", "dich vu", "san xuat", "van tai", "cty tnhh", "thuc pham"]
STATUS_FILTERS = [("delinquent", "evading"), ("evading",), ("late",), ("delinquent",), ("compliant",)]
ARREARS_RANGES = [(None, None), (10_000_000, None), (100_000_000, None), (1_000_000_000, None),
                  (10_000_000, 1_000_000_000), (None, 100_000_000)]


# ---- the release ---------------------------------------------------------------------------------------

def build_release(out: Path, employers: int) -> dict:
    """Sample reports and one published release in `out`/data; seconds taken per step."""
    from congkhai.config import load_settings
    from congkhai.signing import generate_key
    from publisher.pipeline import publish
    from publisher.sample import generate_reports

    reports, data = out / "reports" / RELEASE_DAY.isoformat(), out / "data"
    started = time.perf_counter()
    generate_reports(reports, employers, RELEASE_DAY, seed=1)
    sampled = time.perf_counter()
    settings = load_settings(env={}, CONGKHAI_DATA_DIR=str(data))
    generate_key(settings["CONGKHAI_SIGNING_KEY"])
    publish(reports, RELEASE_DAY, settings)
    return {"sample": round(sampled - started, 1), "publish": round(time.perf_counter() - sampled, 1)}


def build_in_child(out: Path, employers: int) -> dict:
    """Build in a child process, so this process (the load generator) stays small."""
    command = [sys.executable, __file__, "--build-only", "--out", str(out), "--employers", str(employers)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


@dataclass
class Release:
    data_dir: Path
    id: str
    as_of: str
    employers: int
    rows: list[dict]   # a random sample of employers.csv


def load_release(data_dir: Path, sample_size: int = SAMPLE_ROWS, seed: int = 3) -> Release:
    """The current release of a data directory and a uniform sample of its employers."""
    index_path = data_dir / "releases" / "index.json"
    if not index_path.is_file():
        raise SystemExit(f"{data_dir}: no releases/index.json; publish a release there first")
    if not (data_dir / "keys" / "signing.key").is_file():
        raise SystemExit(f"{data_dir}: no keys/signing.key, so the portal cannot sign eligibility receipts")
    index = json.loads(index_path.read_text(encoding="utf-8"))
    current = next(r for r in index["releases"] if r["id"] == index["current"])
    rng = random.Random(seed)
    rows: list[dict] = []
    with open(data_dir / "releases" / current["id"] / "employers.csv", encoding="utf-8", newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle)):  # reservoir sampling: one pass, bounded memory
            wanted = {k: row[k] for k in ("key", "tax_code", "unit_code", "name", "province_code", "status")}
            if n < sample_size:
                rows.append(wanted)
            elif (slot := rng.randrange(n + 1)) < sample_size:
                rows[slot] = wanted
    return Release(data_dir, current["id"], current["as_of"], current["counts"]["employers"], rows)


# ---- the requests --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    group: str                     # what the targets are about: search, employer page, ...
    kind: str                      # finer label inside the group
    path: str
    method: str = "GET"
    body: bytes | None = None
    content_type: str | None = None
    expect: tuple = (200,)
    keep_body: bool = False        # bodies are dropped unless the report reads them


def distinctive(name: str, words: int = 2) -> str:
    """The proper-name end of a business name, the part people remember."""
    return " ".join(name.split()[-words:])


def typo(rng: random.Random, word: str) -> str:
    letters = list(word)
    if len(letters) > 3:
        i = rng.randrange(1, len(letters))
        letters[i] = rng.choice([c for c in "aeioumnth" if c != letters[i]])
    return "".join(letters)


def abbreviated(rng: random.Random, name: str) -> str | None:
    lowered = name.lower()
    for form, typed in ABBREVIATIONS:
        if lowered.startswith(form):
            rest = name[len(form):].split()
            return f"{rng.choice(typed)} {fold(' '.join(rest[-2:]))}"
    return None


def search_path(**args) -> str:
    return "/search?" + urlencode({k: v for k, v in args.items() if v not in (None, "")}, doseq=True)


def search_request(rng: random.Random, rows: list[dict]) -> Request:
    """One search drawn from a mix shaped like the portal's users: names, codes, filters, browsing."""
    row = rng.choice(rows)
    name = row["name"]
    kind = rng.choices(["name with diacritics", "name without diacritics", "abbreviation", "typo", "code (redirect)",
                        "filters and sort", "browse pages"], [15, 20, 10, 10, 10, 20, 15])[0]
    if kind == "name with diacritics":
        return Request("search", kind, search_path(q=rng.choice([name, distinctive(name, 3)])))
    if kind == "name without diacritics":
        return Request("search", kind, search_path(q=rng.choice([fold(name), fold(distinctive(name, 3)),
                                                                  fold(distinctive(name))])))
    if kind == "abbreviation":
        return Request("search", kind, search_path(q=abbreviated(rng, name) or "cty " + fold(distinctive(name))))
    if kind == "typo":
        first, *rest = fold(distinctive(name)).split()
        return Request("search", kind, search_path(q=" ".join([typo(rng, first), *rest])))
    if kind == "code (redirect)":
        key = row["key"]
        code = rng.choice([key, key.replace("-", "")]) if "-" in key else key
        return Request("search", kind, search_path(q=code), expect=(302,))  # the page redirects to the employer
    if kind == "filters and sort":
        low, high = rng.choice(ARREARS_RANGES)
        return Request("search", kind, search_path(
            q=rng.choice(COMMON_WORDS), province=row["province_code"], status=list(rng.choice(STATUS_FILTERS)),
            arrears_min=low, arrears_max=high, sort=rng.choice(["arrears", "months", "name"])))
    return Request("search", kind, search_path(sort=rng.choice(["arrears", "months", "name"]), page=rng.randint(1, 5),
                                               per_page=rng.choice([20, 20, 50])))


def employer_request(rng: random.Random, rows: list[dict], json_twin: bool) -> Request:
    key = quote(rng.choice(rows)["key"])
    if json_twin:
        return Request("employer .json", "employer .json", f"/employers/{key}.json")
    return Request("employer page", "employer page", f"/employers/{key}")


def make_requests(rng: random.Random, rows: list[dict], count: int) -> dict[str, list[Request]]:
    return {
        "search": [search_request(rng, rows) for _ in range(count)],
        "employer page": [employer_request(rng, rows, False) for _ in range(count)],
        "employer .json": [employer_request(rng, rows, True) for _ in range(count)],
    }


def unknown_tax_code(rng: random.Random) -> str:
    """A tax code with a valid check digit that the register almost surely lacks."""
    while True:
        first9 = f"{rng.randrange(10 ** 9):09d}"
        code = first9 + mst.calc_check_digit(first9)
        if mst.is_valid(code):
            return code


_tax_code_keys: tuple[list[dict], list[str]] | None = None  # (rows, their tax-code keys): the last asked


def tax_code_keys(rows: list[dict]) -> list[str]:
    """The sample's keys that are tax codes, listed once per sample: the load benchmark draws a
    malformed code from them thousands of times (listing them each time took over three minutes)."""
    global _tax_code_keys
    if _tax_code_keys is None or _tax_code_keys[0] is not rows:
        _tax_code_keys = (rows, [r["key"] for r in rows if r["key"][:10].isdigit()] or ["0100233488"])
    return _tax_code_keys[1]


def malformed_code(rng: random.Random, rows: list[dict]) -> str:
    real = rng.choice(tax_code_keys(rows))
    return rng.choice([
        real[:9] + str((int(real[9]) + 1) % 10) + real[10:],  # wrong check digit
        real[:7],                                             # too few digits
        "MST " + real[:5] + "?",                              # not a code
        "x" * 50,                                             # far too long
    ])


def batch_codes(rng: random.Random, rows: list[dict], size: int = BATCH_SIZE) -> list[str]:
    """Codes as an officer pastes them: mostly real, some unknown, some malformed, a few repeated."""
    codes: list[str] = []
    for _ in range(size):
        draw = rng.random()
        if draw < 0.80 or not codes:
            key = rng.choice(rows)["key"]
            codes.append(key.replace("-", "") if "-" in key and rng.random() < 0.5 else key)
        elif draw < 0.88:
            codes.append(unknown_tax_code(rng))
        elif draw < 0.95:
            codes.append(malformed_code(rng, rows))
        else:
            codes.append(rng.choice(codes))
    return codes


def batch_request(channel: str, codes: list[str], day: str) -> Request:
    if channel == "API":
        return Request("batch check", channel, "/api/v1/eligibility", "POST",
                       json.dumps({"codes": codes, "date": day}).encode(), "application/json", keep_body=True)
    return Request("batch check", channel, "/eligibility", "POST",
                   urlencode({"codes": "\n".join(codes), "date": day}).encode(), "application/x-www-form-urlencoded")


# ---- sending -------------------------------------------------------------------------------------------

@dataclass
class Result:
    request: Request
    ms: float
    status: int | None
    body: bytes = b""
    error: str | None = None


def send(connection: http.client.HTTPConnection, request: Request) -> Result:
    """One request on a kept-alive connection (http.client reconnects when the server closed it)."""
    headers = {"Accept-Language": "vi"}
    if request.content_type:
        headers["Content-Type"] = request.content_type
    started = time.perf_counter()
    try:
        connection.request(request.method, request.path, request.body, headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return Result(request, (time.perf_counter() - started) * 1000, None, error=f"{type(error).__name__}: {error}")
    ms = (time.perf_counter() - started) * 1000
    error = None if response.status in request.expect else f"HTTP {response.status}"
    return Result(request, ms, response.status, body if request.keep_body else b"", error)


def run_requests(port: int, requests: list[Request], concurrency: int, time_limit: float) -> tuple[list[Result], float]:
    """Send `requests` from `concurrency` threads until all are answered or `time_limit` seconds pass."""
    results: list[Result] = []
    lock = threading.Lock()
    counter = itertools.count()
    deadline = time.monotonic() + time_limit

    def worker():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        mine = []
        while time.monotonic() < deadline and (n := next(counter)) < len(requests):
            mine.append(send(connection, requests[n]))
        connection.close()
        with lock:
            results.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, concurrency))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


# ---- the server ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`gunicorn 'portal:create_app()'` in its own process group, stopped whole on exit; the portal of
    this checkout, or of `root` (another checkout, to compare two versions on one release)."""

    def __init__(self, data_dir: Path, workers: int, log_path: Path, env: dict | None = None, port: int | None = None,
                 root: Path = ROOT):
        self.data_dir, self.workers, self.log_path, self.root = data_dir, workers, log_path, root
        self.extra_env = env or {}
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        env = {**os.environ, "CONGKHAI_DATA_DIR": str(self.data_dir), "SECRET_KEY": secrets.token_hex(16),
               "CONGKHAI_API_RATE_LIMIT": GENEROUS_LIMIT, "CONGKHAI_BATCH_RATE_LIMIT": GENEROUS_LIMIT,
               "CONGKHAI_PAGE_RATE_LIMIT": GENEROUS_LIMIT,
               "PYTHONPATH": str(self.root)}
        for name in ("DATABASE_URL", "CONGKHAI_SIGNING_KEY", "REDIS_URL"):
            env.pop(name, None)  # everything from the data directory; limits in each worker's memory
        env.update(self.extra_env)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                   "--timeout", str(STARTUP_SECONDS), "portal:create_app()"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {self.process.returncode}:\n{self.log_tail()}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
            try:
                connection.request("GET", "/api/v1/releases")  # cheap: the home page sums the register
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
            finally:
                connection.close()
        raise RuntimeError(f"the portal did not answer within {STARTUP_SECONDS} s:\n{self.log_tail()}")

    def worker_rss_mb(self) -> list[int]:
        """Resident memory of each worker, from /proc (Linux only; empty elsewhere)."""
        return [sizes["VmRSS"] for sizes in self.worker_memory_mb().values()]

    def worker_memory_mb(self, fields=("VmRSS",)) -> dict[int, dict[str, int]]:
        """`fields` of /proc/<pid>/status (VmRSS, RssAnon, RssFile...) in MB, per worker pid."""
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            sizes = {}
            for pid in children:
                status = Path(f"/proc/{pid}/status").read_text()
                sizes[int(pid)] = {name: int(status.split(f"{name}:")[1].split()[0]) // 1024 for name in fields}
            return sizes
        except (OSError, IndexError, ValueError):
            return {}

    def cpu_seconds(self) -> float:
        """User + system CPU of the master, its live workers and the workers it has reaped (a worker
        recycled by max_requests), from /proc (0.0 elsewhere)."""
        def stat(pid) -> list[int]:
            return [int(v) for v in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:15]]

        try:
            utime, stime, reaped_utime, reaped_stime = stat(self.process.pid)
            ticks = utime + stime + reaped_utime + reaped_stime
            for pid in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split():
                ticks += sum(stat(pid)[:2])
            return ticks / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0.0

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


# ---- the report ----------------------------------------------------------------------------------------

def percentiles(values: list[float]) -> tuple[float, float, float, float]:
    """p50, p95, p99 and max, in the unit of `values`."""
    if len(values) < 2:
        only = values[0] if values else float("nan")
        return only, only, only, only
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98], max(values)


@dataclass
class Figures:
    label: str
    results: list[Result]
    seconds: float | None = None
    target_ms: float | None = None
    target_on: str = "p95"
    errors: list[str] = field(init=False)

    def __post_init__(self):
        self.errors = [f"{r.request.method} {r.request.path[:100]}: {r.error}" for r in self.results if r.error]

    def line(self) -> str:
        p50, p95, p99, top = percentiles([r.ms for r in self.results])
        rate = f"{len(self.results) / self.seconds:8.1f}" if self.seconds else f"{'':8}"
        verdict = ""
        if self.target_ms is not None:
            value = {"p95": p95, "max": top}[self.target_on]
            met = "met" if value < self.target_ms and not self.errors else "NOT MET"
            verdict = f"  {self.target_on} < {self.target_ms:,.0f} ms: {met}"
        return (f"{self.label:34}{len(self.results):>7,}{len(self.errors):>7}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}"
                f"{top:>9.1f}{rate}{verdict}")


HEADER = f"{'request type':34}{'count':>7}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'req/s':>8}"


def machine_facts() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, {model}, Python {platform.python_version()}, "
            f"{platform.platform()}; load average {load}")


def batch_summary(results: list[Result]) -> str:
    """Outcomes the API reported for its first batch: proof the mix was answered row by row."""
    for result in results:
        if result.request.kind == "API" and not result.error:
            found = json.loads(result.body)["receipt"]["summary"]
            return ", ".join(f"{name} {count}" for name, count in sorted(found.items(), key=lambda kv: kv[0] != "rows"))
    return "no API batch answered"


# ---- main ----------------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=1_000_000, help="employers of the release to build")
    parser.add_argument("--reuse", type=Path, help="data directory with a published release (e.g. bench/out/data)")
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per type")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up requests per type (default: requests/10, at least 5 per client thread)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--batches", type=int, default=5, help="measured batch checks per channel (API, form)")
    parser.add_argument("--time-limit", type=float, default=300, help="most seconds spent on one request type")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "portal")
    parser.add_argument("--keep", action="store_true", help="keep the built release and the server log in --out")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def prepare(args: argparse.Namespace) -> tuple[Path, dict | None]:
    """The data directory to serve, built into --out unless --reuse names one."""
    out = args.out.resolve()
    if args.reuse:
        data_dir = args.reuse.resolve()
        if out == data_dir or out in data_dir.parents:
            raise SystemExit(f"--out {out} contains the reused data directory; it is removed at the end")
        shutil.rmtree(out, ignore_errors=True)
        return data_dir, None
    shutil.rmtree(out, ignore_errors=True)
    return out / "data", build_in_child(out, args.employers)


def measure(args: argparse.Namespace, release: Release, server: Server) -> list[str]:
    """Warm up, then measure each request type; the report's lines."""
    rng = random.Random(17)
    warmup = args.warmup if args.warmup is not None else max(args.concurrency * 5, args.requests // 10)
    started = time.perf_counter()
    warm = [r for requests in make_requests(rng, release.rows, warmup).values() for r in requests]
    warm_results, _ = run_requests(server.port, warm, args.concurrency, args.time_limit)
    warm_batches = [batch_request(channel, batch_codes(rng, release.rows), release.as_of) for channel in ("API", "form")]
    warm_results += run_requests(server.port, warm_batches, 1, args.time_limit)[0]
    warm_errors = Figures("warm-up", warm_results).errors
    lines = [f"warm-up: {len(warm_results):,} requests in {time.perf_counter() - started:.1f} s "
             f"({len(warm_errors)} errors), slowest {max(r.ms for r in warm_results):,.0f} ms", "", HEADER]

    figures = []
    for group, requests in make_requests(rng, release.rows, args.requests).items():
        results, seconds = run_requests(server.port, requests, args.concurrency, args.time_limit)
        figures.append(Figures(group, results, seconds, TARGETS_MS.get(group)))
        lines.append(figures[-1].line())
        if group == "search":
            for kind in sorted({r.request.kind for r in results}):
                lines.append(Figures(f"  {kind}", [r for r in results if r.request.kind == kind]).line())

    batches = [batch_request(channel, batch_codes(rng, release.rows), release.as_of)
               for _ in range(args.batches) for channel in ("API", "form")]
    results, seconds = run_requests(server.port, batches, 1, args.time_limit)  # one officer at a time
    for channel in ("API", "form"):
        figures.append(Figures(f"batch check of {BATCH_SIZE:,} ({channel})",
                               [r for r in results if r.request.kind == channel], None, BATCH_TARGET_MS, "max"))
        lines.append(figures[-1].line())
    lines.append(f"batch outcomes (first API batch): {batch_summary(results)}")
    total = sum(r.ms for r in results)
    lines.append(f"batch checks: {len(results)} in {total / 1000:.1f} s of requests, "
                 f"{total / max(1, len(results)):,.0f} ms each on average")

    errors = [e for f in figures for e in f.errors]
    lines.append(f"\nerrors: {len(errors)}")
    lines += [f"  {e}" for e in errors[:10]]
    rss = server.worker_rss_mb()
    if rss:
        lines.append(f"worker memory after the run: {', '.join(f'{mb:,} MB' for mb in rss)}")
    return lines


def stop_on_terminate(signum, frame):
    raise SystemExit(128 + signum)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.build_only:
        print(json.dumps(build_release(args.out, args.employers)))
        return
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop_on_terminate)  # `kill` too must stop the server
    print(machine_facts())
    data_dir, built = prepare(args)
    if built:
        print(f"built a release of {args.employers:,} employers in {args.out}: sample reports {built['sample']} s, "
              f"publish {built['publish']} s")
    release = load_release(data_dir)
    print(f"release {release.id}: {release.employers:,} employers from {data_dir} "
          f"({len(release.rows):,} sampled from employers.csv for queries and keys)")
    print(f"server: gunicorn -w {args.workers} (sync workers); client: {args.concurrency} threads over loopback, "
          f"{args.requests:,} requests per type, batch checks one at a time; targets: search p95 < "
          f"{TARGETS_MS['search']} ms, employer page p95 < {TARGETS_MS['employer page']} ms, "
          f"batch of {BATCH_SIZE:,} < {BATCH_TARGET_MS / 1000:.0f} s")
    try:
        with Server(data_dir, args.workers, args.out / "gunicorn.log") as server:
            for line in measure(args, release, server):
                print(line, flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
