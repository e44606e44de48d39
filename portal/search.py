"""Home and search: one box that takes a name (with or without diacritics), a tax code or a unit
code; facets with counts; every choice in the URL. Searching goes through `congkhai.search`, on
the index the publisher built for the release in force on the day asked."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from flask_babel import gettext as _

from congkhai import search as engine
from congkhai.statuses import STATUSES
from congkhai.provinces import by_code
from congkhai.taxcode import is_personal_number, looks_like_tax_code, mask_personal_id
from congkhai.register import Filters, ReleaseInfo

from . import current, feeds, i18n, params, release_files
from .lists import SORT_LABELS, province_bars, twins, with_links
from .rendering import pagination, respond, url_with

bp = Blueprint("search", __name__)

SORTS = ("relevance", "arrears", "months", "name")
FEED_HITS = 1000  # employers a search feed follows at most


@bp.get("/", defaults={"fmt": "html"})
@bp.get("/index.<any(json):fmt>")
def home(fmt: str):
    release = current.release()
    data = {"title": _("Employers behind on insurance contributions"), "release": None}
    if release is not None:
        figures = current.figures(release, release.as_of)
        data.update(release=release.to_dict(), figures=figures.to_dict(),
                    coverage=current.coverage(release, release.as_of),
                    links={"json": url_for("search.home", fmt="json"),
                           "release": url_for("lists.release", date_text=release.id)})
        if fmt == "html":
            data["chart"] = province_bars(figures, _("Arrears by province"),
                                          _("Total arrears of every employer in arrears, by province"))
    return respond(fmt, "home.html", data)


def search_filters() -> dict:
    return {
        "status": params.statuses(),
        "province_code": params.provinces(),
        "ownership_type": params.texts("ownership"),
        "sector": params.texts("sector"),
        "arrears_min": params.amount("arrears_min"),
        "arrears_max": params.amount("arrears_max"),
        "months_min": params.amount("months_min"),
        "months_max": params.amount("months_max"),
    }


def open_release_index(release: ReleaseInfo):
    path = release_files.search_index_dir(release.id)
    if not path.is_dir():
        abort(503, description=_("Search for the release of %(day)s is not available; the lists answer from the "
                                 "history for any date.", day=i18n.day(release.as_of)))
    return engine.open_index(path)


def warm(app) -> str | None:
    """Open the current release's index in this process; returns the release id, or None when there
    is nothing to open. gunicorn.conf.py calls it in the master before the workers are forked: they
    then share one opened index instead of each spending a second or more of CPU on its first
    search, all at the same moment, while the first readers wait (5 s at a million employers)."""
    with app.app_context():
        release = current.release()
        path = release_files.search_index_dir(release.id) if release is not None else None
        if path is None or not path.is_dir():
            return None
        engine.open_index(path)
        return release.id


def identifier_redirect(q: str):
    """A tax code, unit code or a household owner's full personal number goes straight to its employer;
    an unknown one gets a clear answer (a personal number is never repeated back, only its mask)."""
    identifier = engine.parse_identifier(q)
    personal = identifier is None and is_personal_number(q)
    if identifier is None and not personal:
        return None
    employer = current.register().find_employer(q)
    if employer is None:
        if personal:
            abort(404, description=_("No household business with the personal number %(code)s is in the register.",
                                     code=mask_personal_id(q)))
        abort(404, description=_("No employer with the code %(code)s is in the register. Employers that have "
                                 "always paid on time may not be listed by every office yet.", code=identifier))
    return redirect(url_for("employers.employer", key=employer.key, as_of=params.text("as_of") or None))


def range_facet(name: str, buckets, selected_min, selected_max, format_value) -> list[dict]:
    options = []
    for bucket in buckets:
        if not bucket.count and bucket.min != selected_min:
            continue
        if bucket.max is None:
            text = _("%(amount)s or more", amount=format_value(bucket.min))
        elif bucket.min == bucket.max:
            text = format_value(bucket.min)
        else:
            text = f"{format_value(bucket.min)} – {format_value(bucket.max)}"
        chosen = selected_min == bucket.min and selected_max == bucket.max
        options.append({"label": text, "count": bucket.count, "selected": chosen,
                        "url": url_with(page=None, **{f"{name}_min": None if chosen else bucket.min,
                                                      f"{name}_max": None if chosen else bucket.max})})
    return options


def value_facet(values, selected: tuple, labels=None) -> list[dict]:
    options = [{"value": value, "label": labels(value) if labels else value, "count": count,
                "selected": value in selected} for value, count in values]
    known = {o["value"] for o in options}
    options += [{"value": value, "label": labels(value) if labels else value, "count": 0, "selected": True}
                for value in selected if value not in known]
    return options


def facets_for(result, filters: dict) -> dict:
    names = by_code()
    province_name = lambda code: i18n.place(names[code]) if code in names else code  # noqa: E731
    status_order = {s: i for i, s in enumerate(STATUSES)}
    statuses = sorted(result.facets.get("status", []), key=lambda pair: status_order.get(pair[0], 9))
    return {
        "status": value_facet(statuses, filters["status"], lambda code: i18n.label(code, i18n.STATUS_LABELS)),
        "province": value_facet(result.facets.get("province_code", []), filters["province_code"], province_name),
        "ownership": value_facet(result.facets.get("ownership_type", [])[:30], filters["ownership_type"]),
        "sector": value_facet(result.facets.get("sector", [])[:30], filters["sector"]),
        "arrears": range_facet("arrears", result.facets.get("arrears_total", []), filters["arrears_min"],
                               filters["arrears_max"], i18n.money),
        "months": range_facet("months", result.facets.get("months_late", []), filters["months_min"],
                              filters["months_max"], i18n.number),
    }


def hit_row(hit) -> dict:
    province = by_code().get(hit.province_code)
    return {"key": hit.key, "name": hit.name, "tax_code": hit.tax_code, "province_code": hit.province_code,
            "province": province.name if province else hit.province_code, "status": hit.status,
            "ownership_type": hit.ownership_type, "sector": hit.sector, "arrears_total": hit.arrears_total,
            "months_late": hit.months_late}


def matching_keys(index, q: str, filters: dict, sort: str) -> tuple:
    """Keys of the first employers a search finds, for its feed (a feed follows at most FEED_HITS)."""
    keys = []
    for page in range(1, FEED_HITS // engine.MAX_PER_PAGE + 1):
        found = engine.search(index, q, filters, sort, page, engine.MAX_PER_PAGE, facets=False)
        keys += [hit.key for hit in found.hits]
        if page >= found.pages:
            break
    return tuple(keys)


def public_query(q: str) -> str:
    """The query as an answer may repeat it: a household owner's personal number only masked. The
    one rule for the search page's JSON and feeds and for the API (`/api/v1/employers`)."""
    return mask_personal_id(q) if is_personal_number(q) else q


def facets_json(facets: dict) -> dict:
    """The engine's facet counts as plain values (the page labels them: `facets_for`)."""
    out = {}
    for name, values in facets.items():
        out[name] = [{"min": v.min, "max": v.max, "count": v.count} if isinstance(v, engine.Bucket)
                     else {"value": v[0], "count": v[1]} for v in values]
    return out


def search_data(q: str, filters: dict, sort: str, page: int, size: int, release: ReleaseInfo, day,
                labelled_facets: bool = True) -> dict:
    """The one answer of a search: the page, its .json twin and the API's `/employers` (through
    portal.api_fields, which needs no labelled facets) render this dict."""
    engine_filters = {k: v for k, v in filters.items() if v not in (None, ())}
    result = engine.search(open_release_index(release), q, engine_filters, sort, page, size)
    if page > result.pages:
        params.check_page_exists(page, min(result.total, engine.MAX_RESULT_WINDOW), size)
    hint = None
    if q and not result.total and looks_like_tax_code(q) and engine.parse_identifier(q) is None:
        hint = _("%(q)s looks like a tax code but is not a valid one: check the digits.", q=q)
    return {
        "title": _("Search: %(q)s", q=q) if q else _("Search the register"),
        "q": result.query, "day": day, "sort": result.sort,
        "coverage": current.coverage(release, day),
        "filters": engine_filters,
        "total": result.total, "page": page, "per_page": size, "pages": result.pages,
        "fuzzy": result.fuzzy, "truncated": result.truncated, "identifier": result.identifier, "hint": hint,
        "results": with_links([hit_row(hit) for hit in result.hits]),
        "pagination": pagination(page, min(result.total, engine.MAX_RESULT_WINDOW), size),
        "facets": facets_for(result, filters) if labelled_facets else None,
        "facet_counts": facets_json(result.facets),
        "links": twins("json", "atom"),
    }


@bp.get("/search", defaults={"fmt": "html"})
@bp.get("/search.<any(json, atom, rss):fmt>")
def search(fmt: str):
    q = params.query_text()
    if is_personal_number(q):
        if fmt == "html":
            return identifier_redirect(q)
        q = public_query(q)  # feeds and JSON never carry a personal number either
    filters = search_filters()
    sort = params.choice("sort", SORTS, "relevance" if q else "arrears")
    page, size = params.page_number(), params.per_page()
    release, day = params.answering()
    if q and fmt == "html":
        jump = identifier_redirect(q)
        if jump is not None:
            return jump
    if fmt in feeds.MIMETYPES:
        engine_filters = {k: v for k, v in filters.items() if v not in (None, ())}
        keys = matching_keys(open_release_index(release), q, engine_filters, sort)
        events = feeds.recent(release, Filters(keys=keys)) if keys else []
        return feeds.feed_response(fmt, _("Search: %(q)s", q=q) if q else _("Search"), events, url_with(_fmt="html"))
    data = search_data(q, filters, sort, page, size, release, day)
    if fmt == "html":
        data["sorts"] = [{"value": s, "label": SORT_LABELS[s], "selected": s == data["sort"]} for s in SORTS
                         if s != "relevance" or q]
        data["as_of_text"] = params.text("as_of")
        data["range_inputs"] = [(name, filters[name]) for name in ("arrears_min", "arrears_max", "months_min",
                                                                   "months_max") if filters[name] is not None]
    return respond(fmt, "search.html", data)
