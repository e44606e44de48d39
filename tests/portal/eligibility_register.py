"""A register of three releases published by the real pipeline, in which an evasion interval starts
and ends, for the eligibility, receipt and API tests (imported by them as fixtures).

Dates are relative to today so that "after the latest release" and "in the future" stay true
whenever the suite runs. The register is built once a session (tests/portal/conftest.py
`eligibility`); checks store receipts, so each test gets a copy of it (`register`).
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal import create_app
from portal.params import today
from tests.portal.conftest import number
from tests.publisher.factory import tax_code
from tests.registers import writable_copy

TODAY = today()
DAY_1, DAY_2, DAY_3 = TODAY - timedelta(days=21), TODAY - timedelta(days=14), TODAY - timedelta(days=7)
HANOI, DONG_NAI, HO_CHI_MINH = "01", "75", "79"
PERSONAL_NUMBER = "079123456789"

EVADER = tax_code(number(HANOI, 0))          # compliant, evading from DAY_2, compliant again from DAY_3
DELINQUENT = tax_code(number(HANOI, 1))      # delinquent throughout: eligible under the default rule
COMPLIANT = tax_code(number(HANOI, 2))
HOUSEHOLD_UNIT = f"TA{number(DONG_NAI, 2):04d}A"
OLD_CODE, NEW_CODE = tax_code(900), tax_code(901)   # one row of Hồ Chí Minh reports a new employer from DAY_2
DECISION = "Số 45/QĐ-TTr ngày 01/11/2026"


def scenario(day) -> dict:
    evading = DAY_2 <= day < DAY_3
    return {
        (HANOI, 0): {"name": "Công ty TNHH Xây lắp Đông Đô",
                     "arrears_bhxh": "300.000.000" if evading else "", "months_late": 4 if evading else 0,
                     "evasion_decision": DECISION if evading else "", "enforcement_stage": "Đã thanh tra" if evading else ""},
        (HANOI, 1): {"name": "Công ty Cổ phần Dệt Hà Đông", "arrears_bhxh": "75.000.000", "months_late": 5},
        (DONG_NAI, 2): {"name": "Hộ kinh doanh Trần Thị Đào", "tax_code": PERSONAL_NUMBER,
                        "ownership_type": "Hộ kinh doanh", "arrears_bhxh": "2.000.000", "months_late": 1},
        (HO_CHI_MINH, 0): {"tax_code": OLD_CODE if day < DAY_2 else NEW_CODE},
    }


@pytest.fixture
def register(eligibility, tmp_path):
    """Settings of this test's copy of the register (releases of DAY_1, DAY_2 and DAY_3 and a
    signing key; tests/portal/conftest.py `eligibility`): checks store receipts in it."""
    return writable_copy(eligibility, tmp_path)


def make_app(settings: dict, **config):
    return create_app({"TESTING": True, "CONGKHAI_DATA_DIR": settings["CONGKHAI_DATA_DIR"],
                       "CONGKHAI_BASE_URL": "https://congkhai.example.vn",
                       "CONGKHAI_API_RATE_LIMIT": "10000 per minute", "CONGKHAI_BATCH_RATE_LIMIT": "10000 per minute",
                       **config})


@pytest.fixture
def app(register):
    return make_app(register)
