"""What we now know about a past day: the published state, overridden by the corrections that
had been published by `known_at`. Plain functions over plain values, so the portal, the API and
the receipts answer both questions ("what the list said", "what we now know") the same way."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .changes import State

REMOVED = "removed"   # the corrected state of an entry that should not have been published


@dataclass(frozen=True)
class CorrectionView:
    """One correction as the rules need it: when it applies and when it became known."""
    id: int
    applies_from: date
    applies_to: date | None
    corrected: State | None       # None: the entry should not have been published
    known_from: date | None       # as-of date of the release that recorded it; None while pending

    def applies(self, day: date) -> bool:
        return self.applies_from <= day and (self.applies_to is None or day < self.applies_to)

    def known_by(self, known_at: date | None) -> bool:
        """Published by `known_at` (None: by now, i.e. every published correction)."""
        return self.known_from is not None and (known_at is None or self.known_from <= known_at)


def known_state(published: State | None, corrections: list[CorrectionView], day: date,
                known_at: date | None = None) -> tuple[State | None, CorrectionView | None]:
    """The state of `day` as known at `known_at`, and the correction that decided it (None when the
    published state stands). The latest-recorded applicable correction wins."""
    applicable = [c for c in corrections if c.applies(day) and c.known_by(known_at)]
    if not applicable:
        return published, None
    latest = max(applicable, key=lambda c: (c.known_from, c.id))
    return latest.corrected, latest


def state_to_json(state: State | None) -> dict | None:
    if state is None:
        return None
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in state._asdict().items()}


def state_from_json(data: dict | None) -> State | None:
    if data is None:
        return None
    values = dict(data)
    for name in ("evasion_decision_date", "notice_from", "listing_on", "not_reported_since"):
        if values.get(name):
            values[name] = date.fromisoformat(values[name])
    return State(**{k: values.get(k) for k in State._fields})
