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



def test_the_status_rules_read_the_reported_total_whatever_the_funds_say():
    """A total-only report leaves every fund unknown (None): its employer is classified by the total,
    and interest, never part of the arrears, cannot make an employer owe."""
    from .release_sample import COMBINED, TOTAL_ONLY, WITH_INTEREST, records

    sample = {record.key: replace(record, status="") for record in records()}
    classified = classify_records([sample[TOTAL_ONLY], sample[COMBINED], sample[WITH_INTEREST]], POLICY)
    statuses = {record.key: (record.status, record.arrears_total) for record in classified}
    assert statuses[TOTAL_ONLY] == ("delinquent", 1_500_000_000)        # 9 months, funds unknown
    assert statuses[COMBINED] == ("late", 12_000_000)
    assert statuses[WITH_INTEREST] == ("delinquent", 50_000_000)        # interest 3.5 million not in it
    interest_only = replace(sample[WITH_INTEREST], arrears_bhxh=0, arrears_bhyt=0, arrears_bhtn=0, arrears_bhtnld=0,
                            months_late=0)
    assert classify_records([interest_only], POLICY)[0].status == "compliant"
