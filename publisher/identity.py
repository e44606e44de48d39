"""One employer, whichever code a report names it by.

Some provinces' lists carry only the agency's unit code (mã đơn vị), others only the tax code, most
both. An employer keeps one key in the register (its permalink): its tax code, or its unit code
when it was first registered without one (a household, or a list of unit codes only). A row that
names it by the other code is matched to that key here, before anything is classified or
compared, so a change of layout never reads as one employer leaving and another arriving.
"""
from __future__ import annotations

from congkhai.taxcode import BRANCH, ENTERPRISE, UNIT_ONLY, TaxId

from .records import Record, Reject


def match_identities(records: list[Record], previous_states: dict, unit_keys=None) -> list[Reject]:
    """Re-key, in place, the records the register knows by their other code; returns a note for
    each (rejects report: published, not rejected). `unit_keys(unit_codes) -> {unit code: (key,
    tax code)}` looks the register up; without it (no register) nothing is re-keyed."""
    notes = []
    unit_only = []
    for record in records:
        if record.tax.kind == UNIT_ONLY:
            if record.key not in previous_states:
                unit_only.append(record)
        elif record.unit_code and record.key not in previous_states and record.unit_code in previous_states:
            record.key = record.unit_code  # registered by its unit code: its permalink stays
            notes.append(_note(record, f"registered by its unit code {record.unit_code}, now reported with its tax "
                                       f"code: kept under its unit code"))
    if not unit_only or unit_keys is None:
        return notes
    known = unit_keys([record.unit_code for record in unit_only])
    for record in unit_only:
        key, tax_code = known.get(record.unit_code, (None, None))
        if tax_code is None:
            continue
        record.tax = TaxId(BRANCH if "-" in tax_code else ENTERPRISE, tax_code)
        record.key = key
        notes.append(_note(record, f"reported by its unit code only: matched to the employer registered with tax "
                                   f"code {tax_code}"))
    return notes


def _note(record: Record, reason: str) -> Reject:
    return Reject(record.source, record.line, "Mã đơn vị", record.unit_code, reason, record.province_code)
