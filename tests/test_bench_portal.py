"""bench/portal.py end to end on a tiny release, so the benchmark the lead runs at 1,000,000
employers cannot rot: it builds, serves through gunicorn, sends every request type and reports."""
from __future__ import annotations

import re

import pytest

from tests.bench_scripts import load_bench_script


def load_bench():
    return load_bench_script("portal")


def figures_row(report: str, label: str) -> tuple[int, int, list[float]]:
    """count, errors and the four latencies of a row of the report."""
    line = next(line for line in report.splitlines() if line.startswith(label))
    numbers = line[len(label):].split()
    return int(numbers[0].replace(",", "")), int(numbers[1]), [float(x.replace(",", "")) for x in numbers[2:6]]


@pytest.mark.slow
def test_tiny_run_reports_every_request_type_without_errors(tmp_path, capsys):
    bench = load_bench()
    out = tmp_path / "out"
    bench.main(["--employers", "300", "--requests", "24", "--batches", "1", "--concurrency", "3", "--out", str(out)])
    report = capsys.readouterr().out

    assert re.search(r"machine: .+, \d+ cores, .+, Python 3\.\d+", report)
    assert "release 2026-11-24: 300 employers" in report
    for label, count in (("search ", 24), ("employer page ", 24), ("employer .json ", 24),
                         ("batch check of 1,000 (API) ", 1), ("batch check of 1,000 (form) ", 1)):
        measured, errors, latencies = figures_row(report, label)
        assert (measured, errors) == (count, 0), label
        assert all(ms > 0 for ms in latencies) and latencies == sorted(latencies), label
    assert "p95 < 100 ms:" in report and "p95 < 30 ms:" in report and "max < 2,000 ms:" in report
    outcomes = dict(re.findall(r"(\w+) (\d+)", report.split("batch outcomes (first API batch):")[1].splitlines()[0]))
    assert int(outcomes["rows"]) == 1000 and int(outcomes["unknown"]) > 0 and int(outcomes["malformed"]) > 0
    assert "\nerrors: 0\n" in report
    assert not out.exists()  # no --keep: the release and the server log are removed


def test_batch_codes_mix_real_unknown_malformed_and_repeated():
    bench = load_bench()
    rows = [{"key": key} for key in ("0100233488", "0100233488-001", "CT0004A", "0104462009")]
    codes = bench.batch_codes(bench.random.Random(1), rows, 400)
    assert len(codes) == 400
    real = {"0100233488", "0100233488-001", "0100233488001", "CT0004A", "0104462009"}
    assert set(codes) & real == real
    others = [c for c in codes if c not in real]
    assert any(bench.mst.is_valid(c) for c in others)       # unknown but well-formed tax codes
    assert any(not bench.mst.is_valid(c) for c in others)   # malformed ones
