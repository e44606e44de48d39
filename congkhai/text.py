"""Vietnamese text handling shared by the publisher, the search index and the portal.

Reports arrive in composed (NFC) or decomposed (NFD) Unicode; everything we store is NFC with
collapsed whitespace. Folding removes every mark, including the two-mark letters (ế, ộ, ự) and
đ/Đ, which Unicode does not decompose, so that "dien tu" meets "điện tử".
"""
from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def clean(value) -> str:
    """NFC, trimmed, inner runs of whitespace (including non-breaking spaces) made one space."""
    if value is None:
        return ""
    return _SPACE.sub(" ", nfc(str(value)).replace("\u00a0", " ")).strip()


def fold(value: str) -> str:
    """Lower-case and strip every diacritic: 'Điện Tử' -> 'dien tu'."""
    decomposed = unicodedata.normalize("NFD", value.translate(_FOLD_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.translate(_FOLD_EXTRA).lower()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """OWASP's CSV-injection defence: a leading ' keeps a spreadsheet from reading text as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def slugify(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(clean(value))).strip("-")


NBSP = "\u00a0"


def format_vnd(amount: int | None, locale: str = "vi") -> str:
    """1234567 -> '1.234.567 ₫' in Vietnamese, 'VND 1,234,567' in English. The space is a
    non-breaking one, so a narrow table cell or a phone's line never leaves '₫' on a line of its own."""
    if amount is None:
        return ""
    grouped = f"{int(amount):,}"
    if locale.startswith("vi"):
        return grouped.replace(",", ".") + NBSP + "₫"
    return "VND" + NBSP + grouped


def format_int(number: int | None, locale: str = "vi") -> str:
    if number is None:
        return ""
    grouped = f"{int(number):,}"
    return grouped.replace(",", ".") if locale.startswith("vi") else grouped
