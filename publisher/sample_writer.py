"""`LayoutWriter`: one writer that lays sample employers out in any of the provinces' layouts of
publisher.sample_layouts (title block, header rows, groups and subtotals, notes and signatures), as
XLSX or CSV, and the cell spellings it uses (amounts in a layout's unit, tax codes, messy text).
"""
from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zlib import crc32

from congkhai.provinces import Province
from congkhai.text import format_int
from publisher import xlsx

from .sample_layouts import (AGENCY_CREATOR, ARREARS, DATE_LINES, GROUPINGS, MOTTO, SIGNERS, UNIT_DECIMALS,
                             UNIT_NAMES, VALUES, Layout, district_of, districts, lower_first, region)


def messy(text: str) -> str:
    """Text made messy as messy_by says, chosen by the text itself, so the same employer looks the
    same every day."""
    return messy_by(text, crc32(text.encode()) % 1000 / 1000)


def messy_by(text: str, u: float) -> str:
    """For u uniform in [0, 1): one text in a hundred decomposed (NFD), one with a doubled space,
    one in two hundred with a trailing space."""
    if u < 0.01:
        return unicodedata.normalize("NFD", text)
    if u < 0.02:
        return text.replace(" ", "  ", 1)
    if u < 0.025:
        return text + " "
    return text


def tax_cell(entry, fmt: str):
    """The tax code as staff store it, chosen by the code itself: a branch with or without its dash,
    in a workbook a quarter of them as numbers (a personal number '001…' stays text)."""
    value, u = entry.tax, crc32(entry.tax.encode()) % 8
    if entry.kind == "branch" and u % 2:
        value = value.replace("-", "")
    if fmt == "xlsx" and u < 2 and not value.startswith("00"):
        return int(value.replace("-", ""))
    return value


def _scaled(amount: int, unit: int) -> Decimal | int:
    return amount if unit == 1 else Decimal(amount).scaleb(-UNIT_DECIMALS[unit])


def amount_text(amount: int, unit: int, dotted: bool) -> str:
    """'1.234.567'; in thousands '1.234,567', '1.234,5' or '1.234' (a comma before the decimals, as
    Vietnamese writes them); without `dotted`, '1234567' or '1234,567'."""
    whole, fraction = divmod(amount, unit)
    text = format_int(whole) if dotted else str(whole)
    if fraction:
        text += "," + f"{fraction:0{UNIT_DECIMALS[unit]}d}".rstrip("0")
    return text


class _CsvSheet:
    """A CSV with the XLSX sheet's calls; every row as wide as the table, as a spreadsheet exports it."""

    def __init__(self, path: Path, layout: Layout):
        self._handle = path.open("w", encoding="utf-8-sig" if layout.bom else "utf-8", newline="")
        self._csv = csv.writer(self._handle, delimiter=layout.delimiter)
        self._width = len(layout.columns)
        self.rows = 0

    def append(self, cells, bold: bool = False) -> None:
        self.rows += 1
        self._csv.writerow(["" if cell is None else cell for cell in cells] + [""] * (self._width - len(cells)))

    def merge(self, *ranges) -> None:
        """A CSV has no merged cells: the value stands in the first cell, the others are empty."""

    def close(self) -> None:
        self._handle.close()


class LayoutWriter:
    """One province's report in a layout: title lines, header, rows (grouped, with subtotals),
    the grand total, notes and signatures; in XLSX a summary sheet in front when the layout has one.
    Rows stream to the file unless the layout groups them, which needs them all first."""

    def __init__(self, path: Path, province: Province, as_of: date, layout: Layout, fmt: str,
                 signers: tuple[str, ...] = ()):
        self.layout, self.fmt, self.province, self.as_of, self.signers = layout, fmt, province, as_of, signers
        self.districts = districts(province)
        self.rows = 0
        columns = layout.columns
        self._width = len(columns)
        self._summed = [i for i, c in enumerate(columns) if VALUES[c.value].kind in ("count", "amount")]
        self._label = next(i for i, c in enumerate(columns) if c.value == layout.label_value)
        self._name = next(i for i, c in enumerate(columns) if c.value == "name")
        self._totals = [0] * len(self._summed)
        self._unshown = [value for value in ("decision", "stage") if not layout.shows(value)]
        self._groups: dict = {}
        self._by_district: dict[str, Counter] = {}
        if fmt == "xlsx":
            self._book = xlsx.Workbook(path, datetime.combine(as_of, time(17, 0)), AGENCY_CREATOR)
            self._sheet = self._book.add_sheet("Danh sách", order=1, freeze_header=False)
        else:
            self._book, self._sheet = None, _CsvSheet(path, layout)
        self._titles()
        self._header()

    # -- above the rows
    def _titles(self) -> None:
        layout, province = self.layout, self.province
        area = province.name
        fill = {"issuer": f"BẢO HIỂM XÃ HỘI {region(province) if layout.issuer == 'regional' else area.upper()}",
                "unit": UNIT_NAMES[layout.unit], "area": lower_first(area), "AREA": area.upper()}
        for n, template in enumerate(layout.titles):
            if template == "{date}":
                cells = DATE_LINES[layout.dates](self.as_of, self.fmt)
            else:
                cells = [template.format(**fill)] if template else []
            if layout.motto and n < len(MOTTO) and cells:
                cells = cells + [None] * (self._width - 5 - len(cells)) + [MOTTO[n]]
            self._sheet.append(cells)
            if len(cells) == 1:
                self._sheet.merge(self._sheet.rows, 0, self._sheet.rows, self._width - 1)
        self._sheet.append([])

    def _header(self) -> None:
        """One header row, or two under a merged label; then the column-number row if the layout has one."""
        columns = self.layout.columns
        top = [None if c.group and i and columns[i - 1].group == c.group else (c.group or c.header)
               for i, c in enumerate(columns)]
        self._sheet.append(top, bold=True)
        first = self._sheet.rows
        if any(column.group for column in columns):
            self._sheet.append([c.header if c.group else None for c in columns], bold=True)
            for i, column in enumerate(columns):
                if not column.group:
                    self._sheet.merge(first, i, first + 1, i)
                elif top[i] is not None:
                    last = max(j for j, c in enumerate(columns) if c.group == column.group)
                    self._sheet.merge(first, i, first, last)
        if self.layout.numbering:
            number = {c.value: f"({i})" for i, c in enumerate(columns, 1)}
            sums = self.layout.numbering == "sums"
            self._sheet.append([number[c.value] + ("=" + "+".join(number[v] for v in c.sums) if sums and c.sums else "")
                                for c in columns])

    # -- the rows
    def _cells(self, entry) -> list:
        row, fmt, layout = [], self.fmt, self.layout
        for column in layout.columns:
            value = VALUES[column.value]
            if value.kind == "row_no":
                row.append(None)
            elif value.kind == "tax":
                row.append(tax_cell(entry, fmt))
            elif value.kind == "text":
                text = value.get(entry) or ""
                row.append(messy(text) if text and column.value in ("name", "address") else (text or None))
            else:
                row.append(self._number(value.get(entry), value.kind))
        return row

    def _number(self, number: int, kind: str):
        if kind in ("months", "amount") and number == 0:
            return (0 if self.layout.zero == "0" else self.layout.zero or None) if self.fmt == "xlsx" \
                else self.layout.zero
        if kind != "amount":
            return number if self.fmt == "xlsx" else str(number)
        if self.fmt == "xlsx":
            return _scaled(number, self.layout.unit)
        return amount_text(number, self.layout.unit, self.layout.dotted or self.layout.unit != 1)

    def _sums(self, entry) -> list[int]:
        columns = self.layout.columns
        return [VALUES[columns[i].value].get(entry) for i in self._summed]

    def append(self, entry) -> None:
        """One employer's row. An evasion decision or an enforcement stage the layout has no column
        for is dropped from `entry`, so that statuses counted from it are those the publisher reads."""
        for value in self._unshown:
            setattr(entry, value, "")
        sums = self._sums(entry)
        self._totals = [a + b for a, b in zip(self._totals, sums)]
        if self.layout.summary:
            tally = self._by_district.setdefault(district_of(entry, self.districts), Counter())
            tally.update(employers=1, in_arrears=int(sum(entry.arrears) > 0), employees=entry.employees or 0,
                         arrears=sum(entry.arrears))
        cells = self._cells(entry)
        if self.layout.grouping is None:
            self._row(cells)
            return
        key = GROUPINGS[self.layout.grouping].key(entry, self.districts)
        group = self._groups.setdefault(key, [[0] * len(self._summed), []])
        group[0] = [a + b for a, b in zip(group[0], sums)]
        group[1].append(cells)

    def add_new(self, entry, rng=None) -> None:
        """A new employer (the standard writer draws its cell forms from `rng`; a layout's are fixed)."""
        self.append(entry)

    def add_row(self, row, changed: bool) -> None:
        """A previous day's row (anything with an `entry`), written again from its values."""
        self.append(row.entry)

    def _row(self, cells: list) -> None:
        self.rows += 1
        cells[0] = self.rows if self.fmt == "xlsx" else str(self.rows)
        self._sheet.append(cells)

    def _label_row(self, label: str, sums: list[int] | None = None, number: str = "") -> None:
        """A group's heading (no sums), a subtotal or the grand total."""
        cells: list = [None] * self._width
        if number:
            cells[0] = number
        cells[self._label] = label
        if sums is not None:
            columns = self.layout.columns
            for i, amount in zip(self._summed, sums):
                cells[i] = self._number(amount, VALUES[columns[i].value].kind)
        self._sheet.append(cells, bold=True)
        if self.layout.merge_labels and self._label < self._name:
            self._sheet.merge(self._sheet.rows, self._label, self._sheet.rows, self._name)

    # -- below the rows
    def close(self) -> None:
        grouping = GROUPINGS.get(self.layout.grouping)
        for key in sorted(self._groups):
            sums, rows = self._groups[key]
            number, label = grouping.heading(key, self.districts)
            self._label_row(label, number=number)
            for cells in rows:
                self._row(cells)
            self._label_row(grouping.subtotal(key, self.districts), sums)
        self._label_row(self.layout.total_label, self._totals)
        self._below()
        self._sheet.close()
        if self._book is not None:
            if self.layout.summary:
                self._summary_sheet()
            self._book.close()

    def _below(self) -> None:
        if not (self.layout.notes or self.layout.signature):
            return
        self._sheet.append([])
        for note in self.layout.notes:
            self._sheet.append([note])
        if not self.layout.signature:
            return
        places = (1, self._width // 2, self._width - 3)
        d = self.as_of

        def line(texts):
            cells = [None] * self._width
            for place, text in zip(places, texts):
                cells[place] = text
            self._sheet.append(cells)

        line((None, None, f"{self.province.short_name}, ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"))
        line(SIGNERS)
        line(("(Ký, ghi rõ họ tên)",) * 2 + ("(Ký tên, đóng dấu)",))
        self._sheet.append([])
        self._sheet.append([])
        line(self.signers)

    def _summary_sheet(self) -> None:
        """'Tổng hợp': employers, those in arrears, employees and arrears by district, in front of the list."""
        sheet = self._book.add_sheet("Tổng hợp", order=0, freeze_header=False)
        unit = self.layout.unit
        sheet.append([f"BẢO HIỂM XÃ HỘI {region(self.province)}"])
        sheet.append([f"TỔNG HỢP ĐƠN VỊ CHẬM ĐÓNG THEO ĐỊA BÀN, {self.province.name.upper()}"])
        sheet.append(DATE_LINES[self.layout.dates](self.as_of, "xlsx"))
        sheet.append([f"Đơn vị tính: {UNIT_NAMES[unit]}"])
        sheet.append([])
        sheet.append(["STT", "Địa bàn", "Số đơn vị", "Số đơn vị chậm đóng", "Số lao động", ARREARS], bold=True)
        total = Counter()
        for n, district in enumerate(d for d in self.districts if d in self._by_district):
            tally = self._by_district[district]
            total.update(tally)
            sheet.append([n + 1, district, tally["employers"], tally["in_arrears"], tally["employees"],
                          _scaled(tally["arrears"], unit)])
        sheet.append([None, "Tổng cộng", total["employers"], total["in_arrears"], total["employees"],
                      _scaled(total["arrears"], unit)], bold=True)
        sheet.close()

