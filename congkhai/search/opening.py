"""Opening a release's index once per process, and `search`, the one call over an index or a path."""
from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from .index import SearchIndex
from .results import SearchResult


_OPEN: "OrderedDict[Path, SearchIndex]" = OrderedDict()
_OPEN_LOCK = threading.Lock()
KEEP_OPEN = 2   # the current release's index and the one it is replacing


def open_index(path) -> SearchIndex:
    """The index at `path`, opened once per process and kept while it is among the last used.

    Release indexes never change in place, so the path identifies the content; when the portal
    moves to a new release it opens the new path, and the oldest index is closed.
    """
    path = Path(path).resolve()
    with _OPEN_LOCK:
        index = _OPEN.get(path)
        if index is not None:
            _OPEN.move_to_end(path)
            return index
    opened = SearchIndex(path)  # outside the lock: a second at a million employers, while searches go on
    with _OPEN_LOCK:
        index = _OPEN.setdefault(path, opened)
        if index is not opened:  # another thread opened it meanwhile
            opened.close()
        while len(_OPEN) > KEEP_OPEN:
            _OPEN.popitem(last=False)[1].close()
        _OPEN.move_to_end(path)
        return index


def search(index, q: str = "", filters: dict | None = None, sort: str | None = None, page: int = 1,
           per_page: int = 20, facets: bool = True) -> SearchResult:
    """Search the index (a SearchIndex or a path). Never raises on the query text.

    `filters`: status, province_code, ownership_type, sector (a value or several), arrears_min,
    arrears_max, months_min, months_max (integers, inclusive). `sort`: relevance (default with
    words), arrears (default without), months, name. `page` starts at 1.
    """
    if not isinstance(index, SearchIndex):
        index = open_index(index)
    return index.search(q, filters, sort, page, per_page, facets)
