"""bench/read.py end to end on a few hundred employers in every layout, against this checkout itself,
so the reading benchmark cannot rot."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_read_bench_reads_every_report_in_both_trees_and_prints_the_ratios(tmp_path):
    command = [sys.executable, str(ROOT / "bench" / "read.py"), "--employers", "400", "--layout", "mixed",
               "--rounds", "2", "--against", str(ROOT), "--out", str(tmp_path / "out")]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    lines = re.findall(r"^round (\d) (this|against) +wall +[\d.]+ s +cpu +[\d.]+ s +peak tree +[\d,]+ MB +"
                       r"records 400 \(rejected 0, failed reports 0\)", output, re.M)
    assert lines == [("1", "this"), ("1", "against"), ("2", "against"), ("2", "this")], output
    assert re.search(r"^ratio this/against cpu: [\d.]+, [\d.]+ \(median [\d.]+\)$", output, re.M)
    assert not any((tmp_path / "out").iterdir())
