"""One dict per page, rendered as HTML or JSON; links that keep every filter; friendly errors.

Views build their data once and call `respond()`: the HTML page and its `.json` twin can never
disagree. `url_with()` rebuilds the current URL with some arguments changed, so paging, sorting
and facets keep every other choice the reader made.
"""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from urllib.parse import urlencode

from flask import Flask, jsonify, render_template, request, url_for
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from werkzeug.exceptions import HTTPException

from congkhai.taxcode import compact, has_citizen_id_structure, is_personal_number, mask_personal_id


class JSONProvider(DefaultJSONProvider):
    """ISO dates, dataclasses and translated labels, instead of Flask's HTTP-date default."""
    ensure_ascii = False
    sort_keys = False

    @staticmethod
    def default(o):
        if isinstance(o, (date, datetime)):
            return o.isoformat()
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return o.to_dict() if hasattr(o, "to_dict") else dataclasses.asdict(o)
        if isinstance(o, LazyString):
            return str(o)
        if isinstance(o, (set, frozenset, tuple)):
            return list(o)
        return DefaultJSONProvider.default(o)


def respond(fmt: str, template: str, data: dict, status: int = 200):
    if fmt == "json":
        response = jsonify(data)
        response.status_code = status
        return response
    return render_template(template, data=data, **data), status


# Query arguments a reader types a code or free text into: any 11 or 12 digits in them may be a
# household owner's number. The others are amounts, dates and choices the portal validates, and
# 10,000,000,000 đồng is 11 digits too.
TYPED_ARGS = frozenset({"q", "code", "codes", "tax_code"})


def masked(name: str, value: str) -> str:
    """A query value as a link may carry it: a household owner's number never travels on in one,
    whether typed into a code or text argument or, laid out as a citizen identity number, anywhere."""
    digits = compact(value)
    if (name in TYPED_ARGS and is_personal_number(value)) or has_citizen_id_structure(digits):
        return mask_personal_id(value)
    return value


def url_with(_fmt: str | None = None, _anchor: str | None = None, **changes) -> str:
    """The current page's URL with some query arguments changed (None removes one, a list repeats it)."""
    args = request.args.copy()
    args.pop("lang", None)
    for name, value in changes.items():
        if value is None or value == "" or value == []:
            args.pop(name, None)
        elif isinstance(value, (list, tuple)):
            args.setlist(name, [str(v) for v in value])
        else:
            args[name] = str(value)
    for name in list(args):
        args.setlist(name, [masked(name, v) for v in args.getlist(name)])
    view_args = {name: mask_personal_id(value) if isinstance(value, str) and is_personal_number(value) else value
                 for name, value in (request.view_args or {}).items()}
    if _fmt is not None:
        view_args["fmt"] = _fmt
    url = url_for(request.endpoint, **view_args) if request.endpoint else request.path
    query = urlencode(list(args.items(multi=True)))
    return url + ("?" + query if query else "") + ("#" + _anchor if _anchor else "")


def pagination(page, total: int, per_page: int) -> dict:
    """Links for a page of results: previous, next and a short window of numbered pages."""
    pages = max(1, -(-total // per_page))
    window = range(max(1, page - 2), min(pages, page + 2) + 1)
    return {
        "page": page, "pages": pages, "total": total, "per_page": per_page,
        "first_item": (page - 1) * per_page + 1 if total else 0,
        "last_item": min(page * per_page, total),
        "previous": url_with(page=page - 1 if page > 2 else None) if page > 1 else None,
        "next": url_with(page=page + 1) if page < pages else None,
        "first": url_with(page=None) if page > 3 else None,
        "last": url_with(page=pages) if page + 2 < pages else None,
        "numbered": [{"number": n, "url": url_with(page=n if n > 1 else None), "current": n == page}
                     for n in window],
    }


def wants_json() -> bool:
    return request.path.endswith(".json") or request.path.endswith(".jsonld")


def handle_error(error: HTTPException):
    """Every error is a page in the reader's language (or JSON for a .json URL), never a stack trace."""
    titles = {400: _("This request cannot be answered"), 404: _("Not found"),
              405: _("Method not allowed"), 413: _("Too large"), 429: _("Too many requests"),
              500: _("Something went wrong"), 503: _("Temporarily unavailable")}
    code = error.code or 500
    message = error.description if code != 500 else _("The error has been logged. Please try again later.")
    if code == 429:  # the limiter's description is its limit ("300 per 1 minute"), in English
        message = _("Too many requests from your address in a short time. Please wait a minute and try again.")
    if message == type(error).description:  # Werkzeug's English default: say it in the reader's language
        message = {404: _("There is no page at this address. Check the link, or search the register."),
                   405: _("This address does not accept that kind of request.")}.get(code, message)
    if wants_json():
        response = jsonify({"error": {"code": code, "title": titles.get(code, error.name), "message": str(message)}})
        response.status_code = code
        return response
    return render_template("error.html", code=code, title=titles.get(code, error.name),
                           message=message), code


def init_app(app: Flask) -> None:
    app.json = JSONProvider(app)
    app.register_error_handler(HTTPException, handle_error)
    app.add_template_global(url_with)
