"""bench/publish.py end to end on a few hundred employers, on a PostgreSQL schema of its own (the
SQLite default takes the same path, but for the schema), so the national-scale publishing
benchmark cannot rot."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL, _postgres_available

BENCH = Path(__file__).resolve().parent.parent / "bench" / "publish.py"


@pytest.mark.postgres
def test_publish_bench_reports_both_releases_step_by_step_and_drops_its_schema(tmp_path):
    reason = _postgres_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    command = [sys.executable, str(BENCH), "--employers", "300", "--out", str(tmp_path / "out"),
               "--database-url", POSTGRES_URL, "--next-days", "2"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout

    for label in ("first release", "next-day release"):
        line = re.search(rf"^{label} \(.*\): [\d.]+ s \([\d.]+ CPU s; load .*process tree's sampled peak [\d,]+ MB.*$",
                         output, re.M)
        assert line, output
    assert re.findall(r"^next-day release \((2026-11-2\d)\)", output, re.M) == ["2026-11-25", "2026-11-26"]
    assert len(re.findall(r"^  (index|database) +[\d.]+ s$", output, re.M)) == 6
    assert re.search(r"PostgreSQL schema: [\d,]+ MB", output)
    assert not (tmp_path / "out").exists()
    schema = re.search(r"search_path%3D(bench_[0-9a-f]+)", output).group(1)
    engine = sa.create_engine(POSTGRES_URL)
    with engine.connect() as conn:
        left = conn.execute(sa.text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema}).scalar()
    engine.dispose()
    assert left == 0, f"schema {schema} was not dropped"


def test_publish_bench_against_another_checkout_publishes_the_same_reports_with_both(tmp_path):
    """This checkout against itself: both lines for every day, alternated, with their ratios."""
    command = [sys.executable, str(BENCH), "--employers", "200", "--out", str(tmp_path / "out"), "--next-days", "1",
               "--against", str(BENCH.parent.parent)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    against = re.findall(r"^  against .* \((after|before) this one; its steps in the second column\): [\d.]+ s "
                         r"\([\d.]+ CPU s; load .*\), process tree [\d,]+ MB .*, ([\d,]+) employers; "
                         r"this / against: wall [\d.]+, CPU [\d.]+$", output, re.M)
    assert [when for when, _ in against] == ["after", "before"], output
    employers = re.findall(r"^(?:first|next-day) release \(.*?\): .*?, ([\d,]+) employers", output, re.M)
    assert employers == [count for _, count in against]
    assert len(re.findall(r"^  index +[\d.]+ s +[\d.]+ s$", output, re.M)) == 2  # both checkouts' step times


def test_publish_bench_refuses_a_directory_that_is_no_checkout(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH), "--against", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode != 0 and "not a checkout of this project" in done.stderr
