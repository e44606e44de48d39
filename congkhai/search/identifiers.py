"""Tax codes and agency unit codes typed by people, in their canonical form.

A search query that is wholly one code finds that employer rather than names (`parse_identifier`);
an eligibility check, a dispute or a watchlist, which expects a code, parses it with `parse_code`.
"""
from __future__ import annotations

import re

from congkhai.taxcode import (InvalidTaxCode, compact, could_be_unit_code, is_digits, normalise_unit_code,
                              parse_tax_code)
from congkhai.text import nfc


# The usual shape of an agency unit code: two letters (the office), four digits, one letter, e.g.
# 'YN0123A'. A search box takes a query of this shape for a code rather than for a name; once
# normalised (`normalise_unit_code`), dashes and dots typed inside it are ignored: 'yn 0123-a'.
_UNIT_CODE = re.compile(r"[A-Z]{2}\d{4}[A-Z]")


def parse_identifier(q: str) -> str | None:
    """The canonical tax code or unit code when the whole query is one, else None.

    Tax codes: 10 digits, or 13 for a branch, with or without dash, spaces or dots
    ('0100233488', '0100233488-001', '0100233488 001'); the check digit must hold. Other lengths
    (12 digits may be a household owner's personal number) are never treated as identifiers.
    """
    if not isinstance(q, str) or len(q) > 40:
        return None
    text = nfc(q).strip()
    digits = compact(text)
    if is_digits(digits):
        if len(digits) not in (10, 13):
            return None
        try:
            return parse_tax_code(digits).value
        except InvalidTaxCode:
            return None
    unit = normalise_unit_code(text)
    if _UNIT_CODE.fullmatch(unit):
        return unit
    unit = re.sub(r"[\-.]", "", unit)
    return unit if _UNIT_CODE.fullmatch(unit) else None


def parse_code(text: str) -> str | None:
    """The canonical tax code or unit code of text known to be a code (an eligibility check, a
    dispute, a watchlist), else None. Unlike a search query, which could be a name, it may be a
    unit code of any shape the reports allow (`could_be_unit_code`)."""
    identifier = parse_identifier(text)
    if identifier is None and isinstance(text, str) and could_be_unit_code(text):
        return normalise_unit_code(text)
    return identifier
