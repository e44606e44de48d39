import re
import unicodedata

import pytest
from openpyxl import Workbook, load_workbook

from publisher.errors import ReportError
from publisher.read import MAX_CELL_CHARS, Unreadable, discover_reports, read_report
from publisher.records import HEADERS
from publisher.xlsx import MAX_SHEET_CELLS

from .factory import AS_OF, declare_size, rewrite_member, row, title_lines, totals, write_csv, write_xlsx

SHEET = "xl/worksheets/sheet1.xml"


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


def dated_titles(*lines: str) -> list[str]:
    return title_lines("01", AS_OF)[:-1] + list(lines)


@pytest.mark.parametrize("line", [
    "Tính đến ngày 25/11/2026", "Đến hết ngày 25-11-2026", "tính đến ngày 25 tháng 11 năm 2026", "ngày 25.11.2026",
    "Thời điểm: 25/11/2026", "Thoi diem bao cao: 25/11/2026", "TINH DEN NGAY 25/11/2026", "Đến hết ngày 25 - 11 - 2026",
    "Tính đến ngày 25 tháng 11, năm 2026", "Từ ngày 01/11/2026 đến ngày 25/11/2026",
    unicodedata.normalize("NFD", "Tính đến ngày 25 tháng 11 năm 2026"),
])
def test_every_common_form_of_the_title_date_is_understood(tmp_path, line):
    path = write_csv(tmp_path, "01", [row(1)], titles=dated_titles(line))
    assert len(read_report(path, "01", AS_OF).rows) == 1
    with pytest.raises(ReportError, match=r"01-bao-cao.csv, row 4: report is as of 25/11/2026, not the run's date 24/11/2026"):
        read_report(path, "01", AS_OF.replace(day=24))


@pytest.mark.parametrize("line, stated", [("Tính đến ngày 5/1/2026", "05/01/2026"), ("Đến hết ngày 5 tháng 1 năm 2026", "05/01/2026"),
                                          ("Thời điểm: 05.1.2026", "05/01/2026")])
def test_one_digit_days_and_months(tmp_path, line, stated):
    path = write_csv(tmp_path, "01", [row(1)], titles=dated_titles(line))
    with pytest.raises(ReportError, match=f"report is as of {stated}, not the run's date 25/11/2026"):
        read_report(path, "01", AS_OF)


def test_a_signing_line_is_not_the_date_the_report_is_as_of(tmp_path):
    path = write_csv(tmp_path, "01", [row(1)], titles=dated_titles("Hà Nội, ngày 26 tháng 11 năm 2026",
                                                                   "Tính đến ngày 25/11/2026"))
    assert len(read_report(path, "01", AS_OF).rows) == 1


def test_a_signing_line_alone_is_not_compared_for_equality(tmp_path):
    path = write_csv(tmp_path, "01", [row(1)], titles=dated_titles("Hà Nội, ngày 28 tháng 11 năm 2026"))
    assert len(read_report(path, "01", AS_OF).rows) == 1


def test_a_report_signed_before_its_date_is_an_error(tmp_path):
    path = write_csv(tmp_path, "01", [row(1)], titles=dated_titles("Hà Nội, ngày 24 tháng 11 năm 2026",
                                                                   "Tính đến ngày 25/11/2026"))
    with pytest.raises(ReportError, match=r"01-bao-cao.csv, row 4: the title is signed on 24/11/2026, before the "
                                          r"report's date 25/11/2026"):
        read_report(path, "01", AS_OF)


@pytest.mark.parametrize("line", ["Tính đến ngày 31/02/2026", "Hà Nội, ngày 31 tháng 02 năm 2026", "ngày 25/13/2026"])
def test_an_impossible_title_date_names_its_row(tmp_path, line):
    path = write_csv(tmp_path, "01", [row(1)], titles=dated_titles(line))
    with pytest.raises(ReportError, match=r"01-bao-cao.csv, row 4: title date \d\d/\d\d/2026 is not a date"):
        read_report(path, "01", AS_OF)


def test_a_missing_required_column_is_named(tmp_path):
    path = tmp_path / "01.csv"
    path.write_text(",".join(h for h in HEADERS if h != "Số tháng chậm đóng") + "\n", encoding="utf-8")
    with pytest.raises(ReportError, match=r"01.csv, row 1: header lacks 'Số tháng chậm đóng' \(headers seen: 'STT'"):
        read_report(path, "01", AS_OF)


def test_a_missing_optional_column_is_unknown_not_a_refusal(tmp_path):
    path = tmp_path / "01.csv"
    headers = [h for h in HEADERS if h not in ("Nợ BHYT", "Loại hình", "Ngành nghề", "Địa chỉ", "Số lao động")]
    path.write_text(",".join(headers) + "\n", encoding="utf-8")
    report = read_report(path, "01", AS_OF)
    assert "arrears_bhyt" not in report.header.fields and "months_late" in report.header.fields


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


# Hostile and damaged workbooks: each is refused before calamine builds its grid.

def test_zip_bomb_is_refused_from_the_central_directory(tmp_path):
    path = write_xlsx(tmp_path, "01", [row(1)])
    declare_size(path, SHEET, 3_000_000_000)
    with pytest.raises(ReportError, match=r"^01.xlsx: expands to 3,00\d,\d{3},\d{3} bytes uncompressed, more than the "
                                          r"limit of 1,073,741,824: a damaged or hostile file$"):
        read_report(path, "01", AS_OF)


def test_member_that_understates_its_size_is_refused(tmp_path):
    path = write_xlsx(tmp_path, "01", [row(1)])
    declare_size(path, SHEET, 100)
    with pytest.raises(ReportError, match=r"^01.xlsx: not a readable XLSX workbook \(Bad CRC-32"):
        read_report(path, "01", AS_OF)


def test_sparse_declared_dimension_is_refused(tmp_path):
    path = write_xlsx(tmp_path, "01", [row(1)])
    rewrite_member(path, SHEET, lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', xml))
    with pytest.raises(ReportError, match=r"sheet 'Sheet' declares the range A1:XFD1048576 \(1,048,576 rows by 16,384 "
                                          r"columns\), more than the limit"):
        read_report(path, "01", AS_OF)


def test_a_far_away_cell_is_refused(tmp_path):
    path = write_xlsx(tmp_path, "01", [row(1)])
    far = b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    rewrite_member(path, SHEET, lambda xml: xml.replace(b"</sheetData>", far))
    with pytest.raises(ReportError, match=r"^01.xlsx: sheet 'Sheet' has cells in column 16,384, beyond the limit of "
                                          r"100 columns$"):
        read_report(path, "01", AS_OF)


@pytest.mark.parametrize("far, column", [
    (b'<row r="99"><c t="n" r="XFD99"><v>1</v></c></row>', "16,384"),      # attributes in another order
    (b'<row spans="1:2" r="99"><c r="ZZ99"><v>1</v></c></row>', "702"),
    (b'<x:row r="99"><x:c r="AAA99"><x:v>1</x:v></x:c></x:row>', "703"),  # a namespace prefix
    (b'<row r="99">' + b"<c><v>1</v></c>" * 150 + b"</row>", "150"),       # cells placed one after another
])
def test_far_cells_written_in_other_forms_are_found(tmp_path, far, column):
    path = write_xlsx(tmp_path, "01", [row(1)])
    rewrite_member(path, SHEET, lambda xml: xml.replace(b"</sheetData>", far + b"</sheetData>"))
    with pytest.raises(ReportError, match=rf"has cells in column {column}, beyond the limit of 100 columns$"):
        read_report(path, "01", AS_OF)


def test_too_many_rows_by_columns_is_refused(tmp_path):
    path = write_xlsx(tmp_path, "01", [row(1)])
    far = b'<row r="1048576"><c r="CV1048576"><v>1</v></c></row></sheetData>'
    rewrite_member(path, SHEET, lambda xml: xml.replace(b"</sheetData>", far))
    with pytest.raises(ReportError, match=rf"spans 1,048,576 rows by 100 columns, more than the limit of "
                                          rf"{MAX_SHEET_CELLS:,} cells"):
        read_report(path, "01", AS_OF)


def test_hidden_first_sheet_of_last_month_is_not_read(tmp_path):
    book = Workbook()
    path = write_xlsx(tmp_path, "01", [row(1, arrears_bhxh=9, months_late=1)], as_of=AS_OF.replace(month=10),
                      book=book, sheet_title="Tháng 10", hidden=True)
    write_xlsx(tmp_path, "01", [row(1), row(2)], book=book, sheet_title="Tháng 11")
    report = read_report(path, "01", AS_OF)
    assert [r.cells["Mã số thuế"] for r in report.rows] == [row(1)["Mã số thuế"], row(2)["Mã số thuế"]]
    assert report.title_lines[-1] == "Tính đến ngày 25/11/2026"


def test_two_visible_sheets_with_the_header_are_refused(tmp_path):
    book = Workbook()
    path = write_xlsx(tmp_path, "01", [row(1)], book=book, sheet_title="Tháng 10")
    write_xlsx(tmp_path, "01", [row(2)], book=book, sheet_title="Tháng 11")
    with pytest.raises(ReportError, match=r"^01.xlsx: visible sheets 'Tháng 10', 'Tháng 11' all carry the report's "
                                          r"header: leave the report on one visible sheet$"):
        read_report(path, "01", AS_OF)


def test_header_only_on_a_hidden_sheet(tmp_path):
    book = Workbook()
    book.active.title = "Ghi chú"
    book.active.append(["Xem sheet ẩn"])
    path = write_xlsx(tmp_path, "01", [row(1)], book=book, sheet_title="Dữ liệu", hidden=True)
    with pytest.raises(ReportError, match="header is only on hidden sheet\\(s\\) 'Dữ liệu'"):
        read_report(path, "01", AS_OF)


def test_a_visible_notes_sheet_beside_the_report_is_ignored(tmp_path):
    book = Workbook()
    book.active.title = "Hướng dẫn"
    book.active.append(["Báo cáo ở sheet sau"])
    path = write_xlsx(tmp_path, "01", [row(1)], book=book, sheet_title="Báo cáo")
    assert len(read_report(path, "01", AS_OF).rows) == 1


def test_formula_without_a_cached_value_is_unreadable(tmp_path):
    rows = [row(1, arrears_bhxh="=1000+2000", months_late=1), row(2)]
    path = write_xlsx(tmp_path, "01", rows, totals_row=totals([row(1), row(2)]) | {"Nợ BHXH": "=SUM(I7:I8)"})
    report = read_report(path, "01", AS_OF)
    cell = report.rows[0].cells["Nợ BHXH"]
    assert isinstance(cell, Unreadable) and cell.text == "=1000+2000" and "formula without a computed value" in cell.reason
    assert isinstance(report.totals["Nợ BHXH"], Unreadable)


def test_too_many_formulas_without_values_refuse_the_workbook(tmp_path, monkeypatch):
    monkeypatch.setattr("publisher.xlsx.MAX_UNCOMPUTED", 1)
    path = write_xlsx(tmp_path, "01", [row(1, arrears_bhxh="=1+1", arrears_bhyt="=2+2", months_late=1)],
                      totals_row=totals([row(1)]))
    with pytest.raises(ReportError, match=r"^01.xlsx: sheet 'Sheet' holds more than 1 formulas without a computed value"):
        read_report(path, "01", AS_OF)


def test_formula_with_a_cached_value_is_read(tmp_path):
    path = write_xlsx(tmp_path, "01", [row(1, arrears_bhxh=3000, months_late=1)])
    rewrite_member(path, SHEET, lambda xml: xml.replace(b"<v>3000</v>", b"<f>1000+2000</f><v>3000</v>"))
    assert read_report(path, "01", AS_OF).rows[0].cells["Nợ BHXH"] == 3000


def test_merged_cells_in_data_rows_are_unreadable_but_not_in_the_totals_row(tmp_path):
    path = write_xlsx(tmp_path, "01", [row(1), row(2), row(3)])
    book = load_workbook(path)
    book.active.merge_cells("G7:G8")      # one sector for two employers
    book.active.merge_cells("D9:E9")      # a name across the address
    book.active.merge_cells("A10:C10")    # the totals label across its first cells
    book.save(path)
    report = read_report(path, "01", AS_OF)
    assert report.rows[0].cells["Ngành nghề"] == "Xây dựng"
    merged = report.rows[1].cells["Ngành nghề"]
    assert isinstance(merged, Unreadable) and merged.reason.startswith("merged with cell G7")
    assert report.rows[2].cells["Ngành nghề"] == "Xây dựng"
    assert report.rows[2].cells["Tên đơn vị"] == row(3)["Tên đơn vị"]
    assert report.rows[2].cells["Địa chỉ"].reason.startswith("merged with cell D9")
    assert report.totals["STT"] == "Tổng cộng" and report.totals_line == 10


# CSV exports as they arrive.

@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_csv(tmp_path, delimiter):
    path = write_csv(tmp_path, "01", [row(1, arrears_bhxh="1.234.567", months_late=1), row(2)], delimiter=delimiter,
                     titles=title_lines("01", AS_OF))
    report = read_report(path, "01", AS_OF)
    assert [r.cells["Nợ BHXH"] for r in report.rows] == ["1.234.567", ""]
    assert report.totals["Nợ BHXH"] == "1234567"


def test_a_200_kb_field_is_an_unreadable_cell_naming_its_row(tmp_path):
    path = write_csv(tmp_path, "01", [row(1), row(2, name="A" * 200_000)])
    cell = read_report(path, "01", AS_OF).rows[1].cells["Tên đơn vị"]
    assert isinstance(cell, Unreadable) and cell.text == "A" * 60 + "…"
    assert cell.reason == f"a cell of 200,000 characters, more than the {MAX_CELL_CHARS:,} a report's cell may hold (a damaged export?)"


def test_an_unclosed_quote_names_its_row(tmp_path):
    path = write_csv(tmp_path, "01", [row(1)], with_totals=False)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('3,TA0003A,0100233488,"Công ty không đóng ngoặc kép\n' + "x" * (1 << 20) + "\n")
    with pytest.raises(ReportError, match=r'^01-bao-cao.csv, row 4: unreadable CSV \(field larger than field limit '
                                          r'\(1048576\)\): .* a quote \(\"\) is not closed$'):
        read_report(path, "01", AS_OF)


def test_a_nul_byte_is_an_unreadable_cell(tmp_path):
    path = write_csv(tmp_path, "01", [row(1, address="Số 5\x00 Lê Lợi")])
    cell = read_report(path, "01", AS_OF).rows[0].cells["Địa chỉ"]
    assert cell == Unreadable("Số 5\\x00 Lê Lợi", "holds a NUL character (U+0000) at character 5: remove it (a file "
                                                 "saved as UTF-16, or damaged, is full of them)")


def test_a_line_break_inside_a_cell_is_no_nul(tmp_path):
    path = write_csv(tmp_path, "01", [row(1, address="Số 5\nLê Lợi")])
    assert read_report(path, "01", AS_OF).rows[0].cells["Địa chỉ"] == "Số 5\nLê Lợi"


def test_a_carriage_return_inside_a_quoted_cell_stays_in_the_cell(tmp_path):
    path = write_csv(tmp_path, "01", [row(1, address="Số 5\rLê Lợi"), row(2, name="Công ty\r\rAn Bình")],
                     titles=title_lines("01", AS_OF))
    report = read_report(path, "01", AS_OF)
    assert [(r.line, r.cells["Địa chỉ"], r.cells["Tên đơn vị"]) for r in report.rows] == [
        (6, "Số 5\rLê Lợi", row(1)["Tên đơn vị"]), (7, row(2)["Địa chỉ"], "Công ty\r\rAn Bình")]
    assert report.totals_line == 8


@pytest.mark.parametrize("bom", [False, True])
def test_a_file_whose_lines_end_in_a_lone_carriage_return_is_read(tmp_path, bom):
    """Old Mac exports end every line with CR alone."""
    path = write_csv(tmp_path, "01", [row(1), row(2, address="Số 5\nLê Lợi")], titles=title_lines("01", AS_OF),
                     bom=bom)
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))
    report = read_report(path, "01", AS_OF)
    assert report.title_lines[-1] == "Tính đến ngày 25/11/2026"
    assert [(r.line, r.cells["Mã số thuế"], r.cells["Địa chỉ"]) for r in report.rows] == [
        (6, row(1)["Mã số thuế"], row(1)["Địa chỉ"]), (7, row(2)["Mã số thuế"], "Số 5\nLê Lợi")]
    assert report.totals_line == 8


def test_an_unclosed_quote_in_the_first_rows_names_the_file_without_a_traceback(tmp_path):
    """The first rows are parsed to find the delimiter, before the reader that counts rows exists."""
    path = tmp_path / "01.csv"
    path.write_bytes(b'"' + b"x" * (1 << 20) + b"\r" + ",".join(HEADERS).encode() + b"\r")
    with pytest.raises(ReportError, match=r'^01.csv: unreadable CSV \(field larger than field limit'):
        read_report(path, "01", AS_OF)


def test_a_streamed_report_reads_rows_as_they_are_consumed(tmp_path):
    path = write_csv(tmp_path, "01", [row(1), row(2)])
    report = read_report(path, "01", AS_OF, stream=True)
    assert report.totals is None and iter(report.rows) is report.rows
    assert [r.line for r in report.rows] == [2, 3]
    assert report.totals["STT"] == "Tổng cộng" and report.totals_line == 4


def test_a_streamed_report_holds_less_than_its_raw_rows(tmp_path):
    """A large CSV is validated row by row: the raw cells are never all in memory (the 200 MB
    figure is in BENCHMARKS.md, from bench/read_memory.py)."""
    import tracemalloc

    from publisher.validate import default_check, validate_report

    path = write_csv(tmp_path, "01", [row(n, arrears_bhxh=n, months_late=1) for n in range(1, 1201)])
    default_check()
    peaks = {}
    for stream in (True, False):
        tracemalloc.start()
        validated = validate_report(read_report(path, "01", AS_OF, stream=stream), AS_OF)
        peaks[stream] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert len(validated.records) == 1200
    assert peaks[True] < 0.6 * peaks[False]


def test_a_damaged_row_of_a_streamed_report_is_a_problem_of_its_province(tmp_path):
    from publisher.read_reports import read_one as _read_one

    path = write_csv(tmp_path, "01", [row(1)] * 40, with_totals=False)
    bad = "41,TA0041A,0100233488,Công ty\n".encode("cp1258")
    offset = path.stat().st_size + bad.index("ô".encode("cp1258"))
    with path.open("ab") as handle:
        handle.write(bad)
    problem = _read_one(("01", path, AS_OF, "repair", None))
    assert str(problem) == f"01-bao-cao.csv, row 42: not UTF-8 text (byte {offset}); save the report as CSV UTF-8"
    assert problem.province_code == "01"


def test_a_total_halfway_down_the_table_is_refused_not_the_end_of_the_report(tmp_path):
    """Regression: rows below a 'Tổng cộng' were dropped, and their employers published as resolved."""
    rows = [row(n) for n in range(1, 5)]
    subtotal = dict.fromkeys(HEADERS, "") | totals(rows[:2])
    path = write_csv(tmp_path, "01", rows[:2] + [subtotal] + rows[2:], titles=title_lines("01", AS_OF))
    with pytest.raises(ReportError, match=r"row 9: data below the grand total of row 8"):
        list(read_report(path, "01", AS_OF, stream=True).rows)


def test_a_second_grand_total_is_refused(tmp_path):
    rows = [row(1), row(2)]
    path = write_csv(tmp_path, "01", rows, totals_row=totals(rows))
    with path.open("a", encoding="utf-8") as handle:
        handle.write("Tổng cộng" + "," * (len(HEADERS) - 1) + "\n")
    with pytest.raises(ReportError, match=r"row 5: a second grand total \(the first is row 4\)"):
        read_report(path, "01", AS_OF)


def test_signature_and_date_lines_below_the_total_are_not_data(tmp_path):
    path = write_csv(tmp_path, "01", [row(1)])
    with path.open("a", encoding="utf-8") as handle:
        handle.write(",,,\"Hà Nội, ngày 25 tháng 11 năm 2026\",,,,,Giám đốc\n,,,(Ký, ghi rõ họ tên),,,,,\n")
    report = read_report(path, "01", AS_OF)
    assert len(report.rows) == 1 and report.totals_line == 3


@pytest.mark.parametrize("error", ["#REF!", "#N/A", "#VALUE!", "#DIV/0!", "#NAME?", "Err:502"])
def test_spreadsheet_error_values_in_a_csv_are_unreadable_never_empty(tmp_path, error):
    path = write_csv(tmp_path, "01", [row(1, arrears_bhxh=error, months_late=4)], with_totals=False)
    cell = read_report(path, "01", AS_OF).rows[0].cells["Nợ BHXH"]
    assert isinstance(cell, Unreadable) and cell.text == error.upper() and "spreadsheet error value" in cell.reason


def test_an_address_with_a_hash_sign_is_no_error_value(tmp_path):
    path = write_csv(tmp_path, "01", [row(1, address="Số 12#3 ngõ 5")], with_totals=False)
    assert read_report(path, "01", AS_OF).rows[0].cells["Địa chỉ"] == "Số 12#3 ngõ 5"


def test_xlsx_error_cells_read_as_empty_by_calamine_are_unreadable(tmp_path):
    """Regression: calamine reads an error cell as '', so #REF! in an amount published 0 đồng and in
    the totals row switched the control check off."""
    rows = [row(1, arrears_bhxh="#REF!", months_late=4), row(2)]
    path = write_xlsx(tmp_path, "01", rows, totals_row=totals([row(1), row(2)]) | {"Nợ BHXH": "#N/A"})
    report = read_report(path, "01", AS_OF)
    assert report.rows[0].cells["Nợ BHXH"].text == "#REF!"
    assert isinstance(report.totals["Nợ BHXH"], Unreadable) and report.totals["Nợ BHXH"].text == "#N/A"
