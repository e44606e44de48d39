"""The register's tables as the reads see them, and a state read from a row or an interval."""
from __future__ import annotations

from ..models import DailyResult, Employer, Release, StatusInterval
from ..rules.changes import State

E = Employer.__table__
I = StatusInterval.__table__
R = Release.__table__
D = DailyResult.__table__
SI = StatusInterval
STREAM_ROWS = 20_000  # rows a whole-register query holds at once (PostgreSQL would buffer them all)
BATCH = 5000          # keys per IN list: well under every engine's limit on bound parameters

STATE_COLUMNS = (I.c.status, I.c.arrears_bhxh, I.c.arrears_bhyt, I.c.arrears_bhtn, I.c.arrears_total, I.c.months_late,
                 I.c.evasion_decision, I.c.evasion_decision_date, I.c.enforcement_stage, I.c.notice_from, I.c.listing_on,
                 I.c.not_reported_since, I.c.arrears_bhtnld, I.c.interest)


def state_of_row(row) -> State:
    """The State of a result row that has the state columns by name."""
    return State(*(row[c.name] for c in STATE_COLUMNS))


def state_of(interval) -> State | None:
    """An interval's State, every field as stored (a fund the report did not split out stays None)."""
    if interval is None:
        return None
    return State(*(getattr(interval, column.name) for column in STATE_COLUMNS))


def batches(values: list, size: int = BATCH):
    for start in range(0, len(values), size):
        yield values[start:start + size]
