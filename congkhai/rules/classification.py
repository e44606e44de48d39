"""How an employer's status is decided from one report row, by the thresholds of the policy."""
from __future__ import annotations

from ..statuses import COMPLIANT, DELINQUENT, EVADING, LATE, OFFENDER_STATUSES
from ..policy import Policy


def classify(arrears_total: int, months_late: int, has_evasion_decision: bool, policy: Policy) -> str:
    """evading beats everything (an inspection found evasion); then arrears decide late vs delinquent."""
    if has_evasion_decision:
        return EVADING
    if arrears_total < policy.min_arrears_vnd:
        return COMPLIANT
    if months_late >= policy.delinquent_min_months:
        return DELINQUENT
    return LATE


def is_offender(status: str | None) -> bool:
    """On the published offender list (delinquent or evading)."""
    return status in OFFENDER_STATUSES


def listing_reason(status: str, months_late: int, policy: Policy) -> str:
    """Why the employer is on the list, in English for the data files; the portal translates its own."""
    if status == EVADING:
        return "evasion decision recorded"
    if status == DELINQUENT:
        return f"in arrears for {months_late} months (threshold {policy.delinquent_min_months})"
    return ""
