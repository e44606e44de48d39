"""Query arguments turned into typed values, with a friendly 400 for anything absurd.

Every choice a reader makes (filters, sort, page, date) lives in the URL; this module is the one
place that reads them, so `page=abc`, `page=-1`, an unknown province or a 5,000-character query
give the same clear answer everywhere instead of an exception.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask import abort, g, request
from flask_babel import gettext as _

from congkhai.statuses import STATUSES
from congkhai.provinces import all_provinces
from congkhai.register import ReleaseInfo

from . import current, i18n

MAX_PAGE = 10_000
PER_PAGE_CHOICES = (10, 20, 50, 100)
DEFAULT_PER_PAGE = 20
MAX_QUERY_LENGTH = 200
MAX_TEXT_ARG = 200
VIETNAM = timezone(timedelta(hours=7))

def bad_request(message: str):
    abort(400, description=message)


def page_number() -> int:
    raw = request.args.get("page", "1").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        bad_request(_("Page numbers are whole numbers from 1 to %(max)s.", max=MAX_PAGE))
    return int(raw)


def per_page() -> int:
    raw = request.args.get("per_page", str(DEFAULT_PER_PAGE)).strip()
    if not raw.isdigit() or int(raw) not in PER_PAGE_CHOICES:
        bad_request(_("Results per page can be %(choices)s.", choices=", ".join(map(str, PER_PAGE_CHOICES))))
    return int(raw)


def check_page_exists(page: int, total: int, size: int) -> None:
    pages = max(1, -(-total // size))
    if page > pages:
        abort(404, description=_("There is no page %(page)s: this view has %(pages)s page(s).",
                                 page=page, pages=pages))


def choice(name: str, allowed, default: str) -> str:
    value = request.args.get(name, default).strip() or default
    if value not in allowed:
        bad_request(_("%(name)s must be one of: %(allowed)s.", name=name, allowed=", ".join(allowed)))
    return value


def text(name: str) -> str:
    value = request.args.get(name, "").strip()
    if len(value) > MAX_TEXT_ARG:
        bad_request(_("The value of %(name)s is too long.", name=name))
    return value


def texts(name: str) -> tuple:
    values = tuple(v.strip() for v in request.args.getlist(name) if v.strip())
    if any(len(v) > MAX_TEXT_ARG for v in values) or len(values) > 50:
        bad_request(_("The value of %(name)s is too long.", name=name))
    return values


def text_list(name: str, most: int) -> list[str]:
    """Comma-separated values, from one or several occurrences of the argument."""
    values = [v for raw in request.args.getlist(name) for v in raw.split(",")]
    if len(values) > most:
        bad_request(_("At most %(most)s values can be given in %(name)s.", most=most, name=name))
    return values


def query_text() -> str:
    value = " ".join(request.args.get("q", "").split())
    if len(value) > MAX_QUERY_LENGTH:
        bad_request(_("Your search is too long: please use at most %(max)s characters.", max=MAX_QUERY_LENGTH))
    return value


def statuses(allowed=STATUSES) -> tuple:
    values = texts("status")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        bad_request(_("Unknown status %(value)s.", value=unknown[0]))
    return values


def provinces() -> tuple:
    """Province codes from `province=75` or `province=dong-nai`."""
    known = {p.code: p.code for p in all_provinces()} | {p.slug: p.code for p in all_provinces()}
    values = texts("province")
    unknown = [v for v in values if v not in known]
    if unknown:
        bad_request(_("Unknown province %(value)s.", value=unknown[0]))
    return tuple(dict.fromkeys(known[v] for v in values))


def amount(name: str) -> int | None:
    """A whole number bound (VND or months) such as `arrears_min=10000000`; dots and commas allowed."""
    raw = request.args.get(name, "").strip().replace(".", "").replace(",", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        bad_request(_("%(name)s must be a whole number.", name=name))
    return int(raw)


def parse_day(raw: str) -> date | None:
    """'2026-11-25' or '25/11/2026'."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    return None


def today() -> date:
    return datetime.now(VIETNAM).date()


def answering() -> tuple[ReleaseInfo, date]:
    """The release and day a page answers for: the current release, or `?as_of=` from the history."""
    raw = request.args.get("as_of", "").strip()
    latest = current.release()
    if latest is None:
        abort(404, description=_("No release has been published yet."))
    if not raw:
        g.release_id = latest.id  # the page's X-Release-Id (conventions.name_release)
        return latest, latest.as_of
    day = parse_day(raw)
    if day is None:
        bad_request(_("Dates are written YYYY-MM-DD or DD/MM/YYYY."))
    if day > max(today(), latest.as_of):
        bad_request(_("%(day)s is in the future: the register can only say what was, not what will be.",
                      day=i18n.day(day)))
    release = current.register().release_in_force(day)
    if release is None:
        abort(404, description=_("The register starts with the release of %(first)s; there is no data before.",
                                 first=i18n.day(current.register().first_release_day())))
    g.release_id = release.id
    return release, day


def known_at(day: date) -> date | None:
    """`?known_at=`: answer with the corrections published by that date (None: by now). It may not
    precede the day asked about: nothing was known of a day before it came."""
    raw = request.args.get("known_at", "").strip()
    if not raw:
        return None
    found = parse_day(raw)
    if found is None:
        bad_request(_("known_at: dates are written YYYY-MM-DD or DD/MM/YYYY."))
    if found < day:
        bad_request(_("known_at (%(known)s) is before the date asked about (%(day)s).", known=i18n.day(found),
                      day=i18n.day(day)))
    return found
