"""The layouts provinces really send their reports in (issue 23), as data; one writer lays
them all out (publisher/sample_writer.py).

A layout is a description, not code: its columns (header words, a merged label over some of them,
the column-number row under the header), its title block (issuer, date, unit of the amounts), its
groups with their subtotals, and what stands below the table (notes, signatures, a summary sheet in
front). `LayoutWriter` (publisher/sample_writer.py) lays employers out in any of them, as XLSX or
CSV. The `standard` layout (the 14 exact headers of datasets/README.md) is not here:
publisher/sample.py streams it with the export habits of `ReportStyle`, byte for byte as before,
for the tests and the benchmark.

Every cell is a function of the employer's values, never of a random draw, so a next day, which
reads a layout's report back through the publisher's own reader (normalised values), writes an
unchanged employer's row exactly as it stood. Amounts are written exactly in the layout's unit
(1.234,567 thousand đồng), so subtotals and totals add up to the rows written.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from random import Random
from zlib import crc32

from congkhai.provinces import Province, all_provinces, find_province
from congkhai.text import clean

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


def lower_first(text: str) -> str:
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
        subtotal=lambda k, ds: f"Cộng {lower_first(ds[k])}"),
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
ARREARS = "Số tiền chậm đóng"
LAYOUTS = {layout.name: layout for layout in (
    # Hồ Chí Minh City: arrears under a merged label, columns numbered, groups A and B, a notes column.
    Layout("hcm", (
        C("STT", "row_no"), C("Mã đơn vị", "unit_code"), C("Mã số thuế", "tax_code"), C("Tên đơn vị", "name"),
        C("Địa chỉ", "address"), C("Loại hình", "ownership"), C("Ngành nghề", "sector"),
        C("Số lao động", "employees"), C("Số tháng chậm đóng", "months"),
        C("Tổng số", "total", ARREARS), C("BHXH", "bhxh", ARREARS), C("BHYT", "bhyt", ARREARS),
        C("BHTN", "bhtn", ARREARS), C("Quyết định trốn đóng", "decision"), C("Tình trạng xử lý", "stage"),
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


