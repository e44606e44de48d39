"""Sample employers as they are made: ownership types, sectors, Vietnamese names of people and
companies, sizes and arrears, and `Generator`, which draws a province's employers and their next-day
changes from a seeded random source; with `ReportStyle` and `Entry`, the shapes every sample module
shares."""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from random import Random

from faker.providers.address.vi_VN import Provider as FakerAddress
from faker.providers.person.vi_VN import Provider as FakerPerson

from congkhai.provinces import Province
from publisher.records import HEADERS
from publisher.sample_layouts import STANDARD
from publisher.sample_ids import PROVINCE_PROFILES, enterprise_tax_code, personal_number, unit_code


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


def _expand(weights: dict) -> tuple:
    """A tuple where each key appears in proportion to its weight, for fast rng.choice."""
    smallest = min(weights.values())
    return tuple(k for k, w in weights.items() for _ in range(max(1, round(w / smallest))))


SURNAME_POOL = _expand({**{name: 1 for name in FakerPerson.last_names}, **SURNAMES})


GIVEN_MALE_POOL = tuple(dict.fromkeys(FakerPerson.first_names_male + FakerPerson.first_names_unisex + GIVEN_MALE_EXTRA))


GIVEN_FEMALE_POOL = tuple(dict.fromkeys(FakerPerson.first_names_female + FakerPerson.first_names_unisex
                                    + GIVEN_FEMALE_EXTRA))


_STREETS = tuple(FakerAddress.streets)


_OWNERSHIP_POOL = _expand({k: v[0] for k, v in OWNERSHIP.items()})


_SECTOR_POOL = _expand({k: v[0] for k, v in SECTORS.items()})


_SECTOR_POOLS = {k: _expand(v) for k, v in SECTORS_BY_OWNERSHIP.items()}


def person(r: Random) -> str:
    if r.random() < 0.5:
        return f"{r.choice(SURNAME_POOL)} {r.choice(MIDDLE_MALE)} {r.choice(GIVEN_MALE_POOL)}"
    return f"{r.choice(SURNAME_POOL)} {r.choice(MIDDLE_FEMALE)} {r.choice(GIVEN_FEMALE_POOL)}"


class Generator:
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
        return person(self.rng)

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
        entry.arrears = fund_split(total)
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


def fund_split(total: float) -> list[int]:
    rate = sum(FUND_RATES)
    bhxh = round(total * FUND_RATES[0] / rate)
    bhyt = round(total * FUND_RATES[1] / rate)
    return [bhxh, bhyt, max(0, round(total) - bhxh - bhyt)]

