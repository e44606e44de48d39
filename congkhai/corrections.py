"""Corrections as data: recording one, and publishing the pending ones with the next release (the
register reads them back: `Register.corrections`). A correction never touches the status intervals
(what the list said).

`record_correction` is the one entry point for every source: the `congkhai correct` command (a
province's corrected report for a past date) and an upheld dispute both call it. Functions take
a SQLAlchemy Connection or Session; the caller owns the transaction.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import insert, select, update

from .models import Correction
from .register import Register
from .register.tables import E
from .rules.changes import State
from .rules.corrections import state_to_json

C = Correction.__table__


class CorrectionError(ValueError):
    """A correction that cannot be recorded; the message names the field."""


def record_correction(conn, key: str, applies_from: date, applies_to: date | None, corrected: State | None,
                      reason: str, source: str, now: datetime | None = None, until_next_release: bool = False) -> int:
    """Record that employer `key` should have been published as `corrected` (None: not at all)
    from `applies_from` until `applies_to` (exclusive; None: until further notice). With
    `until_next_release` (a corrected report of the latest date), the next release sets applies_to
    to its own date: from then on its own report speaks.

    The published state is taken from the history of `applies_from`, so the correction says what it
    corrects. It waits (recorded_in_release NULL) until the next release publishes it. Returns its id.
    """
    employer_id = conn.execute(select(E.c.id).where(E.c.key == key)).scalar()
    if employer_id is None:
        raise CorrectionError(f"key: no employer {key!r} in the register")
    if applies_to is not None and applies_to <= applies_from:
        raise CorrectionError(f"applies_to: {applies_to} is not after applies_from {applies_from}")
    if not reason.strip():
        raise CorrectionError("reason: a correction must say why")
    published = Register(conn).state_of_employer_on(employer_id, applies_from)
    if published == corrected:
        raise CorrectionError(f"corrected_state: {key} was already published so on {applies_from}")
    result = conn.execute(insert(C).values(
        employer_id=employer_id, applies_from=applies_from, applies_to=applies_to,
        until_next_release=until_next_release and applies_to is None,
        published_state=state_to_json(published), corrected_state=state_to_json(corrected), reason=reason.strip(),
        source=source, recorded_in_release=None, recorded_at=now or datetime.now(timezone.utc).replace(microsecond=0)))
    return result.inserted_primary_key[0]


def publish_pending(conn, release_id: str) -> int:
    """Mark the corrections waiting for a release as recorded in `release_id` (inside the
    transaction that makes it current); those that hold until the next release (a corrected latest
    report, a withdrawn release) end where it begins."""
    conn.execute(update(C).where(C.c.until_next_release.is_(True), C.c.applies_to.is_(None))
                 .values(applies_to=date.fromisoformat(release_id), until_next_release=False))
    return conn.execute(update(C).where(C.c.recorded_in_release.is_(None))
                        .values(recorded_in_release=release_id)).rowcount
