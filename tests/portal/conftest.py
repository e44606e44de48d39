"""A small register published by the real pipeline (two releases), shared read-only by the portal tests,
beside the session's two others (eligibility_register.py, hostile_register.py), all built by
tests/registers.py.

Pages never write, so each register is built once per session and each test gets a fresh app on
it; a test that writes (a dispute, a receipt) takes a copy, and one that changes a shared register
fails (tests/conftest.py).

Rows are chosen so every page has something to show: a newly listed and a resolved employer, an
evading one with đ/Đ in its name, a branch, a household (whose personal number must never appear),
a name typed in NFD and one that starts like a spreadsheet formula, and reports that give only a
total, BHXH and BHTN in one column, or BHTNLĐ-BNN and interest apart (`as_reported`).
"""
from __future__ import annotations

from datetime import date

import pytest
from bs4 import BeautifulSoup
from congkhai.migrations import upgrade
from congkhai.provinces import all_provinces
from portal import create_app
from tests.publisher.factory import tax_code
from tests.registers import SHORT_HISTORY, build_register, shared

DAY_1 = date(2026, 11, 24)
DAY_2 = date(2026, 11, 25)
PERSONAL_NUMBER = "001234567823"
BRANCH = tax_code(700) + "-001"
DONG_NAI, HANOI, HO_CHI_MINH, DA_NANG = "75", "01", "79", "48"


def number(code: str, index: int) -> int:
    """The factory's running number of row `index` of a province's report."""
    return [p.code for p in all_provinces()].index(code) * 3 + index + 1


HA_THANH = tax_code(number(HANOI, 0))        # delinquent both days, arrears grow
DONG_A = tax_code(number(HANOI, 1))          # evading
BIEN_HOA = tax_code(number(DONG_NAI, 0))     # newly listed on DAY_2
TRANG_BOM = tax_code(number(DONG_NAI, 1))    # delinquent on DAY_1, paid by DAY_2
HOUSEHOLD = f"TA{number(DONG_NAI, 2):04d}A"  # household, addressed by its unit code
FORMULA = tax_code(number(DA_NANG, 0))       # a name that starts like a formula
COMPLIANT_KEY = tax_code(number("04", 0))    # an ordinary employer, compliant throughout
SAI_GON = tax_code(number(HO_CHI_MINH, 1))   # a name typed in NFD; BHXH and BHTN reported together
BEN_THANH = tax_code(number(HO_CHI_MINH, 2))  # BHTNLĐ-BNN and late-payment interest reported apart


def as_reported(day: date) -> dict:
    """Amounts of reports whose layouts publisher/read.py does not read yet: a total only (the
    formula-named employer, delinquent on its total), BHXH and BHTN in one column, BHTNLĐ-BNN and
    interest in columns of their own (the interest grows on DAY_2)."""
    return {
        FORMULA: {"arrears_bhxh": None, "arrears_bhyt": None, "arrears_bhtn": None, "reported_total": 9_000_000},
        SAI_GON: {"arrears_bhxh": None, "arrears_bhyt": 700_000, "arrears_bhtn": None, "reported_total": 4_000_000,
                  "months_late": 1},
        BEN_THANH: {"arrears_bhxh": 3_000_000, "arrears_bhyt": 500_000, "arrears_bhtn": 200_000,
                    "arrears_bhtnld": 100_000, "interest": 250_000 if day == DAY_2 else 200_000, "months_late": 1},
    }


def classifying_as_reported(classify, day: date):
    """The publisher's classify step, given the records with their `as_reported(day)` amounts, set
    once the reports are read and reconciled."""
    amounts = as_reported(day)

    def classify_as_reported(records, policy):
        for record in records:
            for name, value in amounts.get(record.key, {}).items():
                setattr(record, name, value)
        return classify(records, policy)
    return classify_as_reported


def scenario(day: date) -> dict:
    """(province, row index) -> overrides for the rows of one date."""
    second = day == DAY_2
    return {
        (HANOI, 0): {"name": "Công ty TNHH Xây dựng Hà Thành", "arrears_bhxh": "120.000.000" if second else "100.000.000",
                     "arrears_bhyt": "20.000.000", "arrears_bhtn": "5.000.000", "months_late": 5 if second else 4,
                     "enforcement_stage": "Đã thanh tra"},
        (HANOI, 1): {"name": "Công ty Cổ phần Điện tử Đông Á", "arrears_bhxh": "2.500.000.000", "months_late": 14,
                     "evasion_decision": "Số 123/QĐ-TTr ngày 05/03/2026", "sector": "Sản xuất điện tử",
                     "ownership_type": "Công ty cổ phần"},
        (HANOI, 2): {"name": "Chi nhánh Công ty TNHH Minh Phát", "tax_code": BRANCH},
        (DONG_NAI, 0): {"name": "Công ty TNHH May Mặc Biên Hòa", "arrears_bhxh": "50.000.000" if second else "",
                        "months_late": 3 if second else 0},
        (DONG_NAI, 1): {"name": "Công ty TNHH Gỗ Trảng Bom", "arrears_bhxh": "" if second else "80.000.000",
                        "months_late": 0 if second else 6},
        (DONG_NAI, 2): {"name": "Hộ kinh doanh Nguyễn Văn Đức", "tax_code": PERSONAL_NUMBER,
                        "ownership_type": "Hộ kinh doanh", "arrears_bhxh": "3.000.000", "months_late": 2},
        (DA_NANG, 0): {"name": "=HYPERLINK(\"http://x\")", "arrears_bhxh": "9.000.000", "months_late": 4},
        (HO_CHI_MINH, 1): {"name": "Công ty TNHH Thương mại Sài Gòn".replace("ư", "u\u031b").replace("à", "a\u0300"),
                           "sector": "Thương mại"},
        (HO_CHI_MINH, 2): {"name": "Công ty TNHH Đóng tàu Bến Thành"},
    }


@pytest.fixture(scope="session")
def published(tmp_path_factory):
    """Settings of a data directory holding two published releases, shared read-only.

    Two days of history cannot show a year of clean payments, so this register's policy waives the
    full-history rule of the honour roll, which then has members to show (the rule itself is
    tested in tests/congkhai/test_commendation.py and tests/publisher/test_store.py). It also lists
    at once, without the notice period, so that DAY_2 has a newly listed employer (notices are
    tested in tests/congkhai/test_notices.py, tests/publisher/test_notices.py and
    tests/portal/test_notices.py)."""
    return shared(build_register(tmp_path_factory.mktemp("register"), (DAY_1, DAY_2), scenario,
                                 policy=SHORT_HISTORY, classify=classifying_as_reported))


@pytest.fixture(scope="session")
def eligibility(tmp_path_factory):
    """The register of tests/portal/eligibility_register.py, shared read-only: its tests take a
    copy (`register`), since checking eligibility stores a receipt."""
    from . import eligibility_register as e

    return shared(build_register(tmp_path_factory.mktemp("eligibility"), (e.DAY_1, e.DAY_2, e.DAY_3), e.scenario))


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    """The register of tests/portal/hostile_register.py, shared read-only. Its policy also allows
    the one rejected row in its province's report of three, which the default policy would not."""
    from . import hostile_register as h

    return shared(build_register(tmp_path_factory.mktemp("hostile"), (h.DAY_1, h.DAY_2), h.scenario,
                                 policy={**SHORT_HISTORY, "max_rejected_share = 0.05": "max_rejected_share = 0.5"},
                                 CONGKHAI_BASE_URL=h.BASE_URL))


def portal_on(settings: dict):
    """The portal serving a register."""
    return create_app({"TESTING": True, "CONGKHAI_DATA_DIR": settings["CONGKHAI_DATA_DIR"],
                       "CONGKHAI_BASE_URL": "https://congkhai.example.vn"})


@pytest.fixture
def app(published):
    return portal_on(published)


@pytest.fixture
def empty_app(tmp_path):
    """A portal before the first release."""
    (tmp_path / "empty").mkdir()
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": str(tmp_path / "empty")})
    with app.app_context():
        from portal.database import db
        upgrade(db.engine)  # the migrations, as production's database gets them
    return app


def html(response):
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def soup(response):
    """The parsed HTML of a successful page."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return html(response)
