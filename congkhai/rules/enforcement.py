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


def stage_qualifies(stage_text: str | None, publish: str) -> bool:
    """Before the visit the list holds employers not yet inspected or referred; after it, those the
    report says were inspected."""
    stage = stage_of(stage_text)
    if publish == AFTER_VISIT:
        return stage == INSPECTION
    return stage not in (INSPECTION, INVESTIGATION)


def status_qualifies(status: str, publish: str) -> bool:
    """An evasion decision is itself the outcome of an inspection: not planned any more."""
    return publish == AFTER_VISIT or status != "evading"


def on_inspection_list(months_late: int, stage_text: str | None, status: str, min_months: int,
                       publish: str) -> bool:
    """Is the employer on the published planned-inspection list under the policy's timing?"""
    return months_late >= min_months and stage_qualifies(stage_text, publish) and status_qualifies(status, publish)


def due_for_inspection(months_late: int, stage_text: str | None, status: str, min_months: int) -> bool:
    """In arrears for `min_months` or more and not yet inspected or referred, whatever the timing
    of the list: what the employer page says."""
    return on_inspection_list(months_late, stage_text, status, min_months, BEFORE_VISIT)
