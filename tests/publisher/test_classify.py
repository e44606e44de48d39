from dataclasses import replace

import pytest

from congkhai.policy import load_policy
from congkhai.rules.classification import classify
from publisher.classify import classify_records, honour_roll
from publisher.records import RawRow
from publisher.validate import default_check, validate_row

from .factory import AS_OF, row

POLICY = load_policy()


@pytest.mark.parametrize("arrears, months, decision, expected", [
    (0, 0, False, "compliant"),
    (1, 0, False, "late"),
    (5_000_000, 2, False, "late"),
    (5_000_000, 3, False, "delinquent"),
    (5_000_000, 60, False, "delinquent"),
    (0, 0, True, "evading"),
    (9_000_000_000, 12, True, "evading"),
])
def test_classify(arrears, months, decision, expected):
    assert classify(arrears, months, decision, POLICY) == expected


def test_thresholds_come_from_the_policy():
    strict = replace(POLICY, delinquent_min_months=2, min_arrears_vnd=1000)
    assert classify(999, 5, False, strict) == "compliant"
    assert classify(5000, 2, False, strict) == "delinquent"


def test_classify_records_and_honour_roll():
    cells = [row(1), row(2, arrears_bhxh=10, months_late=3), row(3)]
    records = [validate_row(RawRow("01.csv", i, c), "01", AS_OF, default_check())[0] for i, c in enumerate(cells)]
    records = classify_records(list(reversed(records)), POLICY)
    assert [r.key for r in records] == sorted(r.key for r in records)
    assert {r.key: r.status for r in records}[row(2)["Mã số thuế"]] == "delinquent"
    assert honour_roll(records, disqualified={row(3)["Mã số thuế"]}) == {row(1)["Mã số thuế"]}

