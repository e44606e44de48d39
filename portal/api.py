"""The public JSON API (`/api/v1`) for newsrooms and e-procurement systems.

The same answers as the pages, through the same functions: search through `congkhai.search` with
the portal's query language and filters, employers and releases through the core's Register (`portal.current`),
eligibility through `portal.eligibility.issue_receipt`. `portal.openapi` describes every endpoint;
the docs page renders that document.

Each answer is its area's data function (the one its page and .json twin render) through the API's
field names (`portal.api_fields`). Conventions, applied to every response under /api/ in one place
(`portal.responses.finish`, `portal.conventions`): the release id in `X-Release-Id` and in the
body, errors as `{"error": {"code", "status", "message"}}`, CORS open for GET; ETag, Cache-Control
and 304 to a matching If-None-Match come from `portal.cache`, as for every page.
"""
from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from congkhai import receipts
from congkhai.models import Receipt
from congkhai.receipts import mask_long_digits

from . import api_fields, cache, current, eligibility, openapi, params, ratelimits, release_files, rendering
from .conventions import PREFIX, current_release_id
from .employers import employer_data
from .search import public_query, search_data, search_filters

bp = Blueprint("api", __name__, url_prefix="/api/v1")

IMMUTABLE = "public, max-age=31536000, immutable"


def answer(data: dict, release_id: str | None, cache: str | None = None):
    """A JSON answer that names its release; `cache` overrides the release-tied Cache-Control."""
    return json_text_answer(current_app.json.dumps({"release_id": release_id, **data}), release_id, cache)


# ---- employers ----------------------------------------------------------------------------------------

@bp.get("/employers")
def employers():
    q = public_query(params.query_text())
    sort = params.choice("sort", openapi.SORTS, "relevance" if q else "arrears")
    release, day = params.answering()
    data = search_data(q, search_filters(), sort, params.page_number(), params.per_page(), release, day,
                       labelled_facets=False)
    return answer(api_fields.search(data), release.id)


@bp.get("/employers/<code>")
def employer(code: str):
    found = current.register().find_employer(code) or (current.register().employer(code) if len(code) <= 40 else None)
    if found is None:
        abort(404, description=_("No employer has the identifier %(key)s in the register.",
                                 key=mask_long_digits(code[:40])))
    release, day = params.answering()
    return answer(api_fields.employer(employer_data(found, release, day)), release.id)


# ---- releases -----------------------------------------------------------------------------------------

@bp.get("/releases")
def releases():
    return answer({"releases": [release_files.release_metadata(r) for r in current.register().releases()]},
                  current_release_id())


@bp.get("/releases/<date_text>")
def release(date_text: str):
    found = current.register().release(date_text) if len(date_text) == 10 else None
    if found is None:
        abort(404, description=_("There is no release of %(day)s.", day=date_text[:20]))
    files = release_files.release_files(found.id)
    return answer(api_fields.release({"release": release_files.release_metadata(found), **files}), found.id)


# ---- daily results ------------------------------------------------------------------------------------

@bp.get("/results")
def results():
    from . import results as daily

    period = request.args.get("period", "all")
    if period not in daily.PERIODS:
        params.bad_request(_("%(name)s must be one of: %(allowed)s.", name="period", allowed=", ".join(daily.PERIODS)))
    return answer(api_fields.results(daily.results_data(daily.scope(), period)), current_release_id())


@bp.get("/inspections")
def inspections():
    from . import inspections as planned

    release, day = params.answering()
    data = planned.inspections_data(release, day, planned.inspection_filters(release, day), "months",
                                    params.page_number(), params.per_page())
    return answer(api_fields.inspections(data), release.id)


# ---- eligibility and receipts -----------------------------------------------------------------------------

def signed_receipt(stored: Receipt, public_key_id: str | None = None) -> str:
    """A receipt as the API gives it, alone or in a list (JSON text): signed, with its links and the
    release it answers from. The receipt is the stored bytes as they are, which are the bytes that
    were signed, so an auditor can check the signature over exactly what the API sent; writing them
    unparsed also halves what a batch check spends on JSON. Only the key id needs the body parsed
    when the caller does not know it."""
    if public_key_id is None:
        public_key_id = eligibility.document_of(stored)["signature"]["public_key_id"]
    dumps = current_app.json.dumps
    return (f'{{"links":{dumps(eligibility.links_for(stored.id))},"receipt":{stored.body},'
            f'"release_id":{dumps(stored.release_id)},'
            f'"signature":{dumps(receipts.signature_part(public_key_id, stored.signature))}}}')


def json_text_answer(text: str, release_id: str | None, cache: str | None = None):
    """`answer` for a body already written as JSON text (a receipt's stored bytes)."""
    g.release_id = release_id
    g.cache_control = cache
    return current_app.response_class(text, mimetype=current_app.json.mimetype)


def receipt_answer(issued: eligibility.Issued):
    return json_text_answer(signed_receipt(*issued), issued.stored.release_id)


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        params.bad_request(_("Send a JSON object with Content-Type: application/json."))
    return data


@bp.get("/eligibility", defaults={"check": "tender"})
@bp.get("/commendation", defaults={"check": "commendation"})
@cache.exempt  # issues a receipt, dated now, for a date that may be today's
def check_one(check: str):
    codes = [c for c in request.args.getlist("code") if c.strip()]
    if len(codes) != 1:
        params.bad_request(_("Give exactly one code in ?code=; POST a JSON list to check several."))
    return receipt_answer(eligibility.issue_receipt(
        codes, eligibility.question_days(request.args.get("date"),
                                         request.args.get("award_date") if check == "tender" else None), check))


@bp.post("/eligibility", defaults={"check": "tender"})
@bp.post("/commendation", defaults={"check": "commendation"})
def check_batch(check: str):
    data = json_body()
    codes = data.get("codes")
    if not isinstance(codes, list):
        params.bad_request(_("\"codes\" must be a list of tax codes or unit codes."))
    wrong = next((i for i, c in enumerate(codes) if isinstance(c, bool) or not isinstance(c, (str, int))), None)
    if wrong is not None:
        params.bad_request(_("codes[%(index)s] is not a string.", index=wrong))
    for name in ("date", "award_date"):
        if data.get(name) is not None and not isinstance(data[name], str):
            params.bad_request(_("\"%(name)s\" must be a string: YYYY-MM-DD.", name=name))
    if check != "tender" and data.get("award_date") is not None:
        params.bad_request(_("\"award_date\" belongs to tender checks only."))
    return receipt_answer(eligibility.issue_receipt(
        [str(c) for c in codes], eligibility.question_days(data.get("date"), data.get("award_date")), check))


@bp.get("/receipts/<receipt_id>")
def receipt(receipt_id: str):
    stored = eligibility.receipt_or_404(receipt_id)
    return json_text_answer(signed_receipt(stored), stored.release_id, IMMUTABLE)


@bp.get("/receipts")
def receipts_with_code():
    """The typed verification code of /verify, for programs; the API's rate limit keeps it from enumerating."""
    found = eligibility.receipts_by_code(request.args.get("code", ""))
    release_id = current_release_id()
    return json_text_answer('{"receipts":[%s],"release_id":%s}' % (
        ",".join(signed_receipt(stored) for stored in found), current_app.json.dumps(release_id)), release_id)


@bp.post("/verify")
def verify():
    return answer(eligibility.verify_document(json_body()), current_release_id())


# ---- the description of the API ------------------------------------------------------------------------------

def spec() -> dict:
    base = current_app.config["CONGKHAI_BASE_URL"].rstrip("/")
    return openapi.document(base + bp.url_prefix, current_release_id())


@bp.get("/openapi.json")
def openapi_json():
    g.release_id = current_release_id()
    return jsonify(spec())


def operations(document: dict) -> list[dict]:
    """Every operation of the document, flattened for the docs page."""
    out = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            out.append({"method": method.upper(), "path": bp.url_prefix + path.rstrip("/") + ("/" if path == "/" else ""),
                        "anchor": operation["operationId"], **operation,
                        "body": operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                        .get("schema", {}).get("$ref", "").rpartition("/")[2],
                        "responses": [{"status": status, "description": response["description"],
                                       "schema": response.get("content", {}).get("application/json", {})
                                       .get("schema", {}).get("$ref", "").rpartition("/")[2]}
                                      for status, response in operation["responses"].items()]})
    return out


def schema_rows(schema: dict) -> list[dict]:
    """Fields of an object schema as table rows: name, type, required, description."""
    rows = []
    for name, field in schema.get("properties", {}).items():
        if "$ref" in field:
            kind = field["$ref"].rpartition("/")[2]
        elif "anyOf" in field:
            kind = " | ".join(o.get("$ref", "").rpartition("/")[2] or str(o.get("type")) for o in field["anyOf"])
        elif field.get("type") == "array":
            items = field.get("items", {})
            kind = "array of " + (items.get("$ref", "").rpartition("/")[2] or str(items.get("type", "object")))
        elif "const" in field:
            kind = repr(field["const"])
        else:
            kind = field.get("type", "object")
            kind = " | ".join(kind) if isinstance(kind, list) else kind
        if field.get("enum"):
            kind += ": " + ", ".join(map(str, field["enum"]))
        rows.append({"name": name, "type": kind, "required": name in schema.get("required", []),
                     "description": field.get("description", "")})
    return rows


@bp.get("/")
def docs():
    document = spec()
    g.release_id = document["x-release-id"]
    schemas = [{"name": name, "rows": schema_rows(schema)} for name, schema in document["components"]["schemas"].items()
               if schema.get("type") == "object"]
    return render_template("api/docs.html", title=_("JSON API"), info=document["info"], release_id=g.release_id,
                           server=document["servers"][0]["url"], operations=operations(document), schemas=schemas,
                           spec_url=url_for("api.openapi_json"))


# ---- conventions for every /api/ response ----------------------------------------------------------------------

def api_error(error: HTTPException):
    code = error.code or 500
    message = error.description if code != 500 else _("The error has been logged. Please try again later.")
    if code == 429:
        message = _("Too many requests from this client (limit: %(limit)s). Wait and try again; see Retry-After.",
                    limit=getattr(getattr(error, "limit", None), "limit", "") or error.description)
    g.release_id = getattr(g, "release_id", None) or current_release_id()
    response = jsonify({"error": {"code": openapi.ERROR_CODES.get(code, "error"), "status": code,
                                  "message": str(message)}, "release_id": g.release_id})
    response.status_code = code
    if code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    g.cache_control = "no-store"
    return response


def handle_error(error: HTTPException):
    """JSON errors under /api/; a translated page for a rate-limited check; the portal's pages otherwise."""
    if request.path.startswith(PREFIX):
        return api_error(error)
    if error.code == 429 and getattr(getattr(error, "limit", None), "scope", None) == "batch":
        return render_template("error.html", code=429, title=_("Too many checks"),
                               message=_("Too many checks from your address in a short time. Please wait a minute "
                                         "and try again.")), 429
    return rendering.handle_error(error)


def init_app(app: Flask) -> None:
    """Call after the blueprints are registered (batch views are wrapped in their limit): errors and rate limits."""
    app.register_error_handler(HTTPException, handle_error)
    app.add_url_rule("/api", "api_root", lambda: redirect(url_for("api.docs")))
    ratelimits.init_app(app, bp, batch_endpoints=("api.check_batch", "eligibility.check"))
