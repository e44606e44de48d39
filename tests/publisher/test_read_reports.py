"""Reading a day's reports (publisher/read_reports.py): worker processes read what one process reads."""
import os
from datetime import timedelta

import pytest

from publisher import read_reports
from publisher.errors import Problem
from publisher.read import discover_reports

from .factory import AS_OF, write_all


def outcomes(directory, memo_dir=None):
    found, _ = discover_reports(directory)
    read = list(read_reports.read_all(found, AS_OF, "repair", memo_dir))
    return sorted(((o.province_code, o.message) if isinstance(o, Problem) else
                   (o.report.province_code, o.records, o.rejects, o.rows_read, o.column_sums) for o in read),
                  key=lambda outcome: outcome[0])


def test_worker_processes_read_what_one_process_reads(tmp_path, monkeypatch):
    """Each report in a fresh worker (forked from a small server, not from the publisher), with a
    damaged report among them, through the memo and without it: the same records, rejects and sums."""
    write_all(tmp_path / "in", rows_per_province=5, overrides={("79", 1): dict(name="Công ty TNHH Đức Đạt"),
                                                               ("01", 2): dict(tax_code="0100109107")})
    (tmp_path / "in" / "48-bao-cao.csv").write_bytes(b"\x00\x01 not a report")
    alone = outcomes(tmp_path / "in")
    monkeypatch.setattr(read_reports, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert outcomes(tmp_path / "in") == alone
    assert outcomes(tmp_path / "in", tmp_path / "memo") == alone
    assert outcomes(tmp_path / "in", tmp_path / "memo") == alone  # recalled from the memo the workers wrote
    assert len(list((tmp_path / "memo").iterdir())) == 33
    assert [o[0] for o in alone if len(o) == 2] == ["48"]


def test_two_days_read_by_worker_processes_refuse_damage_and_publish_only_payment(tmp_path, settings, monkeypatch):
    """The publisher's own path with every report in a worker process, day after day (the second
    through the memo the first left): a report cut in half is refused naming its file, an offender
    left out of its report is refused naming it, and only a report saying it paid takes it off the list."""
    import csv

    from congkhai.config import Paths
    from publisher.errors import VerificationError
    from publisher.pipeline import publish

    from .factory import tax_code

    monkeypatch.setattr(read_reports, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    owing = dict(arrears_bhxh=9_000_000, arrears_bhyt=1_000_000, months_late=4)
    day2 = AS_OF + timedelta(days=1)

    def listed(day):
        with (paths.release(day.isoformat()) / "delinquent.csv").open(encoding="utf-8") as handle:
            return {row["key"] for row in csv.DictReader(handle)}

    write_all(tmp_path / "d1", rows_per_province=5, overrides={("01", 3): owing})
    publish(tmp_path / "d1", AS_OF, settings)
    assert tax_code(4) in listed(AS_OF) and len(list(paths.row_memo.iterdir())) == 34

    write_all(tmp_path / "cut", as_of=day2, rows_per_province=5, overrides={("01", 3): owing})
    damaged = next((tmp_path / "cut").glob("79*"))
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    with pytest.raises(VerificationError, match=damaged.name):
        publish(tmp_path / "cut", day2, settings)
    write_all(tmp_path / "gone", as_of=day2, rows_per_province=5, omit={("01", 3)})
    with pytest.raises(VerificationError, match=rf"listed offender\(s\) .* missing .*{tax_code(4)}"):
        publish(tmp_path / "gone", day2, settings)
    assert not paths.release(day2.isoformat()).exists() and listed(AS_OF) == {tax_code(4)}

    write_all(tmp_path / "paid", as_of=day2, rows_per_province=5)  # the same row, nothing owed
    publish(tmp_path / "paid", day2, settings)
    assert listed(day2) == set()
    with (paths.release(day2.isoformat()) / "changes.csv").open(encoding="utf-8") as handle:
        change = next(row for row in csv.DictReader(handle) if row["key"] == tax_code(4))
    assert change["leaving_reason"] == "paid"
