"""The layouts provinces really send their reports in (issue 23), as data, and one writer for all.

A layout is a description, not code: its columns (header words, a merged label over some of them,
the column-number row under the header), its title block (issuer, date, unit of the amounts), its
groups with their subtotals, and what stands below the table (notes, signatures, a summary sheet in
front). `LayoutWriter` lays employers out in any of them, as XLSX or CSV. The `standard` layout
(the 14 exact headers of datasets/README.md) is not here: publisher/sample.py streams it with the
export habits of `ReportStyle`, byte for byte as before, for the tests and the benchmark.

Every cell is a function of the employer's values, never of a random draw, so a next day, which
reads a layout's report back through the publisher's own reader (normalised values), writes an
unchanged employer's row exactly as it stood. Amounts are written exactly in the layout's unit
(1.234,567 thousand đồng), so subtotals and totals add up to the rows written.
"""
from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from zlib import crc32

from congkhai.provinces import Province, all_provinces, find_province
from congkhai.text import clean, format_int
from publisher import xlsx

STANDARD = "standard"
MIXED = "mixed"
AGENCY_LINE = "BẢO HIỂM XÃ HỘI VIỆT NAM"
AGENCY_CREATOR = "Bảo hiểm xã hội Việt Nam"
PUBLIC = "Đơn vị hành chính sự nghiệp"   # the ownership type of group B
# The 17.5% of wages that goes to BHXH holds the 0.5% of occupational accident and disease insurance
# (BHTNLĐ-BNN): a layout that shows that fund apart takes it out of BHXH, the total stays the same.
BHTNLD_SHARE_OF_BHXH = 0.005 / 0.175
# Late-payment interest: 0.03% a day, on arrears that are on average half their months old.
INTEREST_PER_MONTH = 0.0003 * 30 / 2
UNIT_NAMES = {1: "đồng", 1000: "nghìn đồng", 1_000_000: "triệu đồng"}
UNIT_DECIMALS = {1: 0, 1000: 3, 1_000_000: 6}
MONTH_BANDS = ((0, "Đơn vị không chậm đóng"), (1, "Nợ dưới 3 tháng"), (3, "Nợ từ 3 đến dưới 6 tháng"),
               (6, "Nợ từ 6 đến dưới 12 tháng"), (12, "Nợ từ 12 đến dưới 60 tháng"), (60, "Nợ từ 60 tháng trở lên"))
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
DISTRICT_WORDS = ("Đông", "Tây", "Quảng", "Hoằng", "Yên", "Vĩnh", "Thạch", "Triệu", "Thọ", "Như", "Nông", "Cẩm",
                  "Ngọc", "Lang", "Bá", "Mường", "Thường", "Hậu", "Xuân", "Lộc", "Định", "Phong", "Hòa", "Xương",
                  "Trung", "Lạc", "Châu", "Phú", "Kiến", "Thủy", "Tiên", "Mỹ", "Diễn", "Cát", "Hải", "Tĩnh")
SIGNERS = ("NGƯỜI LẬP BIỂU", "KẾ TOÁN TRƯỞNG", "GIÁM ĐỐC")
NOTE_WORDS = ("Đơn vị đã cam kết trả nợ", "Đang đối chiếu số liệu", "Mới phát sinh nợ")


# ---------------------------------------------------------------------------------------------------
# What a column can show of an employer (an `Entry` of publisher/sample.py)

def bhtnld(entry) -> int:
    """The BHTNLĐ-BNN part of the BHXH arrears: as a previous report gave it, or its share."""
    return entry.bhtnld if entry.bhtnld is not None else round(entry.arrears[0] * BHTNLD_SHARE_OF_BHXH)


def interest(entry) -> int:
    return round(sum(entry.arrears) * INTEREST_PER_MONTH * entry.months)


def _note(entry) -> str:
    if not entry.months or crc32(entry.name.encode()) % 5:
        return ""
    return NOTE_WORDS[2] if entry.months == 1 else NOTE_WORDS[crc32(entry.name.encode()) % 2]


@dataclass(frozen=True)
class Value:
    kind: str   # 'text', 'tax', 'count' (summed), 'months' or 'amount' (đồng, summed, in the layout's unit)
    get: object  # entry -> value


VALUES = {
    "row_no": Value("row_no", None),
    "unit_code": Value("text", lambda e: e.unit_code),
    "tax_code": Value("tax", None),
    "name": Value("text", lambda e: e.name),
    "address": Value("text", lambda e: e.address),
    "ownership": Value("text", lambda e: e.ownership),
    "sector": Value("text", lambda e: e.sector),
    "employees": Value("count", lambda e: e.employees),
    "months": Value("months", lambda e: e.months),
    "total": Value("amount", lambda e: sum(e.arrears)),
    "bhxh": Value("amount", lambda e: e.arrears[0]),
    "bhyt": Value("amount", lambda e: e.arrears[1]),
    "bhtn": Value("amount", lambda e: e.arrears[2]),
    "bhxh_bhtn": Value("amount", lambda e: e.arrears[0] - bhtnld(e) + e.arrears[2]),
    "bhtnld": Value("amount", bhtnld),
    "interest": Value("amount", interest),
    "with_interest": Value("amount", lambda e: sum(e.arrears) + interest(e)),
    "decision": Value("text", lambda e: e.decision),
    "stage": Value("text", lambda e: e.stage),
    "note": Value("text", _note),
}


# ---------------------------------------------------------------------------------------------------
# Groups: which rows belong together, the row that opens a group and the one that closes it

def districts(province: Province) -> tuple[str, ...]:
    """Eight to fourteen made-up district names of a province ('Huyện Đông Sơn', 'Quận Hải Lạc'),
    the same every day; none of them names a province."""
    rng = Random(f"congkhai-sample:districts:{province.code}")
    names: list[str] = []
    count = 8 + rng.randrange(7)
    while len(names) < count:
        first, second = rng.sample(DISTRICT_WORDS, 2)
        place = f"{first} {second}"
        if find_province(place) or any(name.endswith(" " + place) for name in names):
            continue
        if province.kind == "city":
            kind = "Quận" if len(names) < count * 0.6 else "Huyện"
        else:
            kind = ("Thành phố", "Thị xã")[len(names)] if len(names) < 2 else "Huyện"
        names.append(f"{kind} {place}")
    return tuple(names)


def district_of(entry, province_districts: tuple[str, ...]) -> str:
    """An employer's district, from its name (which every layout shows and no day changes)."""
    return province_districts[crc32(entry.name.encode()) % len(province_districts)]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _band(months: int) -> int:
    return max(i for i, (least, _) in enumerate(MONTH_BANDS) if months >= least)


@dataclass(frozen=True)
class Grouping:
    """`key(entry, districts)` sorts rows into groups (in key order); `heading(key, districts)` is
    (row-number cell, label) of the row opening a group, `subtotal(key, districts)` the label of
    the row closing it with the sums of its rows."""
    key: object
    heading: object
    subtotal: object


GROUPINGS = {
    # A: enterprises, cooperatives and households; B: public bodies (Hồ Chí Minh City's lists).
    "ownership": Grouping(
        key=lambda e, _: "B" if e.ownership == PUBLIC else "A",
        heading=lambda k, _: ("", f"{k}. Doanh nghiệp, hợp tác xã, hộ kinh doanh" if k == "A"
                              else f"{k}. Đơn vị hành chính sự nghiệp"),
        subtotal=lambda k, _: f"Cộng {k}"),
    "district": Grouping(
        key=lambda e, ds: ds.index(district_of(e, ds)),
        heading=lambda k, ds: ("", ds[k]),
        subtotal=lambda k, ds: f"Cộng {_lower_first(ds[k])}"),
    "months": Grouping(
        key=lambda e, _: _band(e.months),
        heading=lambda k, _: (ROMAN[k], MONTH_BANDS[k][1]),
        subtotal=lambda k, _: "Cộng"),
}


# ---------------------------------------------------------------------------------------------------
# Title lines

def region(province: Province) -> str:
    """The regional office issuing a province's lists since 2025 ('KHU VỰC XIII'): plausible, not official."""
    number = [p.code for p in all_provinces()].index(province.code) + 1
    tens, ones = divmod(number, 10)
    return "KHU VỰC " + "X" * tens + (ROMAN[ones - 1] if ones else "")


# The date line: (as_of, format) -> its cells. 'two' counts arrears to the report's date (the run's)
# and the payments against them to a few days later, as a list published early the next month does.
PAYMENTS_COUNTED_DAYS = 5
DATE_LINES = {
    "dmy": lambda d, fmt: [f"Tính đến ngày {d.day}/{d.month}/{d.year}"],
    "long": lambda d, fmt: [f"(Tính đến ngày {d.day} tháng {d.month} năm {d.year})"],
    "iso": lambda d, fmt: ["Số liệu tính đến ngày:", d] if fmt == "xlsx" else [f"Số liệu tính đến ngày {d.isoformat()}"],
    "two": lambda d, fmt: [f"Số liệu nợ đến ngày {d - timedelta(days=PAYMENTS_COUNTED_DAYS):%d/%m/%Y}, số đã nộp "
                           f"tính đến ngày {d.day}/{d.month}/{d.year}"],
}
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


# ---------------------------------------------------------------------------------------------------
# The layouts

@dataclass(frozen=True)
class Column:
    header: str
    value: str                   # a key of VALUES
    group: str | None = None     # the merged label above it, in a two-row header
    sums: tuple[str, ...] = ()   # the values it adds up, shown in a '(10)=(8)+(9)' column-number row


@dataclass(frozen=True)
class Layout:
    name: str
    columns: tuple[Column, ...]
    titles: tuple[str, ...]      # lines above the header: {issuer}, {date}, {unit}, {area} and {AREA} filled in
    issuer: str = "province"     # 'province' (BẢO HIỂM XÃ HỘI TỈNH …) or 'regional' (… KHU VỰC …)
    dates: str = "dmy"           # a key of DATE_LINES
    unit: int = 1                # đồng per written unit
    grouping: str | None = None  # a key of GROUPINGS
    numbering: str | None = None  # the column-number row: None, 'plain' ((1) (2) …) or 'sums' ((10)=(8)+(9))
    label_value: str = "name"    # the column holding group, subtotal and total labels
    merge_labels: bool = False   # XLSX: a group's label merged from its column over the name's
    total_label: str = "Tổng cộng"
    motto: bool = False          # the national motto to the right of the issuer lines
    notes: tuple[str, ...] = ()  # lines below the table
    signature: bool = False      # place and date, three signers' titles and names below the notes
    summary: bool = False        # XLSX: a 'Tổng hợp' sheet (employers by district) in front of the list
    zero: str = ""               # a zero amount or month count: '', '0' or '-'
    dotted: bool = True          # CSV amounts as 1.234.567 (1.234,567 in thousands) rather than 1234567
    delimiter: str = ","
    bom: bool = False

    def shows(self, value: str) -> bool:
        return any(column.value == value for column in self.columns)

    @property
    def labels(self) -> set[str]:
        """The header words, by which a report of this layout is recognised."""
        return {column.header for column in self.columns} | {c.group for c in self.columns if c.group}


C = Column
_ARREARS = "Số tiền chậm đóng"
LAYOUTS = {layout.name: layout for layout in (
    # Hồ Chí Minh City: arrears under a merged label, columns numbered, groups A and B, a notes column.
    Layout("hcm", (
        C("STT", "row_no"), C("Mã đơn vị", "unit_code"), C("Mã số thuế", "tax_code"), C("Tên đơn vị", "name"),
        C("Địa chỉ", "address"), C("Loại hình", "ownership"), C("Ngành nghề", "sector"),
        C("Số lao động", "employees"), C("Số tháng chậm đóng", "months"),
        C("Tổng số", "total", _ARREARS), C("BHXH", "bhxh", _ARREARS), C("BHYT", "bhyt", _ARREARS),
        C("BHTN", "bhtn", _ARREARS), C("Quyết định trốn đóng", "decision"), C("Tình trạng xử lý", "stage"),
        C("Ghi chú", "note")),
        titles=(AGENCY_LINE, "{issuer}", "", "DANH SÁCH ĐƠN VỊ CHẬM ĐÓNG BHXH, BHYT, BHTN", "{date}",
                "Đơn vị tính: {unit}"),
        grouping="ownership", numbering="plain", label_value="row_no", merge_labels=True,
        total_label="TỔNG CỘNG (A+B)", zero="0"),
    # Thanh Hóa: the total alone, in thousands, the employers of each district together, signed.
    Layout("thanhhoa", (
        C("STT", "row_no"), C("Mã đơn vị", "unit_code"), C("Mã số\nthuế", "tax_code"),
        C("Tên tổ chức, cá nhân", "name"), C("Địa chỉ trụ sở", "address"), C("Số lao động", "employees"),
        C("Số tháng nợ", "months"), C("Số tiền chậm đóng", "total"), C("Tình trạng xử lý", "stage")),
        titles=(AGENCY_LINE, "{issuer}", "", "DANH SÁCH CÁC ĐƠN VỊ NỢ ĐỌNG BHXH, BHYT, BHTN", "{date}",
                "Đơn vị tính: {unit}"),
        unit=1000, grouping="district", motto=True, signature=True, delimiter=";", bom=True,
        notes=("Ghi chú: Danh sách gồm các đơn vị đang tham gia BHXH, BHYT, BHTN trên địa bàn tỉnh.",)),
    # Đồng Nai: BHXH and BHTN in one column, BHYT apart, BHTNLĐ-BNN apart, bands of months; a doubled space.
    Layout("dongnai", (
        C("STT", "row_no"), C("Mã đơn vị", "unit_code"), C("Tên đơn vị sử dụng lao động", "name"),
        C("Mã số thuế", "tax_code"), C("Địa chỉ", "address"), C("Loại hình", "ownership"),
        C("Số lao động chậm đóng", "employees"), C("Số tháng  chậm đóng", "months"),
        C("Nợ BHXH, BHTN", "bhxh_bhtn"), C("Nợ BHYT", "bhyt"), C("BHTNLĐ-BNN", "bhtnld"),
        C("Tổng số tiền nợ", "total"), C("Quyết định trốn đóng", "decision")),
        titles=("{issuer}", "", "DANH SÁCH ĐƠN VỊ CHẬM ĐÓNG BHXH, BHYT, BHTN, BHTNLĐ-BNN", "{date}",
                "Đơn vị tính: {unit}"),
        dates="long", grouping="months", zero="-", dotted=False,
        notes=("Ghi chú: Tổng số tiền nợ gồm BHXH, BHYT, BHTN và BHTNLĐ-BNN; chưa gồm lãi chậm đóng.",)),
    # Hải Phòng: a regional office's list, tax codes only, interest beside the arrears, two dates; a header
    # typed without diacritics.
    Layout("haiphong", (
        C("STT", "row_no"), C("Mã số thuế", "tax_code"), C("Tên đơn vị", "name"), C("Địa chỉ", "address"),
        C("Ngành nghề", "sector"), C("Số lao động", "employees"), C("So thang no", "months"),
        C("Số tiền phải tính lãi", "total"), C("Lãi chậm đóng", "interest"),
        C("Tổng cộng", "with_interest", sums=("total", "interest")), C("Quyết định trốn đóng", "decision"),
        C("Tình trạng xử lý", "stage")),
        titles=(AGENCY_LINE, "{issuer}", "", "DANH SÁCH ĐƠN VỊ CHẬM ĐÓNG BHXH, BHYT, BHTN TRÊN ĐỊA BÀN {AREA}",
                "{date}", "ĐVT: {unit}"),
        issuer="regional", dates="two", numbering="sums", motto=True, signature=True),
    # Sơn La: a regional office's list, unit codes only, in millions, a summary sheet in front; capitals.
    Layout("sonla", (
        C("STT", "row_no"), C("Mã đơn vị", "unit_code"), C("TÊN ĐƠN VỊ", "name"), C("Địa chỉ", "address"),
        C("Loại hình", "ownership"), C("Số nhân viên", "employees"), C("Số tháng chậm đóng", "months"),
        C("Nợ BHXH", "bhxh"), C("Nợ BHYT", "bhyt"), C("Nợ BHTN", "bhtn"), C("Tình trạng xử lý", "stage"),
        C("Quyết định trốn đóng", "decision")),
        titles=("{issuer}", "", "Danh sách đơn vị chậm đóng trên địa bàn {area}", "{date}", "Đơn vị tính: {unit}"),
        issuer="regional", dates="iso", unit=1_000_000, summary=True),
)}
LAYOUT_NAMES = (STANDARD, *LAYOUTS)
# The province each layout was seen in: in a mix, it sends its own.
HOMES = {"hcm": "79", "thanhhoa": "38", "dongnai": "75", "haiphong": "31", "sonla": "14"}


def layout_names(requested) -> list[str]:
    """`--layout` values (names, comma lists, 'mixed') -> distinct layout names, in the order given."""
    names: list[str] = []
    for value in requested or (STANDARD,):
        for name in filter(None, (part.strip() for part in value.split(","))):
            if name == MIXED:
                names.extend(LAYOUT_NAMES)
            elif name in LAYOUT_NAMES:
                names.append(name)
            else:
                raise ValueError(f"unknown layout {name!r}; choose from {', '.join(LAYOUT_NAMES + (MIXED,))}")
    return list(dict.fromkeys(names)) or [STANDARD]


def assign_layouts(seed: int, names) -> dict[str, str]:
    """Province code -> layout: each layout's home province sends it, the others are dealt round
    from a shuffle of the seed, so every layout asked for is used."""
    names = layout_names(names)
    codes = [p.code for p in all_provinces()]
    assigned = {HOMES[name]: name for name in names if name in HOMES}
    rest = [code for code in codes if code not in assigned]
    Random(f"congkhai-sample:{seed}:layouts").shuffle(rest)
    assigned.update((code, names[i % len(names)]) for i, code in enumerate(rest))
    return {code: assigned[code] for code in codes}


# ---------------------------------------------------------------------------------------------------
# Recognising a report's layout

def _header_cells(path: Path) -> list[set[str]]:
    """The cell texts of the first rows of each sheet (of the file, for a CSV, split by each separator)."""
    rows_seen = 30
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            lines = [line for _, line in zip(range(rows_seen * 2), handle)]
        return [{clean(cell) for delimiter in (",", ";", "\t") for row in csv.reader(lines, delimiter=delimiter)
                 for cell in row}]
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return [{clean(value) if isinstance(value, str) else "" for row in sheet.iter_rows(max_row=rows_seen,
                                                                                         values_only=True)
                 for value in row} for sheet in book.worksheets]
    finally:
        book.close()


def detect_layout(path: Path, standard_headers) -> str | None:
    """The layout whose header words a report carries (the one with most words when several do),
    or None. No layout's words are all among another's (tests/publisher/test_sample_layouts.py)."""
    wanted = {STANDARD: {clean(h) for h in standard_headers}}
    wanted.update((name, {clean(label) for label in layout.labels}) for name, layout in LAYOUTS.items())
    found = [name for cells in _header_cells(Path(path)) for name, labels in wanted.items() if labels <= cells]
    return max(found, key=lambda name: len(wanted[name]), default=None)


# ---------------------------------------------------------------------------------------------------
# Cells

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
                "unit": UNIT_NAMES[layout.unit], "area": _lower_first(area), "AREA": area.upper()}
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
        sheet.append(["STT", "Địa bàn", "Số đơn vị", "Số đơn vị chậm đóng", "Số lao động", _ARREARS], bold=True)
        total = Counter()
        for n, district in enumerate(d for d in self.districts if d in self._by_district):
            tally = self._by_district[district]
            total.update(tally)
            sheet.append([n + 1, district, tally["employers"], tally["in_arrears"], tally["employees"],
                          _scaled(tally["arrears"], unit)])
        sheet.append([None, "Tổng cộng", total["employers"], total["in_arrears"], total["employees"],
                      _scaled(total["arrears"], unit)], bold=True)
        sheet.close()
