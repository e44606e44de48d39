"""Rows remembered from the last run (publisher/memo.py): reused only where validating again would
give the same Record, never for what must be reported again."""
import logging
from datetime import timedelta

from congkhai.config import Paths
from congkhai.policy import load_policy
from publisher import memo
from publisher.pipeline import build_release, publish
from publisher.read import read_report
from publisher.records import RawRow
from publisher.validate import default_check, validate_report

from .factory import AS_OF, garbled, row, tax_code, write_all, write_csv

CHECK = default_check()


def validated(path, memo_dir, as_of=AS_OF, check=CHECK, code="79"):
    """validate_report as the pipeline runs it: memo loaded before, saved after."""
    province_memo = memo.load(memo_dir, code, check.schema_digest, check.mojibake)
    result = validate_report(read_report(path, code, as_of, stream=True), as_of, check, province_memo)
    memo.save(memo_dir, code, check.schema_digest, check.mojibake, province_memo)
    return result


def report(directory, rows, name="79-bao-cao.csv"):
    directory.mkdir(parents=True, exist_ok=True)
    return write_csv(directory, "79", rows, name=name)


def test_a_second_run_recalls_every_unchanged_row_and_builds_the_same_records(tmp_path):
    rows = [row(1, name="Công ty TNHH Điện tử Đức Thành", arrears_bhxh="1.234.567", months_late=3),
            row(2, tax_code=f"{tax_code(5)}-001", name="Chi nhánh Đồng Nai"), row(3, employees="")]
    path = report(tmp_path / "d1", rows)
    first = validated(path, tmp_path / "memo")
    second = validated(path, tmp_path / "memo")
    assert (first.recalled, second.recalled) == (0, 3)
    assert second.records == first.records  # same source and line too: the file did not change
    assert second.column_sums == first.column_sums and second.rejects == first.rejects == []
    assert second.records[1].tax.value == second.records[1].key == f"{tax_code(5)}-001"


def test_renumbered_or_moved_rows_are_recalled_with_their_new_line(tmp_path):
    rows = [row(n) for n in range(1, 5)]
    validated(report(tmp_path / "d1", rows), tmp_path / "memo")
    moved = [dict(r, STT=i + 10) for i, r in enumerate(reversed(rows))]
    second = validated(report(tmp_path / "d2", moved, name="79-moi.csv"), tmp_path / "memo")
    assert second.recalled == 4
    assert [(r.source, r.line, r.unit_code) for r in second.records] == [
        ("79-moi.csv", 2, "TA0004A"), ("79-moi.csv", 3, "TA0003A"), ("79-moi.csv", 4, "TA0002A"),
        ("79-moi.csv", 5, "TA0001A")]


def test_a_changed_cell_is_validated_again_and_can_be_rejected(tmp_path):
    rows = [row(1), row(2)]
    validated(report(tmp_path / "d1", rows), tmp_path / "memo")
    rows[1] = row(2, tax_code=tax_code(2)[:-1] + str((int(tax_code(2)[-1]) + 1) % 10))  # check digit off
    second = validated(report(tmp_path / "d2", rows), tmp_path / "memo")
    assert second.recalled == 1 and len(second.records) == 1
    assert [(r.line, r.field) for r in second.rejects] == [(3, "Mã số thuế")]


def test_the_digest_tells_types_apart_and_ignores_only_the_row_number():
    """A number cell 12 and a text cell '12' may validate differently: they are different rows.
    The row number and where the row stands are not part of what it becomes."""
    cells = row(1, employees=12)
    digest = memo.row_digest(RawRow("79.xlsx", 7, cells))
    assert memo.row_digest(RawRow("79-moi.csv", 9, dict(cells, STT=40))) == digest
    assert memo.row_digest(RawRow("79.xlsx", 7, dict(cells, **{"Số lao động": "12"}))) != digest
    assert memo.row_digest(RawRow("79.xlsx", 7, dict(cells, **{"Số lao động": 12.0}))) != digest
    assert memo.row_digest(RawRow("79.xlsx", 7, dict(cells, **{"Tên đơn vị": cells["Tên đơn vị"] + " "}))) != digest


def test_a_decision_remembered_on_a_later_date_is_refused_on_an_earlier_one(tmp_path):
    decided = AS_OF + timedelta(days=1)
    rows = [row(1, arrears_bhxh=5, months_late=2, evasion_decision=f"Số 12/QĐ-TTr ngày {decided:%d/%m/%Y}")]
    path = report(tmp_path / "d1", rows)
    later = validated(path, tmp_path / "memo", as_of=decided)
    assert later.records[0].evasion_decision_date == decided
    earlier = validated(path, tmp_path / "memo", as_of=AS_OF)  # a corrected re-run of the day before
    assert earlier.recalled == 0 and earlier.records == []
    assert "after the report's date" in earlier.rejects[0].reason
    again = validated(path, tmp_path / "memo", as_of=decided)  # the memo is the last run's: validated anew
    assert again.recalled == 0 and again.records == later.records


def test_repaired_rows_are_not_remembered_so_their_notes_come_back_each_run(tmp_path):
    rows = [row(1, name=garbled("Công ty Đức Thành")), row(2)]
    path = report(tmp_path / "d1", rows)
    first, second = validated(path, tmp_path / "memo"), validated(path, tmp_path / "memo")
    assert second.recalled == 1
    assert [n.reason for n in second.notes] == [n.reason for n in first.notes]
    assert "mojibake repaired" in second.notes[0].reason and second.records[0].name == "Công ty Đức Thành"


def test_rejected_rows_are_rejected_again(tmp_path):
    (tmp_path / "d1").mkdir()
    path = write_csv(tmp_path / "d1", "79", [row(1, arrears_bhxh="abc")], with_totals=False)
    validated(path, tmp_path / "memo")
    again = validated(path, tmp_path / "memo")
    assert again.recalled == 0 and again.records == [] and again.rejected_rows == 1


def test_a_memo_for_another_policy_or_schema_is_not_used(tmp_path):
    path = report(tmp_path / "d1", [row(1)])
    validated(path, tmp_path / "memo")
    assert validated(path, tmp_path / "memo", check=default_check("reject")).recalled == 0
    assert memo.load(tmp_path / "memo", "79", "another schema", "repair").known == {}
    assert memo.load(tmp_path / "memo", "79", "", "repair") is None  # a check not read from a schema file
    assert memo.load(None, "79", CHECK.schema_digest, "repair") is None


def test_a_damaged_memo_costs_time_not_the_run(tmp_path, caplog):
    path = report(tmp_path / "d1", [row(1)])
    validated(path, tmp_path / "memo")
    (tmp_path / "memo" / "79.marshal").write_bytes(b"not a memo")
    with caplog.at_level(logging.WARNING, logger="publisher.memo"):
        again = validated(path, tmp_path / "memo")
    assert again.recalled == 0 and len(again.records) == 1
    assert "unreadable" in caplog.text and "79.marshal" in caplog.text
    assert validated(path, tmp_path / "memo").recalled == 1  # rewritten by the run that could not read it


def test_publishing_the_next_day_builds_what_a_run_without_memo_builds(tmp_path, settings):
    day2 = AS_OF + timedelta(days=1)
    write_all(tmp_path / "d1")
    publish(tmp_path / "d1", AS_OF, settings)
    memo_dir = Paths(settings["CONGKHAI_DATA_DIR"]).row_memo
    assert len(list(memo_dir.glob("*.marshal"))) == 34
    write_all(tmp_path / "d2", as_of=day2, overrides={("79", 1): dict(arrears_bhyt=7, months_late=1),
                                                       ("01", 0): dict(name="Công ty Đổi Tên")})
    view, policy = _previous(settings, day2), load_policy(settings["CONGKHAI_POLICY"])
    with_memo = build_release(tmp_path / "d2", day2, policy, _now(), view, memo_dir=memo_dir)
    without = build_release(tmp_path / "d2", day2, policy, _now(), view)
    assert with_memo.records == without.records and with_memo.changes == without.changes
    assert [c.key for c in with_memo.changes] == [r.key for r in with_memo.records if r.arrears_bhyt == 7]
    assert [r.province_code for r in with_memo.records if r.name == "Công ty Đổi Tên"] == ["01"]


def _previous(settings, as_of):
    from publisher import store
    from publisher.pipeline import PreviousView

    engine = store.make_engine(settings["DATABASE_URL"])
    with engine.connect() as conn:
        previous = store.load_previous(conn, as_of, as_of - timedelta(days=365))
    engine.dispose()
    return PreviousView(previous.release["as_of"], previous.states, {k: v[1] for k, v in previous.employers.items()},
                        previous.disqualified, previous.followed)


def _now():
    from publisher.pipeline import utcnow

    return utcnow()


def test_households_are_not_remembered_so_no_memo_holds_a_personal_number(tmp_path):
    """Issue 22: the memo kept a household's record as validated, its owner's number in full."""
    rows = [row(1), row(2, tax_code="001185123456", ownership_type="HKD", name="Nguyễn Văn An")]
    path = report(tmp_path / "d1", rows)
    first = validated(path, tmp_path / "memo")
    second = validated(path, tmp_path / "memo")
    assert second.recalled == 1 and second.records == first.records and second.records[1].is_household
    for file in (tmp_path / "memo").iterdir():
        assert b"001185123456" not in file.read_bytes()
