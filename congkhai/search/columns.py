"""The numpy columns saved beside the Whoosh files, one value per employer.

Status, province, ownership type, sector, arrears, months, name length and sort key, legal forms,
key and unit code: what Whoosh is slow at in pure Python (counting, faceting, range filters,
sorting, a million one-document identifier terms) is done on these.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np

from .analysis import Analysed, _legal_bits
from .documents import FACET_FIELDS


COLUMNS_FILE = "columns.npz"
VOCAB_FILE = "columns.json"
FORMAT_VERSION = 3   # 3: identifiers in the columns, not in Whoosh
IDENTIFIER_FIELDS = ("key", "unit_code")
_NAME_KEY_CHARS = 12
_NAME_ALPHABET = {ch: i + 1 for i, ch in enumerate("0123456789abcdefghijklmnopqrstuvwxyz")}


def _name_key(analysed: Analysed) -> int:
    """Sort key of a name: its first 12 folded distinctive characters packed base 37 in an int64.

    Legal forms are left out so "Công ty TNHH An Phú" sorts under A, not under C.
    """
    text = " ".join(analysed.folded or analysed.legal)[:_NAME_KEY_CHARS].ljust(_NAME_KEY_CHARS)
    key = 0
    for ch in text:
        key = key * 37 + _NAME_ALPHABET.get(ch, 0)
    return key


def _positions_of(sorted_values: np.ndarray, wanted: Iterable[str]) -> np.ndarray:
    """Positions in a sorted byte-string array of the values equal to any of `wanted`."""
    encoded = np.array([value.encode("utf-8") for value in wanted], dtype="S")
    if not len(encoded) or not len(sorted_values):
        return np.zeros(0, dtype=np.int64)
    low = np.searchsorted(sorted_values, encoded, side="left")
    counts = np.searchsorted(sorted_values, encoded, side="right") - low
    starts = np.repeat(low - (np.cumsum(counts) - counts), counts)
    return starts + np.arange(int(counts.sum()))


class _Columns:
    """Per-employer values in sequence order (the order documents were added), with vocabularies.

    `doc_seq[docnum]` maps Whoosh's document numbers, which merges renumber, to sequence numbers.
    Keys and unit codes are byte strings with their sorted order (`orders`), looked up by binary
    search: as Whoosh terms, a million unique identifiers made a third of the build time and half
    of the index.
    """

    def __init__(self):
        self.vocab = {name: [] for name in FACET_FIELDS}
        self._codes = {name: {} for name in FACET_FIELDS}
        self.chunks = {name: [] for name in ("live", *FACET_FIELDS, "arrears_total", "months_late",
                                             "name_len", "name_key", "legal", *IDENTIFIER_FIELDS)}
        self.arrays: dict[str, np.ndarray] = {}
        self.orders: dict[str, np.ndarray] = {}   # field -> sequence numbers sorted by its value
        self.doc_seq = np.zeros(0, dtype=np.int32)

    def __len__(self):
        return len(self.arrays.get("live", ())) + len(self.chunks["live"])

    def _code(self, name: str, value: str) -> int:
        codes = self._codes[name]
        if value not in codes:
            codes[value] = len(self.vocab[name])
            self.vocab[name].append(value)
        return codes[value]

    def add(self, doc: dict, analysed: Analysed) -> int:
        seq = len(self)
        chunks = self.chunks
        chunks["live"].append(True)
        for name in FACET_FIELDS:
            chunks[name].append(self._code(name, doc[name] or ""))
        chunks["arrears_total"].append(int(doc["arrears_total"]))
        chunks["months_late"].append(int(doc["months_late"]))
        chunks["name_len"].append(max(len(analysed.folded), 1))  # legal forms neither help nor lengthen
        chunks["name_key"].append(_name_key(analysed))
        chunks["legal"].append(_legal_bits(analysed.legal))
        chunks["key"].append(str(doc["key"]).encode("utf-8"))
        chunks["unit_code"].append((doc["unit_code"] or "").encode("utf-8"))
        return seq

    def _flush(self):
        if self.chunks["live"]:
            self.orders.clear()
        dtypes = {"live": bool, "arrears_total": np.int64, "months_late": np.int32, "name_len": np.int16,
                  "name_key": np.int64, "legal": np.uint8, "key": "S", "unit_code": "S"}
        for name, values in self.chunks.items():
            new = np.array(values, dtype=dtypes.get(name, np.int32))
            old = self.arrays.get(name)
            self.arrays[name] = new if old is None else np.concatenate([old, new])
            values.clear()

    def order(self, name: str) -> np.ndarray:
        self._flush()
        if name not in self.orders:
            self.orders[name] = np.argsort(self.arrays[name], kind="stable").astype(np.int32)
        return self.orders[name]

    def seqs_of(self, name: str, values: Iterable[str]) -> np.ndarray:
        """Sequence numbers of every document, live or not, whose `name` is one of `values`."""
        order = self.order(name)
        return order[_positions_of(self.arrays[name][order], values)]

    def kill(self, seqs):
        self._flush()
        self.arrays["live"][np.asarray(seqs, dtype=np.int64)] = False

    def save(self, directory: Path):
        """Write fresh files (unlinking first, so a copied or linked previous index is never touched)."""
        orders = {f"{name}_order": self.order(name) for name in IDENTIFIER_FIELDS}
        for name in (COLUMNS_FILE, VOCAB_FILE):
            (directory / name).unlink(missing_ok=True)
        np.savez(directory / COLUMNS_FILE, doc_seq=self.doc_seq, **self.arrays, **orders)
        (directory / VOCAB_FILE).write_text(json.dumps({"version": FORMAT_VERSION, "vocab": self.vocab},
                                                       ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "_Columns":
        meta = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
        if meta.get("version") != FORMAT_VERSION:
            raise ValueError(f"{directory / VOCAB_FILE}: search index format {meta.get('version')}, "
                             f"expected {FORMAT_VERSION}; rebuild the index")
        columns = cls()
        columns.vocab = {name: list(meta["vocab"][name]) for name in FACET_FIELDS}
        columns._codes = {name: {v: i for i, v in enumerate(values)} for name, values in columns.vocab.items()}
        with np.load(directory / COLUMNS_FILE) as data:
            columns.doc_seq = data["doc_seq"]
            columns.arrays = {name: data[name] for name in columns.chunks}
            columns.orders = {name: data[f"{name}_order"] for name in IDENTIFIER_FIELDS}
        return columns


def _docnums_by_seq(doc_seq: np.ndarray, size: int) -> np.ndarray:
    """Sequence number -> Whoosh document number; -1 where a merge dropped the (deleted) document."""
    docnums = np.full(size, -1, dtype=np.int32)
    docnums[doc_seq] = np.arange(len(doc_seq), dtype=np.int32)
    return docnums
