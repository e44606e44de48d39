"""Identifiers of employers: enterprise and branch tax codes (MST) and household personal numbers.

A tax code is 10 digits (9 + check digit) or 13 for a branch (`0101234567-001`). Spreadsheets
often store it as a number and drop the leading zero, so shorter numeric values are padded back.
A household business may be identified by its owner's 12-digit citizen ID number: personal data,
which we keep only as a salted hash and a mask, never in full.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from stdnum.exceptions import ValidationError
from stdnum.vn import mst

ENTERPRISE = "enterprise"
BRANCH = "branch"
PERSONAL = "personal"

_NOT_DIGITS = re.compile(r"[\s.\-–/]")
_PERSONAL_HASH_PREFIX = b"congkhai:personal-id:"


class InvalidTaxCode(ValueError):
    """The value cannot be a tax code; the message says why, in English, for the rejects report."""


@dataclass(frozen=True, slots=True)
class TaxId:
    kind: str
    value: str  # canonical: '0101234567', '0101234567-001' or the 12 personal digits

    def __reduce__(self):
        """Pickled as a plain call: a frozen slotted dataclass's default state functions look its
        fields up again for every object, and a million tax codes cross process boundaries daily."""
        return TaxId, (self.kind, self.value)

    @property
    def public(self) -> str | None:
        """The form that may be published, or None for a personal number."""
        return None if self.kind == PERSONAL else self.value


def compact(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float):
        if not raw.is_integer():  # NaN and infinities too, which int() cannot take
            return str(raw)
        raw = int(raw)
    text = str(raw).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return _NOT_DIGITS.sub("", text)


def parse_tax_code(raw, household: bool = False) -> TaxId:
    """Canonical TaxId from a cell value, or InvalidTaxCode.

    Length after removing dashes and spaces decides the kind: 9 or 10 digits an enterprise (a lost
    leading zero restored), 12 or 13 a branch, 11 or 12 a household owner's personal number. A
    12-digit value is a personal number only for a household business (`household=True`).
    """
    digits = raw_digits = compact(raw)
    if not digits:
        raise InvalidTaxCode("tax code is empty")
    if not digits.isdigit():
        raise InvalidTaxCode(f"tax code {digits!r} contains characters other than digits and a dash")
    if household and len(digits) in (11, 12):
        return TaxId(PERSONAL, digits.zfill(12))
    if len(digits) in (9, 10):
        digits = digits.zfill(10)
    elif len(digits) in (12, 13):
        digits = digits.zfill(13)
    else:
        raise InvalidTaxCode(f"tax code {digits!r} has {len(digits)} digits; expected 10, or 13 for a branch")
    if len(digits) == 13 and digits[10:] == "000":
        raise InvalidTaxCode(f"tax code {digits!r}: branch number 000 is not a branch")
    problem = _stdnum_problem(digits) if len(raw_digits) != 12 else _stdnum_problem.__wrapped__(digits)
    if problem is not None:
        raise InvalidTaxCode(problem)
    if len(digits) == 10:
        return TaxId(ENTERPRISE, digits)
    return TaxId(BRANCH, f"{digits[:10]}-{digits[10:]}")


@lru_cache(maxsize=1 << 16)
def _stdnum_problem(digits: str) -> str | None:
    """Why python-stdnum refuses 10 or 13 digits, or None. Remembered: a batch check of a thousand
    codes, and the next one with many of the same, would otherwise spend most of its time here.
    Twelve typed digits may be someone's personal number and are never kept (the caller skips it)."""
    try:
        mst.validate(digits)
    except ValidationError as error:
        if "checksum" in str(error).lower() or "check digit" in str(error).lower():
            return f"tax code {digits[:10]!r} fails its check digit"
        return f"tax code {digits!r} is not valid: {error}"
    return None


def looks_like_tax_code(text: str) -> bool:
    """True for input that a search box should treat as a tax code lookup."""
    digits = compact(text)
    return digits.isdigit() and len(digits) in (10, 12, 13)


def is_personal_number(text) -> bool:
    """A household owner's 12-digit citizen number as typed (or 11 digits, its leading zero lost)."""
    digits = compact(text)
    return digits.isdigit() and len(digits) in (11, 12)


def personal_id_hash(number: str) -> str:
    """Salted digest under which a household's personal number is stored, for exact-match lookup."""
    return hashlib.sha256(_PERSONAL_HASH_PREFIX + compact(number).zfill(12).encode()).hexdigest()


def mask_personal_id(number: str) -> str:
    """'001234567823' -> '001*******23': the place code stays, the person does not."""
    number = compact(number).zfill(12)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]
