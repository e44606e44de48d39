"""The sample generator's report layouts (issue 23): what each one writes, in XLSX and in CSV.

The files are first read back with python_calamine and csv, independently of the publisher's
reader: titles, header rows, merged header ranges, the column-number row, groups whose subtotals
and grand total add up to the rows written, the unit of the amounts, the summary sheet, and what
stands below the table. Then the publisher reads them: every row, with the employers and amounts
written, on a first day, a next day and in a correction.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from congkhai.provinces import all_provinces, by_code, find_province
from congkhai.taxcode import PERSONAL, parse_tax_code
from publisher.cli import main
from publisher.records import HEADERS
from publisher.sample import generate_reports
from publisher.sample_ids import enterprise_tax_code, personal_number, tax_serial
from publisher.sample_layouts import (HOMES, LAYOUT_NAMES, LAYOUTS, MONTH_BANDS, STANDARD, assign_layouts,
                                      detect_layout, layout_names)
from publisher.sample_writer import amount_text

AS_OF = date(2026, 7, 5)   # one-digit day and month: '5/7/2026' and '05/07/2026' differ
EMPLOYERS = 700
NAMES = list(LAYOUTS)
GROUP = "Số tiền chậm đóng"

# The header of each layout as written: (top row, second row or None, column-number row or None).
HEADER_ROWS = {
    "hcm": (["STT", "Mã đơn vị", "Mã số thuế", "Tên đơn vị", "Địa chỉ", "Loại hình", "Ngành nghề", "Số lao động",
             "Số tháng chậm đóng", GROUP, "", "", "", "Quyết định trốn đóng", "Tình trạng xử lý", "Ghi chú"],
            [""] * 9 + ["Tổng số", "BHXH", "BHYT", "BHTN", "", "", ""],
            [f"({n})" for n in range(1, 17)]),
    "thanhhoa": (["STT", "Mã đơn vị", "Mã số\nthuế", "Tên tổ chức, cá nhân", "Địa chỉ trụ sở", "Số lao động",
                  "Số tháng nợ", GROUP, "Tình trạng xử lý"], None, None),
    "dongnai": (["STT", "Mã đơn vị", "Tên đơn vị sử dụng lao động", "Mã số thuế", "Địa chỉ", "Loại hình",
                 "Số lao động chậm đóng", "Số tháng  chậm đóng", "Nợ BHXH, BHTN", "Nợ BHYT", "BHTNLĐ-BNN",
                 "Tổng số tiền nợ", "Quyết định trốn đóng"], None, None),
    "haiphong": (["STT", "Mã số thuế", "Tên đơn vị", "Địa chỉ", "Ngành nghề", "Số lao động", "So thang no",
                  "Số tiền phải tính lãi", "Lãi chậm đóng", "Tổng cộng", "Quyết định trốn đóng", "Tình trạng xử lý"],
                 None, ["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", "(9)", "(10)=(8)+(9)", "(11)", "(12)"]),
    "sonla": (["STT", "Mã đơn vị", "TÊN ĐƠN VỊ", "Địa chỉ", "Loại hình", "Số nhân viên", "Số tháng chậm đóng",
               "Nợ BHXH", "Nợ BHYT", "Nợ BHTN", "Tình trạng xử lý", "Quyết định trốn đóng"], None, None),
}
DATE_LINES = {
    "hcm": "Tính đến ngày 5/7/2026", "thanhhoa": "Tính đến ngày 5/7/2026",
    "dongnai": "(Tính đến ngày 5 tháng 7 năm 2026)",
    "haiphong": "Số liệu nợ đến ngày 30/06/2026, số đã nộp tính đến ngày 5/7/2026",
}
UNITS = {"hcm": ("Đơn vị tính: đồng", 1), "thanhhoa": ("Đơn vị tính: nghìn đồng", 1000),
         "dongnai": ("Đơn vị tính: đồng", 1), "haiphong": ("ĐVT: đồng", 1), "sonla": ("Đơn vị tính: triệu đồng", 10**6)}
GRAND_TOTALS = {"hcm": "TỔNG CỘNG (A+B)"}
NAME_HEADERS = {"hcm": "Tên đơn vị", "thanhhoa": "Tên tổ chức, cá nhân", "dongnai": "Tên đơn vị sử dụng lao động",
                "haiphong": "Tên đơn vị", "sonla": "TÊN ĐƠN VỊ"}
# Record field -> the column it is read from, per layout (amounts in the layout's unit).
READ_AS = {
    "hcm": {"reported_total": "Tổng số", "arrears_bhxh": "BHXH", "arrears_bhyt": "BHYT", "arrears_bhtn": "BHTN"},
    "thanhhoa": {"reported_total": GROUP},
    "dongnai": {"reported_total": "Tổng số tiền nợ", "arrears_bhyt": "Nợ BHYT", "arrears_bhtnld": "BHTNLĐ-BNN"},
    "haiphong": {"reported_total": "Số tiền phải tính lãi", "interest": "Lãi chậm đóng"},
    "sonla": {"arrears_bhxh": "Nợ BHXH", "arrears_bhyt": "Nợ BHYT", "arrears_bhtn": "Nợ BHTN"},
}
MONTHS = {"hcm": "Số tháng chậm đóng", "thanhhoa": "Số tháng nợ", "dongnai": "Số tháng  chậm đóng",
          "haiphong": "So thang no", "sonla": "Số tháng chậm đóng"}
EMPLOYEE_HEADERS = {"hcm": "Số lao động", "thanhhoa": "Số lao động", "dongnai": "Số lao động chậm đóng",
                    "haiphong": "Số lao động", "sonla": "Số nhân viên"}
IDENTITY = {"hcm": "Mã đơn vị", "thanhhoa": "Mã đơn vị", "dongnai": "Mã đơn vị", "haiphong": "Mã số thuế",
            "sonla": "Mã đơn vị"}
# The columns each layout sums in its subtotals and grand total.
SUMMED = {
    "hcm": ["Số lao động", "Tổng số", "BHXH", "BHYT", "BHTN"],
    "thanhhoa": ["Số lao động", GROUP],
    "dongnai": ["Số lao động chậm đóng", "Nợ BHXH, BHTN", "Nợ BHYT", "BHTNLĐ-BNN", "Tổng số tiền nợ"],
    "haiphong": ["Số lao động", "Số tiền phải tính lãi", "Lãi chậm đóng", "Tổng cộng"],
    "sonla": ["Số nhân viên", "Nợ BHXH", "Nợ BHYT", "Nợ BHTN"],
}


@dataclass
class Table:
    """A written report, cut at its rows: titles, header rows, column numbers, employers and the rows
    between them (headings, subtotals), the grand total and what stands below it."""
    path: Path
    titles: list[list]
    header: list[str]
    second: list[str] | None
    numbers: list[str] | None
    columns: list[str]          # the header of each column, the lower row's where there are two
    body: list[list]            # employer, heading and subtotal rows, in order
    total: list
    below: list[list]
    sheets: list[str] = field(default_factory=list)
    merged: list = field(default_factory=list)
    header_line: int = 0        # index of the top header row

    def cell(self, row: list, header: str):
        return row[self.columns.index(header)]

    def employers(self) -> list[list]:
        return [row for row in self.body if is_employer(row)]


def text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if not isinstance(value, date) else value.isoformat()


def is_employer(row: list) -> bool:
    return text(row[0]).isdigit()


def amount(value) -> Decimal:
    """A written amount in the report's unit: a numeric cell, '1.234.567', '1.234,5', '1234567', '-' or empty."""
    if value in (None, "", "-"):
        return Decimal(0)
    if isinstance(value, (int, float)):
        return Decimal(repr(value))
    return Decimal(value.replace(".", "").replace(",", "."))


def rows_of(path: Path) -> tuple[list[list], list[str], list]:
    """The rows of the report's table (for XLSX, of its 'Danh sách' sheet), its sheet names and merges."""
    if path.suffix == ".csv":
        raw = path.read_bytes()
        delimiter = ";" if raw.split(b"\n", 1)[0].count(b";") else ","
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle, delimiter=delimiter)), [], []
    book = CalamineWorkbook.from_path(str(path))
    sheet = book.get_sheet_by_name("Danh sách")
    return sheet.to_python(skip_empty_area=False), book.sheet_names, sheet.merged_cell_ranges or []


def table(path: Path) -> Table:
    rows, sheets, merged = rows_of(path)
    top = next(i for i, row in enumerate(rows) if text(row[0]) == "STT")
    header = [text(v) for v in rows[top]]
    at = top + 1
    second = numbers = None
    if "" in header:  # a label over several columns: their own headers stand in the row below
        second, at = [text(v) for v in rows[at]], at + 1
    if text(rows[at][0]) == "(1)":
        numbers, at = [text(v) for v in rows[at]], at + 1
    columns = [b or a for a, b in zip(header, second or header)]
    end = next(i for i in range(at, len(rows))
               if re.match(r"tổng cộng", " ".join(text(v) for v in rows[i][:4]).strip(), re.IGNORECASE))
    return Table(path, rows[:top], header, second, numbers, columns, rows[at:end], rows[end],
                 rows[end + 1:], sheets, merged, top)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, tuple]:
    """Each layout written for all 34 provinces (a mix of XLSX and CSV): (directory, summary)."""
    out = tmp_path_factory.mktemp("layouts")
    return {name: (out / name, generate_reports(out / name, EMPLOYERS, AS_OF, seed=7, layouts=[name]))
            for name in NAMES}


def reports(written, name: str, fmt: str | None = None) -> list[Path]:
    directory, summary = written[name]
    return [directory / f for f in summary.files if fmt is None or f.endswith("." + fmt)]


def test_each_layout_is_written_for_every_province_in_both_formats(written):
    for name in NAMES:
        directory, summary = written[name]
        assert set(summary.layouts.values()) == {name} and set(summary.formats.values()) == {"csv", "xlsx"}
        expected = {f"{p.code}-{p.slug}.csv" if summary.formats[p.code] == "csv" else f"{p.code}.xlsx"
                    for p in all_provinces()}
        assert set(summary.files) == expected
        assert sum(len(table(path).employers()) for path in reports(written, name)) == EMPLOYERS
        assert f"Layouts: {name} 34." in summary.describe()


@pytest.mark.parametrize("name", NAMES)
def test_titles_name_the_file_province_the_run_date_and_the_unit(written, name):
    for path in reports(written, name):
        titles = [[text(v) for v in row if text(v)] for row in table(path).titles]
        lines = [" ".join(row) for row in titles if row]
        cells = [cell for row in titles for cell in row]
        province = by_code()[path.name[:2]]
        assert {found.code for found in map(find_province, lines) if found} == {province.code}, lines
        assert UNITS[name][0] in lines
        if name == "sonla":
            assert (["Số liệu tính đến ngày:", "2026-07-05"] if path.suffix == ".xlsx"
                    else ["Số liệu tính đến ngày 2026-07-05"]) in titles
        else:
            assert DATE_LINES[name] in lines
        regional = [cell for cell in cells if re.fullmatch(r"BẢO HIỂM XÃ HỘI KHU VỰC [IVXL]+", cell)]
        assert bool(regional) == (name in ("haiphong", "sonla"))
        if regional:
            assert not any(cell.startswith(("BẢO HIỂM XÃ HỘI TỈNH", "BẢO HIỂM XÃ HỘI THÀNH PHỐ")) for cell in cells)
            assert any(f"trên địa bàn {province.name}".lower() in line.lower() for line in lines)


def test_a_date_cell_in_the_title_of_a_workbook(written):
    path = reports(written, "sonla", "xlsx")[0]
    row = next(row for row in table(path).titles if text(row[0]) == "Số liệu tính đến ngày:")
    assert row[1] == AS_OF   # calamine gives a date cell as a date


@pytest.mark.parametrize("name", NAMES)
def test_header_rows_and_column_numbers(written, name):
    top, second, numbers = HEADER_ROWS[name]
    for path in reports(written, name):
        written_table = table(path)
        assert written_table.header == top and written_table.second == second and written_table.numbers == numbers


def test_the_arrears_label_is_merged_over_its_columns_and_the_others_over_two_rows(written):
    path = reports(written, "hcm", "xlsx")[0]
    hcm = table(path)
    row = hcm.header_line
    group = hcm.header.index(GROUP)
    assert ((row, group), (row, group + 3)) in hcm.merged
    for column, header in enumerate(hcm.header):
        if header and header != GROUP:
            assert ((row, column), (row + 1, column)) in hcm.merged, header
    assert ((0, 0), (0, len(hcm.header) - 1)) in hcm.merged   # the first title line over the table


def groups(written_table: Table) -> list[tuple[list, list[list], list]]:
    """(heading row, employer rows, subtotal row) of each group, in order."""
    out, heading, members = [], None, []
    for row in written_table.body:
        if is_employer(row):
            members.append(row)
        elif heading is None:
            heading = row
        else:
            out.append((heading, members, row))
            heading, members = None, []
    assert heading is None and not members, "rows outside a group"
    return out


def label(row: list) -> str:
    return " ".join(text(v) for v in row[:4] if text(v))


def check_sums(written_table: Table, rows: list[list], sums: list, name: str) -> None:
    for header in SUMMED[name]:
        assert amount(written_table.cell(sums, header)) == sum(amount(written_table.cell(r, header)) for r in rows), \
            (written_table.path.name, label(sums), header)


@pytest.mark.parametrize("name", NAMES)
def test_subtotals_and_the_grand_total_add_up_to_the_rows_written(written, name):
    for path in reports(written, name):
        written_table = table(path)
        assert label(written_table.total) == GRAND_TOTALS.get(name, "Tổng cộng")
        check_sums(written_table, written_table.employers(), written_table.total, name)
        if name in ("haiphong", "sonla"):
            assert all(is_employer(row) for row in written_table.body)
            continue
        found = groups(written_table)
        assert sum(len(members) for _, members, _ in found) == len(written_table.employers())
        for heading, members, subtotal in found:
            assert members
            check_sums(written_table, members, subtotal, name)


def test_group_labels(written):
    hcm = {label(heading): label(subtotal) for path in reports(written, "hcm")
           for heading, _, subtotal in groups(table(path))}
    assert hcm == {"A. Doanh nghiệp, hợp tác xã, hộ kinh doanh": "Cộng A", "B. Đơn vị hành chính sự nghiệp": "Cộng B"}
    for path in reports(written, "thanhhoa"):
        for heading, _, subtotal in groups(table(path)):
            assert re.fullmatch(r"(Quận|Huyện|Thị xã|Thành phố) \w+ \w+", label(heading))
            assert label(subtotal) == "Cộng " + label(heading)[0].lower() + label(heading)[1:]
    bands = dict((text, least) for least, text in MONTH_BANDS)
    for path in reports(written, "dongnai"):
        dongnai = table(path)
        for heading, members, subtotal in groups(dongnai):
            number, band = text(heading[0]), text(dongnai.cell(heading, "Tên đơn vị sử dụng lao động"))
            assert number in ("I", "II", "III", "IV", "V", "VI") and band in bands
            assert label(subtotal) == "Cộng"
            least = bands[band]
            upper = min((m for m in bands.values() if m > least), default=10**6)
            assert all(least <= int(amount(dongnai.cell(r, MONTHS["dongnai"]))) < upper for r in members)


@pytest.mark.parametrize("name,decimals", [("thanhhoa", 3), ("sonla", 6)])
def test_amounts_are_exact_in_thousands_and_millions(written, name, decimals):
    unit = UNITS[name][1]
    seen_decimals = False
    for path in reports(written, name):
        written_table = table(path)
        for row in written_table.employers() + [written_table.total]:
            for header in set(SUMMED[name]) - {EMPLOYEE_HEADERS[name]}:
                value = written_table.cell(row, header)
                if path.suffix == ".csv" and value:
                    assert re.fullmatch(rf"\d{{1,3}}(\.\d{{3}})*(,\d{{1,{decimals}}})?", value), value
                written_amount = amount(value)
                assert -written_amount.as_tuple().exponent <= decimals
                assert (written_amount * unit) % 1 == 0
                seen_decimals |= written_amount % 1 != 0
    assert seen_decimals


def test_amount_text_in_vietnamese_forms():
    assert amount_text(1_234_567, 1, True) == "1.234.567" and amount_text(1_234_567, 1, False) == "1234567"
    assert amount_text(1_234_500, 1000, True) == "1.234,5" and amount_text(1_234_000, 1000, True) == "1.234"
    assert amount_text(1_234_567, 1_000_000, True) == "1,234567" and amount_text(567, 1000, False) == "0,567"


def test_csv_conventions(written):
    for path in reports(written, "thanhhoa", "csv"):
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and data.split(b"\n", 1)[0].count(b";") >= 4
    for path in reports(written, "dongnai", "csv"):
        assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
        amounts = [table(path).cell(row, "Tổng số tiền nợ") for row in table(path).employers()]
        assert "-" in amounts and all(a == "-" or a.isdigit() for a in amounts)


def test_optional_and_identity_columns(written):
    columns = {name: table(reports(written, name)[0]).columns for name in NAMES}
    assert not {"Loại hình", "Ngành nghề", "Quyết định trốn đóng"} & set(columns["thanhhoa"])
    assert "Mã đơn vị" not in columns["haiphong"] and "Mã số thuế" in columns["haiphong"]
    assert "Mã số thuế" not in columns["sonla"] and "Mã đơn vị" in columns["sonla"]


@pytest.mark.parametrize("name,tax_header", [("hcm", "Mã số thuế"), ("thanhhoa", "Mã số\nthuế"),
                                             ("dongnai", "Mã số thuế")])
def test_households_keep_their_personal_number_where_there_is_a_tax_code(written, name, tax_header):
    personal = 0
    for path in reports(written, name):
        written_table = table(path)
        for row in written_table.employers():
            household = text(written_table.cell(row, NAME_HEADERS[name])).startswith("Hộ kinh doanh")
            tax = parse_tax_code(text(written_table.cell(row, tax_header)), household=household)
            personal += tax.kind == PERSONAL
    assert personal >= 5


def test_a_list_without_unit_codes_names_no_household_by_its_owners_number(written):
    """The unit code is a household's only public key: a list without unit codes (haiphong) gives
    its households a business tax code of their own, never the owner's personal number."""
    households = 0
    for path in reports(written, "haiphong"):
        written_table = table(path)
        for row in written_table.employers():
            if text(written_table.cell(row, "Tên đơn vị")).startswith("Hộ kinh doanh"):
                households += 1
                assert parse_tax_code(text(written_table.cell(row, "Mã số thuế")), household=True).kind != PERSONAL
    assert households >= 1


def test_dongnai_splits_bhtnld_out_of_bhxh_and_totals_every_fund(written):
    for path in reports(written, "dongnai"):
        dongnai = table(path)
        for row in dongnai.employers():
            parts = [amount(dongnai.cell(row, h)) for h in ("Nợ BHXH, BHTN", "Nợ BHYT", "BHTNLĐ-BNN")]
            total = amount(dongnai.cell(row, "Tổng số tiền nợ"))
            assert sum(parts) == total and (parts[2] > 0) == (total > 0)


def test_haiphong_puts_interest_beside_the_arrears(written):
    for path in reports(written, "haiphong"):
        haiphong = table(path)
        for row in haiphong.employers():
            arrears, interest, both = (amount(haiphong.cell(row, h))
                                       for h in ("Số tiền phải tính lãi", "Lãi chậm đóng", "Tổng cộng"))
            assert arrears + interest == both and (interest > 0) == (arrears > 0)


def test_layouts_without_a_decision_column_count_no_evasion(written):
    assert written["thanhhoa"][1].by_status["evading"] == 0
    assert written["hcm"][1].by_status["evading"] > 0


def test_sonla_workbooks_have_a_summary_sheet_in_front(written):
    for path in reports(written, "sonla", "xlsx"):
        sonla = table(path)
        assert sonla.sheets == ["Tổng hợp", "Danh sách"]
        summary = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Tổng hợp").to_python()
        header = next(i for i, row in enumerate(summary) if row[0] == "STT")
        assert summary[header] == ["STT", "Địa bàn", "Số đơn vị", "Số đơn vị chậm đóng", "Số lao động", GROUP]
        districts, total = summary[header + 1:-1], summary[-1]
        assert total[1] == "Tổng cộng" and all(re.match(r"(Huyện|Thị xã|Thành phố|Quận) ", row[1]) for row in districts)
        employers = sonla.employers()
        assert total[2] == sum(row[2] for row in districts) == len(employers)
        arrears = sum(amount(sonla.cell(row, h)) for row in employers for h in ("Nợ BHXH", "Nợ BHYT", "Nợ BHTN"))
        assert amount(total[5]) == arrears


@pytest.mark.parametrize("name", ["thanhhoa", "haiphong"])
def test_signatures_and_notes_below_the_table(written, name):
    for path in reports(written, name):
        below = [[text(v) for v in row] for row in table(path).below]
        words = {cell for row in below for cell in row if cell}
        assert {"NGƯỜI LẬP BIỂU", "KẾ TOÁN TRƯỞNG", "GIÁM ĐỐC"} <= words
        province = by_code()[path.name[:2]]
        assert f"{province.short_name}, ngày 05 tháng 07 năm 2026" in words
        assert any(re.fullmatch(r"\w+ \w+ \w+", cell) and cell != cell.upper() for cell in words)  # a signer's name
        assert not any(cell.isdigit() for row in below for cell in row)


def test_layout_names_and_mixes():
    assert layout_names(None) == [STANDARD]
    assert layout_names(["hcm,sonla", "hcm"]) == ["hcm", "sonla"]
    assert layout_names(["mixed"]) == list(LAYOUT_NAMES)
    with pytest.raises(ValueError, match="unknown layout 'hanoi'"):
        layout_names(["hanoi"])
    mixed = assign_layouts(1, ["mixed"])
    assert all(mixed[code] == name for name, code in HOMES.items())
    assert min(list(mixed.values()).count(name) for name in LAYOUT_NAMES) >= 5
    assert mixed == assign_layouts(1, ["mixed"]) != assign_layouts(2, ["mixed"])
    assert set(assign_layouts(1, ["dongnai", "standard"]).values()) == {"dongnai", "standard"}


def test_no_layout_is_recognised_as_another(written, tmp_path):
    labels = {name: layout.labels for name, layout in LAYOUTS.items()} | {STANDARD: set(HEADERS)}
    for name, words in labels.items():
        assert not any(words <= other for other_name, other in labels.items() if other_name != name), name
    for name in NAMES:
        for path in reports(written, name):
            assert detect_layout(path, HEADERS) == name, path
    generate_reports(tmp_path, 80, AS_OF)
    assert {detect_layout(path, HEADERS) for path in tmp_path.iterdir()} == {STANDARD}


def test_layouts_give_the_same_bytes_for_the_same_arguments(tmp_path):
    first = generate_reports(tmp_path / "a", 150, AS_OF, seed=4, layouts=["mixed"])
    generate_reports(tmp_path / "b", 150, AS_OF, seed=4, layouts=["mixed"])
    assert set(first.layouts.values()) == set(LAYOUT_NAMES)
    for name in first.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.parametrize("code", ["01", "31", "96"])
def test_a_serial_is_found_again_from_its_tax_code(code):
    from random import Random

    rng = Random(0)
    for serial in (1, 2, 777, 10_000, 123_456, 3_999_000, 7_019_999):
        assert tax_serial(code, "enterprise", enterprise_tax_code(code, serial)) == serial
        if serial < 4 * 999_983:   # the most household numbers a province can have
            assert tax_serial(code, "personal", personal_number(code, serial, rng)) == serial
    assert tax_serial(code, "branch", enterprise_tax_code(code, 5) + "-001") is None


def test_cli_layout_choices(env, capsys):
    assert main(["sample", "--out", str(env / "a"), "--employers", "60", "--as-of", "2026-07-05",
                 "--layout", "hcm,sonla", "--layout", "standard"]) == 0
    assert "Layouts: hcm " in capsys.readouterr().out
    assert main(["sample", "--out", str(env / "b"), "--employers", "60", "--as-of", "2026-07-05",
                 "--layout", "hanoi"]) == 2
    assert "unknown layout 'hanoi'" in capsys.readouterr().err
    assert main(["sample", "--out", str(env / "c"), "--as-of", "2026-07-06", "--previous", str(env / "a"),
                 "--layout", "hcm"]) == 2
    assert "--previous and --correct keep each report's own" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------
# What the publisher reads of them: every row, and the employers and amounts the generator wrote

def demo_layouts() -> str:
    """The layouts `make publish-demo` uses (Makefile: DEMO_LAYOUTS)."""
    from congkhai.config import REPO_ROOT

    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    return re.search(r"^DEMO_LAYOUTS\s*\?=\s*(\S+)", makefile, re.MULTILINE).group(1)


def read(path: Path, as_of: date = AS_OF):
    from publisher.read import read_report
    from publisher.validate import validate_report

    return validate_report(read_report(path, path.name[:2], as_of), as_of)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("name", NAMES)
def test_the_publisher_reads_every_row_as_written(written, name, fmt):
    from congkhai.policy import load_policy
    from congkhai.text import clean
    from publisher.reconcile import control_total_problems

    unit = UNITS[name][1]
    for path in reports(written, name, fmt):
        validated = read(path)
        assert validated.rejects == [], (path.name, validated.rejects[:3])
        assert control_total_problems(validated, load_policy()) == [], path.name
        written_table = table(path)
        rows = written_table.employers()
        records = sorted(validated.records, key=lambda record: record.line)
        assert len(records) == len(rows), path.name
        for record, row in zip(records, rows):
            assert record.name == clean(text(written_table.cell(row, NAME_HEADERS[name])))
            identity = text(written_table.cell(row, IDENTITY[name]))
            assert (record.unit_code if IDENTITY[name] == "Mã đơn vị" else record.tax.value) == \
                (identity if IDENTITY[name] == "Mã đơn vị" else parse_tax_code(identity).value)
            assert record.months_late == int(amount(written_table.cell(row, MONTHS[name])))
            assert record.employees == int(text(written_table.cell(row, EMPLOYEE_HEADERS[name])))
            for field_name, header in READ_AS[name].items():
                assert getattr(record, field_name) == amount(written_table.cell(row, header)) * unit, \
                    (path.name, record.line, field_name)
            expected_total = (amount(written_table.cell(row, READ_AS[name]["reported_total"])) * unit
                              if "reported_total" in READ_AS[name] else
                              sum(amount(written_table.cell(row, h)) for h in READ_AS[name].values()) * unit)
            assert record.arrears_total == expected_total


def by_identity(written_table: Table, name: str) -> dict[str, list]:
    """Employer rows by unit code (tax code where there is none), without their row number."""
    return {text(written_table.cell(row, IDENTITY[name])): [text(v) for v in row[1:]]
            for row in written_table.employers()}


@pytest.mark.parametrize("name", NAMES)
def test_a_next_day_keeps_each_layout_and_changes_a_few_employers(written, tmp_path, name):
    directory = tmp_path
    summary = generate_reports(directory, 0, AS_OF + timedelta(days=1), seed=7, previous=written[name][0],
                               change_share=0.1)
    assert summary.layouts == written[name][1].layouts and summary.files == written[name][1].files
    before, after = {}, {}
    for file in summary.files:
        assert detect_layout(directory / file, HEADERS) == name
        assert read(directory / file, AS_OF + timedelta(days=1)).rejects == [], file
        before.update(by_identity(table(written[name][0] / file), name))
        after.update(by_identity(table(directory / file), name))
    common = set(before) & set(after)
    changed = [key for key in common if before[key] != after[key]]
    assert 0 < len(changed) == summary.changed <= 0.2 * len(before)
    assert len(set(after) - set(before)) == summary.added and len(set(before) - set(after)) == summary.closed


@pytest.mark.parametrize("name", NAMES)
def test_a_corrected_report_keeps_its_layout(written, tmp_path, name):
    from publisher.sample import corrected_report

    path = corrected_report(written[name][0], tmp_path, AS_OF, seed=7)
    assert detect_layout(path, HEADERS) == name
    before, after = by_identity(table(written[name][0] / path.name), name), by_identity(table(path), name)
    changed = [key for key in before if before[key] != after[key]]
    assert set(before) == set(after) and 1 <= len(changed) <= 3
    fixed = table(path)
    assert all(int(amount(fixed.cell(row, MONTHS[name]))) == 0 for row in fixed.employers()
               if text(fixed.cell(row, IDENTITY[name])) in changed)
    assert read(path).rejects == []


@pytest.mark.parametrize("layouts", [
    "mixed", "standard,hcm,thanhhoa,dongnai,haiphong,sonla", demo_layouts()])
def test_mixed_days_publish_without_rejects(tmp_path, layouts):
    """The demo's days: a mix of layouts, each day from the one before, through the whole pipeline."""
    from datetime import datetime

    from congkhai.policy import load_policy
    from publisher.pipeline import PreviousView, build_release

    policy, previous, folder = load_policy(), PreviousView(None, {}, {}, set()), None
    for offset in range(3):
        day = AS_OF + timedelta(days=offset)
        out = tmp_path / day.isoformat()
        summary = generate_reports(out, 1500, day, seed=2, previous=folder, change_share=0.1,
                                   layouts=None if folder else [layouts])
        assert len(set(summary.layouts.values())) == len(layout_names([layouts]))
        built = build_release(out, day, policy, datetime(2026, 7, 4), previous)
        assert built.rejects == [] and len(built.records) == summary.employers
        previous = PreviousView(day, {r.key: r.state() for r in built.records},
                                {r.key: r.province_code for r in built.records}, set())
        folder = out
