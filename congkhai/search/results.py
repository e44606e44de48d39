"""What a search returns: a page of hits, facet counts, and what was made of the query."""
from __future__ import annotations

from dataclasses import dataclass, field

from .query import MAX_RESULT_WINDOW


@dataclass(frozen=True)
class Hit:
    key: str
    name: str
    tax_code: str | None
    province_code: str
    status: str
    ownership_type: str
    sector: str
    arrears_total: int
    months_late: int
    score: float | None = None


@dataclass(frozen=True)
class Bucket:
    """A range facet entry; `max` None means open-ended. Filters: *_min=min, *_max=max."""
    min: int
    max: int | None
    count: int


@dataclass
class SearchResult:
    query: str                         # the query as searched (cleaned, possibly truncated)
    total: int
    page: int
    per_page: int
    sort: str
    hits: list[Hit]
    facets: dict = field(default_factory=dict)   # field -> [(value, count)], arrears/months -> [Bucket]
    identifier: str | None = None      # canonical tax/unit code when the query was one
    redirect: str | None = None        # key of the one employer an identifier query found
    fuzzy: bool = False                # typo-tolerant retry was used
    truncated: bool = False            # the query was longer than MAX_QUERY_CHARS
    ignored_filters: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        reachable = min(self.total, MAX_RESULT_WINDOW)
        return max(1, -(-reachable // self.per_page))
