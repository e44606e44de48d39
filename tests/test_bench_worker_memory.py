"""bench/worker_memory.py on a tiny release, so the leak check behind the soak's memory figures
cannot rot."""
from __future__ import annotations

import re

import pytest

from tests.bench_scripts import load_bench_script


@pytest.mark.slow
def test_passes_over_the_same_requests_report_memory_and_a_verdict(tmp_path, capsys):
    load_bench_script("portal").build_release(tmp_path, 300)
    status = load_bench_script("worker_memory").main(["--reuse", str(tmp_path / "data"), "--requests", "300", "--passes", "3"])
    report = capsys.readouterr().out
    assert "release 2026-11-24: 300 employers; 300 requests a pass from 4 threads; page cache in this process" in report
    assert re.search(r"before the first request: anonymous memory [\d,]+ MB", report)
    assert len(re.findall(r"after pass \d: anonymous memory [\d,]+ MB", report)) == 3
    assert re.search(r"passes 2-3: anonymous memory [+-]\d+ MB after the warm-up pass, then [+-]\d+ MB over 300 more", report)
    assert ("verdict: level" in report) == (status == 0)
