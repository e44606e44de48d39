"""bench/load.py end to end on a tiny release (wrk against gunicorn, then Datasette beside it), so the
throughput benchmark the lead runs at 1,000,000 employers cannot rot. Needs wrk and the bench extra;
CI installs both."""
from __future__ import annotations

import os
import random
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.bench_scripts import load_bench_script


def load_bench():
    return load_bench_script("load")


def need(tool: str, why: str):
    if shutil.which(tool) or shutil.which(tool, path=str(Path(sys.executable).parent)):
        return
    if os.environ.get("CI"):
        pytest.fail(f"{tool} is missing: CI must run {why}")
    pytest.skip(f"{tool} is not installed ({why})")


def test_mixed_sequence_keeps_the_shares_and_repeats_popular_requests():
    bench = load_bench()
    rows = [{"key": f"{n:010d}", "tax_code": "", "unit_code": "", "name": f"Công ty TNHH Điện {n}",
             "province_code": "01", "status": "compliant"} for n in range(3000)]
    release = bench.Release(Path("."), "2026-11-24", "2026-11-24", len(rows), rows)
    sequence = bench.mixed_sequence(random.Random(1), release, count=10_000)
    kinds = [bench.kind_of(line) for line in sequence]
    shares = {kind: kinds.count(kind) / len(kinds) for kind in set(kinds)}
    assert abs(shares["search"] - 0.40) < 0.03 and abs(shares["employer"] - 0.40) < 0.03
    assert abs(shares["list"] - 0.15) < 0.02 and abs(shares["batch"] - 0.05) < 0.01
    searches = [line.path for line in sequence if line.path.startswith("/search")]
    top = max(set(searches), key=searches.count)
    assert searches.count(top) > 20  # Zipf: the popular query comes back again and again
    assert any("dien" in path.lower() for path in searches) and any("%C4%90" in path for path in searches)


@pytest.mark.slow
def test_tiny_run_measures_the_portal_and_datasette(tmp_path, capsys):
    need("wrk", "the throughput benchmark (apt-get install wrk)")
    need("datasette", "the Datasette comparison (pip install -e '.[bench]')")
    bench = load_bench()
    bench.main(["--employers", "300", "--duration", "2", "--concurrency", "2,4", "--workers", "2",
                "--datasette", "--recall-queries", "20", "--by-type", "--out", str(tmp_path / "out")])
    report = capsys.readouterr().out
    assert "release 2026-11-24: 300 employers" in report
    assert re.search(r"then every one of the [\d,]+ distinct pages of the sequence requested once", report)
    for label in ("cold cache, c=2", "warm, c=2", "warm, c=4", "search", "employer", "list", "batch"):
        line = next(line for line in report.splitlines() if line.startswith(label + " "))
        requests, rps, p50, p95, p99, errors, cpu_ms = line[len(label):].split()[:7]
        assert int(requests.replace(",", "")) > 0 and float(rps) > 0 and int(errors) == 0, line
        assert 0 < float(p50) <= float(p95) <= float(p99), line
        assert float(cpu_ms) > 0, line  # the portal's processes did some work for each request
    assert re.search(r"Datasette +c=4 .+req/s x[\d.]+", report)
    recall = re.search(r"Công khai (\d+)/(\d+) .+ Datasette (\d+)/(\d+)", report)
    assert recall and recall[1] == recall[2] == "20"  # every accent-free name found by Công khai
    assert int(recall[3]) < 20                        # and Datasette's default FTS misses some
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.redis
def test_each_server_starts_cold_in_a_redis_an_earlier_run_filled(tmp_path):
    from tests.portal.test_api import REDIS_URL, redis_or_skip

    redis_or_skip()
    bench = load_bench()
    bench._shared.build_release(tmp_path, 300)
    args = bench.parse_args(["--redis", REDIS_URL, "--workers", "1", "--out", str(tmp_path / "out")])

    def cache_states(path: str) -> list[str]:
        with bench.portal_server(tmp_path / "data", args, tmp_path / "out") as server:
            return [bench.urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=30)
                    .headers["X-Cache"] for _ in range(2)]

    assert cache_states("/search?q=cong+ty") == ["miss", "hit"]
    assert cache_states("/search?q=cong+ty") == ["miss", "hit"]  # the first run's entry is not this run's


@pytest.mark.slow
def test_against_another_checkout_alternates_the_runs_and_reports_the_ratios(tmp_path, capsys):
    """--against: two portals on one release, run after run in alternating order. This checkout
    against itself, so the ratios can only be near one."""
    need("wrk", "the throughput benchmark (apt-get install wrk)")
    bench = load_bench()
    bench.main(["--employers", "300", "--duration", "1", "--concurrency", "2", "--workers", "1", "--rounds", "2",
                "--against", str(bench.ROOT), "--out", str(tmp_path / "out")])
    report = capsys.readouterr().out.splitlines()
    runs = [line.split()[:3] for line in report if re.match(r"^[01] +c=2 [AB] ", line)]
    assert runs == [["0", "c=2", "A"], ["0", "c=2", "B"], ["1", "c=2", "B"], ["1", "c=2", "A"]]
    ratios = re.search(r"c=2: A / B, median of the rounds: req/s x([\d.]+), p95 x([\d.]+), CPU per request x([\d.]+)",
                       "\n".join(report))
    assert ratios and all(0.2 < float(ratio) < 5 for ratio in ratios.groups())
    with pytest.raises(SystemExit, match="not a checkout"):
        bench.main(["--reuse", str(tmp_path), "--against", str(tmp_path), "--out", str(tmp_path / "out2")])


def test_distinct_sequence_never_asks_the_same_url_twice():
    bench = load_bench()
    rows = [{"key": f"{n:010d}", "tax_code": "", "unit_code": "", "name": f"Công ty TNHH Điện {n}",
             "province_code": f"{n % 34:02d}", "sector": f"Ngành {n % 12}", "status": "compliant"} for n in range(3000)]
    release = bench.Release(Path("."), "2026-11-24", "2026-11-24", len(rows), rows)
    sequence = bench.distinct_sequence(random.Random(1), release, count=2000)
    assert len({(line.method, line.path, line.body) for line in sequence}) == len(sequence) > 1900
    kinds = [bench.kind_of(line) for line in sequence]
    shares = {kind: kinds.count(kind) / len(kinds) for kind in set(kinds)}
    assert abs(shares["search"] - 0.40) < 0.04 and abs(shares["employer"] - 0.40) < 0.04
    assert abs(shares["list"] - 0.15) < 0.04 and abs(shares["batch"] - 0.05) < 0.02
    assert not any(f"{sep}page=" in line.path for line in sequence if line.path.startswith("/lists/") for sep in "?&")


@pytest.mark.slow
def test_tiny_distinct_run_reports_each_concurrency(tmp_path, capsys):
    need("wrk", "the throughput benchmark (apt-get install wrk)")
    bench = load_bench()
    bench.main(["--employers", "300", "--duration", "2", "--concurrency", "2,4", "--workers", "2", "--distinct",
                "--out", str(tmp_path / "out")])
    report = capsys.readouterr().out
    assert "a portal just started, nothing primed" in report
    for label in ("distinct, c=2", "distinct, c=4"):
        line = next(line for line in report.splitlines() if line.startswith(label + " "))
        requests, rps, p50, p95, p99, errors = line[len(label):].split()[:6]
        assert int(requests.replace(",", "")) > 0 and float(rps) > 0 and int(errors) == 0, line
