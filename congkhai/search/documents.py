"""What of an employer enters the index, and the checks every document passes before it does.

Only public identifiers (never a household owner's personal number), NFC text, and amounts that fit
the 64-bit columns.
"""
from __future__ import annotations

from congkhai.taxcode import is_personal_number, normalise_unit_code, parse_tax_code
from congkhai.text import clean


DOC_FIELDS = ("key", "tax_code", "unit_code", "name", "province_code", "status", "ownership_type",
              "sector", "arrears_total", "months_late")
FACET_FIELDS = ("status", "province_code", "ownership_type", "sector")


def document(record) -> dict:
    """The searchable view of a publisher `Record` (or any object with the same attributes).

    Only public identifiers enter the index: the tax code, or for a household business its agency
    unit code; the owner's personal number never does (`record.tax_code` is None for them).
    """
    return {
        "key": str(record.key),
        "tax_code": record.tax_code,
        "unit_code": clean(record.unit_code),
        "name": clean(record.name),
        "province_code": clean(record.province_code),
        "status": clean(record.status),
        "ownership_type": clean(record.ownership_type),
        "sector": clean(record.sector),
        "arrears_total": int(record.arrears_total),
        "months_late": int(record.months_late),
    }


def _checked(doc: dict) -> dict:
    """The document with NFC text, or ValueError if it could leak a personal number or break the columns."""
    missing = [name for name in DOC_FIELDS if name not in doc]
    if missing:
        raise ValueError(f"search document {doc.get('key')!r} lacks {', '.join(missing)}")
    doc = {name: clean(value) if isinstance(value, str) else value for name, value in doc.items()}
    doc["unit_code"] = normalise_unit_code(doc["unit_code"])
    key = str(doc["key"])
    tax_code = doc["tax_code"]
    if tax_code is not None:
        parsed = parse_tax_code(tax_code)
        if parsed.public is None:
            raise ValueError(f"search document {key!r}: a personal number may not be a tax code")
        if parsed.value != tax_code:
            raise ValueError(f"search document {key!r}: tax_code {tax_code!r} is not a canonical tax code")
    if is_personal_number(key):
        raise ValueError(f"search document key {key[:3]}…: a personal number may not be a key")
    for name in ("arrears_total", "months_late"):
        value = int(doc[name])
        if not 0 <= value < 2 ** 63:
            raise ValueError(f"search document {key!r}: {name} {value} out of range")
    return doc
