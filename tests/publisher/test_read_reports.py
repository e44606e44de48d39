"""Reading a day's reports (publisher/read_reports.py): worker processes read what one process reads."""
import os

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
