"""Disputes in the publisher: the `disputed_since` column of the employer files, written from the
open disputes at publish time, and the staff's `congkhai disputes` commands."""
import csv
import json
from datetime import date, datetime, timedelta, timezone

import frictionless

from congkhai import disputes
from congkhai.signing import generate_key
from publisher.cli import main
from publisher.package import DATAPACKAGE
from publisher.pipeline import publish
from publisher.store import init_db, make_engine

from .factory import AS_OF, tax_code, write_all
from .release_sample import REMOVED, built_release

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=timezone.utc)
REASON = "Đơn vị đã nộp đủ tiền nợ ngày 20/11/2026 theo ủy nhiệm chi số 88, danh sách vẫn ghi còn nợ."


def rows(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["key"]: row for row in csv.DictReader(handle)}


def open_one(settings, key, now=NOW):
    engine = make_engine(settings["DATABASE_URL"])
    init_db(engine)
    submission, problems = disputes.check_submission(key, key, "Trần Văn Đức", "duc@example.vn", REASON, None, 1000)
    assert not problems
    with engine.begin() as conn:
        reference = disputes.open_dispute(conn, submission, now, 3, settings["CONGKHAI_DATA_DIR"])
    engine.dispose()
    return reference


def test_the_files_mark_disputed_entries_and_still_validate(tmp_path, settings):
    from publisher.package import write_release_files

    built = built_release()
    listed = next(r for r in built.records if r.status == "delinquent")
    out = tmp_path / "release"
    out.mkdir()
    signer = generate_key(tmp_path / "keys" / "signing.key")
    write_release_files(built, out, settings, signer, None, removed={REMOVED.key: REMOVED},
                        disputed={listed.key: date(2026, 11, 20)})
    report = frictionless.validate(out / DATAPACKAGE)
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])
    for name in ("employers.csv", "delinquent.csv"):
        marked = rows(out / name)
        assert marked[listed.key]["disputed_since"] == "2026-11-20"
        assert {row["disputed_since"] for key, row in marked.items() if key != listed.key} == {""}
    lines = [json.loads(line) for line in (out / "employers.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {line["key"]: line["disputed_since"] for line in lines if line["disputed_since"]} == {listed.key: "2026-11-20"}


def test_a_release_marks_the_disputes_open_when_it_is_published(tmp_path, db_settings):
    key = tax_code(1)
    write_all(tmp_path / "d1")
    publish(tmp_path / "d1", AS_OF, db_settings)
    reference = open_one(db_settings, key)
    write_all(tmp_path / "d2", as_of=AS_OF + timedelta(days=1))
    result = publish(tmp_path / "d2", AS_OF + timedelta(days=1), db_settings)
    marked = rows(result.release_dir / "employers.csv")
    assert marked[key]["disputed_since"] == "2026-11-25"
    assert sum(1 for row in marked.values() if row["disputed_since"]) == 1
    assert rows(result.release_dir.parent / AS_OF.isoformat() / "employers.csv")[key]["disputed_since"] == ""
    assert reference.startswith("KN-2026-")


def test_staff_list_show_and_resolve(tmp_path, db_settings, monkeypatch, capsys):
    monkeypatch.setenv("CONGKHAI_DATA_DIR", db_settings["CONGKHAI_DATA_DIR"])
    monkeypatch.setenv("DATABASE_URL", db_settings["DATABASE_URL"])
    first, second = open_one(db_settings, "0100233488"), open_one(db_settings, "0101234567", NOW + timedelta(hours=1))
    assert main(["disputes", "list", "--status", "open"]) == 0
    out = capsys.readouterr().out
    assert "2 dispute(s) open" in out and out.index(first) < out.index(second)
    assert main(["disputes", "show", first.lower().replace("-", "")]) == 0
    out = capsys.readouterr().out
    assert f"Dispute {first}: open" in out and "Trần Văn Đức, duc@example.vn" in out and "ủy nhiệm chi số 88" in out
    assert main(["disputes", "resolve", first, "--upheld", "--note", "Đã đối chiếu: đơn vị đã nộp đủ.",
                 "--correct-status", "compliant", "--correct-from", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    assert f"Dispute {first}: upheld" in out and "leads to a correction of 0100233488: compliant from 2026-11-20" in out
    assert main(["disputes", "resolve", first, "--rejected", "--note", "again"]) == 2
    assert "already upheld" in capsys.readouterr().err
    assert main(["disputes", "resolve", second, "--rejected", "--note", "Số liệu đúng.", "--correct-status",
                 "compliant", "--correct-from", "2026-11-20"]) == 2
    assert main(["disputes", "resolve", second, "--rejected", "--note", "Số liệu đúng."]) == 0
    assert "leads to a correction" not in capsys.readouterr().out
    assert main(["disputes", "list", "--status", "open"]) == 0
    assert "0 dispute(s) open" in capsys.readouterr().out
    assert main(["disputes", "show", "KN-2026-0000-0000"]) == 2


def test_staff_list_names_each_disputes_employer_and_province(tmp_path, db_settings, monkeypatch, capsys):
    """Regression: `disputes list` showed only the key, so the staff looked every employer up by hand."""
    monkeypatch.setenv("CONGKHAI_DATA_DIR", db_settings["CONGKHAI_DATA_DIR"])
    monkeypatch.setenv("DATABASE_URL", db_settings["DATABASE_URL"])
    write_all(tmp_path / "d1", overrides={("79", 0): dict(name="Công ty TNHH Điện tử Đức Thành", arrears_bhxh=9_000_000,
                                                          months_late=4)})
    publish(tmp_path / "d1", AS_OF, db_settings)
    listed = next(key for key, name in registered_names(db_settings).items() if name == "Công ty TNHH Điện tử Đức Thành")
    known, unknown = open_one(db_settings, listed), open_one(db_settings, "0100233488", NOW + timedelta(hours=1))
    assert main(["disputes", "list"]) == 0
    header, first, second = capsys.readouterr().out.splitlines()[1:]
    columns = ["reference", "status", "opened", "employer", "province", "attachment", "name"]
    assert header.split() == columns
    starts = [header.index(name) for name in columns]

    def cells(line):
        return [line[start:end].strip() for start, end in zip(starts, starts[1:] + [None])]

    assert cells(first) == [known, "open", "2026-11-25", listed, "Hồ Chí Minh", "", "Công ty TNHH Điện tử Đức Thành"]
    assert cells(second) == [unknown, "open", "2026-11-25", "0100233488", "-", "", "(not in the register)"]


def registered_names(settings) -> dict[str, str]:
    from sqlalchemy import select

    from congkhai.models import Employer

    engine = make_engine(settings["DATABASE_URL"])
    with engine.connect() as conn:
        names = dict(conn.execute(select(Employer.key, Employer.name)).all())
    engine.dispose()
    return names


def test_sample_disputes_for_the_demo(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONGKHAI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CONGKHAI_SIGNING_KEY", raising=False)
    assert main(["disputes", "sample", "--count", "2"]) == 2
    assert "no release has been published yet" in capsys.readouterr().err
    assert main(["keygen"]) == 0
    write_all(tmp_path / "d1", overrides={("79", 0): dict(arrears_bhxh="9.000.000", months_late=4),
                                          ("01", 0): dict(arrears_bhxh="9.000.000", months_late=5)})
    assert main(["publish", "--input", str(tmp_path / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["disputes", "sample", "--count", "5", "--seed", "3"]) == 0
    opened = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Opened dispute KN-")]
    assert len(opened) == 2  # only the listed employers get one
    assert main(["disputes", "list"]) == 0
    assert "2 dispute(s)" in capsys.readouterr().out


def test_an_upheld_dispute_is_published_as_a_correction(tmp_path, db_settings, monkeypatch, capsys):
    """Resolving a dispute as upheld, with the corrected status, records a correction that the next
    release publishes in its corrections resource, naming the dispute; the history is not rewritten."""
    from congkhai.register import Register

    key = tax_code(1)
    listed = {("01", 0): dict(arrears_bhxh=9_000_000, months_late=5)}
    write_all(tmp_path / "d1", overrides=listed)
    publish(tmp_path / "d1", AS_OF, db_settings)
    reference = open_one(db_settings, key)
    monkeypatch.setenv("CONGKHAI_DATA_DIR", db_settings["CONGKHAI_DATA_DIR"])
    monkeypatch.setenv("DATABASE_URL", db_settings["DATABASE_URL"])
    assert main(["disputes", "resolve", reference, "--upheld", "--note", "Đã nộp đủ, đối chiếu sai đơn vị.",
                 "--correct-status", "compliant", "--correct-from", AS_OF.isoformat()]) == 0
    capsys.readouterr()
    engine = make_engine(db_settings["DATABASE_URL"])
    with engine.connect() as conn:
        [pending] = Register(conn).corrections(include_pending=True)
    assert pending["recorded_in_release"] is None and pending["source"] == f"dispute {reference}"
    assert pending["published_state"].status == "delinquent" and pending["corrected_state"].status == "compliant"
    write_all(tmp_path / "d2", as_of=AS_OF + timedelta(days=1), overrides=listed)
    result = publish(tmp_path / "d2", AS_OF + timedelta(days=1), db_settings)
    with engine.connect() as conn:
        [published] = Register(conn).corrections()
    engine.dispose()
    assert published["recorded_in_release"] == result.release.id
    with open(result.release_dir / "corrections.csv", encoding="utf-8-sig", newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert reference in json.dumps(row, ensure_ascii=False) and key in json.dumps(row)
    assert rows(result.release_dir.parent / AS_OF.isoformat() / "employers.csv")[key]["status"] == "delinquent"


def test_dispute_show_says_its_moments_are_utc(tmp_path, db_settings, monkeypatch, capsys):
    """`show` printed the opening moment naive with microseconds next to a Vietnam date a day later."""
    monkeypatch.setenv("CONGKHAI_DATA_DIR", db_settings["CONGKHAI_DATA_DIR"])
    monkeypatch.setenv("DATABASE_URL", db_settings["DATABASE_URL"])
    reference = open_one(db_settings, "0100233488", datetime(2026, 11, 25, 20, 0, 0, 123456, tzinfo=timezone.utc))
    assert main(["disputes", "resolve", reference, "--rejected", "--note", "Số liệu đúng."]) == 0
    out = capsys.readouterr().out
    assert "  opened:      2026-11-26 (2026-11-25 20:00:00 UTC)\n" in out
    assert "  resolved:    " in out and out.split("  resolved:    ")[1].split("\n")[0].endswith(" UTC")


def test_an_upheld_compliant_dispute_zeroes_what_the_report_stated_and_invents_nothing(sample_register, tmp_path):
    """Owing nothing makes every fund 0, known from the total; BHTNLĐ-BNN and interest become 0 only
    where the report gave them, so a total-only entry does not gain amounts it never had."""
    from congkhai.register import Register

    from .release_sample import AS_OF as SAMPLE_DAY, TOTAL_ONLY, WITH_INTEREST

    engine, _ = sample_register
    with engine.begin() as conn:
        for key in (TOTAL_ONLY, WITH_INTEREST):
            submission, problems = disputes.check_submission(key, key, "Trần Văn Đức", "duc@example.vn", REASON,
                                                             None, 1000)
            assert not problems
            reference = disputes.open_dispute(conn, submission, NOW, 3, str(tmp_path))
            disputes.resolve_dispute(conn, reference, disputes.UPHELD, "Đã nộp đủ.", NOW, "compliant", SAMPLE_DAY)
    with engine.connect() as conn:
        corrected = {row["key"]: row["corrected_state"] for row in Register(conn).corrections(include_pending=True)}
    paid = corrected[WITH_INTEREST]
    assert (paid.arrears_bhxh, paid.arrears_bhtnld, paid.arrears_total, paid.interest) == (0, 0, 0, 0)
    total_only = corrected[TOTAL_ONLY]
    assert (total_only.arrears_bhxh, total_only.arrears_total) == (0, 0)
    assert total_only.arrears_bhtnld is None and total_only.interest is None
