"""What a person asks for, made safe to search: the query text cleaned and bounded, filters parsed.

The limits of a request (query length, page size, paging depth, sorts) live here too. Nothing a
visitor types makes a search raise: bad numbers in a range filter are ignored and reported.
"""
from __future__ import annotations

import re

from congkhai.text import clean

from .analysis import _WORD
from .documents import FACET_FIELDS


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 24  # the longest registered names, pasted whole by journalists
MAX_PER_PAGE = 100
MAX_RESULT_WINDOW = 10_000  # deepest result reachable by paging, as in most search engines
SORTS = ("relevance", "arrears", "months", "name")
RANGE_FILTERS = {"arrears_min": ("arrears_total", ">="), "arrears_max": ("arrears_total", "<="),
                 "months_min": ("months_late", ">="), "months_max": ("months_late", "<=")}


def _clean_query(q) -> tuple[str, bool]:
    text = clean(_CONTROL.sub(" ", q if isinstance(q, str) else ""))
    truncated = len(text) > MAX_QUERY_CHARS
    if truncated:
        text = text[:MAX_QUERY_CHARS]
    found = list(_WORD.finditer(text))
    if len(found) > MAX_QUERY_WORDS:
        text, truncated = text[:found[MAX_QUERY_WORDS - 1].end()], True
    return text, truncated


def _values(raw) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else list(raw)
    return tuple(sorted({clean(item) for item in items if clean(item)}))


def _parse_filters(filters: dict) -> tuple[dict, list[str]]:
    """{'status': 'late' or [...], 'arrears_min': '1000', ...} -> masks spec; bad numbers are ignored."""
    unknown = set(filters) - set(FACET_FIELDS) - set(RANGE_FILTERS)
    if unknown:
        raise ValueError(f"unknown search filters: {', '.join(sorted(unknown))}")
    active, ignored = {}, []
    for name in FACET_FIELDS:
        values = _values(filters.get(name))
        if values:
            active[name] = values
    bounds = {}
    for name, (column, op) in RANGE_FILTERS.items():
        raw = filters.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            value = int(str(raw).strip().replace(".", "").replace(",", ""))
        except ValueError:
            ignored.append(name)
            continue
        if not -2 ** 63 < value < 2 ** 63:
            ignored.append(name)
            continue
        low, high = bounds.get(column, (None, None))
        bounds[column] = (value, high) if op == ">=" else (low, value)
    active.update(bounds)
    return active, ignored
