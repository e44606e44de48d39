"""Reads of what was said after a list was published: corrections, and employers' disputes as
their public marks show them (contact details and reasons never leave congkhai.disputes)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select

from .. import disputes
from ..models import Correction, Employer
from ..rules.corrections import CorrectionView, known_state, state_from_json
from .base import Reads
from .employers import interval_on
from .tables import E, R, batches, state_of

C = Correction.__table__


def views_of(rows: list[dict]) -> list[CorrectionView]:
    """Correction rows as the rule (congkhai.rules.corrections.known_state) reads them."""
    return [CorrectionView(r["id"], r["applies_from"], r["applies_to"], r["corrected_state"], r["recorded_on"])
            for r in rows]


class ReplyReads(Reads):
    def corrections(self, known_at: date | None = None, keys: tuple = (), limit: int | None = None,
                    include_pending: bool = False) -> list[dict]:
        """Corrections published by the release of `known_at` (None: by the current one), newest
        first; with `include_pending`, also those waiting for the next release (what it will publish)."""
        query = (select(C, E.c.key, E.c.name, E.c.province_code, E.c.tax_code, E.c.personal_id_masked,
                        R.c.as_of.label("recorded_on"))
                 .select_from(C.join(E, E.c.id == C.c.employer_id).outerjoin(R, R.c.id == C.c.recorded_in_release)))
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
        for row in self.conn.execute(query).mappings():
            row = dict(row)
            row["published_state"] = state_from_json(row["published_state"])
            row["corrected_state"] = state_from_json(row["corrected_state"])
            row["public_tax_id"] = row.pop("tax_code") or row.pop("personal_id_masked") or ""
            row.pop("personal_id_masked", None)
            rows.append(row)
        return rows

    def known_answer(self, employer: Employer, day: date, known_at: date | None) -> dict:
        """Both answers for one employer and day: the state the list showed, and the state known at
        `known_at` (None: now) once the corrections published by then are applied."""
        published = state_of(interval_on(employer, day))
        rows = self.corrections(known_at, keys=(employer.key,))
        known, correction = known_state(published, views_of(rows), day, known_at)
        return {"published": published, "known": known, "known_at": known_at,
                "correction": next((r for r in rows if correction and r["id"] == correction.id), None),
                "corrections": rows}

    def any_published_correction(self) -> bool:
        """Whether the register has published any correction (most have none: a batch check then need not look)."""
        return bool(self.session.scalar(select(exists().where(Correction.recorded_in_release.isnot(None)))))

    def corrected_on(self, day: date, keys: list[str]) -> list[str]:
        """Which of `keys` have a published correction applying to `day` (receipts name them)."""
        found = set()
        for chunk in batches(keys):
            rows = self.corrections(keys=tuple(chunk))
            found.update(row["key"] for row, view in zip(rows, views_of(rows)) if view.applies(day))
        return sorted(found)

    def disputed_since_of(self, keys: list[str]) -> dict[str, date]:
        """Key -> the day since when, for those of `keys` (a page of rows) whose entries are disputed now."""
        return disputes.disputed_since_by_key(self.session, keys) if keys else {}

    def disputed_since(self, key: str) -> date | None:
        """The day an entry became disputed by its employer, live from the open disputes; None if it is not."""
        return self.disputed_since_of([key]).get(key)

    def disputed_entries(self) -> dict[str, date]:
        """Key -> the day since when, for every entry disputed now (a download of a whole view)."""
        return disputes.disputed_since_by_key(self.session)

    def dispute_status(self, reference: str, employer_key: str) -> dict | None:
        return disputes.dispute_of_employer(self.session, reference, employer_key)

    def disputes_generation(self) -> str:
        """Changes whenever a dispute is opened or resolved: pages that mark disputes are keyed on it."""
        return "-".join(str(value or 0) for value in self.session.execute(disputes.generation_query()).one())
