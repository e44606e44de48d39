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


# Characters that draw nothing yet are letters or symbols to Unicode (so `isprintable` passes them):
# the Hangul fillers and the Braille blank, favourites for a name that looks empty.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Categories that draw nothing on their own: marks without a letter to sit on, format and control
# characters, separators.
_DRAWS_NOTHING = frozenset({"Mn", "Me", "Cf", "Cc", "Zs", "Zl", "Zp"})
# ASCII graphics and the Latin letters Vietnamese is written with: one of them makes a text visible
# (the usual case, found by one search in C).
_PLAINLY_VISIBLE = re.compile("[!-~\u00c0-\u024f\u1e00-\u1eff]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
# Greek and Cyrillic blocks: many of their letters look like Latin ones ('С' U+0421 for 'C').
# Vietnamese letters (Latin-1, Latin Extended-A/B, Latin Extended Additional) lie outside them.
_GREEK_CYRILLIC = re.compile("[\u0370-\u052f\u1c80-\u1c8f\u1f00-\u1fff\u2de0-\u2dff\ua640-\ua69f]")


def has_visible(text: str) -> bool:
    """Whether any character of `text` shows: a name of Hangul fillers or lone accents looks blank."""
    first = text[:1]
    if "!" <= first <= "~" or "\u00c0" <= first <= "\u024f" or _PLAINLY_VISIBLE.search(text):
        return True  # a name starts with a letter or a digit: compared without a call, in most rows
    return any(ch not in BLANK_LETTERS and unicodedata.category(ch) not in _DRAWS_NOTHING for ch in text)


def blank_characters(text: str) -> list[str]:
    """The distinct characters of `text` that draw nothing, in order (to name them in an error)."""
    return list(dict.fromkeys(ch for ch in text if ch in BLANK_LETTERS or unicodedata.category(ch) in _DRAWS_NOTHING))


def lookalikes(text: str) -> list[str]:
    """The distinct Greek and Cyrillic characters of a text that also has Latin letters, in order:
    'Сông ty' with a Cyrillic 'С' reads as 'Công ty' but is another name to search and to the
    register. A text wholly in Greek or Cyrillic is left alone."""
    if text.isascii() or not _GREEK_CYRILLIC.search(text):
        return []
    return list(dict.fromkeys(_GREEK_CYRILLIC.findall(text))) if _LATIN.search(text) else []


def describe_character(ch: str) -> str:
    """'С' -> "'С' U+0421 CYRILLIC CAPITAL LETTER ES", so a clerk can find a character that looks like another."""
    return f"{ch!r} U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


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
