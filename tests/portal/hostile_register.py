"""A register of hostile employer names, published by the real pipeline (two releases, built once a
session: tests/portal/conftest.py `hostile`), shared read-only by the tests that check every output
format escapes them (imported as fixtures).

Each name arrives compliant on DAY_1 and listed on DAY_2, so it shows on the lists, the changes,
the release page and the feeds; one stays compliant to reach the honour roll. A 5,000-character
name is quarantined by validation (names are capped at 500): this register's policy allows the
one rejected row in its province's report of three, which the default policy would not
(tests/portal/conftest.py). Formula names are in provinces that report in CSV: in an XLSX report
they would be formula cells, read as their (empty) value, and the row rejected for having no name.
"""
from __future__ import annotations

from datetime import date

import pytest

from portal import create_app
from tests.portal.conftest import number
from tests.publisher.factory import tax_code
from tests.registers import writable_copy

DAY_1, DAY_2 = date(2026, 11, 24), date(2026, 11, 25)
BASE_URL = "https://congkhai.example.vn"
LONG_NAME = ("Công ty TNHH " + "Thương mại Dịch vụ Xuất nhập khẩu Đầu tư Phát triển " * 10)[:499] + "Z"
HOSTILE = {  # (province, row) -> (name as reported, name as published)
    ("01", 0): ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ("01", 1): ('"><img src=x onerror=alert(1)>', '"><img src=x onerror=alert(1)>'),
    ("08", 0): ('=HYPERLINK("http://evil.example/","Bấm vào đây")', '=HYPERLINK("http://evil.example/","Bấm vào đây")'),
    ("08", 1): ("@SUM(1+1)", "@SUM(1+1)"),
    ("08", 2): ("-2+3+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"),
    ("48", 0): ("Công ty A&B ]]></title><link>x</link> &amp;", "Công ty A&B ]]></title><link>x</link> &amp;"),
    ("48", 1): ("Công ty TNHH \u202eNAM ANH", "Công ty TNHH NAM ANH"),
    ("48", 2): ("Công\u200b ty TNHH Bình\u200d An\u2060", "Công ty TNHH Bình An"),
    ("75", 0): (LONG_NAME, LONG_NAME),
}
EVADING = ("01", 1)
HONOUR = ("48", 1)                 # compliant on both days: on the honour roll, never on the offender list
REJECTED = ("75", 1)
FIVE_THOUSAND = "Công ty " + "Đ" * 4992
KEYS = {place: tax_code(number(*place)) for place in HOSTILE}
REJECTED_KEY = tax_code(number(*REJECTED))
PUBLISHED = {place: names[1] for place, names in HOSTILE.items()}


def scenario(day: date) -> dict:
    listed = day == DAY_2
    rows = {}
    for place, (name, _) in HOSTILE.items():
        arrears = listed and place != HONOUR
        rows[place] = {"name": name, "arrears_bhxh": "75.000.000" if arrears else "", "months_late": 5 if arrears else 0,
                       "enforcement_stage": name[:200] if arrears else "", "sector": name[:200]}
        if arrears and place == EVADING:
            rows[place]["evasion_decision"] = "Số 9/QĐ-TTr ngày 05/03/2026"
    rows[REJECTED] = {"name": FIVE_THOUSAND}
    return rows


def make_app(settings: dict):
    return create_app({"TESTING": True, "CONGKHAI_DATA_DIR": settings["CONGKHAI_DATA_DIR"],
                       "CONGKHAI_BASE_URL": BASE_URL, "CONGKHAI_PAGE_RATE_LIMIT": "10000 per minute"})


@pytest.fixture
def app(hostile):
    return make_app(hostile)


@pytest.fixture
def writer(hostile, tmp_path):
    """A client of this test's copy of the register, for tests that store receipts in it."""
    return make_app(writable_copy(hostile, tmp_path)).test_client()
