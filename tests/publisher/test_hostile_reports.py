"""Hostile and damaged reports through the whole run (issue 9): what is repaired is published
repaired and noted in the rejects report; what fails a run leaves the previous release as it was."""
import csv
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from congkhai.config import Paths
from congkhai.register import Register
from congkhai.search import search
from congkhai.text import clean
from congkhai.release_format import verify_release
from publisher.archive import current_release_id
from publisher.errors import VerificationError
from publisher.pipeline import publish

from .factory import AS_OF, declare_size, garbled, write_all

DAY2 = AS_OF + timedelta(days=1)


def files_of(directory) -> dict:
    return {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def test_repaired_mojibake_is_published_repaired_and_noted_in_the_rejects_report(tmp_path, settings):
    write_all(tmp_path / "d1", overrides={("79", 0): dict(name=garbled("Công ty TNHH Điện tử Đức Thành"))})
    publish(tmp_path / "d1", AS_OF, settings)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    assert search(paths.search_index("2026-11-25"), "dien tu duc thanh").hits[0].name == "Công ty TNHH Điện tử Đức Thành"
    with (paths.rejects("2026-11-25") / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        notes = list(csv.DictReader(handle))
    assert notes == [{"source": "79.xlsx", "line": "7", "field": "Tên đơn vị",
                      "value": clean(garbled("Công ty TNHH Điện tử Đức Thành")),
                      "reason": "mojibake repaired: published as 'Công ty TNHH Điện tử Đức Thành'", "province_code": "79"}]
    listed = json.loads((paths.rejects("2026-11-25") / "rejects.json").read_text(encoding="utf-8"))["rejects"]
    assert listed == [dict(notes[0], line=7)]


def test_a_hostile_second_day_fails_and_leaves_the_first_intact(tmp_path, settings):
    """Day 2 brings a zip bomb, a NUL byte and an absurd amount: the run fails, and day 1 still
    verifies, stays current in the database and the portal, with its rejects report unchanged."""
    write_all(tmp_path / "d1", rows_per_province=40, overrides={("01", 3): dict(tax_code="0100233487")})
    publish(tmp_path / "d1", AS_OF, settings)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    rejects, release_files = files_of(paths.rejects("2026-11-25")), files_of(paths.release("2026-11-25"))

    write_all(tmp_path / "d2", as_of=DAY2, rows_per_province=40,
              overrides={("01", 0): dict(address="Số 5\x00 Lê Lợi"), ("01", 1): dict(arrears_bhxh="1" + "0" * 20, months_late=1),
                         ("01", 2): dict(months_late=999, arrears_bhxh=5)})
    declare_size(tmp_path / "d2" / "04.xlsx", "xl/worksheets/sheet1.xml", 3_000_000_000)
    with pytest.raises(VerificationError) as caught:
        publish(tmp_path / "d2", DAY2, settings)
    assert "04.xlsx: expands to" in str(caught.value)

    engine = sa.create_engine(settings["DATABASE_URL"])
    with engine.connect() as conn:
        assert Register(conn).latest_release()["id"] == "2026-11-25"
    engine.dispose()
    assert current_release_id(paths.releases) == "2026-11-25"
    assert verify_release(paths.current) == [] and verify_release(paths.release("2026-11-25")) == []
    assert files_of(paths.rejects("2026-11-25")) == rejects
    assert files_of(paths.release("2026-11-25")) == release_files
    assert not paths.release("2026-11-26").exists()
    failed = json.loads((paths.rejects("2026-11-26") / "failed-run-rejects.json").read_text(encoding="utf-8"))
    assert {(r["source"], r["line"], r["field"]) for r in failed["rejects"] if r["line"]} == {
        ("01-bao-cao.csv", 6, "Địa chỉ"), ("01-bao-cao.csv", 7, "Nợ BHXH"), ("01-bao-cao.csv", 8, "Số tháng chậm đóng")}
    refusals = {r["source"]: r["reason"] for r in failed["rejects"] if not r["line"]}  # each refusal explained
    assert refusals["04.xlsx"].startswith("expands to")

    from portal import create_app
    client = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": settings["CONGKHAI_DATA_DIR"]}).test_client()
    answer = client.get("/api/v1/releases")
    assert answer.status_code == 200
    assert [r["id"] for r in answer.get_json()["releases"]] == ["2026-11-25"]


def test_carriage_returns_and_look_alikes_are_published_as_read_and_noted(tmp_path, settings):
    """A CR typed inside a quoted cell is a space once published; a whole file of old-Mac line ends
    (CR alone) is read like any other; a Cyrillic 'С' in a name is published as written and noted."""
    name = "\u0421ông ty TNHH Sông Hồng"
    write_all(tmp_path / "d1", overrides={("01", 0): dict(address="Số 5\rLê Lợi"), ("01", 1): dict(name=name)})
    mac = tmp_path / "d1" / "08-bao-cao.csv"
    mac.write_bytes(mac.read_bytes().replace(b"\r\n", b"\r"))
    built = publish(tmp_path / "d1", AS_OF, settings).release
    assert built.missing_provinces == {} and len(built.provinces) == 34
    published = {(r.province_code, r.line): r for r in built.records}
    assert published[("01", 6)].address == "Số 5 Lê Lợi" and published[("01", 7)].name == name
    assert len([r for r in built.records if r.province_code == "08"]) == 3
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    with (paths.rejects("2026-11-25") / "rejects.csv").open(encoding="utf-8", newline="") as handle:
        notes = list(csv.DictReader(handle))
    assert notes == [{"source": "01-bao-cao.csv", "line": "7", "field": "Tên đơn vị", "value": name,
                      "reason": "Greek or Cyrillic letters among Latin ones, which may look alike: "
                                "'С' U+0421 CYRILLIC CAPITAL LETTER ES; published as written", "province_code": "01"}]
