"""The Whoosh side of an index: the words of names and the few stored fields a result line shows.

Whoosh keeps what it is good at, the inverted index and the term dictionary; its tokenizer and its
length statistics are skipped, since names arrive analysed (`analysis`) and scoring is done in
numpy. A `seq` column maps Whoosh's document numbers, which merges renumber, to our columns.
"""
from __future__ import annotations

import numpy as np
from whoosh import columns as whoosh_columns
from whoosh import fields as whoosh_fields
from whoosh.codec import default_codec
from whoosh.system import pack_uint

from .analysis import Analysed


class AnalysedWords(whoosh_fields.KEYWORD):
    """Words already analysed by `analyse`, given as a tuple: no positions, no tokenizer.

    The postings are those KEYWORD would write for the words joined by spaces (a frequency per
    word); Whoosh's tokenizer and token objects, a third of the time spent adding a document, are
    skipped since the words are split already.
    """

    def __init__(self):
        super().__init__(lowercase=False, commas=False, scorable=False)

    def index(self, value, **kwargs):
        counts = {}
        for word in value:
            counts[word] = counts.get(word, 0) + 1
        return [(word.encode("utf-8"), n, float(n), pack_uint(n)) for word, n in counts.items()]


# Whoosh pickles the schema into each index with its fields' module path. Every index written before
# the facade became a package names congkhai.search.AnalysedWords, and past releases' indexes stay
# readable, so the class keeps that path (congkhai/search/__init__.py imports it).
AnalysedWords.__module__ = "congkhai.search"


def _schema() -> whoosh_fields.Schema:
    """Few stored fields: what a result line shows beside the numpy columns (`SearchIndex._hit`)."""
    return whoosh_fields.Schema(
        key=whoosh_fields.STORED(),
        name_exact=AnalysedWords(),
        name_fold=AnalysedWords(),
        seq=whoosh_fields.COLUMN(whoosh_columns.NumericColumn("i", default=-1)),
        name=whoosh_fields.STORED(),
        tax_code=whoosh_fields.STORED(),
    )


def _codec():
    """Whoosh's codec without per-posting length statistics, which only its own scorer uses (we
    score in numpy and no field is scorable): with them on, writing a segment looks on disk for a
    length column (one stat call) for every posting, close to half of the time of a commit."""
    codec = default_codec()
    codec.length_stats = False
    return codec


def _read_doc_seq(ix) -> np.ndarray:
    """docnum -> sequence number, read from the `seq` column of every segment."""
    with ix.reader() as reader:
        parts = []
        for leaf, _offset in reader.leaf_readers():
            column = leaf.column_reader("seq", translate=False)
            parts.append(np.fromiter((column[d] for d in range(leaf.doc_count_all())), dtype=np.int32,
                                     count=leaf.doc_count_all()))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


def _whoosh_doc(doc: dict, analysed: Analysed, seq: int) -> dict:
    return {
        "key": doc["key"],
        "name_exact": analysed.exact,
        "name_fold": analysed.folded,
        "seq": seq,
        "name": doc["name"],
        "tax_code": doc["tax_code"],
    }
