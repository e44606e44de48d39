"""Realistic provincial reports for the demo, the tests and the benchmark (`congkhai sample`).

The reports look like the agency staff's exports: some provinces send CSV (with or without a BOM,
`1.234.567` strings or plain integers, with or without title lines), others XLSX with title lines,
numeric cells and tax codes that lost their leading zero; a few names are in decomposed Unicode or
carry stray spaces. All of it is valid input: broken reports are the tests' business.

Every identifier derives from the employer's province and its serial number there (unit code, tax
code, a household owner's personal number), namespaced by province, so identifiers are unique across
the country without shared state. Provinces are therefore generated independently (in two processes
for large runs), and a next-day run needs nothing but each province's own report of the day before.
"""
from __future__ import annotations

import csv
import math
import os
import re
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from random import Random

from faker.providers.address.vi_VN import Provider as FakerAddress
from faker.providers.person.vi_VN import Provider as FakerPerson
from openpyxl import load_workbook
from stdnum.vn import mst

from congkhai.policy import load_policy
from congkhai.provinces import Province, all_provinces, by_code
from congkhai.rules.classification import classify
from congkhai.taxcode import compact
from congkhai.text import clean, format_int
from publisher import xlsx
from publisher.records import HEADERS
from publisher.sample_layouts import LAYOUTS, STANDARD, assign_layouts, detect_layout
from publisher.sample_writer import LayoutWriter, messy_by

# --- Provinces: unit-code letters, tax-code prefixes (the main merged province's old MST prefix
# first; a second one takes the bases whose check digit would be 10), relative number of employers.
# Plausible, not official: the agency's real code tables are not public.
PROVINCE_PROFILES = {
    "01": ("HN", ("01", "05"), 20.0), "04": ("CB", ("48", "85"), 0.25), "08": ("TQ", ("50", "72"), 0.5),
    "11": ("DB", ("56", "73"), 0.25), "12": ("LC", ("62", "74"), 0.2), "14": ("SL", ("55", "75"), 0.4),
    "15": ("LA", ("53", "76"), 0.6), "19": ("TN", ("46", "77"), 1.0), "20": ("LS", ("49", "78"), 0.4),
    "22": ("QN", ("57", "79"), 1.5), "24": ("BN", ("23", "24"), 3.0), "25": ("PT", ("26", "25"), 2.0),
    "31": ("HP", ("02", "08"), 4.0), "33": ("HY", ("09", "10"), 2.0), "37": ("NB", ("27", "07"), 2.0),
    "38": ("TH", ("28", "81"), 2.0), "40": ("NA", ("29", "82"), 2.0), "42": ("HT", ("30", "86"), 0.8),
    "44": ("QT", ("32", "31"), 0.7), "46": ("HU", ("33", "84"), 0.8), "48": ("DN", ("04", "40"), 3.0),
    "51": ("QG", ("43", "61"), 1.0), "52": ("GL", ("59", "41"), 1.0), "56": ("KH", ("42", "45"), 1.5),
    "66": ("DL", ("60", "44"), 1.0), "68": ("LD", ("58", "34"), 1.5), "75": ("DI", ("36", "38"), 4.0),
    "79": ("HM", ("03", "35"), 28.0), "80": ("TY", ("39", "11"), 2.5), "82": ("DT", ("14", "12"), 1.0),
    "86": ("VL", ("15", "13"), 1.0), "91": ("AG", ("16", "17"), 1.2), "92": ("CT", ("18", "21"), 1.5),
    "96": ("CM", ("20", "22"), 0.7),
}

# --- Employers: ownership types with their share, median size and spread of the employee count.
TNHH, CP, DNTN, SOE, FDI, HTX, HOUSEHOLD, PUBLIC = (
    "Công ty TNHH", "Công ty cổ phần", "Doanh nghiệp tư nhân", "Doanh nghiệp nhà nước", "Doanh nghiệp FDI",
    "Hợp tác xã", "Hộ kinh doanh", "Đơn vị hành chính sự nghiệp")
OWNERSHIP = {TNHH: (50, 8, 1.3), CP: (17, 30, 1.5), DNTN: (6, 6, 1.0), SOE: (1, 250, 1.3), FDI: (5, 120, 1.6),
             HTX: (4, 12, 0.9), HOUSEHOLD: (2.5, 3, 0.6), PUBLIC: (9.5, 35, 1.0)}
PARENT_TYPES = (TNHH, CP, SOE, FDI)
BRANCH_SHARE = 0.05
HOUSEHOLD_PERSONAL_SHARE = 0.8   # the rest of the households have an ordinary 10-digit tax code
MAX_EMPLOYEES = 20_000

# Sector -> (share among companies, words a company name uses for it).
SECTORS = {
    "Xây dựng": (14, ("Xây dựng", "Xây lắp", "Đầu tư Xây dựng", "Xây dựng và Thương mại")),
    "Dệt may": (7, ("May mặc", "Dệt may", "May xuất khẩu", "Thời trang")),
    "Da giày": (3, ("Giày da", "Da giày", "Túi xách")),
    "Chế biến thực phẩm": (7, ("Thực phẩm", "Chế biến Thực phẩm", "Thủy sản", "Nông sản")),
    "Điện tử": (4, ("Điện tử", "Linh kiện Điện tử", "Thiết bị Điện")),
    "Cơ khí": (5, ("Cơ khí", "Cơ khí Chính xác", "Kết cấu Thép")),
    "Vận tải": (7, ("Vận tải", "Logistics", "Vận tải và Du lịch", "Giao nhận")),
    "Bán lẻ": (12, ("Thương mại", "Thương mại Dịch vụ", "Siêu thị", "Bán lẻ")),
    "Giáo dục": (4, ("Giáo dục", "Đào tạo", "Anh ngữ")),
    "Y tế": (3, ("Dược phẩm", "Thiết bị Y tế", "Phòng khám Đa khoa")),
    "Nông nghiệp": (5, ("Nông nghiệp", "Chăn nuôi", "Nông lâm")),
    "Khách sạn – nhà hàng": (7, ("Khách sạn", "Du lịch", "Nhà hàng", "Dịch vụ Ăn uống")),
    "Công nghệ thông tin": (6, ("Công nghệ", "Phần mềm", "Giải pháp Công nghệ", "Công nghệ Thông tin")),
    "Bất động sản": (4, ("Bất động sản", "Đầu tư Địa ốc")),
    "Dịch vụ bảo vệ": (2, ("Dịch vụ Bảo vệ", "Bảo vệ Chuyên nghiệp")),
    "Môi trường": (2, ("Môi trường", "Môi trường Đô thị", "Xử lý Chất thải")),
}
LABOUR_INTENSIVE = {"Dệt may": 3.0, "Da giày": 4.0, "Điện tử": 2.5, "Chế biến thực phẩm": 1.5}
SECTORS_BY_OWNERSHIP = {
    FDI: {"Dệt may": 25, "Da giày": 12, "Điện tử": 20, "Cơ khí": 12, "Chế biến thực phẩm": 10,
          "Công nghệ thông tin": 8, "Khách sạn – nhà hàng": 5, "Bất động sản": 3, "Vận tải": 5},
    SOE: {"Xây dựng": 25, "Vận tải": 20, "Môi trường": 20, "Nông nghiệp": 20, "Bán lẻ": 15},
    HTX: {"Nông nghiệp": 55, "Vận tải": 25, "Bán lẻ": 10, "Môi trường": 10},
    HOUSEHOLD: {"Bán lẻ": 40, "Khách sạn – nhà hàng": 30, "Vận tải": 10, "Xây dựng": 10, "Nông nghiệp": 10},
    PUBLIC: {"Giáo dục": 45, "Y tế": 25, "Quản lý nhà nước": 20, "Nông nghiệp": 10},
}
PUBLIC_NAMES = {
    "Giáo dục": ("Trường Mầm non {place}", "Trường Tiểu học {person}", "Trường THCS {person}",
                 "Trường THPT {person}", "Trung tâm Giáo dục nghề nghiệp {place}"),
    "Y tế": ("Trạm Y tế {ward}", "Trung tâm Y tế khu vực {place}", "Bệnh viện Đa khoa {place}"),
    "Quản lý nhà nước": ("Ủy ban nhân dân {ward}", "Ban Quản lý dự án Đầu tư xây dựng khu vực {place}",
                         "Trung tâm Phục vụ hành chính công {ward}"),
    "Nông nghiệp": ("Trung tâm Dịch vụ nông nghiệp {place}", "Ban Quản lý rừng phòng hộ {place}"),
}

# --- Vietnamese words: Faker's vi_VN lists, completed where they are thin (Faker has ten surnames).
SURNAMES = {"Nguyễn": 38, "Trần": 11, "Lê": 9, "Phạm": 7, "Hoàng": 3, "Huỳnh": 2, "Phan": 4, "Vũ": 2, "Võ": 2,
            "Đặng": 2, "Bùi": 2, "Đỗ": 1.5, "Hồ": 1.5, "Ngô": 1.5, "Dương": 1, "Lý": 0.5, "Mai": 0.5,
            "Trương": 1, "Đinh": 1, "Lâm": 0.5, "Đoàn": 0.5, "Trịnh": 0.5, "Lương": 0.5, "Cao": 0.5, "Tô": 0.3}
MIDDLE_MALE = ("Văn", "Văn", "Văn", "Đức", "Hữu", "Quang", "Minh", "Thanh", "Xuân", "Công", "Ngọc", "Tấn", "Thế")
MIDDLE_FEMALE = ("Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mai", "Minh", "Phương")
GIVEN_MALE_EXTRA = ("An", "Bình", "Cường", "Đạt", "Đức", "Hiếu", "Hùng", "Khánh", "Long", "Lộc", "Mạnh",
                    "Nghĩa", "Phong", "Quân", "Sơn", "Tâm", "Thắng", "Thịnh", "Tiến", "Toàn", "Trí", "Tuấn",
                    "Việt", "Hải", "Hòa", "Kiên", "Lâm", "Phát", "Tài", "Vinh")
GIVEN_FEMALE_EXTRA = ("Anh", "Dung", "Giang", "Hà", "Hằng", "Hoa", "Huyền", "Loan", "Ly", "My", "Nga",
                      "Nhung", "Oanh", "Phượng", "Quỳnh", "Thu", "Thủy", "Trang", "Trinh", "Tuyết", "Uyên",
                      "Hạnh", "Nhi", "Thư", "Hiền")
BRAND_WORDS = ("Minh", "Phát", "Hoàng", "Long", "Thành", "Công", "Phú", "Thịnh", "An", "Khang", "Việt", "Tiến",
               "Hưng", "Thái", "Bình", "Đức", "Tân", "Nam", "Á", "Đại", "Hòa", "Gia", "Bảo", "Kim", "Ngọc",
               "Sơn", "Hải", "Trường", "Lộc", "Phúc", "Quang", "Huy", "Vĩnh", "Toàn", "Nhật", "Đông", "Thuận",
               "Lợi", "Đạt", "Thiên", "Hồng", "Mạnh", "Cường", "Quý", "Tâm", "Trí", "Nguyên", "Khải", "Uy",
               "Tín", "Ánh", "Dương", "Vạn", "Xuân", "Hạnh", "Hiệp", "Trung", "Kiến", "Tường", "Phong")
PLACE_WORDS = ("Tân", "An", "Bình", "Phú", "Hòa", "Long", "Thạnh", "Hưng", "Phước", "Đông", "Tây", "Mỹ",
               "Thuận", "Hiệp", "Lợi", "Thới", "Vĩnh", "Xuân", "Lạc", "Sơn", "Trung", "Nghĩa", "Định", "Khánh",
               "Thọ", "Quang", "Hải", "Thành", "Lộc", "Điền", "Yên", "Hà", "Kim", "Lâm", "Hội", "Đức", "Cát",
               "Tiên", "Hương", "Châu", "Giang", "Phong", "Ninh", "Nhơn", "Quới", "Hạnh", "Xương", "Mai")
FOREIGN_WORDS = ("Hwa Seung", "Dae Young", "Shin Won", "Han Sol", "Sung Jin", "Yuan Hong", "Tai Yang", "Hong Fu",
                 "Jin Long", "Sakura", "Fuji Seiko", "Nissei", "Yamato", "Tokai", "Pacific", "Global Tech",
                 "Evergreen", "Apex", "Northstar", "Eurowin", "Siam Star", "Kinh Bắc Denko", "Mekong Agri")
NAME_QUALIFIERS = ("Thương mại Dịch vụ", "Sản xuất", "Sản xuất và Thương mại", "Xuất nhập khẩu", "Đầu tư")
TNHH_FORMS = ("Công ty TNHH",) * 14 + ("Công ty TNHH MTV",) * 4 + ("Công ty TNHH Một thành viên",
                                                                    "Công ty Trách nhiệm hữu hạn")
CP_FORMS = ("Công ty Cổ phần",) * 9 + ("Công ty CP",)

# --- Arrears: the employer's share of contributions, per fund (BHXH, BHYT, BHTN).
FUND_RATES = (0.175, 0.03, 0.01)
MONTHLY_CONTRIBUTION = (1_500_000, 2_500_000)   # VND per employee and month, all three funds together
NOTICE, MINUTES, INSPECTED, REFERRED, PROSECUTION = (
    "Đã gửi thông báo đôn đốc", "Đã lập biên bản làm việc", "Đã thanh tra", "Đã chuyển cơ quan điều tra",
    "Đã kiến nghị khởi tố")
STAGES = ("", NOTICE, MINUTES, INSPECTED, REFERRED, PROSECUTION)
DECISION_SUFFIXES = ("QĐ-TTr",) * 6 + ("QĐ-BHXH", "QĐ-XPHC")

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

PARALLEL_FROM = 20_000   # employers; below this, a second process costs more than it saves
PROGRESS_EVERY = 5_000


class SampleError(ValueError):
    """A previous day's report that this generator cannot continue; the message names file and row."""


@dataclass(frozen=True)
class ReportStyle:
    """How one province's staff export their report; kept from one day to the next. The fields after
    `layout` are the export habits of the standard layout; the others declare their own
    (publisher/sample_layouts.py)."""
    format: str                     # 'csv' or 'xlsx'
    layout: str = STANDARD          # a name of sample_layouts.LAYOUT_NAMES
    headers: tuple[str, ...] = tuple(HEADERS)
    titles: bool = True             # title lines above the header row (always for XLSX)
    unit_line: bool = False         # 'Đơn vị tính: đồng' under the date
    bom: bool = False               # CSV only
    dotted: bool = False            # CSV only: amounts as '1.234.567'
    zero_blank: bool = True         # zero arrears and months as empty cells rather than 0
    total_label_in: str = "STT"     # the column holding 'Tổng cộng'

    def file_name(self, province: Province) -> str:
        return f"{province.code}-{province.slug}.csv" if self.format == "csv" else f"{province.code}.xlsx"


@dataclass
class SampleSummary:
    out_dir: Path
    as_of: date
    files: list[str]
    employers_by_province: dict[str, int]
    by_status: dict[str, int]        # as the current policy would classify the rows
    formats: dict[str, str]          # province code -> 'csv' or 'xlsx'
    layouts: dict[str, str] = field(default_factory=dict)   # province code -> layout name
    changed: int = 0                 # with `previous`: existing employers whose row changed
    added: int = 0
    closed: int = 0
    new_decisions: int = 0

    @property
    def employers(self) -> int:
        return sum(self.employers_by_province.values())

    def describe(self) -> str:
        """What the command line prints."""
        formats = Counter(self.formats.values())
        statuses = ", ".join(f"{status} {count:,}" for status, count in self.by_status.items())
        text = (f"Wrote {len(self.files)} reports for {self.as_of.isoformat()} to {self.out_dir} "
                f"({formats['xlsx']} XLSX, {formats['csv']} CSV): {self.employers:,} employers; {statuses}.")
        layouts = Counter(self.layouts.values())
        if set(layouts) - {STANDARD}:
            text += "\nLayouts: " + ", ".join(f"{name} {count}" for name, count in sorted(layouts.items())) + "."
        if self.changed or self.added or self.closed:
            text += (f"\nSince the previous day: {self.changed:,} changed, {self.added:,} new, {self.closed:,} closed, "
                     f"{self.new_decisions} new evasion decision(s).")
        return text


@dataclass(slots=True)
class Entry:
    """One employer's values, before they are written in a report's style."""
    serial: int
    unit_code: str
    tax: str          # '0101234567', '0101234567-001', or a household owner's 12-digit number
    kind: str         # 'enterprise', 'branch' or 'personal'
    name: str
    address: str
    ownership: str
    sector: str
    employees: int
    arrears: list[int] = field(default_factory=lambda: [0, 0, 0])
    months: int = 0
    decision: str = ""
    stage: str = ""
    bhtnld: int | None = None   # the BHTNLĐ-BNN part of arrears[0], as a previous report gave it


@dataclass(slots=True)
class _Row:
    """A previous day's row: its values, and for the standard layout its cells as written (kept
    as they stand, in the report's own forms, unless the row changes)."""
    entry: Entry
    cells: dict | None = None


@dataclass
class _ProvinceResult:
    code: str
    file: str
    format: str
    employers: int
    by_status: Counter
    changed: int = 0
    added: int = 0
    closed: int = 0
    new_decisions: int = 0
    layout: str = STANDARD


# ---------------------------------------------------------------------------------------------------
# Identifiers

_UNIT_CODE = re.compile(r"^([A-Z]{2})(\d{4})([A-Z]{1,2})$")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_SERIAL = 10_000 * (26 + 26 * 26) - 1


def unit_code(province_code: str, serial: int) -> str:
    """'HN0123A': province letters, four digits, then a letter (two past 260,000 employers)."""
    if not 0 < serial <= MAX_SERIAL:
        raise ValueError(f"serial {serial} outside 1..{MAX_SERIAL}")
    block, number = divmod(serial, 10_000)
    suffix = _LETTERS[block] if block < 26 else _LETTERS[(block - 26) // 26] + _LETTERS[(block - 26) % 26]
    return f"{PROVINCE_PROFILES[province_code][0]}{number:04d}{suffix}"


def unit_serial(code: str) -> int | None:
    """The serial a unit code was made from, or None when the code is not of this generator."""
    match = _UNIT_CODE.match(code.strip())
    if not match:
        return None
    letters = match.group(3)
    block = _LETTERS.index(letters) if len(letters) == 1 else \
        26 + 26 * _LETTERS.index(letters[0]) + _LETTERS.index(letters[1])
    return block * 10_000 + int(match.group(2))


# Primes p with p % 3 == 2, so that cubing is a permutation of 0..p-1.
TAX_BODY_PRIME = 9_999_971
PERSONAL_TAIL_PRIME = 999_983


def _scramble(number: int, prime: int) -> int:
    """A permutation of 0..prime-1 (taken modulo prime) that hides the order of serials: a cube, then
    an affine step."""
    return (pow(number % prime, 3, prime) * 7_654_321 + 1_234_567) % prime


def _province_offset(province_code: str) -> int:
    """Shifts the serials of each province, so that serial 1 of two provinces do not share digits."""
    return 104_729 * int(province_code)


def enterprise_tax_code(province_code: str, serial: int) -> str:
    """A valid 10-digit MST, one per (province, serial): prefix + a scrambled serial + check digit.

    The body is 1 + a permutation of 0..9,999,970, never the all-zero body stdnum rejects;
    a base whose check digit would be 10 takes the province's second prefix, whose weighted digits
    differ modulo 11, so its check digit is a single digit.
    """
    body = 1 + _scramble(serial + _province_offset(province_code), TAX_BODY_PRIME)
    for prefix in PROVINCE_PROFILES[province_code][1]:
        base = f"{prefix}{body:07d}"
        check = mst.calc_check_digit(base)
        if len(check) == 1:
            return base + check
    raise AssertionError(f"province {province_code}: both tax prefixes give check digit 10 for {body}")


def personal_number(province_code: str, serial: int, rng: Random) -> str:
    """A citizen ID as households use: 0 + province code, century/sex digit, birth year, six digits.

    The serial's millions choose sex and century, the rest is scrambled into the last six digits,
    so the number is unique per (province, serial) up to almost four million serials.
    """
    block, rest = divmod(serial, PERSONAL_TAIL_PRIME)
    if block > 3:
        raise ValueError(f"serial {serial}: too many household numbers for one province")
    year = rng.randint(1955, 1999) if block < 2 else rng.randint(2000, 2006)
    tail = _scramble(rest + _province_offset(province_code), PERSONAL_TAIL_PRIME)
    return f"0{province_code}{block}{year % 100:02d}{tail:06d}"


def _unscramble(value: int, prime: int) -> int:
    """The inverse of `_scramble`: the affine step undone, then the cube root (the exponent that
    inverts 3 modulo prime - 1, which exists because prime % 3 == 2)."""
    cube = (value - 1_234_567) * pow(7_654_321, -1, prime) % prime
    return pow(cube, pow(3, -1, prime - 1), prime)


def tax_serial(province_code: str, kind: str, tax: str) -> int | None:
    """The serial an enterprise tax code or a personal number of this generator was made from, for
    reports that carry no unit code; None for a branch (its code is its parent's) or a foreign code."""
    offset = _province_offset(province_code)
    if kind == "enterprise" and tax[:2] in PROVINCE_PROFILES[province_code][1]:
        return (_unscramble(int(tax[2:9]) - 1, TAX_BODY_PRIME) - offset) % TAX_BODY_PRIME
    if kind == "personal" and tax[1:3] == province_code:
        rest = (_unscramble(int(tax[6:]), PERSONAL_TAIL_PRIME) - offset) % PERSONAL_TAIL_PRIME
        return int(tax[3]) * PERSONAL_TAIL_PRIME + rest
    return None


# ---------------------------------------------------------------------------------------------------
# Styles and titles

def title_lines(province: Province, as_of: date, style: ReportStyle) -> list[str]:
    lines = [AGENCY_LINE, f"BẢO HIỂM XÃ HỘI {province.name.upper()}", "", REPORT_TITLE,
             f"Tính đến ngày {as_of:%d/%m/%Y}"]
    if style.unit_line:
        lines.append(UNIT_LINE)
    return lines + [""]


def assign_styles(seed: int) -> dict[str, ReportStyle]:
    """A mix of export habits over the 34 provinces; Hà Nội and Hồ Chí Minh get one format each."""
    rng = Random(f"congkhai-sample:{seed}:styles")
    big = ["01", "79"]
    rng.shuffle(big)
    rest = [p.code for p in all_provinces() if p.code not in big]
    rng.shuffle(rest)
    xlsx_codes = [big[0]] + rest[:15]
    csv_codes = [big[1]] + rest[15:]
    styles = {}
    for i, code in enumerate(xlsx_codes):
        styles[code] = ReportStyle("xlsx", headers=ALTERNATE_HEADERS if i == 3 else tuple(HEADERS),
                                   unit_line=i % 3 == 1, zero_blank=i % 4 != 2,
                                   total_label_in="Tên đơn vị" if i % 2 else "STT")
    for i, code in enumerate(csv_codes):
        styles[code] = ReportStyle("csv", headers=ALTERNATE_HEADERS if i == 5 else tuple(HEADERS),
                                   titles=i % 3 != 2, unit_line=i % 6 == 1, bom=i % 2 == 0,
                                   dotted=(i // 2) % 2 == 0, zero_blank=i % 4 != 3,
                                   total_label_in="Tên đơn vị" if i % 5 == 4 else "STT")
    return styles


def allocate(employers: int) -> dict[str, int]:
    """Employers per province by the profile weights (largest remainder), at least one each."""
    codes = [p.code for p in all_provinces()]
    if employers < len(codes):
        raise ValueError(f"need at least {len(codes)} employers, one per province; got {employers}")
    spare = employers - len(codes)
    total_weight = sum(PROVINCE_PROFILES[c][2] for c in codes)
    shares = {c: spare * PROVINCE_PROFILES[c][2] / total_weight for c in codes}
    counts = {c: 1 + int(shares[c]) for c in codes}
    left = employers - sum(counts.values())
    for code in sorted(codes, key=lambda c: (int(shares[c]) - shares[c], c))[:left]:
        counts[code] += 1
    return counts


# ---------------------------------------------------------------------------------------------------
# Generating employers

def _expand(weights: dict) -> tuple:
    """A tuple where each key appears in proportion to its weight, for fast rng.choice."""
    smallest = min(weights.values())
    return tuple(k for k, w in weights.items() for _ in range(max(1, round(w / smallest))))


_SURNAME_POOL = _expand({**{name: 1 for name in FakerPerson.last_names}, **SURNAMES})
_GIVEN_MALE = tuple(dict.fromkeys(FakerPerson.first_names_male + FakerPerson.first_names_unisex + GIVEN_MALE_EXTRA))
_GIVEN_FEMALE = tuple(dict.fromkeys(FakerPerson.first_names_female + FakerPerson.first_names_unisex
                                    + GIVEN_FEMALE_EXTRA))
_STREETS = tuple(FakerAddress.streets)
_OWNERSHIP_POOL = _expand({k: v[0] for k, v in OWNERSHIP.items()})
_SECTOR_POOL = _expand({k: v[0] for k, v in SECTORS.items()})
_SECTOR_POOLS = {k: _expand(v) for k, v in SECTORS_BY_OWNERSHIP.items()}


def _person(r: Random) -> str:
    if r.random() < 0.5:
        return f"{r.choice(_SURNAME_POOL)} {r.choice(MIDDLE_MALE)} {r.choice(_GIVEN_MALE)}"
    return f"{r.choice(_SURNAME_POOL)} {r.choice(MIDDLE_FEMALE)} {r.choice(_GIVEN_FEMALE)}"


class _Generator:
    """Employers of one province; holds what a branch needs of its parents."""

    def __init__(self, province: Province, rng: Random, as_of: date, next_serial: int = 1,
                 parents=(), branch_numbers: dict | None = None, personal_numbers: bool = True):
        self.province = province
        # A list without unit codes cannot name a household by its owner's number (never published):
        # its households are drawn with a business tax code of their own, as many have.
        self.personal_numbers = personal_numbers
        self.rng = rng
        self.as_of = as_of
        self.next_serial = next_serial
        self.parents = deque(parents, maxlen=500)          # (tax code, name, ownership, sector)
        self.branch_numbers = branch_numbers if branch_numbers is not None else {}
        weight = PROVINCE_PROFILES[province.code][2]
        self.wards = self._wards(12 + int(weight * 6))
        self.parks = [f"Khu công nghiệp {self._place()}" for _ in range(2 + int(weight / 2))]
        self.lane = "Ngõ" if province.code < "44" else "Hẻm"   # the North says ngõ, the South hẻm

    def _place(self) -> str:
        r = self.rng
        return r.choice(FakerAddress.communes) if r.random() < 0.2 else f"{r.choice(PLACE_WORDS)} {r.choice(PLACE_WORDS)}"

    def street(self) -> str:
        name = self.rng.choice(_STREETS)
        return f"đường {name}" if name[0].isdigit() else name   # 'Số 13 đường 3 Tháng 2'

    def _wards(self, n: int) -> list[str]:
        city = self.province.kind == "city"
        return [f"{'Phường' if self.rng.random() < (0.7 if city else 0.35) else 'Xã'} {self._place()}"
                for _ in range(n)]

    def person(self) -> str:
        return _person(self.rng)

    def brand(self) -> str:
        r = self.rng
        words = r.sample(BRAND_WORDS, 3 if r.random() < 0.1 else 2)
        return " ".join(words)

    def address(self, ownership: str, sector: str) -> str:
        r = self.rng
        ward = r.choice(self.wards)
        u = r.random()
        if (ownership == FDI or sector in LABOUR_INTENSIVE) and u < 0.6:
            street = f"Lô {r.choice('ABCDEFGH')}{r.randint(1, 40)}, {r.choice(self.parks)}"
        elif u < 0.55:
            street = f"Số {r.randint(1, 350)} {self.street()}"
        elif u < 0.75:
            street = f"{r.randint(1, 250)}/{r.randint(1, 60)} {self.street()}"
        elif u < 0.87:
            street = f"{self.lane} {r.randint(1, 300)} {r.choice(_STREETS)}"
        else:
            street = f"Thôn {self._place()}"
        return f"{street}, {ward}, {self.province.name}"

    def name(self, ownership: str, sector: str) -> str:
        r = self.rng
        if ownership == HOUSEHOLD:
            return f"Hộ kinh doanh {self.person()}"
        if ownership == PUBLIC:
            template = r.choice(PUBLIC_NAMES[sector])
            return template.format(place=self._place(), person=r.choice(_STREETS), ward=r.choice(self.wards))
        words = r.choice(SECTORS[sector][1])
        u = r.random()
        other = r.choice(_SECTOR_POOL)
        if u < 0.1 and other != sector:
            words += " " + r.choice(SECTORS[other][1])
        elif u < 0.25:
            words = f"{r.choice(NAME_QUALIFIERS)} {words}"
        if ownership == TNHH:
            return f"{r.choice(TNHH_FORMS)} {words} {self.brand()}"
        if ownership == CP:
            return f"{r.choice(CP_FORMS)} {words} {self.brand()}"
        if ownership == DNTN:
            return f"Doanh nghiệp tư nhân {words} {self.brand()}" if r.random() < 0.6 else \
                f"Doanh nghiệp tư nhân {self.person()}"
        if ownership == SOE:
            return r.choice((f"Công ty TNHH MTV {words} {self.province.short_name}",
                             f"Tổng công ty {words} {self.brand()}"))
        if ownership == FDI:
            foreign = r.choice(FOREIGN_WORDS)
            return r.choice((f"Công ty TNHH {foreign} Việt Nam", f"Công ty TNHH {words} {foreign}",
                             f"Công ty TNHH {foreign} Vina"))
        return f"Hợp tác xã {words} {self._place()}"

    def employees(self, ownership: str, sector: str) -> int:
        _, median, sigma = OWNERSHIP[ownership]
        if ownership not in (HOUSEHOLD, PUBLIC):
            median *= LABOUR_INTENSIVE.get(sector, 1.0)
        value = round(median * math.exp(sigma * self.rng.gauss(0.0, 1.0)))
        return max(1, min(MAX_EMPLOYEES, value, 15 if ownership == HOUSEHOLD else MAX_EMPLOYEES))

    def new_entry(self) -> Entry:
        """A new employer with the next serial, in a status drawn from the national distribution."""
        r = self.rng
        serial = self.next_serial
        self.next_serial += 1
        code = self.province.code
        unit = unit_code(code, serial)
        if self.parents and r.random() < BRANCH_SHARE:
            parent_tax, parent_name, ownership, sector = r.choice(self.parents)
            number = self.branch_numbers.get(parent_tax, 0) + 1
            self.branch_numbers[parent_tax] = number
            name = r.choice((f"Chi nhánh {parent_name} tại {self.province.short_name}",
                             f"Chi nhánh {parent_name} - {r.choice(self.wards)}"))
            entry = Entry(serial, unit, f"{parent_tax}-{number:03d}", "branch", name,
                          self.address(ownership, sector), ownership, sector, self.employees(ownership, sector))
        else:
            ownership = r.choice(_OWNERSHIP_POOL)
            sector = r.choice(_SECTOR_POOLS.get(ownership, _SECTOR_POOL))
            if ownership == HOUSEHOLD and self.personal_numbers and r.random() < HOUSEHOLD_PERSONAL_SHARE:
                tax, kind = personal_number(code, serial, r), "personal"
            else:
                tax, kind = enterprise_tax_code(code, serial), "enterprise"
            name = self.name(ownership, sector)
            entry = Entry(serial, unit, tax, kind, name, self.address(ownership, sector), ownership, sector,
                          self.employees(ownership, sector))
            if ownership in PARENT_TYPES:
                self.parents.append((tax, name, ownership, sector))
        self.draw_status(entry)
        return entry

    def draw_status(self, entry: Entry) -> None:
        """~70% compliant, ~12% late, ~16.5% delinquent, ~1.5% with an evasion decision."""
        r = self.rng
        u = r.random()
        if u < 0.70:
            return
        if u < 0.82:
            self.set_arrears(entry, 1 if r.random() < 0.7 else 2)
        elif u < 0.985:
            self.set_arrears(entry, self.delinquent_months())
        else:
            v = r.random()
            if v < 0.85:
                self.set_arrears(entry, self.delinquent_months())
            elif v < 0.95:
                self.set_arrears(entry, r.randint(1, 2))
            entry.decision = self.decision(self.as_of - timedelta(days=r.randint(3, 700)))
        entry.stage = self.stage(entry.months, bool(entry.decision))

    def delinquent_months(self) -> int:
        return min(60, 3 + int(self.rng.expovariate(1 / 7)))

    def monthly(self, employees: int) -> float:
        return employees * self.rng.uniform(*MONTHLY_CONTRIBUTION)

    def set_arrears(self, entry: Entry, months: int) -> None:
        """Arrears of `months` months, partly paid: employees x contribution, split 17.5/3/1 by fund."""
        total = self.monthly(entry.employees) * months * self.rng.uniform(0.6, 1.0)
        entry.arrears = _split(total)
        entry.months = months

    def decision(self, day: date) -> str:
        return f"Số {self.rng.randint(1, 999)}/{self.rng.choice(DECISION_SUFFIXES)} ngày {day:%d/%m/%Y}"

    def stage(self, months: int, evading: bool) -> str:
        """Enforcement follows the months in arrears; an evasion decision means an inspection happened."""
        r = self.rng
        if evading:
            return r.choice((INSPECTED, INSPECTED, REFERRED, PROSECUTION))
        if months == 0:
            return ""
        if months < 3:
            return NOTICE if r.random() < 0.6 else ""
        if months < 6:
            return r.choice((NOTICE, NOTICE, MINUTES))
        if months < 12:
            return r.choice((MINUTES, INSPECTED))
        return r.choice((INSPECTED, INSPECTED, REFERRED, PROSECUTION))


def _split(total: float) -> list[int]:
    rate = sum(FUND_RATES)
    bhxh = round(total * FUND_RATES[0] / rate)
    bhyt = round(total * FUND_RATES[1] / rate)
    return [bhxh, bhyt, max(0, round(total) - bhxh - bhyt)]


# ---------------------------------------------------------------------------------------------------
# Cells in a report's style

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


# ---------------------------------------------------------------------------------------------------
# Writers

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
    return tuple(_person(rng) for _ in range(3))


def _open_writer(path: Path, province: Province, as_of: date, style: ReportStyle):
    """The standard layout's streaming writer, or the writer of the style's layout."""
    if style.layout == STANDARD:
        return _ReportWriter(path, province, as_of, style)
    return LayoutWriter(path, province, as_of, LAYOUTS[style.layout], style.format, _signers(province))


# ---------------------------------------------------------------------------------------------------
# Reading the previous day's report

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


def _previous_rows(path: Path, province: Province, as_of: date) -> tuple[ReportStyle, list[_Row]]:
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


# ---------------------------------------------------------------------------------------------------
# One province

def _names_units(style: ReportStyle) -> bool:
    """Whether the style's reports carry the agency's unit codes (the standard layout does)."""
    from .sample_layouts import LAYOUTS

    layout = LAYOUTS.get(style.layout)
    return layout is None or any(column.value == "unit_code" for column in layout.columns)


def _status(entry: Entry, policy) -> str:
    return classify(sum(entry.arrears), entry.months, bool(entry.decision), policy)


def _fresh_province(code: str, count: int, as_of: date, seed: int, style: ReportStyle, out_dir: Path,
                    progress=None) -> _ProvinceResult:
    province = by_code()[code]
    rng = Random(f"congkhai-sample:{seed}:{code}")
    generator = _Generator(province, rng, as_of, personal_numbers=_names_units(style))
    policy = load_policy()
    path = out_dir / style.file_name(province)
    writer = _open_writer(path, province, as_of, style)
    statuses = Counter()
    for i in range(count):
        entry = generator.new_entry()
        writer.add_new(entry, rng)
        statuses[_status(entry, policy)] += 1
        if progress and (i + 1) % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    writer.close()
    if progress:
        progress(count % PROGRESS_EVERY)
    return _ProvinceResult(code, path.name, style.format, count, statuses, layout=style.layout)


def _next_day_change(entry: Entry, generator: _Generator) -> None:
    """One employer's step from one day to the next: pays up, pays part, falls behind, or starts to."""
    r = generator.rng
    if entry.months == 0 and sum(entry.arrears) == 0:
        if r.random() < 0.4:   # hires or leavers only
            step = max(1, round(entry.employees * 0.05))
            entry.employees += step if entry.employees <= step or r.random() < 0.5 else -step
            return
        generator.set_arrears(entry, 1)
        entry.stage = NOTICE if r.random() < 0.5 else entry.stage
        return
    # Late payers mostly settle; delinquent ones mostly slip further (steady shares over many days).
    pay_up, pay_part = (0.5, 0.6) if entry.months < 3 else (0.15, 0.35)
    u = r.random()
    if u < pay_up:
        entry.arrears, entry.months = [0, 0, 0], 0
        if not entry.decision:
            entry.stage = ""
    elif u < pay_part and entry.months > 1:
        share = (entry.months - 1) / entry.months
        entry.arrears = [round(a * share) for a in entry.arrears]
        entry.months -= 1
    else:
        monthly = [round(a / entry.months) for a in entry.arrears] if entry.months else \
            _split(generator.monthly(entry.employees))
        entry.arrears = [a + m for a, m in zip(entry.arrears, monthly)]
        entry.months += 1
        escalated = generator.stage(entry.months, bool(entry.decision))
        if STAGES.index(escalated) > STAGES.index(entry.stage if entry.stage in STAGES else ""):
            entry.stage = escalated


def _next_province(code: str, previous_path: Path, as_of: date, seed: int, out_dir: Path, change_share: float,
                   new_decisions: int, progress=None) -> _ProvinceResult:
    """The next day's report of one province: the same layout and export style, a few employers changed."""
    province = by_code()[code]
    rng = Random(f"congkhai-sample:{seed}:{code}:{as_of.isoformat()}")
    style, rows = _previous_rows(previous_path, province, as_of)
    entries = [row.entry for row in rows]
    max_serial = max((entry.serial for entry in entries), default=0)
    branch_numbers, parents = {}, deque(maxlen=500)
    in_arrears = bytearray(len(rows))
    on_record = bytearray(len(rows))  # owes, or an evasion finding is in force: may not simply vanish
    for i, entry in enumerate(entries):
        if entry.kind == "branch":
            parent, number = entry.tax.split("-")
            branch_numbers[parent] = max(branch_numbers.get(parent, 0), int(number))
        elif entry.kind == "enterprise" and entry.ownership in PARENT_TYPES:
            parents.append((entry.tax, clean(entry.name), entry.ownership, entry.sector))
        in_arrears[i] = entry.months > 0 or any(entry.arrears)
        on_record[i] = in_arrears[i] or bool(entry.decision)
    generator = _Generator(province, rng, as_of, max_serial + 1, parents, branch_numbers,
                           personal_numbers=_names_units(style))
    n_arrears = sum(in_arrears)
    n_compliant = len(rows) - n_arrears
    # Most changes among employers in arrears, the rest among the others, so the shares stay steady.
    p_arrears = min(1.0, change_share * len(rows) * 0.7 / n_arrears) if n_arrears else 0.0
    p_compliant = min(1.0, change_share * len(rows) * 0.3 / n_compliant) if n_compliant else 0.0
    decision_rows = set(_decision_candidates(entries, style, rng, new_decisions))

    policy = load_policy()
    path = out_dir / previous_path.name
    writer = _open_writer(path, province, as_of, style)
    statuses = Counter()
    changed = closed = 0
    for i, row in enumerate(rows):
        entry = row.entry
        # Only employers that owe nothing and have no evasion finding close: a listed one stays in its
        # office's list until settled (and the publisher refuses a report that drops a listed employer).
        if entry.kind != "branch" and entry.serial != max_serial and rng.random() < change_share * 0.05 \
                and not on_record[i]:
            closed += 1
            continue
        change = rng.random() < (p_arrears if in_arrears[i] else p_compliant) or i in decision_rows
        if change:
            if i in decision_rows:
                entry.decision = generator.decision(as_of - timedelta(days=rng.randint(1, 5)))
                entry.stage = INSPECTED
            else:
                _next_day_change(entry, generator)
            entry.bhtnld = None   # its share of the new arrears
            changed += 1
        writer.add_row(row, change)
        statuses[_status(entry, policy)] += 1
        if progress and (i + 1) % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    added = _random_round(len(rows) * change_share * 0.2, rng)
    for _ in range(added):
        entry = generator.new_entry()
        writer.add_new(entry, rng)
        statuses[_status(entry, policy)] += 1
    writer.close()
    if progress:
        progress(len(rows) % PROGRESS_EVERY + added)
    return _ProvinceResult(code, path.name, style.format, len(rows) - closed + added, statuses,
                           changed, added, closed, len(decision_rows), style.layout)


def _decision_candidates(entries: list[Entry], style: ReportStyle, rng: Random, n: int) -> list[int]:
    """Rows to receive a new evasion decision: delinquent employers without one, in a report that
    has a column for it."""
    if not n or (style.layout != STANDARD and not LAYOUTS[style.layout].shows("decision")):
        return []
    candidates = [i for i, entry in enumerate(entries) if entry.months >= 3 and not entry.decision]
    return rng.sample(candidates, min(n, len(candidates)))


def _random_round(x: float, rng: Random) -> int:
    whole = int(x)
    return whole + (rng.random() < x - whole)


# ---------------------------------------------------------------------------------------------------
# The whole country

def _previous_reports(previous: Path) -> dict[str, Path]:
    reports = {}
    for path in sorted(previous.iterdir()):
        code = path.name[:2]
        if path.suffix.lower() in (".csv", ".xlsx") and code in PROVINCE_PROFILES:
            if code in reports:
                raise SampleError(f"{previous}: two reports for province {code}: {reports[code].name}, {path.name}")
            reports[code] = path
    missing = sorted(set(PROVINCE_PROFILES) - set(reports))
    if missing:
        raise SampleError(f"{previous}: no report for province(s) {', '.join(missing)}")
    return reports


def _run(jobs: list[tuple], workers: int, progress, sizes: dict[str, int]) -> list[_ProvinceResult]:
    """Run the province jobs, the largest first so two processes finish together."""
    jobs = sorted(jobs, key=lambda job: -sizes[job[1][0]])
    if workers <= 1:
        return [function(*args, progress=progress) for function, args in jobs]
    results = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(function, *args) for function, args in jobs]
        for future in futures:
            result = future.result()
            if progress:
                progress(result.employers)
            results.append(result)
    return results


def generate_reports(out_dir: Path, employers: int, as_of: date, seed: int = 0, previous: Path | None = None,
                     progress=None, change_share: float = 0.02, workers: int | None = None,
                     layouts=None) -> SampleSummary:
    """Write one report per province for `as_of` into `out_dir`.

    Without `previous`, `employers` new employers spread over the provinces, in the `layouts`
    named (publisher/sample_layouts.py: 'standard' by default, several or 'mixed' dealt over the
    provinces by the seed). With `previous` (a directory this function wrote for an earlier day),
    the next day: the same employers, layouts and export styles, about `change_share` of them
    changed, a few new and a very few closed, one or two new evasion decisions; `employers` is then
    unused. `progress(n)` is told of every n rows written. Same arguments, same bytes.
    """
    out_dir = Path(out_dir)
    if previous is not None and layouts:
        raise SampleError("a next day keeps each province's layout of the previous day: no layouts to choose")
    chosen = assign_layouts(seed, layouts) if previous is None else {}   # raises ValueError for an unknown name
    out_dir.mkdir(parents=True, exist_ok=True)
    if previous is not None:
        previous = Path(previous)
        if previous.resolve() == out_dir.resolve():
            raise SampleError(f"{out_dir}: the next day's reports need a directory other than the previous day's")
        reports = _previous_reports(previous)
        decisions = _new_decision_counts(seed, as_of)
        jobs = [(_next_province, (code, path, as_of, seed, out_dir, change_share, decisions.get(code, 0)))
                for code, path in reports.items()]
        sizes = {code: path.stat().st_size for code, path in reports.items()}
        total_size = sum(sizes.values())
        parallel = total_size > PARALLEL_FROM * 250
    else:
        counts = allocate(employers)
        styles = {code: style if chosen[code] == STANDARD else ReportStyle(style.format, layout=chosen[code])
                  for code, style in assign_styles(seed).items()}
        jobs = [(_fresh_province, (code, count, as_of, seed, styles[code], out_dir)) for code, count in counts.items()]
        sizes = counts
        parallel = employers >= PARALLEL_FROM
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if parallel else 1
    results = sorted(_run(jobs, workers, progress, sizes), key=lambda result: result.code)
    by_status = Counter()
    for result in results:
        by_status.update(result.by_status)
    return SampleSummary(
        out_dir=out_dir, as_of=as_of, files=[r.file for r in results],
        employers_by_province={r.code: r.employers for r in results},
        by_status={status: by_status.get(status, 0) for status in ("compliant", "late", "delinquent", "evading")},
        formats={r.code: r.format for r in results}, layouts={r.code: r.layout for r in results},
        changed=sum(r.changed for r in results), added=sum(r.added for r in results),
        closed=sum(r.closed for r in results), new_decisions=sum(r.new_decisions for r in results))


def _new_decision_counts(seed: int, as_of: date) -> dict[str, int]:
    """One or two new evasion decisions in the country per day, more likely in the large provinces."""
    rng = Random(f"congkhai-sample:{seed}:{as_of.isoformat()}:decisions")
    codes = list(PROVINCE_PROFILES)
    chosen = rng.choices(codes, weights=[PROVINCE_PROFILES[c][2] for c in codes], k=rng.choice((1, 2)))
    return Counter(chosen)


DISPUTE_REASONS = (
    "Đơn vị đã nộp đủ số tiền nợ BHXH ngày {day} theo ủy nhiệm chi số {number}, nhưng danh sách vẫn ghi còn nợ.",
    "Số lao động và số tiền nợ ghi trên danh sách không đúng với biên bản đối chiếu với cơ quan BHXH ngày {day}.",
    "Quyết định thanh tra ghi trên danh sách đã được thu hồi; đề nghị cơ quan BHXH kiểm tra và cập nhật.",
    "Mã số thuế ghi trên danh sách là của đơn vị khác cùng tên; đơn vị chúng tôi không có khoản nợ nào (số {number}).",
)


def sample_disputes(keys: list[str], count: int, as_of: date, seed: int = 0):
    """A few realistic disputes about some of `keys` (the demo shows the "disputed" mark with them)."""
    from congkhai.disputes import Submission

    rng = Random(seed)
    chosen = rng.sample(sorted(keys), min(count, len(keys)))
    out = []
    for key in chosen:
        female = rng.random() < 0.5
        name = " ".join((rng.choice(_SURNAME_POOL), rng.choice(MIDDLE_FEMALE if female else MIDDLE_MALE),
                         rng.choice(_GIVEN_FEMALE if female else _GIVEN_MALE)))
        phone = "09" + "".join(str(rng.randrange(10)) for _ in range(8))
        day = as_of - timedelta(days=rng.randrange(3, 40))
        reason = rng.choice(DISPUTE_REASONS).format(day=day.strftime("%d/%m/%Y"), number=rng.randrange(100, 9999))
        out.append(Submission(key, name, phone, reason))
    return out


def corrected_report(reports_dir: Path, out_dir: Path, as_of: date, seed: int = 0, fixes: int = 3) -> Path:
    """A province's corrected report of a date already published: its largest province's report of
    `reports_dir` again, in its layout, where a few delinquent employers turn out to have paid (a
    payment matched to the wrong employer, the error that named hundreds of firms wrongly in
    Slovakia). Feeds `congkhai correct`. Returns the report's path."""
    reports = _previous_reports(Path(reports_dir))
    code = max(reports, key=lambda c: (reports[c].stat().st_size, c))
    path = reports[code]
    province = by_code()[code]
    style, rows = _previous_rows(path, province, as_of)
    rng = Random(f"congkhai-sample:{seed}:{code}:{as_of.isoformat()}:correction")
    candidates = [i for i, row in enumerate(rows) if row.entry.months >= 3 and not row.entry.decision]
    fixed = set(rng.sample(candidates, min(fixes, len(candidates))))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = _open_writer(out_dir / path.name, province, as_of, style)
    for i, row in enumerate(rows):
        if i in fixed:
            row.entry.arrears, row.entry.months, row.entry.stage, row.entry.bhtnld = [0, 0, 0], 0, "", None
        writer.add_row(row, i in fixed)
    writer.close()
    return out_dir / path.name
