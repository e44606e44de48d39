"""bench/year.py runs end to end on a small register: a line per day, the year's extrapolation,
archived releases restored and verified, and the uncached pages of the last day."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "year.py"


@pytest.mark.skipif(shutil.which("zstd") is None, reason="the zstd command is not installed")
def test_year_bench_prints_every_day_the_year_and_verifies_the_archive(tmp_path):
    command = [sys.executable, str(BENCH), "--employers", "600", "--days", "9", "--page-requests", "1",
               "--out", str(tmp_path / "out")]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    days = re.findall(r"^ +(\d+) +[\d.]+ +[\d.]+ +\d+ +[\d.]+ +[\d.]+ +\d+ +\d+ +[\d.]+ +\d+ +\d+  ", output, re.M)
    assert days == [str(n) for n in range(1, 10)], output
    assert re.search(r"^a year at 1,000,000 employers, sizes scaled by [\d.]+: [\d.,]+ GB", output, re.M), output
    assert len(re.findall(r"^\d{4}-\d{2}-\d{2}: restored and verified in", output, re.M)) == 2, output
    assert "uncached pages on day 9:" in output
    assert not (tmp_path / "out").exists()
