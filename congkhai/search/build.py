"""Writing a release's index: built from scratch, or yesterday's copied and given the day's changes.

Either way the new directory appears whole, under its final name, or not at all; a release's index
is never rewritten in place.
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from whoosh.filedb.filestore import FileStorage

from congkhai.text import clean

from .analysis import analyse
from .columns import COLUMNS_FILE, FORMAT_VERSION, VOCAB_FILE, _Columns, _docnums_by_seq
from .documents import _checked
from .schema import _codec, _read_doc_seq, _schema, _whoosh_doc


@contextmanager
def _staged(path: Path):
    """A hidden sibling directory that becomes `path` only when the body succeeds.

    Readers never see half an index, and a failed build leaves nothing behind.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"search index {path} already exists; a release's index is never rewritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        yield staging
        staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _writable_storage(path: Path) -> FileStorage:
    """Storage for the publisher's writes without memory-mapping: a mapped million-document index
    counts in full against the batch job's memory, while plain reads stay in the page cache."""
    return FileStorage(str(path), supports_mmap=False)


def _write(ix, staging: Path, columns: "_Columns", fill: Callable, **writer_options) -> int:
    """Run `fill(writer)` in one Whoosh transaction, then map document numbers and save the columns."""
    writer = ix.writer(codec=_codec(), **writer_options)
    try:
        count = fill(writer)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    columns.doc_seq = _read_doc_seq(ix)
    ix.close()
    columns.save(staging)
    return count


def _adder(columns: "_Columns", docs: Iterable[dict], progress) -> Callable:
    def fill(writer) -> int:
        seen = set()
        count = 0
        for doc in docs:
            doc = _checked(doc)
            if doc["key"] in seen:
                raise ValueError(f"search document key {doc['key']!r} appears twice")
            seen.add(doc["key"])
            analysed = analyse(doc["name"])
            writer.add_document(**_whoosh_doc(doc, analysed, columns.add(doc, analysed)))
            count += 1
            if progress and count % 10_000 == 0:
                progress(count)
        if progress:
            progress(count)
        return count
    return fill


def build_index(path: Path, docs: Iterable[dict], progress: Callable[[int], None] | None = None,
                procs: int = 1, limitmb: int = 256) -> int:
    """Build a new index directory at `path` from scratch; returns the number of documents.

    `progress(n)` is called every 10,000 documents. `procs` > 1 indexes in that many subprocesses
    (each writes its own segments; `limitmb` is per process).
    """
    with _staged(path) as staging:
        staging.mkdir()
        ix = _writable_storage(staging).create_index(_schema())
        options = {"limitmb": limitmb}
        if procs > 1:
            options.update(procs=procs, multisegment=True)
        columns = _Columns()
        return _write(ix, staging, columns, _adder(columns, docs, progress), **options)


def updatable(path: Path) -> bool:
    """Whether `update_index` can start from the index at `path`: one in this version's format."""
    try:
        meta = json.loads((Path(path) / VOCAB_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("version") == FORMAT_VERSION


def dead_share(path: Path) -> float:
    """The share of an index's rows that are replaced or deleted documents: every update adds a row
    for each changed employer and keeps the old one dead, so a chain of daily updates grows with the
    days, not with the employers, until it is built again (publisher/compact.py does, aside)."""
    with np.load(Path(path) / COLUMNS_FILE) as data:
        live = data["live"]
    return 1 - float(live.sum()) / len(live) if len(live) else 0.0


def update_index(previous: Path, path: Path, upserts: Iterable[dict], deletes: Iterable[str],
                 progress: Callable[[int], None] | None = None) -> int:
    """Copy the index at `previous` to `path` and apply a day's changes; returns documents added.

    `upserts` are full documents of new or changed employers (a changed one replaces its old
    document); `deletes` are keys of employers no longer published. `previous` is only read.
    """
    upserts = list(upserts)
    with _staged(path) as staging:
        shutil.copytree(previous, staging)
        columns = _Columns.load(staging)
        ix = _writable_storage(staging).open_index()
        gone = columns.seqs_of("key", set(deletes) | {clean(str(doc["key"])) for doc in upserts})
        docnums = _docnums_by_seq(columns.doc_seq, len(columns))[gone[columns.arrays["live"][gone]]]
        if (docnums < 0).any():
            raise ValueError(f"search index {previous}: a live employer has no Whoosh document; rebuild the index")
        columns.kill(gone)
        adder = _adder(columns, upserts, progress)

        def fill(writer) -> int:
            for docnum in docnums.tolist():
                writer.delete_document(docnum)
            return adder(writer)
        return _write(ix, staging, columns, fill, limitmb=256)
