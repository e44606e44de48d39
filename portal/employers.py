"""The employer page: a stable permalink with identity, status, eligibility, history and lifecycle.

A household business is addressed by its agency unit code; its owner's personal number is only
ever shown masked. The page answers for today or, with `?as_of=`, for any past date.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_babel import gettext as _

from congkhai.policy import Policy
from congkhai.rules.commendation import is_commendable
from congkhai.receipts import mask_long_digits
from congkhai.search import parse_code
from congkhai.rules.eligibility import tender_eligibility
from congkhai.rules.enforcement import due_for_inspection, on_inspection_list, stage_of
from congkhai.register import Filters, employer_row, history_of, interval_on, listing_episodes, state_of

from . import charts, current, feeds, i18n, params
from .rendering import respond

bp = Blueprint("employers", __name__)


def employer_or_404(key: str):
    """The employer of a permalink; another spelling of its code (no dash, spaces) redirects to it."""
    employer = current.register().employer(key)
    if employer is None:
        found = current.register().find_employer(key)
        if found:
            abort(redirect(url_for(request.endpoint, **{**request.view_args, "key": found.key}, **request.args), 301))
        abort(404, description=_("No employer has the identifier %(key)s in the register. Check the tax code, "
                                 "or search by name.", key=mask_long_digits(key[:40])))
    return employer


def enforcement_of(interval, policy: Policy) -> dict:
    """The reported stage read into a stage, and whether the employer is due for an inspection."""
    months, publish = policy.inspection_min_months, policy.inspection_publish
    if interval is None:
        return {"stage": None, "due_for_inspection": False, "on_inspection_list": False, "min_months": months}
    return {"stage": stage_of(interval.enforcement_stage), "min_months": months,
            "due_for_inspection": due_for_inspection(interval.months_late, interval.enforcement_stage,
                                                     interval.status, months),
            "on_inspection_list": on_inspection_list(interval.months_late, interval.enforcement_stage,
                                                     interval.status, months, publish),
            "inspection_list": url_for("inspections.planned", province=interval.employer.province_code)}


def employer_data(employer, release, day) -> dict:
    """The one answer about an employer on a day: its page, the page's .json twin and the API's
    `/employers/<code>` (through portal.api_fields) all render this dict."""
    policy = release.policy
    key = employer.key
    interval = interval_on(employer, day)
    eligibility = tender_eligibility(interval.status if interval else None, policy.eligibility_rule)
    state = state_of(interval)
    return {
        "title": employer.name, "day": day, "is_latest": day == release.as_of and current.release() == release,
        "employer": employer_row(employer, interval),
        "state": state._asdict() if state else None,
        "since": interval.valid_from if interval else None,
        "reported_on_day": interval is not None,
        "disputed_since": current.register().disputed_since(key),
        "eligibility": {"eligible": eligibility.eligible, "reason": eligibility.reason, "rule": eligibility.rule},
        "honour_roll": {"eligible": is_commendable(employer.intervals, day, policy.commendation_window_months,
                                                   policy.commendation_requires_full_history),
                        # clean for as long as the register knows it, but not yet for the whole window
                        "clean_while_followed": is_commendable(employer.intervals, day,
                                                               policy.commendation_window_months, False),
                        "window_months": policy.commendation_window_months},
        "enforcement": enforcement_of(interval, policy),
        "known": known_json(current.register().known_answer(employer, day, params.known_at(day))),
        "history": history_of(employer),
        "episodes": listing_episodes(employer, policy),
        "release": {"id": release.id, "as_of": release.as_of},
        "coverage": current.coverage(release, day),
        "links": {"permalink": current_app.config["CONGKHAI_BASE_URL"].rstrip("/") + url_for("employers.employer", key=key),
                  "json": url_for("employers.employer", key=key, fmt="json"),
                  "atom": url_for("employers.employer", key=key, fmt="atom"),
                  "province": url_for("lists.province", code=employer.province_code),
                  "dispute": url_for("disputes.form", key=key)},
    }


@bp.get("/employers/<key>", defaults={"fmt": "html"})
@bp.get("/employers/<key>.<any(json, atom, rss):fmt>")
def employer(key: str, fmt: str):
    employer = employer_or_404(key)
    release, day = params.answering()
    if fmt in feeds.MIMETYPES:
        events = feeds.recent(release, Filters(keys=(key,)))
        return feeds.feed_response(fmt, employer.name, events, url_for("employers.employer", key=key))
    data = employer_data(employer, release, day)
    if fmt == "html":
        end = max(day, release.as_of)
        steps = [(h["valid_from"], h["arrears_total"]) for h in data["history"] if h["valid_from"] <= end]
        data["chart"] = charts.step_chart(_("Arrears over time"),
                                          _("Total arrears of %(name)s in each release", name=employer.name),
                                          steps, end, i18n.money, i18n.day)
    return respond(fmt, "employer.html", data)


def correction_json(row: dict) -> dict:
    """One correction as pages, the API and the corrections list show it."""
    published, corrected = row["published_state"], row["corrected_state"]
    return {"id": row["id"], "key": row["key"], "name": row["name"], "province_code": row["province_code"],
            "tax_code": row["public_tax_id"], "applies_from": row["applies_from"], "applies_to": row["applies_to"],
            "published": published._asdict() if published else None,
            "corrected": corrected._asdict() if corrected else None, "removed": corrected is None,
            "reason": row["reason"], "source": row["source"], "recorded_in_release": row["recorded_in_release"],
            "recorded_at": row["recorded_at"], "url": url_for("employers.employer", key=row["key"])}


def known_json(answer: dict) -> dict:
    """"What the list said" and "what we now know" (or knew at `known_at`) about the day asked."""
    published, known = answer["published"], answer["known"]
    return {"known_at": answer["known_at"], "corrected": answer["correction"] is not None,
            "as_published": published._asdict() if published else None,
            "as_known": known._asdict() if known else None,
            "correction": correction_json(answer["correction"]) if answer["correction"] else None,
            "corrections": [correction_json(row) for row in answer["corrections"]]}


MAX_WATCHLIST = 500


@bp.get("/feeds/watchlist.<any(atom, rss):fmt>")
def watchlist(fmt: str):
    """One feed for a list of tax codes or unit codes (`?codes=0100233488,0101234567-001`)."""
    raw = [code.strip() for code in params.text_list("codes", MAX_WATCHLIST) if code.strip()]
    if not raw:
        params.bad_request(_("Give the tax codes or unit codes to follow, separated by commas: ?codes=…"))
    keys = []
    for code in raw:
        found = current.register().find_employer(code)
        identifier = found.key if found else parse_code(code)
        if identifier is None:
            params.bad_request(_("%(code)s is not a valid tax code or unit code.", code=mask_long_digits(code[:40])))
        keys.append(identifier)
    release = current.release()
    if release is None:
        abort(404, description=_("No release has been published yet."))
    events = feeds.recent(release, Filters(keys=tuple(dict.fromkeys(keys))))
    return feeds.feed_response(fmt, _("Watchlist of %(count)s employers", count=len(keys)), events,
                               url_for("search.home"))
