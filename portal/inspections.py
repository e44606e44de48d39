"""Planned inspections: employers the directive says must be inspected (months in arrears at or
above the policy's threshold, not yet inspected), per province, as a page, CSV, JSON and a feed.

The policy decides whether the agency publishes the list before the visit (employers due) or after
it (employers inspected); congkhai.rules.enforcement reads the reports' stage texts. The stages
present on a day are few, so they are read into stages here and the list is selected in SQL.
"""
from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from congkhai.statuses import STATUSES
from congkhai.rules.enforcement import AFTER_VISIT, on_inspection_list, stage_qualifies, status_qualifies
from congkhai.register import Event, Filters, ReleaseInfo

from . import csvout, current, feeds, params
from .lists import CSV_COLUMNS, province_options, stream_with_disputes, twins, with_links
from .rendering import pagination, respond, url_with

bp = Blueprint("inspections", __name__)


def inspection_policy(release: ReleaseInfo) -> tuple[int, str]:
    """Threshold months and timing of the list in the release's policy (older releases: the defaults)."""
    return release.policy.inspection_min_months, release.policy.inspection_publish


def inspection_filters(release: ReleaseInfo, day) -> Filters:
    months, publish = inspection_policy(release)
    texts = current.register().stage_texts_on(day, months, current.stored_figures(release))
    stages = tuple(text for text in texts if stage_qualifies(text, publish))
    return Filters(statuses=tuple(s for s in STATUSES if status_qualifies(s, publish)),
                   provinces=params.provinces(), months_min=months, stages=stages)


def newly_on_list(event: Event, months: int, publish: str) -> bool:
    def on(state):
        return state is not None and on_inspection_list(state.months_late, state.enforcement_stage, state.status,
                                                        months, publish)
    return on(event.change.after) and not on(event.change.before)


def inspections_data(release: ReleaseInfo, day, filters: Filters, sort: str, page: int, size: int) -> dict:
    """The one answer of the planned-inspections list: the page, its .json twin and the API's
    `/inspections` (through portal.api_fields) render this dict."""
    months, publish = inspection_policy(release)
    result = current.register().states_on(day, filters, sort, page, size, current.stored_figures(release))
    params.check_page_exists(page, result.total, size)
    intro = (_("Employers in arrears for %(months)s months or more that the report says were inspected: the "
               "agency publishes this list after the visit.", months=months) if publish == AFTER_VISIT else
             _("Employers in arrears for %(months)s months or more and not yet inspected or referred to the "
               "police: the directive asks for them to be inspected. The agency publishes this list before the "
               "visit.", months=months))
    return {
        "list": "inspections", "title": _("Planned inspections"), "intro": intro, "day": day,
        "policy": {"min_months": months, "publish": publish},
        "coverage": current.coverage(release, day),
        "filters": {"province": filters.provinces, "sort": sort, "as_of": day},
        "total": result.total, "page": page, "per_page": size,
        "rows": with_links(result.rows),
        "pagination": pagination(page, result.total, size),
        "links": twins("json", "csv", "atom"),
    }


@bp.get("/inspections", defaults={"fmt": "html"})
@bp.get("/inspections.<any(json, csv, atom, rss):fmt>")
def planned(fmt: str):
    release, day = params.answering()
    months, publish = inspection_policy(release)
    filters = inspection_filters(release, day)
    sort = params.choice("sort", ("months", "arrears", "name"), "months")
    if fmt == "csv":
        return csvout.csv_response(f"inspections-{day.isoformat()}.csv", CSV_COLUMNS,
                                   stream_with_disputes(current.register().iter_states_on(day, filters, sort)))
    if fmt in feeds.MIMETYPES:
        events = [e for e in feeds.recent(release, Filters(provinces=filters.provinces))
                  if newly_on_list(e, months, publish)]
        return feeds.feed_response(fmt, _("Planned inspections"), events, url_with(_fmt="html"))
    data = inspections_data(release, day, filters, sort, params.page_number(), params.per_page())
    if fmt == "html":
        data["controls"] = {"provinces": province_options(filters.provinces),
                            "sorts": [{"value": s, "label": label, "selected": s == sort} for s, label in
                                      (("months", _("Most months late")), ("arrears", _("Largest arrears")),
                                       ("name", _("Name")))]}
    return respond(fmt, "lists/employers.html", data)
