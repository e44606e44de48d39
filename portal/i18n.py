"""Languages and formatting: Vietnamese by default, English on `?lang=en` (remembered in a cookie).

Money and dates follow the reader's language: `1.234.567 ₫` and `25/11/2026` in Vietnamese,
`VND 1,234,567` and `25 Nov 2026` in English. Labels for the domain's codes (statuses, change
kinds, leaving reasons) live here once, so every page and feed names them the same way.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, request
from flask_babel import Babel, format_date, format_datetime, get_locale, gettext, lazy_gettext as _l

from congkhai.text import format_int, format_vnd

LANGUAGES = ("vi", "en")
LANG_COOKIE = "lang"
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}

STATUS_LABELS = {
    "compliant": _l("Paying on time"),
    "late": _l("Late"),
    "notice": _l("Notice before listing"),
    "delinquent": _l("Delinquent"),
    "evading": _l("Evading"),
}
CHANGE_LABELS = {
    "newly_listed": _l("Newly listed"),
    "resolved": _l("Left the list"),
    "newly_evading": _l("Newly found evading"),
    "new": _l("First reported"),
    "removed": _l("No longer reported"),
    "status_changed": _l("Status changed"),
    "arrears_changed": _l("Arrears changed"),
}
LEAVING_LABELS = {
    "paid": _l("arrears paid"),
    "decision_annulled": _l("evasion decision annulled"),
    "no_longer_reported": _l("no longer reported (closed, deregistered or moved)"),
}
ELIGIBILITY_LABELS = {
    "eligible": _l("Eligible to bid"),
    "evading": _l("Barred: an evasion decision is in force"),
    "delinquent": _l("Barred: on the offender list"),
    "no_record": _l("Not in the register on this date"),
}
COMMENDATION_LABELS = {
    "commendable": _l("May be commended: no arrears in the commendation window"),
    "in_arrears": _l("Not to be commended: in arrears on this date"),
    "arrears_in_window": _l("Not to be commended: in arrears within the commendation window"),
    "history_too_short": _l("Not to be commended: the register has not followed it for the whole window"),
    "no_record": _l("Not in the register on this date"),
}
STAGE_LABELS = {
    "reminder": _l("reminded (notice or working minutes)"),
    "inspection": _l("inspected"),
    "investigation": _l("referred to the police or for prosecution"),
}
RULE_LABELS = {
    "evasion_in_force": _l("barred while an evasion decision is in force"),
    "evasion_or_delinquent": _l("barred while evading or on the offender list"),
}


def select_locale() -> str:
    return locale_of(request)


def locale_of(asked) -> str:
    """The language of a request (Flask's or werkzeug's): `?lang=`, else the remembered one."""
    wanted = asked.args.get("lang") or asked.cookies.get(LANG_COOKIE)
    return wanted if wanted in LANGUAGES else LANGUAGES[0]


def language() -> str:
    return str(get_locale() or LANGUAGES[0])[:2]


def money(amount) -> str:
    return format_vnd(amount, language())


def fund(amount) -> str:
    """A fund's arrears, or that the report did not split its total by that fund: unknown, never 0."""
    return gettext("not reported by fund") if amount is None else money(amount)


def number(value) -> str:
    return format_int(value, language())


def day(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, DATE_PATTERNS[language()])


MOMENT_PATTERNS = {"vi": "dd/MM/yyyy HH:mm (ZZZZ)", "en": "d MMM yyyy, HH:mm (ZZZZ)"}


def moment(value) -> str:
    """A point in time in the portal's time zone (Asia/Ho_Chi_Minh), e.g. '25/11/2026 15:58 (GMT+07:00)'."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(value, MOMENT_PATTERNS[language()])


def place(province) -> str:
    """A province's name in the reader's language ('Thành phố Hà Nội' / 'Hanoi')."""
    return province.name_en if language() == "en" else province.name


def label(code, table: dict) -> str:
    return str(table.get(code, code or ""))


def remember_language(response):
    """`?lang=xx` switches the language for the following pages too."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES and request.cookies.get(LANG_COOKIE) != wanted:
        response.set_cookie(LANG_COOKIE, wanted, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.add_template_filter(money)
    app.add_template_filter(fund)
    app.add_template_filter(number)
    app.add_template_filter(day)
    app.add_template_filter(moment)
    app.add_template_filter(lambda code: label(code, STATUS_LABELS), "status_label")
    app.add_template_filter(lambda code: label(code, CHANGE_LABELS), "change_label")
    app.add_template_filter(lambda code: label(code, LEAVING_LABELS), "leaving_label")
    app.add_template_filter(lambda code: label(code, ELIGIBILITY_LABELS), "eligibility_label")
    app.add_template_filter(lambda code: label(code, RULE_LABELS), "rule_label")
    app.add_template_filter(lambda code: label(code, STAGE_LABELS), "stage_label")
    app.add_template_global(language)
    app.add_template_global(LANGUAGES, "languages")
