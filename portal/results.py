"""Daily results: the 18:30 report of the provincial offices, in public.

For the country or one province, release by release: arrears by fund, delinquent and evading
employers, newly listed, resolved, moved to inspection or investigation, and arrears recovered;
trend charts (SVG, no JavaScript) with a table twin, CSV and JSON of the series, and the provinces
ranked by recovery rate over 7 and 30 days. Everything is read from the `daily_results` rows the
publisher writes with each release (congkhai.rules.results), never from the history itself.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, url_for
from flask_babel import format_percent, gettext as _, lazy_gettext as _l

from congkhai.provinces import all_provinces, by_code
from congkhai.rules.results import FIGURES, WINDOWS, recovery_rate, window

from . import charts, csvout, current, i18n, params
from .rendering import respond, url_with

bp = Blueprint("results", __name__)

PERIODS = ("30", "90", "365", "all")
DEFAULT_PERIOD = "90"
CSV_COLUMNS = [("as_of", _l("Date")), ("release_id", _l("Release")), ("provinces", _l("Provinces reporting")),
               ("employers", _l("Employers")), ("arrears_bhxh", _l("Social insurance arrears")),
               ("arrears_bhyt", _l("Health insurance arrears")), ("arrears_bhtn", _l("Unemployment insurance arrears")),
               ("arrears_bhtnld", _l("Occupational accident and disease insurance arrears")),
               ("arrears_total", _l("Total arrears (VND)")), ("arrears_offenders", _l("Offenders' arrears (VND)")),
               ("interest", _l("Late-payment interest (VND)")),
               ("employers_without_fund_split", _l("Employers without a split by fund")),
               ("delinquent", _l("Delinquent")), ("evading", _l("Evading")), ("new_offenders", _l("Newly listed")),
               ("resolved_offenders", _l("Left the list")), ("to_inspection", _l("Moved to inspection")),
               ("to_investigation", _l("Moved to investigation")), ("recovered", _l("Arrears recovered (VND)"))]


def scope():
    """The province asked for in `?province=` (one at most), or None for the whole country."""
    codes = params.provinces()
    if len(codes) > 1:
        params.bad_request(_("Give at most one province."))
    return by_code()[codes[0]] if codes else None


def ranking(days: int, release_days: list, end) -> dict | None:
    """Provinces by recovery rate over the window of `days` days ending with the latest release."""
    span = window(release_days, end, days)
    if span is None:
        return None
    names = by_code()
    rows = []
    for code, figures in current.register().results_of_provinces(span.start, span.releases).items():
        province = names.get(code)
        rate = recovery_rate(figures["recovered"], figures["arrears_at_start"])
        rows.append({"code": code, "name": i18n.place(province) if province else code,
                     "short_name": province.short_name if province else code,
                     "url": url_for("results.results", province=province.slug if province else code),
                     **figures, "recovery_rate": rate,
                     "recovery_rate_text": format_percent(rate, "#,##0.00%") if rate is not None else "–"})
    rows.sort(key=lambda r: (r["recovery_rate"] is None, -(r["recovery_rate"] or 0), r["code"]))
    return {"days": days, "start": span.start, "end": span.end, "releases": len(span.releases), "provinces": rows}


def period_rows(series: list, period: str) -> list:
    if period == "all" or not series:
        return series
    start = series[-1]["as_of"] - timedelta(days=int(period))
    return [row for row in series if row["as_of"] > start]


def results_data(province, period: str) -> dict:
    """The one dict behind the page, its JSON and CSV twins and the API."""
    latest = current.release()
    series = current.register().results_series(province.code if province else None)
    release_days = [row["as_of"] for row in current.register().results_series()]
    end = latest.as_of if latest else None
    rankings = {f"days_{days}": ranking(days, release_days, end) for days in WINDOWS} if end else {}
    shown = period_rows(series, period)
    return {
        "scope": {"province_code": province.code, "name": province.name, "name_en": province.name_en}
        if province else None,
        "period": period,
        "definitions": definitions(),
        "latest": series[-1] if series else None,
        "series": shown,
        "span": {"first": shown[0]["as_of"], "last": shown[-1]["as_of"], "releases": len(shown)} if shown else None,
        "ranking": rankings,
    }


def definitions() -> dict:
    return {
        "arrears": _("Total arrears of every employer reported that day, as the reports total them."),
        "arrears_by_fund": _("Arrears of each fund, and late-payment interest, summed over the employers whose report "
                             "gives them apart; empty when none does. Some reports give only a total, or social and "
                             "unemployment insurance together: those employers are counted as without a split by "
                             "fund, and the funds then add up to less than the total. Interest is never part of the "
                             "arrears."),
        "new_offenders": _("Employers that joined the offender list (delinquent or evading) in the release."),
        "resolved_offenders": _("Employers that left the offender list: paid, evasion decision annulled, or no "
                                "longer reported."),
        "to_inspection": _("Employers whose enforcement stage became an inspection in the release."),
        "to_investigation": _("Employers referred to the police or for prosecution in the release."),
        "recovered": _("Debt that left the offender list by payment: for each employer leaving the list because "
                       "it paid, its arrears before minus its arrears after."),
        "recovery_rate": _("Recovery rate over a window: arrears recovered in the window's releases divided by the "
                           "offender list's arrears at the window's start (the last release on or before the "
                           "window's first day)."),
    }


def trend_charts(series: list, place: str) -> dict:
    """Step charts of the series: each value holds from its release until the next one."""
    if not series:
        return {}
    end = series[-1]["as_of"]
    cumulative, steps = 0, []
    for row in series:
        cumulative += row["recovered"]
        steps.append((row["as_of"], cumulative))

    def chart(title, description, points, fmt):
        return charts.step_chart(title, description, points, end, fmt, i18n.day)

    return {
        "arrears": chart(_("Total arrears, %(place)s", place=place), _("Total arrears, release by release"),
                         [(r["as_of"], r["arrears_total"]) for r in series], i18n.money),
        "offenders": chart(_("Offender list, %(place)s", place=place),
                           _("Delinquent and evading employers, release by release"),
                           [(r["as_of"], r["delinquent"] + r["evading"]) for r in series], i18n.number),
        "recovered": chart(_("Arrears recovered, cumulative, %(place)s", place=place),
                           _("Debt that left the offender list by payment, added up release by release"),
                           steps, i18n.money),
    }


def ranking_chart(rank: dict) -> charts.BarChart:
    """Recovery rates as bars (in hundredths of a percent, labelled as percentages)."""
    items = [(row["short_name"], round(row["recovery_rate"] * 10000), row["url"])
             for row in rank["provinces"] if row["recovery_rate"]]
    return charts.bar_chart(_("Recovery rate over %(days)s days", days=rank["days"]),
                            _("Recovered divided by the offender list's arrears at the window's start, by province"),
                            items, lambda value: format_percent(value / 10000, "#,##0.00%"))


@bp.get("/results", defaults={"fmt": "html"})
@bp.get("/results.<any(json, csv):fmt>")
def results(fmt: str):
    province = scope()
    period = params.choice("period", PERIODS, DEFAULT_PERIOD)
    data = results_data(province, period)
    place = i18n.place(province) if province else _("the whole country")
    if fmt == "csv":
        name = f"results-{province.code if province else 'vn'}.csv"
        return csvout.csv_response(name, CSV_COLUMNS, iter(data["series"]))
    data.update(title=_("Daily results: %(place)s", place=place),
                links={"json": url_with(_fmt="json"), "csv": url_with(_fmt="csv")})
    if fmt == "html":
        data["charts"] = trend_charts(data["series"], place)
        data["ranking_charts"] = {name: ranking_chart(rank) for name, rank in data["ranking"].items() if rank}
        data["controls"] = {
            "provinces": [{"value": p.slug, "label": i18n.place(p), "selected": province is not None
                           and p.code == province.code} for p in all_provinces()],
            "periods": [{"value": p, "selected": p == period,
                         "label": _("All releases") if p == "all" else _("Last %(days)s days", days=p)}
                        for p in PERIODS],
        }
        data["rows"] = list(reversed(data["series"]))
        data["figures"] = FIGURES
    return respond(fmt, "results.html", data)
