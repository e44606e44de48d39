"""Where an employer stands in enforcement, and who is due for an inspection.

Reports carry the stage as free Vietnamese text ("Đã gửi thông báo đôn đốc", "Đã thanh tra",
"Đã chuyển cơ quan điều tra"...). It is read here into a few stages, without diacritics so that a
province typing "Da thanh tra" is read the same. The directive asks for employers three or more
months behind to be inspected; the months and whether the list is published before or after the
visit are the policy's (`[inspection]`).
"""
from __future__ import annotations

from ..text import fold

REMINDER = "reminder"            # thông báo đôn đốc, biên bản làm việc
INSPECTION = "inspection"        # thanh tra, kiểm tra
INVESTIGATION = "investigation"  # chuyển cơ quan điều tra, kiến nghị khởi tố
STAGES = (REMINDER, INSPECTION, INVESTIGATION)

BEFORE_VISIT = "before_visit"
AFTER_VISIT = "after_visit"
PUBLISH_WHEN = (BEFORE_VISIT, AFTER_VISIT)

# Words that name a stage, most advanced first: "đã thanh tra, chuyển điều tra" is an investigation.
_WORDS = ((INVESTIGATION, ("dieu tra", "khoi to", "cong an")),
          (INSPECTION, ("thanh tra", "kiem tra")),
          (REMINDER, ("don doc", "bien ban", "thong bao")))


def stage_of(text: str | None) -> str | None:
    """The stage a report's "Tình trạng xử lý" names, or None when it names none."""
    if not text:
        return None
    folded = fold(text).lower()
    return next((stage for stage, words in _WORDS if any(word in folded for word in words)), None)


def due_for_inspection(months_late: int, stage_text: str | None, status: str, min_months: int) -> bool:
    """In arrears for `min_months` or more and not yet inspected or referred (an evasion decision
    is itself the outcome of an inspection)."""
    return (status != "evading" and months_late >= min_months
            and stage_of(stage_text) not in (INSPECTION, INVESTIGATION))


def inspected_after_due(months_late: int, stage_text: str | None, min_months: int) -> bool:
    """Visited: in arrears for `min_months` or more and the report says an inspection took place."""
    return months_late >= min_months and stage_of(stage_text) == INSPECTION


def on_inspection_list(months_late: int, stage_text: str | None, status: str, min_months: int,
                       publish: str) -> bool:
    """Is the employer on the published planned-inspection list under the policy's timing?"""
    if publish == AFTER_VISIT:
        return inspected_after_due(months_late, stage_text, min_months)
    return due_for_inspection(months_late, stage_text, status, min_months)
