import unicodedata

import pytest

from publisher.errors import ReportError
from publisher.read import discover_reports, read_report
from publisher.records import HEADERS

from .factory import AS_OF, row, title_lines, write_csv, write_xlsx


def test_csv_with_bom_title_lines_and_totals(tmp_path):
    path = write_csv(tmp_path, "79", [row(1), row(2)], bom=True, titles=title_lines("79", AS_OF))
    report = read_report(path, "79", AS_OF)
    assert [r.line for r in report.rows] == [6, 7]
    assert report.rows[0].cells["Mã số thuế"] == row(1)["Mã số thuế"]
    assert report.totals["STT"] == "Tổng cộng" and report.totals_line == 8
    assert report.title_lines[1] == "BẢO HIỂM XÃ HỘI THÀNH PHỐ HỒ CHÍ MINH"
    assert len(report.sha256) == 64


def test_csv_without_bom_titles_or_totals(tmp_path):
    path = write_csv(tmp_path, "01", [row(1)], with_totals=False)
    report = read_report(path, "01", AS_OF)
    assert len(report.rows) == 1 and report.totals is None


def test_decomposed_headers_are_recognised(tmp_path):
    path = tmp_path / "01.csv"
    path.write_text(",".join(unicodedata.normalize("NFD", h) for h in HEADERS) + "\n", encoding="utf-8")
    assert read_report(path, "01", AS_OF).rows == []


def test_xlsx_titles_totals_and_signature_lines(tmp_path):
    path = write_xlsx(tmp_path, "75", [row(1), row(2, arrears_bhxh=2_500_000_000, months_late=4)])
    report = read_report(path, "75", AS_OF)
    assert len(report.rows) == 2  # the "Người lập biểu" line below the totals is not data
    assert report.rows[1].cells["Nợ BHXH"] == 2_500_000_000
    assert report.totals["Nợ BHXH"] == 2_500_000_000


def test_xlsx_title_naming_another_province_is_an_error(tmp_path):
    path = write_xlsx(tmp_path, "75", [row(1)], titles=title_lines("79", AS_OF), name="75.xlsx")
    with pytest.raises(ReportError, match=r"75.xlsx, row 2: title names Thành phố Hồ Chí Minh .* province 75"):
        read_report(path, "75", AS_OF)


def test_xlsx_title_must_name_the_province(tmp_path):
    path = write_xlsx(tmp_path, "75", [row(1)], titles=["DANH SÁCH ĐƠN VỊ CHẬM ĐÓNG"])
    with pytest.raises(ReportError, match="do not name the province"):
        read_report(path, "75", AS_OF)


def test_title_date_must_be_the_run_date(tmp_path):
    path = write_csv(tmp_path, "01", [row(1)], titles=title_lines("01", AS_OF.replace(day=24)))
    with pytest.raises(ReportError, match=r"01-bao-cao.csv, row 4: report is as of 24/11/2026, not the run's date 25/11/2026"):
        read_report(path, "01", AS_OF)


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "01.csv"
    path.write_text(",".join(h for h in HEADERS if h != "Nợ BHYT") + "\n", encoding="utf-8")
    with pytest.raises(ReportError, match=r"01.csv, row 1: header row lacks the column\(s\) 'Nợ BHYT'"):
        read_report(path, "01", AS_OF)


def test_no_header_row(tmp_path):
    path = tmp_path / "01.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ReportError, match="no header row"):
        read_report(path, "01", AS_OF)


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "01.csv"
    path.write_bytes((",".join(HEADERS) + "\n").encode() + "1,X,0100233488,Công ty\n".encode("cp1258"))
    with pytest.raises(ReportError, match=r"01.csv, row 2: not UTF-8"):
        read_report(path, "01", AS_OF)


def test_damaged_xlsx(tmp_path):
    path = tmp_path / "01.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ReportError, match="not a readable XLSX workbook"):
        read_report(path, "01", AS_OF)


def test_discover_reports(tmp_path):
    for name in ("01.xlsx", "79-ho-chi-minh.csv", "79_copy.csv", "99.csv", "notes.txt", "~$01.xlsx", ".hidden.csv"):
        (tmp_path / name).write_text("")
    found, problems = discover_reports(tmp_path)
    assert {code: p.name for code, p in found.items()} == {"01": "01.xlsx", "79": "79-ho-chi-minh.csv"}
    assert sorted(str(p) for p in problems) == [
        "79_copy.csv: second report for province 79 (first: 79-ho-chi-minh.csv)",
        "99.csv: file name must start with a province code of datasets/provinces.csv, e.g. 01.xlsx or 79-ho-chi-minh.csv",
        "notes.txt: not a report: expected a .csv or .xlsx file",
    ]


def test_a_corporation_named_tong_cong_ty_is_not_the_totals_row(tmp_path):
    rows = [row(1, name="Tổng công ty Xây dựng Sông Đà"), row(2, name="TỔNG CÔNG TY ĐIỆN LỰC")]
    report = read_report(write_xlsx(tmp_path, "01", rows), "01", AS_OF)
    assert [r.cells["Tên đơn vị"] for r in report.rows] == ["Tổng công ty Xây dựng Sông Đà", "TỔNG CÔNG TY ĐIỆN LỰC"]
    assert report.totals["STT"] == "Tổng cộng"
