"""A bounded soak of the portal (issue 9): the production mixed workload for ten minutes while new
releases are published underneath, every answer checked against the release it names.

Builds (or reuses) a data directory with one published release of N employers and sample reports
for the next day(s), starts `gunicorn 'portal:create_app()'` on 127.0.0.1, and for --duration
seconds sends issue 8's mixed workload (`bench/load.py`'s `mixed_sequence`: search 40 %, employer
pages 40 %, list pages 15 %, batch checks of 100 codes 5 %) from Python client threads on kept-alive
connections. Meanwhile `congkhai publish` runs in a subprocess --publishes times, spaced over the
run. Every answer is checked:

    status 200; an X-Release-Id header; the content names the same release (the page's
    <meta name="release-id">, the receipt's release and the body's release_id for batch checks);
    once a release has been current for longer than the portal's refresh delay
    (portal.current.CURRENT_RELEASE_SECONDS, plus SWITCH_MARGIN), no answer names an older one;
    no answer names a release before it became current.

An answer whose header and content name different releases is a *mixed* answer (must be 0). The
moment each release became current is read from the database (polled), and gunicorn's access log
(worker pid per request) says how long each worker took to serve it. Worker memory (VmRSS and
RssAnon from /proc) is sampled every --sample-seconds; anonymous memory's slope after --warmup is
"flat" below FLAT_MB_PER_MINUTE per worker (VmRSS also counts the pages of the memory-mapped SQLite
database and index a worker has touched: shared with every process and given back under pressure).

    .venv/bin/python bench/soak.py [--employers N | --reuse DIR] [--duration S] [--publishes K]
                                   [--concurrency C] [--workers W] [--port P] [--out DIR] [--keep]
                                   [--redis URL] [--max-requests N]

Workers are not recycled (gunicorn max_requests 0) unless --max-requests says so: recycling would
hide the leak the memory samples look for. Without --redis each worker caches rendered pages in its
own memory, bounded by CONGKHAI_CACHE_BYTES, and that cache filling shows as growth.

--reuse takes a directory an earlier `--keep` run left (data/ and reports/); reports for the next
days are generated there when missing. Exit status 1 when any answer was an error or mixed, or a
publish failed.
"""
from __future__ import annotations

import argparse
import http.client
import importlib.util
import itertools
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit


def _bench_load():
    """bench/load.py (the throughput benchmark), which itself loads bench/portal.py as `bench_portal`."""
    spec = importlib.util.spec_from_file_location("bench_load", Path(__file__).with_name("load.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_load = _bench_load()
_portal = _load._shared
ROOT, Line, Server, load_release, machine_facts, percentiles = (_portal.ROOT, _load.Line, _portal.Server,
                                                                _portal.load_release, _portal.machine_facts,
                                                                _portal.percentiles)

from portal.current import CURRENT_RELEASE_SECONDS  # noqa: E402

MAX_DURATION = 3600            # a soak is bounded: an hour at most
MAX_EXTENSION = 180            # most seconds the load goes on after --duration to see the last switch served
SWITCH_MARGIN = 2.0            # seconds beyond the portal's refresh delay: polling and requests in flight
FLAT_MB_PER_MINUTE = 1.0
REQUEST_TIMEOUT = 60
META = re.compile(rb'<meta name="release-id" content="([^"]+)">')
ACCESS_FORMAT = "%(p)s %({x-soak-id}i)s %({x-release-id}o)s"


# ---- the data directory --------------------------------------------------------------------------------

def current_release_day(data_dir: Path) -> date:
    index = json.loads((data_dir / "releases" / "index.json").read_text(encoding="utf-8"))
    return date.fromisoformat(index["current"])


def next_days(base: Path, count: int) -> list[tuple[date, Path]]:
    """The days after the current release and their report directories (which may not exist yet)."""
    first = current_release_day(base / "data")
    return [(day, base / "reports" / day.isoformat()) for day in (first + timedelta(n) for n in range(1, count + 1))]


def build(base: Path, employers: int, publishes: int, reuse: bool) -> dict:
    """A published release (unless reused) and the next days' sample reports; seconds taken."""
    from publisher.sample import generate_reports

    timings = {} if reuse else _portal.build_release(base, employers)
    started = time.perf_counter()
    for day, reports in next_days(base, publishes):
        if not reports.is_dir():
            previous = base / "reports" / (day - timedelta(1)).isoformat()
            if not previous.is_dir():
                raise SystemExit(f"{previous}: no reports to derive {day}'s from")
            generate_reports(reports, employers, day, seed=1, previous=previous)
    timings["next_days"] = round(time.perf_counter() - started, 1)
    return timings


def build_in_child(base: Path, args: argparse.Namespace) -> dict:
    """Build in a child process, so this process (the load generator) stays small."""
    command = [sys.executable, __file__, "--build-only", "--out", str(base), "--employers", str(args.employers),
               "--publishes", str(args.publishes)] + (["--reuse", str(base)] if args.reuse else [])
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


# ---- the requests ----------------------------------------------------------------------------------------

def kind_of(line: Line) -> str:
    return "batch" if line.method == "POST" else line.path.split("/")[1].split("?")[0]


def for_today(line: Line) -> Line:
    """A batch check without its date: answered from the latest release, as an officer checking today is,
    so that after a switch it too must name the new release (with the first release's date it would
    rightly keep answering from that one)."""
    if line.method != "POST":
        return line
    return Line(line.method, line.path, json.dumps({"codes": json.loads(line.body)["codes"]}))


def with_page(path: str, page: int) -> str:
    parts = urlsplit(path)
    args = dict(parse_qsl(parts.query))
    args["page"] = str(page)
    return f"{parts.path}?{urlencode(args)}"


def soak_sequence(port: int, release) -> tuple[list[Line], int]:
    """load.py's mixed sequence, the list pages that exist now and will still exist tomorrow (a page
    beyond page 1 is kept when the page after it exists too: a day's changes cannot empty it), batch
    checks for today; how many requests were left out."""
    drawn = [for_today(line) for line in _load.mixed_sequence(random.Random(23), release)]
    kept, dropped = _load.answered(port, drawn)
    later = {with_page(line.path, int(dict(parse_qsl(urlsplit(line.path).query))["page"]) + 1): line.path
             for line in kept if kind_of(line) == "lists" and dict(parse_qsl(urlsplit(line.path).query)).get("page", "1") != "1"}
    following = [Line("GET", path) for path in later]
    exists = {line.path for line in _load.answered(port, following)[0]}
    unstable = {page for nxt, page in later.items() if nxt not in exists}
    stable = [line for line in kept if line.path not in unstable]
    return stable, dropped + len(kept) - len(stable)


# ---- sending and checking --------------------------------------------------------------------------------

@dataclass(slots=True)
class Answer:
    rid: int
    kind: str
    start: float                # seconds since the load began
    end: float
    status: int | None
    header: str | None          # X-Release-Id
    content: str | None         # the release the content names
    error: str | None = None
    mixed: bool = False


def content_release(kind: str, body: bytes) -> tuple[str | None, str | None]:
    """The release the content names, and what is wrong with it (None when nothing is)."""
    if kind == "batch":
        try:
            document = json.loads(body)
            named = {document["release_id"], document["receipt"]["release"]["id"]}
        except (ValueError, KeyError, TypeError):
            return None, "receipt without a release"
        if len(named) > 1:
            return "/".join(sorted(named)), "body names two releases"
        return named.pop(), None
    found = META.search(body, 0, 16384)
    return (found[1].decode(), None) if found else (None, "page without a release-id")


def send(connection: http.client.HTTPConnection, line: Line, rid: int, t0: float) -> Answer:
    headers = {"Accept-Language": "vi", "X-Soak-Id": str(rid)}
    if line.body:
        headers["Content-Type"] = "application/json"
    kind = kind_of(line)
    started = time.monotonic()
    try:
        connection.request(line.method, line.path, line.body.encode() if line.body else None, headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return Answer(rid, kind, started - t0, time.monotonic() - t0, None, None, None, type(error).__name__)
    ended = time.monotonic()
    header = response.getheader("X-Release-Id")
    return Answer(rid, kind, started - t0, ended - t0, response.status, header,
                  *judge(kind, response.status, header, body))


def judge(kind: str, status: int, header: str | None, body: bytes) -> tuple[str | None, str | None, bool]:
    """The release the content names, the error (None when there is none), and whether the answer is
    mixed: its header and its content (or two places in its content) name different releases."""
    if status != 200:
        return None, f"HTTP {status}", False
    content, error = content_release(kind, body)
    if error == "body names two releases":
        return content, None, True
    if header is None:
        return content, error or "no X-Release-Id header", False
    return content, error, content is not None and header != content


class Load:
    """Client threads cycling through the sequence, each from its own starting point, until stopped."""

    def __init__(self, port: int, sequence: list[Line], concurrency: int):
        self.port, self.sequence, self.concurrency = port, sequence, concurrency
        self.answers: list[Answer] = []
        self.ids = itertools.count()
        self.stop_at = float("inf")
        self.t0 = 0.0

    def worker(self, offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        n = offset
        while time.monotonic() < self.stop_at:
            self.answers.append(send(connection, self.sequence[n % len(self.sequence)], next(self.ids), self.t0))
            n += 1
        connection.close()

    def start(self, t0: float) -> list[threading.Thread]:
        self.t0 = t0
        rng = random.Random(5)
        threads = [threading.Thread(target=self.worker, args=(rng.randrange(len(self.sequence)),), daemon=True)
                   for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        return threads


# ---- what happens underneath: publishing, the current release, memory ---------------------------------------

@dataclass
class Publish:
    day: date
    started: float
    ended: float | None = None
    status: int | None = None


def publish_command(reports: Path, day: date) -> list[str]:
    tool = shutil.which("congkhai", path=str(Path(sys.executable).parent)) or "congkhai"
    return [tool, "publish", "--input", str(reports), "--as-of", day.isoformat(), "--quiet"]


def publish_underneath(days: list[tuple[date, Path]], data_dir: Path, at: list[float], t0: float, log: Path,
                       done: list[Publish], stop: threading.Event) -> None:
    """Run `congkhai publish` for each day at its moment (seconds after t0), one after the other."""
    env = {**os.environ, "CONGKHAI_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    for name in ("DATABASE_URL", "CONGKHAI_SIGNING_KEY"):
        env.pop(name, None)  # the same data directory and database the portal serves
    for (day, reports), moment in zip(days, at):
        if stop.wait(max(0.0, t0 + moment - time.monotonic())):
            return
        record = Publish(day, time.monotonic() - t0)
        done.append(record)
        with open(log, "ab") as out:
            record.status = subprocess.run(publish_command(reports, day), env=env, cwd=ROOT, stdout=out,
                                           stderr=subprocess.STDOUT).returncode
        record.ended = time.monotonic() - t0


def watch_current(data_dir: Path, t0: float, switches: list[tuple[float, str]], stop: threading.Event) -> None:
    """Poll the database for the current release (the newest complete one, as the portal asks) and note
    when it changes."""
    from sqlalchemy import create_engine, text

    from congkhai.config import load_settings

    engine = create_engine(load_settings(env={}, CONGKHAI_DATA_DIR=str(data_dir))["DATABASE_URL"])
    query = text("SELECT id FROM releases WHERE state = 'complete' ORDER BY as_of DESC LIMIT 1")
    try:
        while not stop.is_set():
            with engine.connect() as connection:
                current = connection.scalar(query)
            if current and (not switches or switches[-1][1] != current):
                switches.append((time.monotonic() - t0, current))
            stop.wait(0.1)
    finally:
        engine.dispose()


def sample_memory(server: Server, t0: float, every: float, samples: list, stop: threading.Event) -> None:
    while True:
        samples.append((time.monotonic() - t0, server.worker_memory_mb(("VmRSS", "RssAnon"))))
        if stop.wait(every):
            return


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB), in MB per minute."""
    if len(points) < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread if spread else 0.0


def other_processes(own: set[int], count: int = 5) -> str:
    """The busiest other processes by CPU share, as `ps` sees them: what else was running."""
    try:
        output = subprocess.run(["ps", "-eo", "pid,ppid,pcpu,comm", "--sort=-pcpu", "--no-headers"],
                                capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "ps unavailable"
    busy = []
    for line in output.splitlines():
        pid, ppid, cpu, command = line.split(None, 3)
        if int(pid) not in own and int(ppid) not in own and float(cpu) >= 1.0:
            busy.append(f"{command} {cpu} %")
    return ", ".join(busy[:count]) or "nothing above 1 % CPU"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ---- the report -------------------------------------------------------------------------------------------

def check_releases(answers: list[Answer], switches: list[tuple[float, str]], grace: float) -> None:
    """Mark answers that name a release before it was current, or an older one once the newer one has
    been current for longer than `grace` seconds."""
    since = {release: moment for moment, release in switches}
    since[switches[0][1]] = float("-inf")  # current before the load began
    for answer in answers:
        if answer.error or answer.header is None:
            continue
        if answer.header not in since or since[answer.header] > answer.end:
            answer.error = "release served before it was current"
            continue
        due = [release for moment, release in switches if moment + grace < answer.start]
        if due and answer.header < due[-1]:
            answer.error = "stale release after the switch"


def worker_of(access_log: Path) -> dict[int, int]:
    """Request id -> worker pid, from gunicorn's access log."""
    workers = {}
    try:
        for line in access_log.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].strip("<>").isdigit() and parts[1].isdigit():
                workers[int(parts[1])] = int(parts[0].strip("<>"))
    except OSError:
        pass
    return workers


def switch_lines(answers: list[Answer], switches, publishes: list[Publish], workers: dict[int, int],
                 worker_count: int) -> list[str]:
    lines = [f"release {switches[0][1]} current at the start"]
    for n, (moment, release) in enumerate(switches[1:]):
        run = publishes[n] if n < len(publishes) else None
        took = f"publish started at +{run.started:.1f} s, took {run.ended - run.started:.1f} s; " if run and run.ended else ""
        naming = [a for a in answers if a.header == release]
        first = min((a.end for a in naming), default=None)
        per_worker: dict[int, float] = {}
        for answer in naming:
            pid = workers.get(answer.rid)
            if pid is not None:
                per_worker[pid] = min(per_worker.get(pid, float("inf")), answer.end)
        older = [a for a in answers if a.header and a.header < release and a.start > moment]
        text = f"release {release} current at +{moment:.1f} s ({took}"
        text += (f"first answer naming it {first - moment:+.1f} s after; " if first is not None
                 else "no answer named it; ")
        if per_worker:
            text += (f"{len(per_worker)} worker processes ({worker_count} at a time) served it, the last to "
                     f"{max(per_worker.values()) - moment:.1f} s after; ")
        text += (f"last answer naming an older release started {max(a.start for a in older) - moment:.1f} s after)"
                 if older else "no answer started after it named an older release)")
        lines.append(text)
    return lines


def steady(series: list, moments: list[float], warmup: float) -> list:
    """The samples outside a warm-up after the start and after each release switch (a new release
    opens its search index and fills fresh caches: a step, not a leak)."""
    return [(t, s) for t, s in series if all(not (m <= t < m + warmup) for m in moments)]


def memory_lines(samples, warmup: float, switch_moments: list[float]) -> tuple[list[str], bool]:
    pids = sorted({pid for _, sizes in samples for pid in sizes})
    if not pids:
        return ["worker memory: not available (no /proc)"], True
    lines, flat = [], True
    first_pids = set(samples[0][1])
    for pid in pids:
        series = [(t, sizes[pid]) for t, sizes in samples if pid in sizes]
        after = [(t, s) for t, s in series if t >= warmup] or series
        middle = after[len(after) // 2]
        calm = steady(after, switch_moments, warmup) or after
        rss_slope = slope_per_minute([(t, s["VmRSS"]) for t, s in after])
        calm_slope = max(slope_per_minute([(t, s["RssAnon"]) for t, s in part])
                         for part in segments(calm, switch_moments))
        anon_slope = slope_per_minute([(t, s["RssAnon"]) for t, s in after])
        flat = flat and calm_slope < FLAT_MB_PER_MINUTE
        lines.append(f"  worker {pid}{'' if pid in first_pids else ' (started during the run)'}: RSS "
                     f"{series[0][1]['VmRSS']:,} MB at start, {after[0][1]['VmRSS']:,} after the warm-up, "
                     f"{middle[1]['VmRSS']:,} in the middle, {series[-1][1]['VmRSS']:,} at the end; "
                     f"slope after the warm-up {rss_slope:+.2f} MB/min; anonymous {after[0][1]['RssAnon']:,} -> "
                     f"{series[-1][1]['RssAnon']:,} MB, {anon_slope:+.2f} MB/min, between switches "
                     f"{calm_slope:+.2f} MB/min")
    restarted = len(pids) - len(first_pids)
    head = (f"worker memory ({len(samples)} samples; flat = anonymous memory's slope below {FLAT_MB_PER_MINUTE} MB/min in every "
            f"steady stretch, i.e. leaving out {warmup:.0f} s of warm-up after the start and after each switch): "
            f"{'flat' if flat else 'NOT FLAT'}" + (f"; {restarted} workers restarted" if restarted else ""))
    return [head] + lines, flat


def segments(series: list, moments: list[float]) -> list[list]:
    """`series` cut at each moment; stretches of fewer than two samples left out (no slope)."""
    cuts = [float("-inf"), *moments, float("inf")]
    parts = [[(t, s) for t, s in series if low <= t < high] for low, high in zip(cuts, cuts[1:])]
    return [part for part in parts if len(part) >= 2] or [series]


def write_memory(samples, path: Path) -> None:
    """Every sample as CSV (seconds, pid, VmRSS, RssAnon), to plot or to check the verdict."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("seconds,pid,rss_mb,anon_mb\n")
        for t, sizes in samples:
            for pid, size in sorted(sizes.items()):
                out.write(f"{t:.1f},{pid},{size['VmRSS']},{size['RssAnon']}\n")


def report(answers: list[Answer], seconds: float, switches, publishes, workers, worker_count, samples,
           warmup: float) -> tuple[list[str], bool]:
    latencies = [(a.end - a.start) * 1000 for a in answers if a.status is not None]
    p50, p95, p99, top = percentiles(latencies)
    errors = Counter(f"{a.error} ({a.kind})" for a in answers if a.error)
    mixed = [a for a in answers if a.mixed]
    kinds = Counter(a.kind for a in answers)
    lines = [f"requests: {len(answers):,} in {seconds:.1f} s, {len(answers) / seconds:.1f} req/s "
             f"({', '.join(f'{k} {n:,}' for k, n in sorted(kinds.items()))})",
             f"latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms, max {top:.1f} ms",
             f"errors: {sum(errors.values())}"]
    lines += [f"  {count:,} {what}" for what, count in errors.most_common()]
    lines.append(f"mixed-release answers (header and content name different releases): {len(mixed)}")
    lines += [f"  {a.kind} at +{a.start:.1f} s: header {a.header}, content {a.content}" for a in mixed[:10]]
    failed = [p for p in publishes if p.status != 0]
    lines.append(f"publishes: {len(publishes)}, failed: {len(failed)}"
                 + "".join(f"; {p.day} exited {p.status}" for p in failed))
    lines += switch_lines(answers, switches, publishes, workers, worker_count)
    served = Counter(workers.get(a.rid) for a in answers if workers.get(a.rid))
    if served:
        lines.append("answers per worker: " + ", ".join(f"{pid} {n:,}" for pid, n in sorted(served.items())))
    memory, _flat = memory_lines(samples, warmup, [moment for moment, _ in switches[1:]])
    lines += memory
    return lines, bool(errors or mixed or failed)


# ---- main --------------------------------------------------------------------------------------------------

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=100_000, help="employers of the release to build")
    parser.add_argument("--reuse", type=Path, help="directory an earlier --keep run left (data/ and reports/)")
    parser.add_argument("--duration", type=float, default=600, help=f"seconds of load (at most {MAX_DURATION})")
    parser.add_argument("--publishes", type=int, default=1, help="releases published underneath, spaced over the run")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=None, help="port of the portal (default: a free one)")
    parser.add_argument("--warmup", type=float, default=150, help="seconds left out of the memory slope "
                                                                  "after the start and each switch, at most a quarter "
                                                                  "of the run: longer than one pass over the pool "
                                                                  "(60 s was not, and fresh caches read as growth)")
    parser.add_argument("--redis", default=None, help="REDIS_URL for the portal: rendered pages cached there, as in "
                                                      "production, instead of in each worker's bounded memory")
    parser.add_argument("--max-requests", type=int, default=0,
                        help="gunicorn max_requests (default 0: no worker recycled, so a leak would show)")
    parser.add_argument("--sample-seconds", type=float, default=5, help="seconds between memory samples")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "soak")
    parser.add_argument("--keep", action="store_true", help="keep the built data, reports and logs in --out")
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION:
        parser.error(f"--duration must be between 0 and {MAX_DURATION} seconds")
    if args.publishes < 1:
        parser.error("--publishes must be at least 1")
    return args


def soak(args: argparse.Namespace, base: Path, release, logs: Path) -> tuple[list[str], bool]:
    data_dir = release.data_dir
    days = next_days(base, args.publishes)
    warmup = min(args.warmup, args.duration / 4)
    grace = CURRENT_RELEASE_SECONDS + SWITCH_MARGIN
    access_log = logs / "access.log"
    access_log.unlink(missing_ok=True)
    env = {"GUNICORN_CMD_ARGS": f"--access-logfile {shlex.quote(str(access_log))} "
                                f"--access-logformat {shlex.quote(ACCESS_FORMAT)}",
           "GUNICORN_MAX_REQUESTS": str(args.max_requests)}
    if args.redis:
        env["REDIS_URL"] = args.redis
    lines = []
    with Server(data_dir, args.workers, logs / "gunicorn.log", env, args.port) as server:
        sequence, dropped = soak_sequence(server.port, release)
        lines.append(f"sequence: {len(sequence):,} pre-drawn requests ({dropped:,} list pages that may not exist "
                     f"tomorrow left out), cycled by {args.concurrency} client threads from their own starting points")
        lines.append(f"before the load: load average {load_average()}; busiest other processes: "
                     f"{other_processes({os.getpid(), server.process.pid})}")
        stop = threading.Event()
        switches: list[tuple[float, str]] = []
        publishes: list[Publish] = []
        samples: list = []
        load = Load(server.port, sequence, args.concurrency)
        t0 = time.monotonic()
        at = [args.duration * n / (args.publishes + 1) for n in range(1, args.publishes + 1)]
        helpers = [threading.Thread(target=watch_current, args=(data_dir, t0, switches, stop), daemon=True),
                   threading.Thread(target=sample_memory, args=(server, t0, args.sample_seconds, samples, stop),
                                    daemon=True),
                   threading.Thread(target=publish_underneath,
                                    args=(days, data_dir, at, t0, logs / "publish.log", publishes, stop), daemon=True)]
        for thread in helpers:
            thread.start()
        load.stop_at = t0 + args.duration
        clients = load.start(t0)
        middle_load = None
        while time.monotonic() < load.stop_at:
            time.sleep(0.5)
            elapsed = time.monotonic() - t0
            if middle_load is None and elapsed >= args.duration / 2:
                middle_load = load_average()
            if elapsed >= args.duration - 1:   # see the last release served by every worker, within bounds
                finished = len(publishes) == len(days) and all(p.ended is not None for p in publishes)
                seen = len(switches) > len(days) or (finished and any(p.status for p in publishes))
                wanted = (switches[-1][0] + grace + 2) if seen else float("inf")
                load.stop_at = t0 + min(max(args.duration, wanted), args.duration + MAX_EXTENSION)
        for thread in clients:
            thread.join()
        seconds = time.monotonic() - t0
        end_load, busy = load_average(), other_processes({os.getpid(), server.process.pid})
        stop.set()
        for thread in helpers:
            thread.join(timeout=REQUEST_TIMEOUT)
    if len(switches) <= len(days):
        lines.append(f"only {len(switches) - 1} of {len(days)} new releases became current during the run")
    check_releases(load.answers, switches, grace)
    lines.append(f"load ran {seconds:.1f} s ({max(0.0, seconds - args.duration):.1f} s beyond --duration to see the "
                 f"last release served); load average at the middle {middle_load or 'n/a'}, at the end {end_load}; "
                 f"busiest other processes at the end: {busy}")
    lines.append(f"switch allowance: an answer started more than {grace:.0f} s after a release became current must "
                 f"name it (the portal re-reads the current release every {CURRENT_RELEASE_SECONDS} s per worker)")
    write_memory(samples, logs / "memory.csv")
    body, failed = report(load.answers, seconds, switches, publishes, worker_of(access_log), args.workers, samples,
                          warmup)
    failed = failed or len(switches) <= len(days)
    return lines + body, failed


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.build_only:
        print(json.dumps(build(args.out, args.employers, args.publishes, reuse=args.reuse is not None)))
        return 0
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _portal.stop_on_terminate)  # `kill` too must stop the server
    print(machine_facts())
    out = args.out.resolve()
    base = args.reuse.resolve() if args.reuse else out
    if not args.reuse:
        shutil.rmtree(out, ignore_errors=True)
    logs = out / "logs" if not args.reuse else base / "logs"
    try:
        built = build_in_child(base, args)
        if not args.reuse:
            print(f"built a release of {args.employers:,} employers in {base}: sample reports {built['sample']} s, "
                  f"publish {built['publish']} s")
        print(f"next days' sample reports ready in {built['next_days']} s")
        release = load_release(base / "data")
        days = next_days(base, args.publishes)
        print(f"release {release.id}: {release.employers:,} employers; publishing underneath: "
              f"{', '.join(day.isoformat() for day, _ in days)}")
        print(f"page cache: {'Redis ' + args.redis if args.redis else 'in each worker (CONGKHAI_CACHE_BYTES)'}; "
              f"gunicorn max_requests {args.max_requests or 'off'}")
        print(f"server: gunicorn -w {args.workers} with gunicorn.conf.py (gthread, "
              f"{os.environ.get('GUNICORN_THREADS', 4)} threads each); client: {args.concurrency} Python threads over "
              f"loopback, keep-alive; {args.duration:.0f} s of load; workload: "
              f"{', '.join(f'{k} {w} %' for k, w in _load.MIX)}; batch checks of {_load.BATCH_CODES} codes")
        logs.mkdir(parents=True, exist_ok=True)
        lines, failed = soak(args, base, release, logs)
        for line in lines:
            print(line, flush=True)
        print("verdict: " + ("FAILED (errors, mixed answers or a failed publish)" if failed
                             else "zero errors, zero mixed answers"))
        return 1 if failed else 0
    finally:
        if not args.keep and not args.reuse:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
