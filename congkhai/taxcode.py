"""Identifiers of employers: enterprise and branch tax codes (MST) and household personal numbers.

A tax code is 10 digits (9 + check digit) or 13 for a branch (`0101234567-001`). Spreadsheets
often store it as a number and drop the leading zero, so shorter numeric values are padded back.
A household business may be identified by its owner's 12-digit citizen ID number: personal data,
which we keep only as a salted hash and a mask, never in full.

Digits are read after NFKC, so fullwidth (０１) and mathematical (𝟎𝟏) digits typed or pasted count
as 0-9; any other digit (Arabic-Indic ٠١, Devanagari ०१...) is refused, never looked up: a code
of such digits would otherwise be answered "unknown" as if it had been checked.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from stdnum.exceptions import ValidationError
from stdnum.vn import mst

ENTERPRISE = "enterprise"
BRANCH = "branch"
PERSONAL = "personal"
# No tax code reported (a list that carries only the agency's unit codes): the employer is known
# by its unit code, as a household is.
UNIT_ONLY = "unit_only"

_NOT_DIGITS = re.compile(r"[\s.\-–/]")
_PERSONAL_HASH_PREFIX = b"congkhai:personal-id:"
_SPACES = re.compile(r"\s+")
_UNIT_CODE_CHARS = re.compile(r"[A-Z0-9][A-Z0-9.\-]{1,31}")  # what the report schema accepts (datasets/schemas)

# The province-of-birth codes that open a citizen identity number (CCCD) and the 12-digit
# identity cards (CMND) before it: the 63 provinces before the 2025 merger, as Circular
# 07/2016/TT-BCA (then 59/2021/TT-BCA) lists them. Numbers issued after the merger keep them.
CITIZEN_ID_PROVINCES = frozenset((
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017", "019", "020", "022", "024",
    "025", "026", "027", "030", "031", "033", "034", "035", "036", "037", "038", "040", "042", "044", "045",
    "046", "048", "049", "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068", "070",
    "072", "074", "075", "077", "079", "080", "082", "083", "084", "086", "087", "089", "091", "092", "093",
    "094", "095", "096",
))


class InvalidTaxCode(ValueError):
    """The value cannot be a tax code; the message says why, in English, for the rejects report."""


@dataclass(frozen=True, slots=True)
class TaxId:
    kind: str
    value: str  # canonical: '0101234567', '0101234567-001', the 12 personal digits, or '' (UNIT_ONLY)

    def __reduce__(self):
        """Pickled as a plain call: a frozen slotted dataclass's default state functions look its
        fields up again for every object, and a million tax codes cross process boundaries daily."""
        return TaxId, (self.kind, self.value)

    @property
    def public(self) -> str | None:
        """The form that may be published, or None for a personal number."""
        return None if self.kind in (PERSONAL, UNIT_ONLY) else self.value


def compact(raw) -> str:
    """A typed or stored code without spaces, dots, dashes and slashes, its digits as NFKC reads them.

    The one place a code's characters are normalised: callers test the result with `is_digits`,
    which accepts 0-9 only (`str.isdigit` would take '١' and '²' as well)."""
    if raw is None:
        return ""
    if isinstance(raw, float):
        if not raw.is_integer():  # NaN and infinities too, which int() cannot take
            return str(raw)
        raw = int(raw)
    text = str(raw)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return _NOT_DIGITS.sub("", text)


def is_digits(text: str) -> bool:
    """Only the ASCII digits 0-9 (what `compact` leaves of any digit NFKC knows as one)."""
    return text.isascii() and text.isdigit()


def has_foreign_digits(text: str) -> bool:
    """Digits that are not 0-9 even after NFKC (Arabic-Indic and the like): refused, not looked up."""
    digits = compact(text)
    return bool(digits) and digits.isdigit() and not digits.isascii()


def has_citizen_id_structure(digits: str) -> bool:
    """12 digits laid out as a citizen identity number: a province-of-birth code from the official
    list, a century-and-sex digit, two digits of the year of birth, six more. Every such code
    begins with 0."""
    return len(digits) == 12 and digits[:3] in CITIZEN_ID_PROVINCES and is_digits(digits)


def parse_tax_code(raw, household: bool = False) -> TaxId:
    """Canonical TaxId from a cell value, or InvalidTaxCode.

    Length after removing dashes and spaces decides the kind: 9 or 10 digits an enterprise (a lost
    leading zero restored), 13 a branch, 11 or 12 a household owner's personal number
    (`household=True`; 11 when a spreadsheet dropped the leading zero).

    Twelve digits are a personal number, never published in full, whatever the row says they are,
    when they have a citizen identity number's structure (`has_citizen_id_structure`). Otherwise
    they are a branch code whose leading zero a spreadsheet dropped, if the check digit holds. The
    two cannot be confused: a spreadsheet drops only a leading zero and no tax code begins with
    00, so a branch code that lost its zero begins with 1-9, while every citizen identity number
    begins with 0. Twelve digits beginning with 0 that are not a citizen identity number are
    refused (the reason does not repeat them: they may still be someone's number).
    """
    digits = raw_digits = compact(raw)
    if not digits:
        raise InvalidTaxCode("tax code is empty")
    if not is_digits(digits):
        if digits.isdigit():
            raise InvalidTaxCode("tax code is written with digits other than 0-9")
        raise InvalidTaxCode(f"tax code {digits!r} contains characters other than digits and a dash")
    if (household and len(digits) in (11, 12)) or has_citizen_id_structure(digits):
        return TaxId(PERSONAL, digits.zfill(12))
    if len(digits) == 12 and digits[0] == "0":
        raise InvalidTaxCode("12 digits beginning with 0 are neither a branch code that lost its leading zero "
                             "nor a citizen identity number (its province code is not one of the list)")
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
    return is_digits(digits) and len(digits) in (10, 12, 13)


def is_personal_number(text) -> bool:
    """Typed text that may be a household owner's 12-digit citizen number (or 11 digits, its leading
    zero lost): any 11 or 12 digits, since a number typed in a search box has no column to say what
    it is. A value known to be something else (an amount) is not one; see `has_citizen_id_structure`."""
    digits = compact(text)
    return is_digits(digits) and len(digits) in (11, 12)


def personal_id_hash(number: str) -> str:
    """Salted digest under which a household's personal number is stored, for exact-match lookup."""
    return hashlib.sha256(_PERSONAL_HASH_PREFIX + compact(number).zfill(12).encode()).hexdigest()


def mask_personal_id(number: str) -> str:
    """'001234567823' -> '001*******23': the place code stays, the person does not."""
    number = compact(number).zfill(12)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]


def normalise_unit_code(raw) -> str:
    """The agency's unit code (mã đơn vị) as stored and looked up: NFKC, upper case, no whitespace.

    The one rule for a unit code wherever it is read (reports, search box, permalinks, eligibility
    checks), so 'ta 0001a' or 'ＴＡ０００１Ａ' names the same unit as 'TA0001A'. No format is assumed:
    offices write their codes differently, and dots and dashes may be part of one."""
    if raw is None:
        return ""
    text = str(raw)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub("", text).upper()


def could_be_unit_code(raw) -> bool:
    """Typed text that may name a unit code once normalised: the characters the report schema allows
    a unit code, with at least one letter and one digit (so a word or a number is not one)."""
    code = normalise_unit_code(raw)
    return (_UNIT_CODE_CHARS.fullmatch(code) is not None and any(ch.isdigit() for ch in code)
            and any(ch.isalpha() for ch in code))
