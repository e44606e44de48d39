"""Amounts that make no sense for the report fail its province (publisher/compare.py, amount_problems)."""
from datetime import date

from congkhai.policy import load_policy
from congkhai.rules.changes import State
from congkhai.taxcode import ENTERPRISE, TaxId
from publisher.compare import amount_problems
from publisher.records import Record

LAST = date(2026, 11, 24)


def record(n, total, employees=10, months=3):
    return Record("79.csv", n, "79", f"TA{n:04d}A", TaxId(ENTERPRISE, f"{n:010d}"), f"Công ty {n}", "", "", "",
                  employees, None, None, None, months, None, None, None, reported_total=total)


def test_thousands_of_dong_without_a_unit_line_fail_with_the_likely_cause():
    problems = amount_problems("79", "79.csv", [record(n, 9_000) for n in range(6)], {}, None, load_policy())
    assert len(problems) == 1 and problems[0].province_code == "79"
    assert "arrears per employee and month in arrears are 300 đồng" in problems[0].message
    assert "look like thousands of đồng ('Đơn vị tính: nghìn đồng')" in problems[0].message


def test_real_contributions_pass_and_too_few_rows_are_not_judged():
    policy = load_policy()
    assert amount_problems("79", "79.csv", [record(n, 9_000_000) for n in range(6)], {}, None, policy) == []
    assert amount_problems("79", "79.csv", [record(n, 9_000) for n in range(4)], {}, None, policy) == []


def test_a_thousandfold_drop_against_the_last_report_names_the_unit():
    before = {f"{n:010d}": State("delinquent", None, None, None, 9_000_000, 3, None, None, None) for n in range(6)}
    today = [record(n, 9_000, employees=None) for n in range(6)]
    problems = amount_problems("79", "79.csv", today, before, LAST, load_policy())
    assert len(problems) == 1 and "amounts are 0.001 times those of the report of 24/11/2026" in problems[0].message
    assert "thousands of đồng" in problems[0].message


def test_a_thousandfold_rise_says_the_declared_unit_is_too_large():
    before = {f"{n:010d}": State("delinquent", None, None, None, 9_000, 3, None, None, None) for n in range(6)}
    today = [record(n, 9_000_000, employees=None) for n in range(6)]
    problems = amount_problems("79", "79.csv", today, before, LAST, load_policy())
    assert "look like đồng while the report declares a larger unit" in problems[0].message


def test_ordinary_changes_against_the_last_report_pass():
    before = {f"{n:010d}": State("delinquent", None, None, None, 9_000_000, 3, None, None, None) for n in range(6)}
    today = [record(n, 9_000_000 * (1 + n % 3), employees=None) for n in range(6)]
    assert amount_problems("79", "79.csv", today, before, LAST, load_policy()) == []
