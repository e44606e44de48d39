"""Reports as the provinces write them (issue 23): each convention read from CSV and from XLSX."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from congkhai.policy import load_policy
from congkhai.taxcode import UNIT_ONLY
from publisher.errors import ReportError
from publisher.read import read_report
from publisher.reconcile import control_total_problems, subtotal_problems
from publisher.validate import validate_report

from .factory import tax_code, write_table

AS_OF = date(2025, 6, 30)
TITLES = [["BẢO HIỂM XÃ HỘI THÀNH PHỐ HẢI PHÒNG"], ["DANH SÁCH ĐƠN VỊ CHẬM ĐÓNG BHXH, BHYT, BHTN"],
          ["Số liệu tính đến ngày 30/6/2025"]]
FORMATS = pytest.mark.parametrize("fmt", ["csv", "xlsx"])


def validated(tmp_path, table, fmt, code="31", **kwargs):
    path = write_table(tmp_path, code, table, fmt, **kwargs)
    return validate_report(read_report(path, code, AS_OF), AS_OF)


def employer(n, *cells):
    """An employer's row: STT, tax code, name, then the given cells."""
    return [n, tax_code(n), f"Công ty TNHH Hải Âu {n}", *cells]


@FORMATS
def test_header_synonyms_spelling_and_a_notes_column(tmp_path, fmt):
    table = TITLES + [
        ["STT", "Mã số\nthuế", "TÊN TỔ CHỨC,  CÁ NHÂN", "dia chi tru so", "Số nhân viên", "So thang no", "Số tiền nợ",
         "Ghi chú"],
        employer(1, "Số 1 Lạch Tray", 12, 4, 5_000_000, "đã đôn đốc"),
        employer(2, "Số 2 Lạch Tray", 3, 0, 0, ""),
        ["", "", "Tổng cộng", "", 15, "", 5_000_000, ""],
    ]
    result = validated(tmp_path, table, fmt)
    assert result.rejected_rows == 0 and len(result.records) == 2
    first = result.records[0]
    assert (first.address, first.employees, first.months_late, first.arrears_total) == ("Số 1 Lạch Tray", 12, 4,
                                                                                         5_000_000)
    assert first.arrears_bhxh is None and first.arrears_bhyt is None and first.arrears_bhtn is None
    columns = {c.label: c.field for c in result.report.header.columns}
    assert columns["Ghi chú"] is None and columns["Mã số thuế"] == "tax_code"
    assert control_total_problems(result, load_policy()) == []


TWO_ROW_HEADER = [
    ["STT", "Mã số thuế", "Tên đơn vị sử dụng lao động", "Số tháng chậm đóng", "Số tiền chậm đóng", "", "", ""],
    ["", "", "", "", "Tổng số", "BHXH", "BHYT", "BHTN"],
]


@FORMATS
@pytest.mark.parametrize("numbers", [["(1)", "(2)", "(3)", "(4)", "(5)=(6)+(7)+(8)", "(6)", "(7)", "(8)"],
                                     ["A", "B", "C", "1", "2", "3", "4", "5"]])
def test_a_two_row_header_and_a_column_number_row(tmp_path, fmt, numbers):
    table = TITLES + TWO_ROW_HEADER + [numbers, employer(1, 14, 1_000, 800, 150, 50),
                                       ["", "", "Tổng cộng", "", 1_000, 800, 150, 50]]
    result = validated(tmp_path, table, fmt, merges=("E4:H4", "A4:A5"))
    assert result.rows_read == 1 and result.rejected_rows == 0
    record = result.records[0]
    assert (record.reported_total, record.arrears_bhxh, record.arrears_bhyt, record.arrears_bhtn) == (1000, 800, 150, 50)
    assert result.report.header.rows == (4, 5) and result.report.column_numbers_line == 6


GROUPED = TITLES + TWO_ROW_HEADER + [
    ["A", "", "Doanh nghiệp, hợp tác xã, hộ kinh doanh", "", "", "", "", ""],
    ["1", "", "Quận Lê Chân", "", "", "", "", ""],
    employer(1, 14, 1_000, 800, 150, 50),
    employer(2, 13, 2_000, 1_600, 300, 100),
    ["", "", "Cộng quận Lê Chân", "", 3_000, 2_400, 450, 150],
    ["2", "", "Huyện Thủy Nguyên", "", "", "", "", ""],
    employer(3, 20, 500, 400, 75, 25),
    ["", "", "Cộng huyện Thủy Nguyên", "", 500, 400, 75, 25],
    ["", "", "Cộng A", "", 3_500, 2_800, 525, 175],
    ["B", "", "Đơn vị hành chính sự nghiệp", "", 700, 560, 105, 35],
    employer(4, 12, 700, 560, 105, 35),
    ["", "", "TỔNG CỘNG (A+B)", "", 4_200, 3_360, 630, 210],
    [],
    ["", "", "NGƯỜI LẬP BIỂU", "", "", "GIÁM ĐỐC", "", ""],
    ["", "", "Nguyễn Thị Lan", "", "", "Trần Văn Hùng", "", ""],
]


@FORMATS
def test_groups_and_subtotals_are_not_employers_and_each_subtotal_adds_up(tmp_path, fmt):
    result = validated(tmp_path, GROUPED, fmt)
    assert [r.line for r in result.records] == [8, 9, 12, 16] and result.rejected_rows == 0
    checks = {c["label"]: c for c in result.subtotals}
    assert checks["cộng quận lê chân"]["rows"] == 2 and checks["cộng a"]["rows"] == 3
    assert checks["b. đơn vị hành chính sự nghiệp"]["kind"] == "group" and checks["cộng a"]["group"].startswith("a.")
    assert all(not c["differences"] for c in result.subtotals) and subtotal_problems(result) == []
    assert control_total_problems(result, load_policy()) == []


@FORMATS
def test_a_subtotal_that_does_not_add_up_fails_naming_its_row_and_group(tmp_path, fmt):
    table = [list(r) for r in GROUPED]
    table[9][5] = 2_500  # 'Cộng quận Lê Chân' BHXH, the rows sum to 2,400
    problems = subtotal_problems(validated(tmp_path, table, fmt))
    assert len(problems) == 1
    assert problems[0].line == 10 and problems[0].field == "Nợ BHXH"
    assert "'cộng quận lê chân' does not add up: states 2,500, the 2 row(s) of group '1. quận lê chân'" in problems[0].message


@FORMATS
def test_a_months_band_grouping_with_bare_subtotals(tmp_path, fmt):
    table = TITLES + [["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ"],
                      ["", "", "Nợ từ 3 đến dưới 6 tháng", "", ""],
                      employer(1, 4, 100), employer(2, 5, 200), ["", "", "Cộng", "", 300],
                      ["", "", "Nợ từ 12 đến dưới 60 tháng", "", ""],
                      employer(3, 13, 50), ["", "", "Cộng", "", 50],
                      ["", "", "Tổng cộng", "", 350]]
    result = validated(tmp_path, table, fmt)
    assert len(result.records) == 3 and subtotal_problems(result) == []
    assert [c["rows"] for c in result.subtotals] == [2, 1]


@FORMATS
def test_a_row_without_codes_that_is_no_heading_is_rejected_never_skipped(tmp_path, fmt):
    table = TITLES + [["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ"],
                      employer(1, 4, 100), [2, "", "Công ty CP Cảng Đình Vũ", 5, 200], ["", "", "Tổng cộng", "", 300]]
    result = validated(tmp_path, table, fmt)
    assert result.rejected_rows == 1 and result.rejects[0].line == 6
    assert "neither a tax code nor a unit code" in result.rejects[0].reason


@FORMATS
@pytest.mark.parametrize("unit, cell, expected", [
    ("Đơn vị tính: nghìn đồng", 1_234, 1_234_000),
    ("ĐVT: 1.000 đồng", "1.234,5", 1_234_500),
    ("Đơn vị tính: triệu đồng", "12,5", 12_500_000),
    ("Đơn vị tính: triệu đồng", "17,924", 17_924_000),  # regression: a decimal comma, not 17,924 million
    ("Đơn vị tính: nghìn đồng", "1,234,567", 1_234_567_000),
    ("Don vi tinh: dong", 1_234, 1_234),
])
def test_the_unit_line_scales_every_amount(tmp_path, fmt, unit, cell, expected):
    table = TITLES + [[unit], ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ"],
                      employer(1, 4, cell), ["", "", "Tổng cộng", "", cell]]
    result = validated(tmp_path, table, fmt)
    assert result.records[0].arrears_total == expected and result.column_sums["reported_total"] == expected
    assert control_total_problems(result, load_policy()) == []


@FORMATS
def test_a_unit_in_the_headers_and_a_contradicting_title_is_refused(tmp_path, fmt):
    header = ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ (nghìn đồng)"]
    result = validated(tmp_path, TITLES + [header, employer(1, 4, 5), ["", "", "Tổng cộng", "", 5]], fmt)
    assert result.records[0].arrears_total == 5_000 and result.report.scale == 1000
    path = write_table(tmp_path, "31", TITLES + [["Đơn vị tính: đồng"], header, employer(1, 4, 5)], fmt,
                       name=f"31-b.{fmt}")
    with pytest.raises(ReportError, match="the title says amounts are in dong but the headers name another unit"):
        read_report(path, "31", AS_OF)


@FORMATS
def test_bhxh_and_bhtn_in_one_column_with_bhyt_apart(tmp_path, fmt):
    header = ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Tổng số tiền nợ", "BHXH, BHTN", "BHYT"]
    table = TITLES + [header, employer(1, 4, 1_000, 850, 150), employer(2, 4, 1_000, 950, 150),
                      ["", "", "Tổng cộng", "", 2_000, 1_800, 300]]
    result = validated(tmp_path, table, fmt)
    record = result.records[0]
    assert (record.arrears_bhxh, record.arrears_bhtn, record.arrears_bhyt, record.arrears_bhxh_bhtn) == (None, None, 150,
                                                                                                      850)
    assert result.rejected_rows == 1 and "more than the total 1,000" in result.rejects[0].reason


@FORMATS
def test_bhtnld_bnn_in_its_own_column_completes_the_split(tmp_path, fmt):
    header = ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền chậm đóng", "", "", "", ""]
    table = TITLES + [header, ["", "", "", "", "Tổng số", "BHXH", "BHYT", "BHTN", "BHTNLĐ-BNN"],
                      employer(1, 4, 1_010, 800, 150, 50, 10), employer(2, 4, 1_020, 800, 150, 50, 10)]
    result = validated(tmp_path, table, fmt)
    assert result.records[0].arrears_bhtnld == 10 and result.records[0].arrears_total == 1_010
    assert result.rejected_rows == 1 and "not the total 1,020" in result.rejects[0].reason


@FORMATS
def test_without_a_bhtnld_column_the_funds_may_fall_short_of_the_total(tmp_path, fmt):
    table = TITLES + TWO_ROW_HEADER + [employer(1, 4, 1_010, 800, 150, 50)]
    record = validated(tmp_path, table, fmt).records[0]
    assert (record.arrears_total, record.arrears_bhtnld) == (1_010, None)


@FORMATS
def test_interest_is_published_as_interest_never_in_the_arrears(tmp_path, fmt):
    header = ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền phải tính lãi", "Lãi chậm đóng", "Tổng cộng"]
    table = TITLES + [header, ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)=(5)+(6)"],
                      employer(1, 4, 1_000, 30, 1_030), employer(2, 4, 1_000, 30, 1_300),
                      ["", "", "Tổng cộng", "", 2_000, 60, 2_330]]
    result = validated(tmp_path, table, fmt)
    record = result.records[0]
    assert (record.arrears_total, record.interest) == (1_000, 30)
    assert result.report.header.fields.keys() >= {"reported_total", "interest", "with_interest"}
    assert result.rejected_rows == 1 and "plus interest 30 make 1,030, not 1,300" in result.rejects[0].reason


@FORMATS
def test_only_unit_codes_or_only_tax_codes(tmp_path, fmt):
    units = validated(tmp_path, TITLES + [["STT", "Mã đơn vị", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ"],
                                          [1, "ya 0001a", "Công ty TNHH Cát Bà", 4, 100]], fmt)
    record = units.records[0]
    assert (record.tax.kind, record.key, record.tax_code, record.unit_code) == (UNIT_ONLY, "YA0001A", None, "YA0001A")
    taxes = validated(tmp_path, TITLES + [["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ"],
                                          employer(1, 4, 100)], fmt, name=f"31-mst.{fmt}")
    assert taxes.records[0].unit_code == "" and taxes.records[0].key == tax_code(1)


@FORMATS
def test_a_household_needs_its_unit_code(tmp_path, fmt):
    table = TITLES + [["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ"],
                      [1, "031095000123", "Hộ kinh doanh Nguyễn Văn A", 4, 100]]
    result = validated(tmp_path, table, fmt)
    assert result.rejected_rows == 1 and "published by its unit code" in result.rejects[0].reason


@FORMATS
def test_a_regional_office_names_the_province_in_a_title_line(tmp_path, fmt):
    titles = [["BẢO HIỂM XÃ HỘI KHU VỰC II"], ["DANH SÁCH ĐƠN VỊ CHẬM ĐÓNG TRÊN ĐỊA BÀN THÀNH PHỐ HẢI PHÒNG"],
              ["(Số liệu nợ đến ngày 25/6/2025, số đã nộp tính đến ngày 30/6/2025)"]]
    table = titles + [["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ"], employer(1, 4, 100)]
    report = validated(tmp_path, table, fmt).report
    assert report.dates == {"as_of": "2025-06-30", "arrears_to": "2025-06-25"}
    path = write_table(tmp_path, "01", table, fmt)
    with pytest.raises(ReportError, match="title names Thành phố Hải Phòng but the file name says province 01"):
        read_report(path, "01", AS_OF)


@FORMATS
@pytest.mark.parametrize("line", ["Tính đến ngày 30 tháng 6 năm 2025", "Số liệu: 2025-06-30", "Đến hết ngày 30.6.2025"])
def test_title_dates_in_every_form(tmp_path, fmt, line):
    table = TITLES[:2] + [[line], ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ"], employer(1, 4, 1)]
    assert validated(tmp_path, table, fmt).report.dates["as_of"] == "2025-06-30"


def test_a_date_cell_in_the_title(tmp_path):
    table = TITLES[:2] + [["Tính đến ngày", datetime(2025, 6, 30)],
                          ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ"], employer(1, 4, 1)]
    assert validated(tmp_path, table, "xlsx").report.dates["as_of"] == "2025-06-30"
    table[2] = ["Tính đến ngày", datetime(2025, 6, 29)]
    path = write_table(tmp_path, "31", table, "xlsx", name="31-b.xlsx")
    with pytest.raises(ReportError, match="report is as of 29/06/2025"):
        read_report(path, "31", AS_OF)


def test_a_summary_sheet_in_front_of_the_detail_sheet(tmp_path):
    summary = {"Tổng hợp": [["BẢO HIỂM XÃ HỘI THÀNH PHỐ HẢI PHÒNG"], ["STT", "Quận, huyện", "Số đơn vị", "Số tiền nợ"],
                            [1, "Lê Chân", 1, 100]]}
    table = TITLES + [["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền nợ"], employer(1, 4, 100)]
    result = validated(tmp_path, table, "xlsx", sheets_before=summary)
    assert len(result.records) == 1 and result.report.sheet == "Chi tiết"


@FORMATS
def test_an_unreadable_header_names_what_it_saw_what_is_missing_and_the_closest_words(tmp_path, fmt):
    table = TITLES + [["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ kéo dài", "Số tiền nợ"], employer(1, 4, 1)]
    path = write_table(tmp_path, "31", table, fmt)
    with pytest.raises(ReportError) as raised:
        read_report(path, "31", AS_OF)
    message = str(raised.value)
    assert "row 4" in message and "lacks 'Số tháng chậm đóng'" in message
    assert "'Số tháng nợ kéo dài': did you mean 'Số tháng chậm đóng'?" in message and "'Tên đơn vị'" in message


@FORMATS
def test_no_header_at_all_explains_the_likeliest_row(tmp_path, fmt):
    table = TITLES + [["STT", "MST", "Tên", "Tháng", "Tiền"], employer(1, 4, 1)]
    path = write_table(tmp_path, "31", table, fmt)
    with pytest.raises(ReportError, match=r"no header row found in the first 30 rows; the likeliest, row 4: header "
                                          r"lacks 'Tên đơn vị'"):
        read_report(path, "31", AS_OF)


def test_a_provinces_own_words_apply_to_its_reports_only(tmp_path):
    from publisher import layout

    toml = layout.LAYOUTS_FILE.read_text(encoding="utf-8") + '\n[provinces."31".synonyms]\nmonths_late = ["Số tháng nợ đọng"]\n'
    (tmp_path / "layouts.toml").write_text(toml, encoding="utf-8")
    conv = layout.Conventions.load(tmp_path / "layouts.toml")
    header = ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ đọng", "Số tiền nợ"]
    assert layout.read_header(header, None, 4, conv, "31").fields["months_late"] == 3
    with pytest.raises(layout.HeaderProblem, match="lacks 'Số tháng chậm đóng'"):
        layout.read_header(header, None, 4, conv, "01")


def test_a_numeric_group_number_reads_as_its_number():
    from publisher import layout

    assert layout.row_label(1.0, "Quận Lê Chân") == "1. quận lê chân"
    assert layout.row_kind(layout.row_label(2.0, "Huyện Thủy Nguyên"), layout.conventions()) == "group"


def test_row_labels_with_and_without_diacritics():
    from publisher import layout

    conv = layout.conventions()
    kinds = {label: layout.row_kind(label, conv) for label in (
        "cộng a", "cong a", "tổng cộng (a+b)", "tong cong", "a. doanh nghiệp, hợp tác xã", "ii. đơn vị sự nghiệp",
        "1. quận lê chân", "huyện mường la", "nợ từ 12 đến dưới 60 tháng", "cong ty tnhh an phat",
        "tổng công ty sông đà", "tong cong ty song da", "công ty tnhh a", "doanh nghiệp tư nhân hùng phát")}
    assert kinds == {"cộng a": "subtotal", "cong a": "subtotal", "tổng cộng (a+b)": "grand_total",
                     "tong cong": "grand_total", "a. doanh nghiệp, hợp tác xã": "group",
                     "ii. đơn vị sự nghiệp": "group", "1. quận lê chân": "group", "huyện mường la": "group",
                     "nợ từ 12 đến dưới 60 tháng": "group", "cong ty tnhh an phat": "data",
                     "tổng công ty sông đà": "data", "tong cong ty song da": "data", "công ty tnhh a": "data",
                     "doanh nghiệp tư nhân hùng phát": "data"}


@FORMATS
def test_an_nfd_header_and_an_nfd_group_label_read_as_nfc(tmp_path, fmt):
    import unicodedata

    nfd = [unicodedata.normalize("NFD", text) for text in ("Số tháng nợ", "Cộng", "Nợ từ 3 đến dưới 6 tháng")]
    table = TITLES + [["STT", "Mã số thuế", "Tên đơn vị", nfd[0], "Số tiền nợ"], ["", "", nfd[2], "", ""],
                      employer(1, 4, 100), ["", "", nfd[1], "", 100], ["", "", "Tổng cộng", "", 100]]
    result = validated(tmp_path, table, fmt)
    assert len(result.records) == 1 and [c["rows"] for c in result.subtotals] == [1]


def test_partial_amounts_cross_a_process_boundary_intact(tmp_path):
    """Reading processes send records back as plain values (records.validated_values): the total,
    BHTNLĐ-BNN, interest and a combined BHXH+BHTN survive, and the standard layout's absence of them."""
    import pickle

    header = ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Tổng số tiền nợ", "BHXH, BHTN", "BHYT", "BHTNLĐ-BNN",
              "Lãi chậm đóng"]
    result = validated(tmp_path, TITLES + [header, employer(1, 4, 1_010, 850, 150, 10, 30)], "csv")
    back = pickle.loads(pickle.dumps(result)).records[0]
    assert (back.reported_total, back.arrears_bhxh_bhtn, back.arrears_bhyt, back.arrears_bhtnld, back.interest,
            back.arrears_bhxh) == (1_010, 850, 150, 10, 30, None)
