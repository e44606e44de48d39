"""Sample reports on disk: a province's employers written as the standard layout's CSV or XLSX rows
(title lines, the export habits of its `ReportStyle`, the total), and a previous day's report read
back into employers, whatever layout it was written in, for the next day."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from random import Random

from openpyxl import load_workbook

from congkhai.provinces import Province
from congkhai.taxcode import compact
from congkhai.text import clean, format_int
from publisher import xlsx
from publisher.records import HEADERS
from publisher.sample_layouts import LAYOUTS, STANDARD, detect_layout
from publisher.sample_writer import LayoutWriter, messy_by
from publisher.sample_employers import (FUND_RATES, HOUSEHOLD, MONTHLY_CONTRIBUTION, Entry, ReportStyle, SampleError,
                                       person)
from publisher.sample_ids import tax_serial, unit_serial


# --- The report around the rows.
AGENCY_LINE = "BẢO HIỂM XÃ HỘI VIỆT NAM"
REPORT_TITLE = "DANH SÁCH ĐƠN VỊ CHẬM ĐÓNG, TRỐN ĐÓNG BHXH, BHYT, BHTN"
UNIT_LINE = "Đơn vị tính: đồng"
TOTAL_LABEL = "Tổng cộng"
ALTERNATE_HEADERS = ("STT", "Mã số thuế", "Mã đơn vị", "Tên đơn vị", "Địa chỉ", "Ngành nghề", "Loại hình",
                     "Số lao động", "Số tháng chậm đóng", "Nợ BHXH", "Nợ BHYT", "Nợ BHTN", "Tình trạng xử lý",
                     "Quyết định trốn đóng")
AMOUNT_HEADERS = ("Nợ BHXH", "Nợ BHYT", "Nợ BHTN")
SHEET_TITLE = "Danh sách"
AGENCY_CREATOR = "Bảo hiểm xã hội Việt Nam"


@dataclass(slots=True)
class _Row:
    """A previous day's row: its values, and for the standard layout its cells as written (kept
    as they stand, in the report's own forms, unless the row changes)."""
    entry: Entry
    cells: dict | None = None


def title_lines(province: Province, as_of: date, style: ReportStyle) -> list[str]:
    lines = [AGENCY_LINE, f"BẢO HIỂM XÃ HỘI {province.name.upper()}", "", REPORT_TITLE,
             f"Tính đến ngày {as_of:%d/%m/%Y}"]
    if style.unit_line:
        lines.append(UNIT_LINE)
    return lines + [""]


def _amount(value: int, style: ReportStyle):
    if value == 0 and style.zero_blank:
        return None if style.format == "xlsx" else ""
    if style.format == "xlsx":
        return value
    return format_int(value) if style.dotted else str(value)


def _count(value: int, style: ReportStyle):
    return value if style.format == "xlsx" else str(value)


def _text(value: str, style: ReportStyle):
    return (value or None) if style.format == "xlsx" else value


def state_cells(entry: Entry, style: ReportStyle) -> dict:
    return {
        "Số lao động": _count(entry.employees, style),
        "Nợ BHXH": _amount(entry.arrears[0], style),
        "Nợ BHYT": _amount(entry.arrears[1], style),
        "Nợ BHTN": _amount(entry.arrears[2], style),
        "Số tháng chậm đóng": _amount(entry.months, style),
        "Quyết định trốn đóng": _text(entry.decision, style),
        "Tình trạng xử lý": _text(entry.stage, style),
    }


def _tax_cell(entry: Entry, style: ReportStyle, rng: Random):
    """The tax code as staff store it: branch with or without its dash, sometimes a number (XLSX)."""
    value = entry.tax
    if entry.kind == "branch" and rng.random() < 0.5:
        value = value.replace("-", "")
    if style.format == "xlsx" and rng.random() < 0.25 and not value.startswith("00"):
        return int(value.replace("-", ""))   # a personal number '001…' would lose two digits: kept as text
    if style.format == "csv" and entry.kind == "enterprise" and rng.random() < 0.01:
        return value.lstrip("0")   # an Excel round trip before the CSV export
    return value


def _messy(text: str, rng: Random) -> str:
    return messy_by(text, rng.random())


def entry_cells(entry: Entry, style: ReportStyle, rng: Random) -> dict:
    cells = {
        "Mã đơn vị": entry.unit_code,
        "Mã số thuế": _tax_cell(entry, style, rng),
        "Tên đơn vị": _messy(entry.name, rng),
        "Địa chỉ": _messy(entry.address, rng) if rng.random() < 0.3 else entry.address,
        "Loại hình": entry.ownership,
        "Ngành nghề": entry.sector,
    }
    cells.update(state_cells(entry, style))
    return cells


class _ReportWriter:
    """Title lines, header, rows, then the 'Tổng cộng' row with the control totals."""

    def __init__(self, path: Path, province: Province, as_of: date, style: ReportStyle):
        self.style = style
        self.totals = [0, 0, 0, 0]   # employees, BHXH, BHYT, BHTN
        self.rows = 0
        titles = title_lines(province, as_of, style) if style.titles or style.format == "xlsx" else []
        width = len(style.headers)
        if style.format == "csv":
            self._handle = path.open("w", encoding="utf-8-sig" if style.bom else "utf-8", newline="")
            self._csv = csv.writer(self._handle)
            for line in titles:
                self._csv.writerow([line] + [""] * (width - 1))
            self._csv.writerow(style.headers)
        else:
            self._book = xlsx.Workbook(path, datetime.combine(as_of, time(17, 0)), AGENCY_CREATOR)
            self._sheet = self._book.add_sheet(SHEET_TITLE, freeze_header=False)
            for line in titles:
                self._sheet.append([line or None])
            self._sheet.append(list(style.headers))

    def add_new(self, entry: Entry, rng: Random) -> None:
        """A new employer, its cells in this report's forms (some drawn from `rng`)."""
        self.append(entry_cells(entry, self.style, rng), entry.employees, entry.arrears)

    def add_row(self, row: _Row, changed: bool) -> None:
        """A previous day's row as it stood, its state columns written again if it changed."""
        cells = {**row.cells, **state_cells(row.entry, self.style)} if changed else dict(row.cells)
        self.append(cells, row.entry.employees, row.entry.arrears)

    def append(self, cells: dict, employees: int, arrears) -> None:
        self.rows += 1
        self.totals[0] += employees
        for i, amount in enumerate(arrears, 1):
            self.totals[i] += amount
        cells["STT"] = self.rows if self.style.format == "xlsx" else str(self.rows)
        row = [cells.get(h) for h in self.style.headers]
        if self.style.format == "csv":
            self._csv.writerow(row)
        else:
            self._sheet.append(row)

    def close(self) -> None:
        style = self.style
        totals = {style.total_label_in: TOTAL_LABEL, "Số lao động": _count(self.totals[0], style)}
        for header, amount in zip(AMOUNT_HEADERS, self.totals[1:]):
            totals[header] = amount if style.format == "xlsx" else (format_int(amount) if style.dotted else str(amount))
        row = [totals.get(h) for h in style.headers]
        if style.format == "csv":
            self._csv.writerow(row)
            self._handle.close()
            return
        self._sheet.append(row)
        self._sheet.close()
        self._book.close()


def _signers(province: Province) -> tuple[str, ...]:
    """Who signs a province's reports (the same people every day)."""
    rng = Random(f"congkhai-sample:signers:{province.code}")
    return tuple(person(rng) for _ in range(3))


def open_writer(path: Path, province: Province, as_of: date, style: ReportStyle):
    """The standard layout's streaming writer, or the writer of the style's layout."""
    if style.layout == STANDARD:
        return _ReportWriter(path, province, as_of, style)
    return LayoutWriter(path, province, as_of, LAYOUTS[style.layout], style.format, _signers(province))


def _number(value) -> int:
    """A cell's amount: a numeric cell, '1.234.567', '1234567' or empty (= 0)."""
    if value is None:
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    digits = str(value).strip().replace(".", "").replace(",", "").replace(" ", "")
    return int(digits) if digits else 0


def _cell_text(value) -> str:
    return "" if value is None else str(value)


def _header_index(rows: list, path: Path) -> int:
    wanted = set(HEADERS)
    for i, values in enumerate(rows):
        if wanted <= {_cell_text(v).strip() for v in values}:
            return i
    raise SampleError(f"{path.name}: no header row with the columns {', '.join(HEADERS)}")


def _raw_rows(path: Path) -> tuple[list, bool]:
    """All rows of a report as lists of cell values, and whether the CSV had a byte-order mark."""
    if path.suffix.lower() == ".csv":
        bom = path.open("rb").read(3) == b"\xef\xbb\xbf"
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle)), bom
    book = load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    sheet.reset_dimensions()   # write-only sheets have no <dimension>: openpyxl would scan the sheet for it
    try:
        return [list(values) for values in sheet.iter_rows(values_only=True)], False
    finally:
        book.close()


def read_previous(path: Path) -> tuple[ReportStyle, list[dict]]:
    """A report written by this module: its style (so the next day looks the same) and its rows by header."""
    rows, bom = _raw_rows(path)
    start = _header_index(rows, path)
    headers = tuple(_cell_text(v).strip() for v in rows[start])
    titles = [_cell_text(values[0]).strip() for values in rows[:start] if values]
    data, total_label_in = [], "STT"
    for values in rows[start + 1:]:
        cells = dict(zip(headers, values))
        if all(_cell_text(v).strip() == "" for v in values):
            continue
        label = next((h for h in ("STT", "Tên đơn vị") if _cell_text(cells.get(h)).strip() == TOTAL_LABEL), None)
        if label:
            total_label_in = label
            break
        data.append(cells)
    numbers = [cells.get(h) for cells in data for h in AMOUNT_HEADERS + ("Số tháng chậm đóng",)]
    fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx"
    style = ReportStyle(
        fmt, headers=headers, titles=bool(titles), unit_line=UNIT_LINE in titles, bom=bom,
        dotted=any(isinstance(v, str) and "." in v for v in numbers),
        zero_blank=not any(v in ("0", 0) for v in numbers), total_label_in=total_label_in)
    return style, data


def _standard_entry(cells: dict, path: Path, line: int) -> Entry:
    """A previous standard row's identity and the values a next-day change touches. The name is
    taken as written (only a parent's is cleaned, when a branch needs it): cleaning every name of
    a million rows would cost seconds for nothing."""
    code = _cell_text(cells.get("Mã đơn vị"))
    serial = unit_serial(code)
    if serial is None:
        raise SampleError(f"{path.name}, row {line}, Mã đơn vị: {code!r} was not made by this generator")
    ownership = clean(cells.get("Loại hình"))
    digits = compact(cells.get("Mã số thuế"))
    if ownership == HOUSEHOLD and len(digits) in (11, 12):
        kind, tax = "personal", digits.zfill(12)
    elif len(digits) in (12, 13):
        digits = digits.zfill(13)
        kind, tax = "branch", f"{digits[:10]}-{digits[10:]}"
    else:
        kind, tax = "enterprise", digits.zfill(10)
    return Entry(serial, code, tax, kind, _cell_text(cells.get("Tên đơn vị")), "", ownership,
                 clean(cells.get("Ngành nghề")), _number(cells.get("Số lao động")),
                 [_number(cells.get(h)) for h in AMOUNT_HEADERS], _number(cells.get("Số tháng chậm đóng")),
                 clean(cells.get("Quyết định trốn đóng")), clean(cells.get("Tình trạng xử lý")))


def _funds(record) -> list[int]:
    """BHXH (BHTNLĐ-BNN included), BHYT and BHTN from what a report gave: the funds it split out,
    and the rest of its total shared by the fund rates. Any share will do: a layout that does not
    split a sum out writes back only the sum."""
    parts = [record.arrears_bhxh, record.arrears_bhyt, record.arrears_bhtn]
    bhtnld = record.arrears_bhtnld or 0   # funds reported beside it leave it out
    known = sum(part for part in parts if part is not None)
    total = record.reported_total if record.reported_total is not None else known + bhtnld
    missing = [i for i, part in enumerate(parts) if part is None]
    rest = total - known - bhtnld
    weight = sum(FUND_RATES[i] for i in missing)
    for n, i in enumerate(missing):
        parts[i] = round(rest * FUND_RATES[i] / weight) if n < len(missing) - 1 else \
            rest - sum(parts[j] for j in missing[:-1])
    parts[0] += bhtnld
    return parts


def _record_entry(record, province_code: str) -> Entry:
    """A previous layout row, as the publisher read it, as the generator's values. A serial comes
    from the unit code, else from the tax code; an employee count the layout does not show is
    estimated from the arrears (it is written nowhere)."""
    tax = record.tax.value if record.tax else ""
    kind = record.tax.kind if record.tax else ""
    serial = unit_serial(record.unit_code) if record.unit_code else tax_serial(province_code, kind, tax)
    arrears = _funds(record)
    employees = record.employees
    if employees is None:
        employees = max(1, round(sum(arrears) / max(record.months_late, 1) / sum(MONTHLY_CONTRIBUTION) * 2))
    entry = Entry(serial or 0, record.unit_code or "", tax, kind, record.name, record.address or "",
                  record.ownership_type or "", record.sector or "", employees, arrears, record.months_late,
                  record.evasion_decision or "", record.enforcement_stage or "")
    entry.bhtnld = record.arrears_bhtnld
    return entry


def previous_rows(path: Path, province: Province, as_of: date) -> tuple[ReportStyle, list[_Row]]:
    """A previous report's style and rows. Its layout is recognised by its header words; a standard
    report is read here, cell for cell, any other by the publisher's own reader."""
    layout = detect_layout(path, HEADERS)
    if layout is None:
        raise SampleError(f"{path.name}: not a report of any layout this generator writes (no header row found)")
    if layout == STANDARD:
        style, rows = read_previous(path)
        return style, [_Row(_standard_entry(cells, path, i), cells) for i, cells in enumerate(rows, 1)]
    from publisher.errors import ReportError
    from publisher.read import read_report
    from publisher.validate import validate_report

    try:
        validated = validate_report(read_report(path, province.code), as_of)
    except ReportError as error:
        raise SampleError(str(error)) from None
    if validated.rejects:
        first = validated.rejects[0]
        raise SampleError(f"{path.name}, row {first.line}, {first.field}: {first.reason} ({first.value!r}); "
                          f"{validated.rejected_rows} row(s) the publisher rejects")
    fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx"
    records = sorted(validated.records, key=lambda record: record.line)
    return ReportStyle(fmt, layout=layout), [_Row(_record_entry(r, province.code)) for r in records]

