"""One raw cell to a typed value, as a province writes it: amounts with Vietnamese or English
thousands separators or in thousands of đồng, whole numbers, an evasion decision's number and date,
and text made visible (invisible characters out, mojibake repaired). A cell that cannot be read
raises CellError with the reason the rejects report gives; publisher.validate applies these to rows.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from congkhai.text import clean

from .read import Unreadable, cell_text

_VN_GROUPED = re.compile(r"^\d{1,3}(\.\d{3})+$")
_EN_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+$")
_ZERO_DECIMALS = re.compile(r"^(.*\d)[,.]0{1,2}$")
_DATE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_EMPTY_MARKS = {"", "-", "–", "—"}
_INVISIBLE = {"Cf", "Cc"}  # format characters (bidi controls, zero-width, soft hyphen) and control characters
# More digits than any amount can have; Python refuses int() past 4,300 digits, so say it first
# (a text cell longer than twice this, separators included, is refused unparsed).
_MAX_DIGITS = 24
# Vietnam Social Security was founded in 1995: an evasion decision dated earlier is a typing error.
EARLIEST_DECISION = date(1995, 1, 1)

# Mojibake of Vietnamese (UTF-8 read as Windows-1252 or Latin-1) always holds one of these
# characters; a clean name almost never does, so ftfy looks only at the few names that do.
_MOJIBAKE_HINT = re.compile("[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
                            "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")


class CellError(ValueError):
    pass


def repair_mojibake(text: str) -> str | None:
    """The text as it was meant ('CÃ´ng ty' -> 'Công ty'), cleaned, or None when it shows no
    mojibake. It reads the cell before `clean`, which would turn the non-breaking space that
    stands for 'à' (C3 A0) into a space and so spoil the repair."""
    if text.isascii() or not _MOJIBAKE_HINT.search(text):
        return None
    import ftfy

    fixed = clean(ftfy.fix_encoding(text))
    return fixed if fixed != clean(text) else None


def visible_text(value) -> str:
    """A text cell as `cell_text` reads it, without the invisible characters that could spoof a name."""
    text = cell_text(value)
    if text.isprintable():  # the usual case, checked in C
        return text
    return clean("".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE))


def parse_integer(value, empty=0):
    """'1.234.567', '1,234,567', 1234567, 1234567.0, '' -> int; anything else raises CellError."""
    if value is None:
        return empty
    if isinstance(value, bool):
        raise CellError("not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or not value.is_integer():
            raise CellError(f"{value!r} is not a whole number")
        if abs(value) >= 10.0 ** _MAX_DIGITS:
            raise CellError(f"{value:g} is not an amount")
        return int(value)
    if isinstance(value, (date, datetime)):
        raise CellError("a date where a number was expected")
    if isinstance(value, Unreadable):
        raise CellError(value.reason)
    text = clean(value).replace(" ", "")
    if text in _EMPTY_MARKS:
        return empty
    if len(text) > 2 * _MAX_DIGITS:
        raise CellError(f"{len(text):,} characters is not an amount")
    decimals = _ZERO_DECIMALS.match(text)
    if decimals and not _VN_GROUPED.match(text) and not _EN_GROUPED.match(text):
        text = decimals.group(1)
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if _VN_GROUPED.match(digits):
        digits = digits.replace(".", "")
    elif _EN_GROUPED.match(digits):
        digits = digits.replace(",", "")
    if not (digits.isascii() and digits.isdigit()):  # '²' and '١' are digits to str.isdigit, not to int()
        raise CellError(f"{clean(value)!r} is not a whole number")
    return -int(digits) if negative else int(digits)


# Amounts in thousands or millions, written the Vietnamese way: '.' groups thousands, ',' marks the
# decimals. One comma and no dot is a decimal comma ('17,924' triệu đồng is 17,924,000 đồng, not
# 17,924 million); commas grouping thousands are read only where that cannot be meant (two of them,
# or a decimal point after).
_DECIMAL_FORMS = (
    (re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$"), lambda t: t.replace(".", "").replace(",", ".")),  # 1.234,5
    (re.compile(r"^\d+,\d+$"), lambda t: t.replace(",", ".")),                                      # 1234,5
    (re.compile(r"^\d{1,3}(,\d{3}){2,}$|^\d{1,3}(,\d{3})+\.\d+$"), lambda t: t.replace(",", "")),  # 1,234,567
    (re.compile(r"^\d+(\.\d+)?$"), lambda t: t),                                                   # 1234.5
)


def parse_amount(value, scale: int = 1, unit: str = ""):
    """An amount in đồng from a cell written in units of `scale` đồng ('1.234,5' nghìn đồng ->
    1,234,500). In đồng an amount is a whole number (parse_integer); in a larger unit it may have
    decimals, as long as it comes to whole đồng."""
    if scale == 1:
        return parse_integer(value)
    if value is None or isinstance(value, bool) or isinstance(value, (date, datetime)) or isinstance(value, Unreadable):
        return parse_integer(value)
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if value != value or abs(value) >= 10.0 ** _MAX_DIGITS:
            raise CellError(f"{value!r} is not an amount")
        number = Decimal(repr(value))
    else:
        text = clean(value).replace(" ", "")
        if text in _EMPTY_MARKS:
            return 0
        if len(text) > 2 * _MAX_DIGITS:
            raise CellError(f"{len(text):,} characters is not an amount")
        negative = text.startswith("-")
        digits = text[1:] if negative else text
        form = next((convert for pattern, convert in _DECIMAL_FORMS if pattern.match(digits)), None)
        if form is None or not digits.isascii():
            raise CellError(f"{clean(value)!r} is not a number")
        try:
            number = Decimal(form(digits)) * (-1 if negative else 1)
        except InvalidOperation:
            raise CellError(f"{clean(value)!r} is not a number") from None
    scaled = number * scale
    if scaled != scaled.to_integral_value():
        raise CellError(f"{number} {unit or f'× {scale:,}'} is not a whole number of đồng")
    return int(scaled)


def parse_decision(value, as_of: date) -> tuple[str | None, date | None]:
    """'Số 123/QĐ-TTr ngày 05/03/2026' -> (text, date); a decision must carry its date."""
    if isinstance(value, (datetime, date)):
        raise CellError("only a date: the decision's number is missing")
    if isinstance(value, Unreadable):
        raise CellError(value.reason)
    text = visible_text(value)
    if text in _EMPTY_MARKS:
        return None, None
    match = _DATE.search(text)
    if not match:
        raise CellError("the decision's date (dd/mm/yyyy) is missing")
    day, month, year = (int(g) for g in match.groups())
    try:
        decided = date(year, month, day)
    except ValueError:
        raise CellError(f"{match.group(0)!r} is not a date") from None
    if decided > as_of:
        raise CellError(f"decision dated {decided:%d/%m/%Y}, after the report's date")
    if decided < EARLIEST_DECISION:
        raise CellError(f"decision dated {decided:%d/%m/%Y}, before Vietnam Social Security existed "
                        f"({EARLIEST_DECISION:%Y})")
    return text, decided

