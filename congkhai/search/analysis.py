"""How a name or a query becomes words, the same at index and query time.

NFC first (decomposed input would split words at each combining mark), lower case, then two forms
of every word: exact (with its marks) and folded (`congkhai.text.fold`: no marks, đ -> d).
Legal-form words ("công ty", "TNHH", "cổ phần"...) become one canonical abbreviation each, kept
apart from the distinctive words and stored as bits (`LEGAL_BITS`), since they tell names apart
least.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from congkhai.text import fold, nfc


# Word characters after NFC; combining marks that NFC could not compose stay inside the word.
_WORD = re.compile(r"[\w\u0300-\u036f]+")


# Folded word sequences -> canonical legal-form tokens. Longest sequences are tried first.
_LEGAL_FORMS = {
    ("cong", "ty"): ("cty",),
    ("c", "ty"): ("cty",),
    ("cty",): ("cty",),
    ("trach", "nhiem", "huu", "han"): ("tnhh",),
    ("tnhh",): ("tnhh",),
    ("co", "phan"): ("cp",),
    ("cp",): ("cp",),
    ("ctcp",): ("cty", "cp"),
    ("mot", "thanh", "vien"): ("mtv",),
    ("1", "thanh", "vien"): ("mtv",),
    ("mtv",): ("mtv",),
    ("chi", "nhanh"): ("cn",),
    ("cn",): ("cn",),
    ("doanh", "nghiep", "tu", "nhan"): ("dntn",),
    ("dntn",): ("dntn",),
    ("hop", "tac", "xa"): ("htx",),
    ("htx",): ("htx",),
}
_LEGAL_LONGEST = max(len(k) for k in _LEGAL_FORMS)
_LEGAL_FIRST = frozenset(k[0] for k in _LEGAL_FORMS)
# Each canonical legal form is one bit of a per-employer column: the commonest forms ("cty" is in
# most names) would otherwise be the longest posting lists to read for the smallest effect.
LEGAL_BITS = {form: 1 << i for i, form in enumerate(dict.fromkeys(f for v in _LEGAL_FORMS.values() for f in v))}


@dataclass(frozen=True)
class Analysed:
    """A name or a query split into distinctive words (exact and folded, aligned) and legal forms."""
    exact: tuple[str, ...]
    folded: tuple[str, ...]
    legal: tuple[str, ...]


def words(text: str) -> list[str]:
    """NFC, lower-cased words; NFC comes first so a decomposed 'ệ' does not split the word."""
    return _WORD.findall(nfc(text).lower())


# A million names are made of a few tens of thousands of distinct words: each is folded once.
_fold_word = lru_cache(maxsize=1 << 17)(fold)


def analyse(text: str) -> Analysed:
    pairs = [(word, _fold_word(word)) for word in words(text)]
    pairs = [(word, folded) for word, folded in pairs if folded]   # a stray mark is not a word
    exact_words = [word for word, _ in pairs]
    folded_words = [folded for _, folded in pairs]
    exact, folded, legal = [], [], []
    i = 0
    while i < len(folded_words):
        sizes = range(min(_LEGAL_LONGEST, len(folded_words) - i), 0, -1) if folded_words[i] in _LEGAL_FIRST else ()
        for size in sizes:
            canonical = _LEGAL_FORMS.get(tuple(folded_words[i:i + size]))
            if canonical:
                legal.extend(canonical)
                i += size
                break
        else:
            exact.append(exact_words[i])
            folded.append(folded_words[i])
            i += 1
    return Analysed(tuple(exact), tuple(folded), tuple(legal))


def _legal_bits(forms) -> int:
    bits = 0
    for form in forms:
        bits |= LEGAL_BITS[form]
    return bits
