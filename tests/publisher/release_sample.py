"""A small hand-built BuiltRelease with every awkward case the release files must survive."""
from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from congkhai.policy import load_policy
from congkhai.provinces import all_provinces
from congkhai.rules.changes import diff_states
from congkhai.taxcode import parse_tax_code
from congkhai.text import clean
from congkhai.feeds import EmployerRef
from publisher.records import BuiltRelease, Record

AS_OF = date(2026, 11, 25)
PREVIOUS = date(2026, 11, 24)
CREATED = datetime(2026, 11, 25, 18, 0, tzinfo=timezone(timedelta(hours=7)))
HOUSEHOLD_NUMBER = "001234567823"
NFD_NAME = unicodedata.normalize("NFD", "Công ty Cổ phần Thủy sản Ế Ộ Ự Miền Tây")
FORMULA_NAMES = ['=HYPERLINK("http://evil.example","Bấm")', "+84 912 345 678", "@SUM(1)", "-1+2"]
BIG = 3_456_789_012  # more than 2**31
# Reports that do not split every fund (publisher.records.Record): a total only; BHXH and BHTN in one
# column; BHTNLĐ-BNN and late-payment interest in columns of their own.
TOTAL_ONLY, COMBINED, WITH_INTEREST = "0200000014", "0200000021", "0200000039"


def record(n: int, tax: str, name: str, status: str, *, province="01", household=False, arrears=(0, 0, 0),
           months=0, decision=None, decision_date=None, stage=None, address=None, unit_code=None, total=None,
           bhtnld=None, interest=None) -> Record:
    return Record(source=f"{province}.csv", line=n + 1, province_code=province,
                  unit_code=unit_code or f"DV{n:04d}", tax=parse_tax_code(tax, household=household),
                  name=clean(name), address=clean(address or f"Số {n} đường Đinh Tiên Hoàng, phường Đa Kao"),
                  ownership_type="Hộ kinh doanh" if household else "Công ty TNHH", sector="Thủy sản",
                  employees=n * 10, arrears_bhxh=arrears[0], arrears_bhyt=arrears[1], arrears_bhtn=arrears[2],
                  months_late=months, evasion_decision=decision, evasion_decision_date=decision_date,
                  enforcement_stage=stage, status=status, reported_total=total, arrears_bhtnld=bhtnld,
                  interest=interest)


def records() -> list[Record]:
    rows = [
        record(1, "0100233488", "Công ty TNHH Điện tử Đức Đạt", "compliant"),
        record(2, "0100233488-001", "Chi nhánh Công ty TNHH Điện tử Đức Đạt tại Đà Nẵng", "delinquent",
               province="48", arrears=(BIG, 600_000_000, 70_000_000), months=7, stage="Đã thanh tra"),
        record(3, HOUSEHOLD_NUMBER, "Hộ kinh doanh Đặng Thị Đào", "late", household=True, province="79",
               arrears=(1_234_567, 200_000, 0), months=1, unit_code="HKD0003"),
        record(4, "0301234562", NFD_NAME, "evading", province="79", arrears=(50_000_000, 8_000_000, 1_000_000),
               months=4, decision="Số 123/QĐ-TTr ngày 05/03/2026", decision_date=date(2026, 3, 5),
               stage="Đã chuyển cơ quan điều tra"),
        record(5, "0312456782", FORMULA_NAMES[0], "delinquent", province="79", arrears=(9_000_000, 0, 0),
               months=3, address="=1+1", stage="@cmd"),
        record(6, "0400000011", FORMULA_NAMES[1], "compliant", province="01"),
        record(7, "0500000022", FORMULA_NAMES[2], "late", province="01", arrears=(10, 0, 0), months=1),
        record(8, "0600000033", FORMULA_NAMES[3], "compliant", province="48"),
        record(9, "0700000044", "đđđ ĐĐĐ Công ty Đông Đô", "delinquent", province="01",
               arrears=(100_000_000, 20_000_000, 5_000_000), months=12, stage="Đã gửi thông báo đôn đốc"),
        record(10, "0800000055", "Công ty TNHH Thương mại Ánh Dương", "compliant", province="79"),
        record(11, "0900000066", "Công ty Cổ phần Xây dựng Sông Hồng", "late", province="01",
               arrears=(2_000_000, 300_000, 100_000), months=2),
        record(12, "0100000074", "Công ty TNHH Một thành viên Hải Âu", "evading", province="48",
               arrears=(0, 0, 0), decision="Số 7/QĐ-TTr ngày 01/10/2026", decision_date=date(2026, 10, 1)),
        record(13, TOTAL_ONLY, "Công ty TNHH Cảng Biển Đình Vũ", "delinquent", province="31",
               arrears=(None, None, None), total=1_500_000_000, months=9),
        record(14, COMBINED, "Công ty Cổ phần Thép Hải Phòng", "late", province="31",
               arrears=(None, 2_000_000, None), total=12_000_000, months=1),
        record(15, WITH_INTEREST, "Công ty TNHH Đóng tàu Bạch Đằng", "delinquent", province="31",
               arrears=(40_000_000, 7_000_000, 2_000_000), bhtnld=1_000_000, interest=3_500_000, months=5),
    ]
    return sorted(rows, key=lambda r: r.key)


REMOVED = EmployerRef("0200000085", "Công ty TNHH Đã Giải Thể", "01", "0200000085", "Dệt may")


def previous_states(current: list[Record]) -> dict:
    """Yesterday: a few statuses and amounts differ, one employer was new today, one is gone."""
    by_key = {r.key: r for r in current}
    states = {key: r.state() for key, r in by_key.items() if key != "0800000055"}
    states["0700000044"] = replace(by_key["0700000044"], status="late", months_late=2).state()  # newly listed
    states["0312456782"] = replace(by_key["0312456782"], arrears_bhxh=8_000_000).state()        # arrears up
    states["0301234562"] = replace(by_key["0301234562"], status="delinquent", evasion_decision=None,
                                   evasion_decision_date=None).state()                       # newly evading
    states["0900000066"] = replace(by_key["0900000066"], status="delinquent", months_late=5).state()  # resolved
    states[TOTAL_ONLY] = replace(by_key[TOTAL_ONLY], reported_total=1_400_000_000).state()         # total up
    states[WITH_INTEREST] = replace(by_key[WITH_INTEREST], interest=3_000_000).state()             # interest up
    states[REMOVED.key] = replace(by_key["0100233488"], status="delinquent", months_late=4,
                                  arrears_bhxh=5_000_000).state()                            # removed, resolved
    return states


def built_release(**changes) -> BuiltRelease:
    current = records()
    after = {r.key: r.state() for r in current}
    release = BuiltRelease(
        as_of=AS_OF, created_at=CREATED, policy=load_policy(), records=current,
        changes=diff_states(previous_states(current), after), rejects=[], provinces=[p.code for p in all_provinces()],
        missing_provinces={}, commendable={"0100233488", "0600000033"}, input_digest="ab" * 32,
        previous_as_of=PREVIOUS, rows_read=12)
    for name, value in changes.items():
        setattr(release, name, value)
    return release
