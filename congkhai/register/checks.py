"""Reads for eligibility checks and receipts: many codes at once, histories for the commendation
rule, stored receipts."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, bindparam, select

from ..models import Employer, Receipt
from ..rules.intervals import covers_sql
from .base import Reads
from .tables import SI, batches

CHUNK = 900  # values per IN list: well under every engine's limit on bound parameters
_CODE_COLUMNS = {"tax_code": "tax_code", "unit_code": "unit_code", "personal_number": "personal_id_hash"}
_MATCH_EMPLOYER = ("key", "name", "tax_code", "unit_code", "personal_id_masked", "province_code")
_MATCH_STATE = ("status", "valid_from", "arrears_total", "months_late", "evasion_decision", "evasion_decision_date",
                "enforcement_stage")
_STATEMENTS: dict = {}


@dataclass(frozen=True)
class Span:
    """An interval of an employer's history, as the commendation rule reads it."""
    valid_from: date
    valid_to: date | None
    status: str


def _eligibility_match(row) -> dict:
    """Public facts of an employer and its state on the day, as plain JSON values for a receipt."""
    household = row["tax_code"] is None
    employer = {"key": row["key"], "name": row["name"], "tax_code": row["tax_code"], "unit_code": row["unit_code"],
                "personal_id_masked": row["personal_id_masked"] if household else None,
                "province_code": row["province_code"]}
    state = None
    if row["status"] is not None:
        decision_day = row["evasion_decision_date"]
        state = {"status": row["status"], "since": row["valid_from"].isoformat(),
                 "arrears_total": int(row["arrears_total"]), "months_late": int(row["months_late"]),
                 "evasion_decision": row["evasion_decision"],
                 "evasion_decision_date": decision_day.isoformat() if decision_day else None,
                 "enforcement_stage": row["enforcement_stage"]}
    return {"employer": employer, "state": state}


def _codes_statement(kind: str):
    """The batch check's query for one kind of code: built once per process, a Core statement on
    the tables with an expanding IN. The ORM's per-statement work (building, compiling the cache
    key, making entities) was more than SQLite's own for a hundred codes."""
    if kind not in _STATEMENTS:
        employer, interval = Employer.__table__.c, SI.__table__.c
        column = employer[_CODE_COLUMNS[kind]]
        _STATEMENTS[kind] = (select(column.label("code"), *(employer[name] for name in _MATCH_EMPLOYER),
                                    *(interval[name] for name in _MATCH_STATE))
                             .select_from(Employer.__table__)
                             .outerjoin(SI.__table__, and_(interval.employer_id == employer.id,
                                                           covers_sql(interval, bindparam("day"))))
                             .where(column.in_(bindparam("codes", expanding=True)))
                             .order_by(employer.key))
    return _STATEMENTS[kind]


class CheckReads(Reads):
    def employers_for_codes(self, day: date, wanted: dict[str, set]) -> dict[tuple, dict]:
        """Employers and their state on `day` for many codes at once: one query per kind and chunk.

        `wanted`: {"tax_code": {...}, "unit_code": {...}, "personal_number": {stored hashes}}.
        Returns {(kind, value): {"employer": ..., "state": ... or None}}; codes not found are absent.
        """
        found: dict[tuple, dict] = {}
        connection = self.conn
        for kind, values in wanted.items():
            for chunk in batches(sorted(values), CHUNK):
                for row in connection.execute(_codes_statement(kind), {"day": day, "codes": chunk}).mappings():
                    found.setdefault((kind, row["code"]), _eligibility_match(row))
        return found

    def histories_of(self, keys: set[str]) -> dict[str, list[Span]]:
        """The status history of many employers at once, by key, oldest first."""
        out: dict[str, list[Span]] = defaultdict(list)
        for chunk in batches(sorted(keys), CHUNK):
            stmt = (select(Employer.key, SI.valid_from, SI.valid_to, SI.status).join(SI, SI.employer_id == Employer.id)
                    .where(Employer.key.in_(chunk)).order_by(Employer.key, SI.valid_from))
            for key, valid_from, valid_to, status in self.session.execute(stmt):
                out[key].append(Span(valid_from, valid_to, status))
        return dict(out)

    def receipt(self, receipt_id: str) -> Receipt | None:
        """The stored receipt, detached: receipts never change once kept, so nothing tracks or reloads them."""
        if len(receipt_id) > 40:
            return None
        table = Receipt.__table__
        row = self.session.execute(select(table).where(table.c.id == receipt_id)).mappings().first()
        return Receipt(**row) if row else None

    def receipts_with_prefix(self, prefix: str, limit: int = 10) -> list[Receipt]:
        """Receipts whose id starts with `prefix` (hex): a range scan of the primary key."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        stmt = select(Receipt).where(Receipt.id >= prefix, Receipt.id < upper).order_by(Receipt.id).limit(limit)
        return list(self.session.scalars(stmt))
