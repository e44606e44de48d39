"""Rows validated by the last run, remembered so the next day checks again only the rows that changed.

A province sends its whole register every day and most rows are yesterday's, cell for cell, yet
parsing and checking a row against the schema is most of a national run's reading time. What a row
becomes is a pure function of its cells, the report schema, the mojibake policy and the code that
reads them, with one exception: a decision dated after the report's date is refused, so that date
is checked again on every reuse. Each run leaves, per province, a file mapping a digest of every
clean row's cells to the values it was published with; the next run builds the Record of a row it
knows from those values instead of validating it again.

Rows that were rejected or repaired (mojibake) are never remembered: their rejects and notes must be
reported again each day. Nor are households' rows: the file would hold their owners' numbers in
full. The file is only an accelerator: deleting it changes the time a run takes and nothing else,
and a file written by other code, for another schema or another mojibake policy is not used (its
fingerprint differs). It lives in the data directory, which only the publisher
writes, next to the database it feeds; it is read with marshal, which builds plain values and
never runs code.
"""
from __future__ import annotations

import hashlib
import logging
import os
import marshal
import sys
import unicodedata
from datetime import date
from functools import lru_cache
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

from .records import CANONICAL_HEADER, RawRow, Record, from_validated_values, validated_values

log = logging.getLogger(__name__)

# The row number ("STT") is not published, and renumbering a report must not make every row new.
KEY_HEADERS = tuple(h for h in CANONICAL_HEADER.values() if h != "STT")
_DECIDED = 13  # where the decision date's ordinal stands in a remembered row
# The modules whose code decides what a row becomes; a change to any of them retires every memo.
_CODE = ("publisher.read", "publisher.titles", "publisher.layout", "publisher.records", "publisher.validate",
         "publisher.cells", "publisher.xlsx", "congkhai.taxcode", "congkhai.text", "congkhai.rules.households")
_LIBRARIES = ("python-stdnum", "frictionless", "ftfy")


@lru_cache(maxsize=8)
def fingerprint(schema_digest: str, mojibake: str) -> str:
    """Everything besides a row's cells that its validation depends on."""
    digest = hashlib.sha256(f"{schema_digest}|{mojibake}|{sys.version}|{unicodedata.unidata_version}".encode())
    for name in _CODE:
        digest.update(Path(find_spec(name).origin).read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=absent".encode())
    return digest.hexdigest()


def row_digest(row: RawRow, layout: bytes = b"") -> bytes:
    """The digest of a row's published cells as read (types included: 5 and '5' differ), and of
    what else the report says of them (`layout`: its columns and the unit of its amounts)."""
    text = repr(tuple(map(row.cells.get, KEY_HEADERS)))
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16, key=layout).digest()


class RowMemo:
    """One province's remembered rows (`known`, from the last run) and this run's (`kept`), each a
    digest -> the Record's validated values after source, line and province (records.validated_values)."""

    def __init__(self, known: dict[bytes, tuple] | None = None):
        self.known = known or {}
        self.kept: dict[bytes, tuple] = {}
        self.recalled = 0

    def recall(self, digest: bytes, row: RawRow, province_code: str, as_of: date) -> Record | None:
        values = self.known.get(digest)
        if values is None:
            return None
        decided = values[_DECIDED]
        if decided is not None and decided > as_of.toordinal():  # valid on a later date, not on this one
            return None
        self.kept[digest] = values
        self.recalled += 1
        return from_validated_values((row.source, row.line, province_code) + values)

    def remember(self, digest: bytes, record: Record) -> None:
        """Households are validated again each run: their record holds the owner's personal number,
        which nothing the publisher writes may keep in full."""
        if not record.is_household:
            self.kept[digest] = validated_values(record)[3:]


def _path(directory: Path, province_code: str) -> Path:
    return Path(directory) / f"{province_code}.marshal"


def load(directory: Path | None, province_code: str, schema_digest: str, mojibake: str) -> RowMemo | None:
    """The province's memo, empty when there is none or it no longer applies; None when memos are
    off (no directory, or a row check not read from a schema file)."""
    if directory is None or not schema_digest:
        return None
    path = _path(directory, province_code)
    try:
        with open(path, "rb") as handle:
            stamp, known = marshal.load(handle)
    except FileNotFoundError:
        return RowMemo()
    except Exception as error:  # a damaged memo costs a full validation, never the run
        log.warning("validated-rows memo %s unreadable (%s): validating every row", path, error)
        return RowMemo()
    return RowMemo(known if stamp == fingerprint(schema_digest, mojibake) else None)


def save(directory: Path, province_code: str, schema_digest: str, mojibake: str, memo: RowMemo) -> None:
    """Replace the province's memo with this run's rows, atomically (a reader sees the old or the new)."""
    path = _path(directory, province_code)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            marshal.dump((fingerprint(schema_digest, mojibake), memo.kept), handle)
        os.replace(tmp, path)
    except OSError as error:  # as in load(): the next run validates everything
        log.warning("validated-rows memo %s not written (%s)", path, error)
        tmp.unlink(missing_ok=True)
