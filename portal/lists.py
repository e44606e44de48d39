"""Lists for the press and the public: offenders, evading, honour roll, recent changes, provinces
and the release page. Each view is one dict, rendered as HTML, JSON, CSV (exactly the filtered
view) or Atom (the changes of what the view selects)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, abort, current_app, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from congkhai.statuses import EVADING, OFFENDER_STATUSES
from congkhai.provinces import all_provinces
from congkhai.rules.commendation import first_possible_day
from congkhai.register import Figures, Filters, ReleaseInfo

from . import charts, csvout, current, feeds, i18n, params, release_files
from .rendering import pagination, respond, url_with

bp = Blueprint("lists", __name__)


@dataclass(frozen=True)
class ListKind:
    name: str
    title: object
    intro: object
    statuses: tuple
    sorts: tuple
    honour_roll: bool = False


LISTS = {
    "offenders": ListKind("offenders", _l("Offender list"),
                          _l("Employers delinquent for the threshold number of months or more, or found evading."),
                          OFFENDER_STATUSES, ("arrears", "months", "since", "name")),
    "evading": ListKind("evading", _l("Evading employers"),
                        _l("Employers an inspection decision found evading contributions: barred from tenders "
                           "funded by the state budget."), (EVADING,), ("arrears", "months", "since", "name")),
    "honour-roll": ListKind("honour-roll", _l("Honour roll"),
                            _l("Employers paying on time today and throughout the commendation window."),
                            (), ("name", "since"), honour_roll=True),
}
SORT_LABELS = {"arrears": _l("Largest arrears"), "months": _l("Most months late"), "since": _l("Most recent"),
               "name": _l("Name"), "relevance": _l("Relevance"), "change": _l("Largest change")}
CHANGE_KINDS = ("all", "newly_listed", "resolved", "newly_evading", "status_changed", "arrears_changed",
                "new", "removed")
CSV_COLUMNS = [
    ("key", _l("Identifier")), ("tax_code", _l("Tax code")), ("unit_code", _l("Unit code")),
    ("personal_id_masked", _l("Owner's personal number (masked)")), ("name", _l("Name")),
    ("province", _l("Province")), ("ownership_type", _l("Ownership type")), ("sector", _l("Sector")),
    ("status", _l("Status")), ("arrears_total", _l("Total arrears (VND)")), ("arrears_bhxh", _l("Social insurance arrears")),
    ("arrears_bhyt", _l("Health insurance arrears")), ("arrears_bhtn", _l("Unemployment insurance arrears")),
    ("arrears_bhtnld", _l("Occupational accident and disease insurance arrears")),
    ("interest", _l("Late-payment interest (VND)")),
    ("months_late", _l("Months late")), ("evasion_decision", _l("Evasion decision")),
    ("enforcement_stage", _l("Enforcement stage")), ("since", _l("In this state since")),
    ("disputed_since", _l("Disputed by the employer since")),
]


def employer_filters(release: ReleaseInfo, statuses: tuple = (), honour_roll: bool = False) -> Filters:
    """The filters every list and feed shares, read from the URL; the honour roll is the one `release`
    stored, or for a release from before, its policy's rule applied to the history."""
    policy = release.policy
    return Filters(statuses=statuses, provinces=params.provinces(), sectors=params.texts("sector"),
                   ownership_types=params.texts("ownership"), honour_roll=honour_roll,
                   window_months=policy.commendation_window_months,
                   full_history=policy.commendation_requires_full_history,
                   stored_roll=current.stored_figures(release) is not None)


def roll_not_open_yet(release: ReleaseInfo, day: date) -> dict | None:
    """When the honour roll is empty by rule on `day`: its policy asks for employers followed for the
    whole window, and the register is younger than that. A reader would otherwise see an empty roll
    and conclude that nobody pays on time."""
    months = release.policy.commendation_window_months
    began = current.register().first_release_day()
    if not release.policy.commendation_requires_full_history or began is None:
        return None
    first = first_possible_day(began, months)
    return {"began": began, "months": months, "first_possible": first} if day < first else None


def with_disputes(rows: list[dict]) -> list[dict]:
    """Rows of a page with `disputed_since`: since when their employer disputes the entry, or None."""
    disputed = current.register().disputed_since_of([row["key"] for row in rows])
    for row in rows:
        row["disputed_since"] = disputed.get(row["key"])
    return rows


def with_links(rows: list[dict]) -> list[dict]:
    """Rows of a page with their permalink and `disputed_since`."""
    for row in with_disputes(rows):
        row["url"] = url_for("employers.employer", key=row["key"])
    return rows


def stream_with_disputes(rows):
    """Every row of a download with `disputed_since`; the open disputes are few, so they are read once
    for the whole download instead of once per batch of rows."""
    disputed = current.register().disputed_entries()
    return ({**row, "disputed_since": disputed.get(row["key"])} for row in rows)


def province_options(selected: tuple) -> list[dict]:
    return [{"value": p.code, "label": i18n.place(p), "selected": p.code in selected} for p in all_provinces()]


def twins(*formats: str) -> dict:
    return {fmt: url_with(_fmt=fmt) for fmt in formats}


@bp.get("/lists/<any(offenders, evading, 'honour-roll'):name>", defaults={"fmt": "html"})
@bp.get("/lists/<any(offenders, evading, 'honour-roll'):name>.<any(json, csv, atom, rss):fmt>")
def employer_list(name: str, fmt: str):
    kind = LISTS[name]
    release, day = params.answering()
    filters = employer_filters(release, params.statuses(kind.statuses) or kind.statuses, kind.honour_roll)
    sort = params.choice("sort", kind.sorts, kind.sorts[0])
    if fmt == "csv":
        rows = stream_with_disputes(current.register().iter_states_on(day, filters, sort))
        return csvout.csv_response(f"{name}-{day.isoformat()}.csv", CSV_COLUMNS, rows)
    if fmt in feeds.MIMETYPES:
        return feeds.feed_response(fmt, str(kind.title), feeds.recent(release, filters), url_with(_fmt="html"))
    page, size = params.page_number(), params.per_page()
    result = current.register().states_on(day, filters, sort, page, size, current.stored_figures(release))
    params.check_page_exists(page, result.total, size)
    data = {
        "list": name, "title": kind.title, "intro": kind.intro, "day": day,
        "coverage": current.coverage(release, day),
        "filters": {"province": filters.provinces, "sector": filters.sectors, "ownership": filters.ownership_types,
                    "status": params.statuses(kind.statuses), "sort": sort, "as_of": day},
        "rows": with_links(result.rows),
        "pagination": pagination(page, result.total, size),
        "links": twins("json", "csv", "atom"),
    }
    if kind.honour_roll:
        data["not_open_yet"] = roll_not_open_yet(release, day)
    if kind.statuses and not kind.honour_roll:
        retention = release.policy.resolved_visible_days
        data["completed"] = {"days": retention,
                             "rows": with_links(current.register().recently_completed(day, retention, filters))}
    if fmt == "html":
        data["controls"] = {
            "provinces": province_options(filters.provinces),
            "sectors": current.register().distinct_values(day, "sector", kind.statuses,
                                                          stored=current.stored_figures(release)),
            "sorts": [{"value": s, "label": SORT_LABELS[s], "selected": s == sort} for s in kind.sorts],
            "statuses": kind.statuses if len(kind.statuses) > 1 else (),
        }
    return respond(fmt, "lists/employers.html", data)


@bp.get("/lists/changes", defaults={"fmt": "html"})
@bp.get("/lists/changes.<any(json, csv, atom, rss):fmt>")
def changes(fmt: str):
    release, day = params.answering()
    kind = params.choice("kind", CHANGE_KINDS, "all")
    sort = params.choice("sort", ("change", "name"), "change")
    filters = employer_filters(release)
    if fmt in feeds.MIMETYPES:
        events = [e for e in feeds.recent(release, filters) if kind == "all" or kind in e.kinds]
        return feeds.feed_response(fmt, _("Recent changes"), events, url_with(_fmt="html"))
    events = [e for e in current.register().changes_in_release(release, filters) if kind == "all" or kind in e.kinds]
    if sort == "name":
        events.sort(key=lambda e: (e.row["name"], e.row["key"]))
    else:
        events.sort(key=lambda e: (-abs(e.change.arrears_delta), e.row["key"]))
    if fmt == "csv":
        rows = stream_with_disputes(
            {**e.row, "change": ", ".join(e.kinds), "arrears_before": e.change.before.arrears_total
             if e.change.before else None, "arrears_delta": e.change.arrears_delta} for e in events)
        columns = [("change", _l("Change")), ("arrears_before", _l("Arrears before (VND)")),
                   ("arrears_delta", _l("Change in arrears (VND)"))] + CSV_COLUMNS
        return csvout.csv_response(f"changes-{release.id}.csv", columns, rows)
    page, size = params.page_number(), params.per_page()
    params.check_page_exists(page, len(events), size)
    shown = events[(page - 1) * size: page * size]
    with_links([e.row for e in shown])
    previous = current.register().previous_release(release)
    data = {
        "title": _("Recent changes"), "day": day, "release_id": release.id,
        "previous_release": previous.as_of if previous else None,
        "coverage": current.coverage(release, day),
        "filters": {"province": filters.provinces, "sector": filters.sectors, "kind": kind, "sort": sort},
        "changes": [e.to_dict() for e in shown],
        "pagination": pagination(page, len(events), size),
        "links": twins("json", "csv", "atom"),
    }
    if fmt == "html":
        data["controls"] = {
            "provinces": province_options(filters.provinces),
            "kinds": [{"value": k, "label": i18n.label(k, i18n.CHANGE_LABELS) if k != "all" else _("All changes"),
                       "selected": k == kind} for k in CHANGE_KINDS],
            "sorts": [{"value": s, "label": SORT_LABELS[s], "selected": s == sort} for s in ("change", "name")],
        }
    return respond(fmt, "lists/changes.html", data)


def province_bars(figures: Figures, title: str, description: str) -> charts.BarChart:
    items = [(p["short_name"], p["arrears_total"], url_for("lists.province", code=p["slug"]))
             for p in figures.provinces]
    return charts.bar_chart(title, description, items, i18n.money)


@bp.get("/provinces", defaults={"fmt": "html"})
@bp.get("/provinces.<any(json):fmt>")
def provinces(fmt: str):
    release, day = params.answering()
    figures = current.figures(release, day)
    data = {"title": _("Provinces"), "day": day, "coverage": current.coverage(release, day),
            "provinces": sorted(figures.provinces, key=lambda p: -p["arrears_total"]),
            "links": twins("json")}
    for row in data["provinces"]:
        row["url"] = url_for("lists.province", code=row["slug"])
    if fmt == "html":
        data["chart"] = province_bars(figures, _("Arrears by province"),
                                      _("Total arrears of every employer in arrears, by province"))
    return respond(fmt, "lists/provinces.html", data)


@bp.get("/provinces/<code>", defaults={"fmt": "html"})
@bp.get("/provinces/<code>.<any(json):fmt>")
def province(code: str, fmt: str):
    found = next((p for p in all_provinces() if code in (p.code, p.slug)), None)
    if found is None:
        abort(404, description=_("There is no province %(code)s.", code=code))
    if code != found.slug:
        return redirect(url_for("lists.province", code=found.slug, fmt=fmt if fmt != "html" else None), 301)
    release, day = params.answering()
    figures = current.figures(release, day)
    stats = next((p for p in figures.provinces if p["code"] == found.code), None)
    top = current.register().states_on(day, Filters(statuses=OFFENDER_STATUSES, provinces=(found.code,)), "arrears", 1, 10,
                                      current.stored_figures(release))
    data = {
        "title": found.name, "province": {"code": found.code, "name": found.name, "name_en": found.name_en},
        "day": day, "coverage": current.coverage(release, day), "figures": stats,
        "published": found.code in release.provinces or not release.provinces,
        "top_offenders": with_links(top.rows),
        "links": {
            "json": url_for("lists.province", code=found.slug, fmt="json"),
            "offenders": url_for("lists.employer_list", name="offenders", province=found.code),
            "evading": url_for("lists.employer_list", name="evading", province=found.code),
            "honour_roll": url_for("lists.employer_list", name="honour-roll", province=found.code),
            "changes": url_for("lists.changes", province=found.code),
            "inspections": url_for("inspections.planned", province=found.code),
            "offenders_feed": url_for("lists.employer_list", name="offenders", fmt="atom", province=found.code),
            "changes_feed": url_for("lists.changes", fmt="atom", province=found.code),
            "release_feed": url_for("data.static_feed", filename=f"provinces/{found.code}.atom"),
        },
    }
    if fmt == "html":
        data["chart"] = charts.bar_chart(
            _("Largest arrears in %(province)s", province=found.short_name),
            _("The ten offenders with the largest arrears"),
            [(r["name"], r["arrears_total"], r["url"]) for r in data["top_offenders"]], i18n.money)
    return respond(fmt, "lists/province.html", data)


RELEASE_CHARTS = {"provinces-arrears", "provinces-offenders"}


def release_or_404(date_text: str) -> ReleaseInfo:
    release = current.register().release(date_text)
    if release is None:
        abort(404, description=_("There is no release of %(date)s.", date=date_text))
    return release


def release_chart(release: ReleaseInfo, name: str) -> charts.BarChart:
    """Links in the configured base URL, never the request's Host header (which a client chooses)."""
    figures = current.figures(release, release.as_of)
    base = current_app.config["CONGKHAI_BASE_URL"].rstrip("/")
    if name == "provinces-offenders":
        items = [(p["short_name"], p["offenders"], base + url_for("lists.province", code=p["slug"]))
                 for p in figures.provinces]
        return charts.bar_chart(_("Employers on the offender list by province, %(day)s", day=i18n.day(release.as_of)),
                                _("Number of delinquent or evading employers per province"), items, i18n.number)
    items = [(p["short_name"], p["arrears_total"], base + url_for("lists.province", code=p["slug"]))
             for p in figures.provinces]
    return charts.bar_chart(_("Arrears by province, %(day)s", day=i18n.day(release.as_of)),
                            _("Total arrears of every employer in arrears, by province"), items, i18n.money)


@bp.get("/releases/<date_text>/charts/<name>.svg")
def release_chart_svg(date_text: str, name: str):
    release = release_or_404(date_text)
    if name not in RELEASE_CHARTS:
        abort(404, description=_("There is no chart %(name)s.", name=name))
    svg = render_template("charts/bars.svg", chart=release_chart(release, name), standalone=True)
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/releases")
def releases():
    """Every release is listed, with its files, on the open-data page."""
    return redirect(url_for("data.catalogue"))


@bp.get("/releases/latest")
def latest_release():
    release = current.release()
    if release is None:
        abort(404, description=_("No release has been published yet."))
    return redirect(url_for("lists.release", date_text=release.id))


@bp.get("/releases/<date_text>", defaults={"fmt": "html"})
@bp.get("/releases/<date_text>.<any(json):fmt>")
def release(date_text: str, fmt: str):
    release = release_or_404(date_text)
    counts, shown = current.register().release_summary(release, current.stored_figures(release))
    for event in (event for events in shown.values() for event in events):
        event.row["url"] = url_for("employers.employer", key=event.row["key"])
    figures = current.figures(release, release.as_of)
    top = current.register().states_on(release.as_of, Filters(statuses=OFFENDER_STATUSES), "arrears", 1, 10,
                                      current.stored_figures(release))
    previous = current.register().previous_release(release)
    base = current_app.config["CONGKHAI_BASE_URL"].rstrip("/")
    permalink = base + url_for("lists.release", date_text=release.id)
    chart_urls = {name: url_for("lists.release_chart_svg", date_text=release.id, name=name)
                  for name in sorted(RELEASE_CHARTS)}
    files = release_files.release_files(release.id)
    data = {
        "title": _("Release of %(day)s", day=i18n.day(release.as_of)),
        "release": release_files.release_metadata(release), "day": release.as_of,
        "files": files["files"], "signed": files["signed"],
        "previous_release": previous.as_of if previous else None,
        "coverage": current.coverage(release, release.as_of),
        "figures": figures.to_dict(),
        "counts": counts,
        **{name: [e.to_dict() for e in events] for name, events in shown.items()},
        "top_offenders": with_links(top.rows),
        "provinces_ranked": sorted(figures.provinces, key=lambda p: (-p["offender_arrears"], p["code"])),
        "charts": {name: base + url for name, url in chart_urls.items()},
        "permalink": permalink,
        "citation": _("Vietnam Social Security, Công khai: employers behind on social, health and unemployment "
                      "insurance contributions, release of %(day)s. %(url)s", day=i18n.day(release.as_of),
                      url=permalink),
        "links": {"json": url_for("lists.release", date_text=release.id, fmt="json"),
                  "changes": url_for("lists.changes", as_of=release.id),
                  "data": url_for("data.catalogue", _anchor=f"release-{release.id}")},
    }
    if fmt == "html":
        data["chart"] = release_chart(release, "provinces-arrears")
        data["chart_urls"] = chart_urls
    return respond(fmt, "lists/release.html", data)


CORRECTION_COLUMNS = [
    ("id", _l("Correction number")), ("key", _l("Identifier")), ("tax_code", _l("Tax code")), ("name", _l("Name")),
    ("province_code", _l("Province code")), ("applies_from", _l("Applies from")),
    ("applies_to", _l("Applies until (exclusive)")), ("published_status", _l("Published status")),
    ("published_arrears_total", _l("Published total arrears (VND)")), ("corrected_status", _l("Correct status")),
    ("corrected_arrears_total", _l("Correct total arrears (VND)")), ("reason", _l("Reason")), ("source", _l("Source")),
    ("recorded_in_release", _l("Recorded in release")),
]


def _correction_cells(row: dict) -> dict:
    """A correction flattened for the CSV download."""
    published, corrected = row["published"] or {}, row["corrected"] or {}
    return {**row, "published_status": published.get("status"), "published_arrears_total": published.get("arrears_total"),
            "corrected_status": corrected.get("status", "removed"), "corrected_arrears_total": corrected.get("arrears_total")}


@bp.get("/corrections", defaults={"fmt": "html"})
@bp.get("/corrections.<any(json, csv, atom, rss):fmt>")
def corrections(fmt: str):
    """Every correction published so far (or by `?known_at=`): what was published, what is correct,
    since when, why, in which release. History is never rewritten; this list says what changed."""
    from .employers import correction_json

    release, _day = params.answering()
    known_at = params.known_at(date.min) or release.as_of
    rows = [correction_json(row) for row in current.register().corrections(known_at)]
    if fmt in feeds.MIMETYPES:
        return feeds.corrections_response(fmt, _("Corrections"), rows, url_with(_fmt="html"))
    if fmt == "csv":
        return csvout.csv_response(f"corrections-{known_at.isoformat()}.csv", CORRECTION_COLUMNS,
                                   (_correction_cells(row) for row in rows))
    data = {"title": _("Corrections"), "known_at": known_at, "rows": rows,
            "links": twins("json", "csv", "atom", "rss")}
    return respond(fmt, "lists/corrections.html", data)
