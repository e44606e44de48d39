import pytest

from congkhai.rules.eligibility import (BARRED_DELINQUENT, BARRED_EVADING, ELIGIBLE, NO_RECORD,
                                        tender_eligibility)


@pytest.mark.parametrize("status, rule, eligible, reason", [
    ("evading", "evasion_in_force", False, BARRED_EVADING),
    ("delinquent", "evasion_in_force", True, ELIGIBLE),
    ("late", "evasion_in_force", True, ELIGIBLE),
    ("compliant", "evasion_in_force", True, ELIGIBLE),
    ("evading", "evasion_or_delinquent", False, BARRED_EVADING),
    ("delinquent", "evasion_or_delinquent", False, BARRED_DELINQUENT),
    ("late", "evasion_or_delinquent", True, ELIGIBLE),
    (None, "evasion_in_force", None, NO_RECORD),
])
def test_tender_eligibility_follows_the_policy_rule(status, rule, eligible, reason):
    answer = tender_eligibility(status, rule)
    assert (answer.eligible, answer.reason, answer.rule) == (eligible, reason, rule)


def test_unknown_rule_is_an_error_naming_the_rule():
    with pytest.raises(ValueError, match="lenient"):
        tender_eligibility("evading", "lenient")
