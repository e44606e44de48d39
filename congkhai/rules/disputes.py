"""When is a register entry "disputed by the employer"? One rule, used by pages, files and the API.

An entry is disputed while at least one of its employer's disputes is open; it is disputed since
the day the oldest of those was opened. A resolved dispute (upheld or rejected) no longer marks it:
an upheld one leads to a correction, which says what changed.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable

from ..statuses import STATUSES

OPEN = "open"
UPHELD = "upheld"
REJECTED = "rejected"
DISPUTE_STATUSES = (OPEN, UPHELD, REJECTED)
OUTCOMES = (UPHELD, REJECTED)


def disputed_since(disputes: Iterable[tuple[str, date]]) -> date | None:
    """The day an entry became disputed, from its disputes' (status, opened_on); None: not disputed."""
    opened = [opened_on for status, opened_on in disputes if status == OPEN]
    return min(opened) if opened else None


def resolution_problem(outcome: str, note: str, corrected_status: str | None, corrected_from: date | None,
                       current: str) -> str | None:
    """Why a resolution cannot be recorded, or None when it can."""
    if current != OPEN:
        return f"the dispute is already {current}"
    if outcome not in OUTCOMES:
        return f"the outcome must be one of {', '.join(OUTCOMES)}"
    if not note.strip():
        return "a note explaining the decision is required"
    if outcome == REJECTED and (corrected_status or corrected_from):
        return "corrected facts can only be given when the dispute is upheld"
    if corrected_status is not None and corrected_status not in STATUSES:
        return f"the corrected status must be one of {', '.join(STATUSES)}"
    if (corrected_status is None) != (corrected_from is None):
        return "give the corrected status and the date it applies from together"
    return None
