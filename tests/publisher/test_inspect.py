"""`congkhai inspect`: what the publisher understood of a day's reports and whether it would publish
them, with nothing written anywhere."""
import json
from datetime import timedelta

from publisher.cli import main

from .factory import AS_OF, tax_code, write_all

DAY2 = AS_OF + timedelta(days=1)
DELINQUENT = {"arrears_bhxh": 9_000_000, "arrears_bhyt": 1_000_000, "months_late": 4}


def tree(directory):
    return sorted((p.relative_to(directory).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in directory.rglob("*") if p.is_file())


def test_inspecting_a_sound_day_says_it_would_publish_and_writes_nothing(env, capsys):
    write_all(env / "d1", overrides={("01", 0): DELINQUENT})
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    write_all(env / "d2", as_of=DAY2, overrides={("01", 0): DELINQUENT})
    before = tree(env / "data")
    capsys.readouterr()
    assert main(["inspect", "--input", str(env / "d2"), "--as-of", DAY2.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "OK  01 Thành phố Hà Nội (01-bao-cao.csv, csv)" in out
    assert "rows read 3, rejected 0, employers 3; offenders 1 (in notice 0), evading 0; control totals checked" in out
    assert "last report (2026-11-25): employers 3, offenders 1, evading 0" in out
    assert out.rstrip().endswith("Verdict: `congkhai publish` would publish every province.")
    assert tree(env / "data") == before


def test_inspecting_a_damaged_day_explains_each_refusal(env, capsys):
    write_all(env / "d1", rows_per_province=25, overrides={("01", 0): DELINQUENT})
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    write_all(env / "d2", as_of=DAY2, rows_per_province=25, omit={("01", 0)},
              overrides={("79", 4): {"arrears_bhxh": "#REF!", "months_late": 4}})
    before = tree(env / "data")
    capsys.readouterr()
    assert main(["inspect", "--input", str(env / "d2"), "--as-of", DAY2.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "NO  01 Thành phố Hà Nội" in out
    assert f"1 listed offender(s) of the report of 25/11/2026 are missing from this report" in out
    assert f"'Mã số thuế' = '{tax_code(1)}': listed offender in the report of 25/11/2026, missing from this one " \
           f"without a payment recorded: Công ty TNHH Thử Nghiệm Số 1" in out
    assert "OK  79 Thành phố Hồ Chí Minh" in out and "spreadsheet error value #REF!" in out
    assert "with --allow-partial it would leave out the provinces marked NO" in out
    assert tree(env / "data") == before

    assert main(["inspect", "--input", str(env / "d2"), "--as-of", DAY2.isoformat(), "--format", "json",
                 "--accept-removals", "01"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["publishable"] and result["provinces"]["01"]["accepted_removals"]["accepted_removals"] == [tax_code(1)]
    assert [r["value"] for r in result["rejects"] if r["province"] == "79"] == ["#REF!"]


def test_inspecting_before_any_release_creates_no_database(env, capsys):
    write_all(env / "d1")
    assert main(["inspect", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat()]) == 0
    assert not (env / "data" / "congkhai.db").exists()


def _hai_phong_report(directory, fmt, subtotal_bhxh=2_400):
    """A grouped, two-row-header report in thousands of đồng, as Hải Phòng writes one."""
    from .factory import write_table

    day = f"{AS_OF:%d/%m/%Y}"
    table = [["BẢO HIỂM XÃ HỘI KHU VỰC II"], ["DANH SÁCH ĐƠN VỊ CHẬM ĐÓNG TRÊN ĐỊA BÀN THÀNH PHỐ HẢI PHÒNG"],
             [f"Số liệu nợ đến ngày {day}"], ["Đơn vị tính: nghìn đồng"],
             ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền chậm đóng", "", "", "", "Ghi chú"],
             ["", "", "", "", "Tổng số", "BHXH", "BHYT", "BHTN", ""],
             ["(1)", "(2)", "(3)", "(4)", "(5)=(6)+(7)+(8)", "(6)", "(7)", "(8)", "(9)"],
             ["A", "", "Doanh nghiệp", "", "", "", "", "", ""],
             [1, tax_code(901), "Công ty TNHH Cảng Xanh", 14, 1_000, 800, 150, 50, ""],
             [2, tax_code(902), "Công ty CP Đóng Tàu Bạch Đằng", 3, 2_000, 1_600, 300, 100, "đã đôn đốc"],
             ["", "", "Cộng A", "", 3_000, subtotal_bhxh, 450, 150, ""],
             ["", "", "Tổng cộng", "", 3_000, 2_400, 450, 150, ""]]
    return write_table(directory, "31", table, fmt)


def test_inspecting_one_file_shows_what_was_understood(env, capsys):
    (env / "one").mkdir()
    path = _hai_phong_report(env / "one", "xlsx")
    capsys.readouterr()
    assert main(["inspect", str(path), "--as-of", AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "OK  31 Thành phố Hải Phòng (31-bao-cao.xlsx, xlsx)" in out
    assert "header row(s) 5, 6, column numbers in row 7 (skipped)" in out
    assert "'Số tiền chậm đóng / BHXH' -> Nợ BHXH" in out and "'Ghi chú' -> ignored" in out
    assert "unit: nghin dong (amounts x 1,000)" in out
    assert "groups 1; subtotals 1, 1 add up" in out and "grand total (row 12): " in out
    assert "2 by tax code" in out
    assert f"row 9: {tax_code(901)} Công ty TNHH Cảng Xanh - delinquent, 14 month(s), arrears 1,000,000 " \
           f"(BHXH/BHYT/BHTN 800,000/150,000/50,000)" in out
    assert "would publish every province" in out


def test_the_preview_in_json_and_as_a_dry_run_names_a_subtotal_that_does_not_add_up(env, capsys):
    (env / "one").mkdir()
    path = _hai_phong_report(env / "one", "csv", subtotal_bhxh=2_500)
    before = tree(env / "data") if (env / "data").exists() else []
    capsys.readouterr()
    assert main(["publish", "--dry-run", "--input", str(env / "one"), "--as-of", AS_OF.isoformat(),
                 "--format", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    province = result["provinces"]["31"]
    assert not province["publishable"] and province["layout"]["scale"] == 1000
    assert province["checks"]["subtotals"][0]["differences"] == [
        {"field": "Nợ BHXH", "stated": 2_500_000, "computed": 2_400_000}]
    assert any("'cộng a' does not add up" in p["message"] for p in province["problems"])
    assert (tree(env / "data") if (env / "data").exists() else []) == before
