"""Is a reported row a household business (hộ kinh doanh)? Its identifier is then its owner's
citizen identity number, which is personal data and never published in full.

Offices write the ownership type their own way ('Hộ kinh doanh', 'HKD', 'Hộ KD', 'hộ cá thể',
'Ho kinh doanh ca the'), and some leave it to the name ('HKD Nguyễn Văn A'). A row whose
identifier is 11 or 12 digits and whose name has none of the words a legal entity's name carries
('Công ty', 'Trường', 'Bệnh viện'...) is a household too: no organisation is named after a person
alone. Every spelling and word is matched folded (no diacritics, lower case) and as whole words.

This runs for each of a million rows: the few distinct ownership types are folded once each, only
a name's first characters are folded for its prefix, and the whole name only for a row identified
by 11 or 12 digits.
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..text import fold

HOUSEHOLD_SPELLINGS = ("ho kinh doanh", "hkd", "ho kd", "ho ca the")  # 'hộ kinh doanh cá thể' begins with the first
# Words that name an organisation, folded. Words that are also people's names are left out or
# lengthened: 'truong' alone is also the surname Trương, 'van phong' is in 'Nguyễn Văn Phong',
# 'bao', 'quy' and 'dai' are given names; so a school is known by the kind of school that follows.
LEGAL_ENTITY_WORDS = (
    "cong ty", "cty", "tong cong ty", "tap doan", "doanh nghiep", "dntn", "tnhh", "co phan", "hop tac xa", "htx",
    "lien hiep", "chi nhanh", "van phong dai dien", "van phong cong chung", "van phong luat", "nha may",
    "xi nghiep", "truong hoc", "truong mam non", "truong mau giao", "truong tieu hoc", "truong trung hoc",
    "truong thcs", "truong thpt", "truong dai hoc", "truong cao dang", "truong trung cap", "hoc vien",
    "benh vien", "tram y te", "uy ban", "ubnd", "trung tam", "ban quan ly", "co quan", "tong cuc", "hiep hoi",
    "hoi dong", "vien nghien cuu", "ngan hang", "company", "co ltd", "ltd", "limited", "corporation", "corp", "jsc",
)

_WORD_STARTS = r"(?<![a-z0-9])"
_WORD_ENDS = r"(?![a-z0-9])"


def _any_of(words) -> str:
    """One alternative per entry, longest first, the spaces inside standing for any whitespace."""
    return "(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True)) + ")"


_HOUSEHOLD = re.compile(_WORD_STARTS + _any_of(HOUSEHOLD_SPELLINGS) + _WORD_ENDS)
_HOUSEHOLD_NAME = re.compile(r"\W*" + _any_of(HOUSEHOLD_SPELLINGS) + _WORD_ENDS)
_LEGAL_ENTITY = re.compile(_WORD_STARTS + _any_of(LEGAL_ENTITY_WORDS) + _WORD_ENDS)
_NAME_PREFIX = 24  # 'Hộ kinh doanh cá thể' and a little punctuation


@lru_cache(maxsize=1024)
def ownership_names_a_household(ownership_type: str) -> bool:
    return _HOUSEHOLD.search(fold(ownership_type)) is not None


def _name_starts_like_a_household(name: str) -> bool:
    """Every spelling begins with an h: the name's first characters are folded only when it does."""
    first = next((ch for ch in name[:_NAME_PREFIX] if ch.isalnum()), "")
    return first in "hH" and _HOUSEHOLD_NAME.match(fold(name[:_NAME_PREFIX])) is not None


def names_a_legal_entity(name: str) -> bool:
    return _LEGAL_ENTITY.search(fold(name)) is not None


def is_household(ownership_type: str, name: str, identifier_digits: str = "") -> bool:
    """A household spelling as the ownership type or at the start of the name, or an identifier of
    11 or 12 digits (`identifier_digits`, as `taxcode.compact` gives them) under a name that no
    legal entity would carry."""
    if ownership_names_a_household(ownership_type) or _name_starts_like_a_household(name):
        return True
    return len(identifier_digits) in (11, 12) and identifier_digits.isdigit() and not names_a_legal_entity(name)
