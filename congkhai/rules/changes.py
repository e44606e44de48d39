"""What changed between two states of the register: used when publishing (previous release vs the
new one), by `congkhai diff`, by the feeds and by the portal's release page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from .classification import is_offender

NEW = "new"                     # first reported
REMOVED = "removed"             # no longer reported (closed, deregistered or moved)
STATUS_CHANGED = "status_changed"
ARREARS_CHANGED = "arrears_changed"  # same status; other amounts, months, enforcement data or reporting
CHANGE_KINDS = (NEW, REMOVED, STATUS_CHANGED, ARREARS_CHANGED)


class State(NamedTuple):
    """The part of an employer's report that, when it changes, opens a new history interval.
    A fund's arrears are None when the report gave only a total (or did not split by that fund)."""
    status: str
    arrears_bhxh: int | None
    arrears_bhyt: int | None
    arrears_bhtn: int | None
    arrears_total: int
    months_late: int
    evasion_decision: str | None
    evasion_decision_date: date | None
    enforcement_stage: str | None
    notice_from: date | None = None   # only while the status is 'notice' (rules/notices.py)
    listing_on: date | None = None
    not_reported_since: date | None = None  # the report left it out: this state is the last reported one
    arrears_bhtnld: int | None = None  # occupational accident and disease insurance, when reported apart
    interest: int | None = None        # late-payment interest as reported: never part of arrears_total


@dataclass(frozen=True, slots=True)
class Change:
    key: str
    kind: str
    before: State | None
    after: State | None

    @property
    def newly_listed(self) -> bool:
        """Joined the offender list (delinquent or evading) in this release."""
        return is_offender(self.after and self.after.status) and not is_offender(self.before and self.before.status)

    @property
    def resolved(self) -> bool:
        """Left the offender list: paid, decision annulled, or no longer reported."""
        return is_offender(self.before and self.before.status) and not is_offender(self.after and self.after.status)

    @property
    def newly_evading(self) -> bool:
        return (self.after is not None and self.after.status == "evading"
                and (self.before is None or self.before.status != "evading"))

    @property
    def arrears_delta(self) -> int:
        return (self.after.arrears_total if self.after else 0) - (self.before.arrears_total if self.before else 0)


def diff_states(before: dict[str, State], after: dict[str, State], keys: set[str] | None = None) -> list[Change]:
    """Changes from `before` to `after`, sorted by key.

    `keys` limits the comparison (e.g. to the provinces present in a partial release), so that an
    employer of a province that was left out is not reported as removed.
    """
    changes = []
    candidates = keys if keys is not None else before.keys() | after.keys()
    for key in candidates:  # a million keys, a few thousand changes: only the changes are sorted
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None:
            kind = NEW
        elif new is None:
            kind = REMOVED
        elif old.status != new.status:
            kind = STATUS_CHANGED
        else:
            kind = ARREARS_CHANGED
        changes.append(Change(key, kind, old, new))
    changes.sort(key=lambda change: change.key)
    return changes


def leaving_reason(before: State, after: State | None) -> str:
    """Why an employer left the offender list: 'paid', 'decision_annulled' or 'no_longer_reported'."""
    if after is None:
        return "no_longer_reported"
    if before.status == "evading" and after.status != "evading":
        return "decision_annulled" if after.arrears_total else "paid"
    return "paid"


SUMMARY_TOP = 20
SUMMARY_LISTS = ("newly_listed", "resolved", "largest_increases")


def release_summary(changes) -> dict:
    """What a release's page says of its day's changes: how many of each kind, and the keys of the
    SUMMARY_TOP largest newly listed, resolved and increased, largest first, ties by key. Computed
    once when the release is published (its figures keep it): a day's changes are tens of thousands
    at a million employers, too many to rank on every first reading of the page."""
    changes = list(changes)
    ranked = {
        "newly_listed": sorted((c for c in changes if c.newly_listed), key=lambda c: (-c.after.arrears_total, c.key)),
        "resolved": sorted((c for c in changes if c.resolved), key=lambda c: (-c.before.arrears_total, c.key)),
        "largest_increases": sorted((c for c in changes if c.before and c.before.arrears_total and c.after
                                     and c.arrears_delta > 0), key=lambda c: (-c.arrears_delta, c.key)),
    }
    counts = {"newly_listed": len(ranked["newly_listed"]), "resolved": len(ranked["resolved"]),
              "increases": len(ranked["largest_increases"]), "changes": len(changes)}
    return {"counts": counts, **{name: [c.key for c in ranked[name][:SUMMARY_TOP]] for name in SUMMARY_LISTS}}
