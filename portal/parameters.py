"""The query parameters each cached view reads, and the canonical form of a request's: what the
page cache keys on and what the view sees.

A parameter a view does not read cannot change its answer, so it is dropped (`?nc=1`, a tracking
tag, a misspelling): such a request shares the cached answer instead of rendering the page again,
and the page's own links do not carry it on. A repeated parameter is normalised the way the view
reads it: the first value of a single-valued one, the distinct non-empty values, sorted, of a
filter that takes several; the view sees them in the request's order (its links keep it), the cache
keys on them sorted. A view missing from `ACCEPTED` keeps its request as it came.

Under TESTING, reading a parameter a view does not declare here fails the test: the table is kept
complete by the suite (tests/portal/test_parameters.py).
"""
from __future__ import annotations

from urllib.parse import urlencode

from werkzeug.datastructures import ImmutableMultiDict

LANG = ("lang",)                 # read by i18n on every page
DAY = ("as_of",)
PAGING = ("page", "per_page")
LIST_FILTERS = ("province", "sector", "ownership")
SEARCH = ("q", "sort", "status", "province", "sector", "ownership", "arrears_min", "arrears_max", "months_min",
          "months_max", *PAGING, *DAY)

# Filters that take several values (params.texts, params.text_list): order and repeats do not matter.
MULTI = frozenset({"status", "province", "sector", "ownership", "codes"})

ACCEPTED: dict[str, frozenset] = {endpoint: frozenset((*LANG, *names)) for endpoint, names in {
    "search.home": (),
    "search.search": SEARCH,
    "employers.employer": (*DAY, "known_at"),
    "employers.watchlist": ("codes",),
    "lists.employer_list": (*DAY, *LIST_FILTERS, "status", "sort", *PAGING),
    "lists.changes": (*DAY, *LIST_FILTERS, "kind", "sort", *PAGING),
    "lists.province": DAY,
    "lists.provinces": DAY,
    "lists.release": (),
    "lists.releases": (),
    "lists.latest_release": (),
    "lists.release_chart_svg": (),
    "lists.corrections": (*DAY, "known_at"),
    "inspections.planned": (*DAY, "province", "sort", *PAGING),
    "results.results": ("period", "province"),
    "data.catalogue": ("page",),
    "data.about": DAY,
    "data.catalog_jsonld": (),
    "data.public_key": (),
    "api.employers": SEARCH,
    "api.employer": (*DAY, "known_at"),
    "api.inspections": (*DAY, "province", *PAGING),
    "api.releases": (),
    "api.release": (),
    "api.results": ("period", "province"),
    "api.openapi_json": (),
    "api.docs": (),
    "api_root": (),
    "api.receipt": (),
    "api.receipts_with_code": ("code",),
    "eligibility.receipt": (),
    "eligibility.verify": ("code", "id"),
    "disputes.form": (),
    "disputes.lookup": ("reference", "tax_code"),
    "disputes.status": ("sent", "tax_code"),
    "data.release_file": (),
    "data.static_feed": (),
}.items()}


def canonical(endpoint: str | None, args) -> ImmutableMultiDict | None:
    """The request's parameters as the view reads them; None for a view not in ACCEPTED."""
    accepted = ACCEPTED.get(endpoint)
    if accepted is None:
        return None
    pairs = []
    for name in dict.fromkeys(name for name in args.keys() if name in accepted):  # the request's order
        if name in MULTI:
            pairs += [(name, value) for value in sorted({v for v in args.getlist(name) if v.strip()})]
        else:
            pairs.append((name, args.getlist(name)[0]))
    return ImmutableMultiDict(pairs)


def cache_path(endpoint: str | None, path: str, full_path: str, args) -> str:
    """The path and canonical query a cached answer is kept under (the request's own when the view
    is not in ACCEPTED)."""
    if full_path.endswith("?"):
        return full_path
    found = canonical(endpoint, args)
    return full_path if found is None else f"{path}?{urlencode(sorted(found.items(multi=True)))}"


class DeclaredArgs(ImmutableMultiDict):
    """Under TESTING, the parameters of a view that fail the test when it reads one it does not declare."""

    accepted: frozenset = frozenset()
    endpoint: str = ""

    def _check(self, name: str) -> None:
        if name not in self.accepted:
            raise AssertionError(f"{self.endpoint} reads the parameter {name!r}: declare it in "
                                 f"portal/parameters.py ACCEPTED, or the page cache drops it")

    def get(self, key, default=None, type=None):
        self._check(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):
        self._check(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        self._check(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self._check(key)
        return super().__contains__(key)


def declared(endpoint: str, found: ImmutableMultiDict) -> ImmutableMultiDict:
    checked = DeclaredArgs(found)
    checked.accepted, checked.endpoint = ACCEPTED[endpoint], endpoint
    return checked
