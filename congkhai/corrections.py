"""Corrections as data: recording one, publishing the pending ones with the next release, and
reading them back. A correction never touches the status intervals (what the list said).

`record_correction` is the one entry point for every source: the `congkhai correct` command (a
province's corrected report for a past date) and an upheld dispute both call it. Functions take
a SQLAlchemy Connection or Session; the caller owns the transaction.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import insert, select, update

from .history import E, R, state_of_employer_on
from .models import Correction
from .rules.changes import State
from .rules.corrections import CorrectionView, state_from_json, state_to_json

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
    published = state_of_employer_on(conn, employer_id, applies_from)
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


def _query():
    return (select(C, E.c.key, E.c.name, E.c.province_code, E.c.tax_code, E.c.personal_id_masked,
                   R.c.as_of.label("recorded_on"))
            .select_from(C.join(E, E.c.id == C.c.employer_id).outerjoin(R, R.c.id == C.c.recorded_in_release)))


def correction_rows(conn, known_at: date | None = None, include_pending: bool = False,
                    keys: tuple = (), limit: int | None = None) -> list[dict]:
    """Published corrections (recorded in a release on or before `known_at`), newest first; with
    `include_pending`, also those waiting for the next release (what that release will publish)."""
    query = _query()
    if not include_pending:
        query = query.where(C.c.recorded_in_release.isnot(None))
        if known_at is not None:
            query = query.where(R.c.as_of <= known_at)
    if keys:
        query = query.where(E.c.key.in_(keys))
    query = query.order_by(C.c.recorded_at.desc(), C.c.id.desc())
    if limit:
        query = query.limit(limit)
    rows = []
    for row in conn.execute(query).mappings():
        row = dict(row)
        row["published_state"] = state_from_json(row["published_state"])
        row["corrected_state"] = state_from_json(row["corrected_state"])
        row["public_tax_id"] = row.pop("tax_code") or row.pop("personal_id_masked") or ""
        row.pop("personal_id_masked", None)
        rows.append(row)
    return rows


def views_of(rows: list[dict]) -> list[CorrectionView]:
    return [CorrectionView(r["id"], r["applies_from"], r["applies_to"], r["corrected_state"], r["recorded_on"])
            for r in rows]
