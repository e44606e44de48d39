"""May this employer bid on a tender funded by the state budget on a given day?

The rule is named in the policy (`eligibility.rule`), so a receipt or a page can say which rule
answered; the status is the one in force on that day, taken from the history, never today's list.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..statuses import DELINQUENT, EVADING
from ..policy import ELIGIBILITY_RULES

EVASION_IN_FORCE = "evasion_in_force"
EVASION_OR_DELINQUENT = "evasion_or_delinquent"

# Why an answer was given; the portal and receipts translate these codes.
ELIGIBLE = "eligible"
BARRED_EVADING = "evading"
BARRED_DELINQUENT = "delinquent"
NO_RECORD = "no_record"

_BARRING_STATUSES = {
    EVASION_IN_FORCE: (EVADING,),
    EVASION_OR_DELINQUENT: (EVADING, DELINQUENT),
}


@dataclass(frozen=True)
class Eligibility:
    eligible: bool | None  # None: the employer was not in the register on that day
    reason: str
    rule: str


def tender_eligibility(status: str | None, rule: str) -> Eligibility:
    """Eligibility for a status in force (None when the employer was not reported that day)."""
    if rule not in ELIGIBILITY_RULES:
        raise ValueError(f"unknown eligibility rule {rule!r}; expected one of {', '.join(ELIGIBILITY_RULES)}")
    if status is None:
        return Eligibility(None, NO_RECORD, rule)
    if status in _BARRING_STATUSES[rule]:
        return Eligibility(False, BARRED_EVADING if status == EVADING else BARRED_DELINQUENT, rule)
    return Eligibility(True, ELIGIBLE, rule)
