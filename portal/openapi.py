"""The OpenAPI 3.1 document of `/api/v1`: the one description of every endpoint and JSON shape.

It is served at `/api/v1/openapi.json`, rendered as the human-readable page at `/api/v1/`, and the
test suite fuzzes the API from it (schemathesis), so the document, the docs and the behaviour
cannot drift apart.
"""
from __future__ import annotations

from congkhai import receipts
from congkhai.statuses import STATUSES
from congkhai.policy import ELIGIBILITY_RULES

from congkhai.rules.commendation import REASONS as COMMENDATION_REASONS
from congkhai.rules.results import FIGURES as RESULT_FIGURES, REPORTED_APART

from .params import MAX_PAGE, MAX_QUERY_LENGTH, PER_PAGE_CHOICES

ERROR_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "batch_too_large",
               429: "rate_limited", 500: "internal_error", 503: "unavailable"}
SORTS = ("relevance", "arrears", "months", "name")
MAX_AMOUNT = 10 ** 18 - 1


def _nullable(schema: dict) -> dict:
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, required: list | None = None, additional: bool = True) -> dict:
    schema = {"type": "object", "properties": properties,
              "required": list(properties) if required is None else required}
    if not additional:
        schema["additionalProperties"] = False
    return schema


STRING = {"type": "string"}
NULL_STRING = _nullable(STRING)
DATE = {"type": "string", "format": "date"}
INT64 = {"type": "integer", "format": "int64", "minimum": 0}
COUNT = {"type": "integer", "minimum": 0}
RELEASE_ID = {"type": ["string", "null"], "description": "Id (as-of date) of the release the answer came from."}
LINKS = {"type": "object", "additionalProperties": STRING}
VERIFICATION_CODE_PATTERN = "^[0-9A-TV-Za-tv-z]{5}-?[0-9A-TV-Za-tv-z]{5}$"  # as typed: no U, any case
DISPUTED_SINCE = {**_nullable(DATE), "description": "While the employer disputes its entry (right of reply): the "
                                                  "day the oldest open dispute was opened; null otherwise."}
FUND = {**_nullable(INT64), "description": "This fund's arrears in VND; null when the province's report does not split "
                                           "its total by this fund (a total only, or BHXH and BHTN in one column): "
                                           "unknown, not 0."}
AMOUNTS = {
    "arrears_bhxh": FUND, "arrears_bhyt": FUND, "arrears_bhtn": FUND,
    "arrears_bhtnld": {**_nullable(INT64), "description": "Occupational accident and disease insurance (BHTNLĐ-BNN) "
                                                          "arrears in VND when the report gives them apart; null "
                                                          "otherwise. Part of arrears_total."},
    "arrears_total": {**INT64, "description": "Total arrears in VND as the report totals them (every fund); the status "
                                              "rules read it. Never includes interest."},
    "interest": {**_nullable(INT64), "description": "Late-payment interest in VND as reported, never part of "
                                                    "arrears_total; null when the report does not state it."},
}

SCHEMAS = {
    "Error": _object({
        "error": _object({
            "code": {"type": "string", "enum": sorted(set(ERROR_CODES.values()))},
            "status": {"type": "integer"},
            "message": STRING,
        }),
        "release_id": RELEASE_ID,
    }),
    "Release": _object({
        "id": STRING, "as_of": DATE, "created_at": {"type": "string", "format": "date-time"},
        "partial": {"type": "boolean"}, "provinces": {"type": "array", "items": STRING},
        "missing_provinces": {"type": "object", "additionalProperties": STRING},
        "policy": {"type": "object", "description": "Thresholds and rules in force for this release."},
        "counts": {"type": "object", "description": "Rows read and rejected, employers per status, arrears."},
        "datapackage_sha256": NULL_STRING, "links": LINKS,
        "verification": {"type": "object", "description": "What the checks against each province's previous report "
                                                           "let through: provinces published without control totals, "
                                                           "removals the operator confirmed, employers kept at their "
                                                           "last reported state (not_reported)."},
    }),
    "ReleaseList": _object({"release_id": RELEASE_ID, "releases": {"type": "array", "items": _ref("Release")}}),
    "ReleaseDetail": _object({
        "release_id": RELEASE_ID, "release": _ref("Release"), "signed": {"type": "boolean"},
        "files": {"type": "array", "items": _object({"name": STRING, "bytes": COUNT, "sha256": NULL_STRING})},
    }),
    "SearchHit": _object({
        "key": STRING, "name": STRING, "tax_code": NULL_STRING, "province_code": STRING, "province": STRING,
        "status": {"type": "string", "enum": list(STATUSES)}, "ownership_type": STRING, "sector": STRING,
        "arrears_total": INT64, "months_late": COUNT, "disputed_since": DISPUTED_SINCE, "links": LINKS,
    }),
    "FacetValue": _object({"value": STRING, "count": COUNT}),
    "RangeBucket": _object({"min": {"type": "integer"}, "max": {"type": ["integer", "null"]}, "count": COUNT}),
    "SearchResult": _object({
        "release_id": RELEASE_ID, "as_of": DATE, "query": STRING, "sort": {"type": "string", "enum": list(SORTS)},
        "total": COUNT, "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer"},
        "pages": {"type": "integer", "minimum": 1}, "fuzzy": {"type": "boolean"}, "truncated": {"type": "boolean"},
        "identifier": NULL_STRING, "results": {"type": "array", "items": _ref("SearchHit")},
        "facets": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"anyOf": [_ref("FacetValue"), _ref("RangeBucket")]}}},
    }),
    "State": _object({
        "status": {"type": "string", "enum": list(STATUSES)}, **AMOUNTS, "months_late": COUNT,
        "evasion_decision": NULL_STRING,
        "evasion_decision_date": _nullable(DATE), "enforcement_stage": NULL_STRING,
        "notice_from": _nullable(DATE), "listing_on": _nullable(DATE), "not_reported_since": _nullable(DATE),
    }),
    "Correction": _object({
        "id": COUNT, "key": STRING, "name": STRING, "province_code": STRING, "tax_code": STRING,
        "applies_from": DATE, "applies_to": _nullable(DATE), "published": _nullable(_ref("State")),
        "corrected": _nullable(_ref("State")), "removed": {"type": "boolean"}, "reason": STRING, "source": STRING,
        "recorded_in_release": STRING, "recorded_at": STRING, "url": STRING,
    }),
    "HistoryInterval": {"allOf": [_ref("State"), _object({"valid_from": DATE, "valid_to": _nullable(DATE)})]},
    "Employer": _object({
        "key": STRING, "name": STRING, "tax_code": NULL_STRING, "unit_code": STRING,
        "personal_id_masked": {"type": ["string", "null"], "pattern": r"^\d{3}\*+\d{2}$",
                               "description": "A household owner's personal number, masked; never in full."},
        "is_household": {"type": "boolean"}, "province_code": STRING, "province": STRING, "ownership_type": STRING,
        "sector": STRING, "employees": {"type": ["integer", "null"]},
    }, required=["key", "name", "tax_code", "unit_code", "personal_id_masked", "is_household", "province_code"]),
    "EmployerDetail": _object({
        "release_id": RELEASE_ID, "as_of": DATE, "employer": _ref("Employer"),
        "state": _nullable(_ref("State")), "since": _nullable(DATE),
        "disputed_since": DISPUTED_SINCE,
        "eligibility": _object({"eligible": {"type": ["boolean", "null"]}, "reason": STRING,
                                "rule": {"type": "string", "enum": list(ELIGIBILITY_RULES)}}),
        "history": {"type": "array", "items": _ref("HistoryInterval")}, "links": LINKS,
        "known_at": _nullable(DATE),
        "known": _object({
            "known_at": _nullable(DATE), "corrected": {"type": "boolean"},
            "as_published": _nullable(_ref("State")), "as_known": _nullable(_ref("State")),
            "correction": _nullable(_ref("Correction")), "corrections": {"type": "array", "items": _ref("Correction")},
        }),
    }),
    "Answer": _object({
        "row": {"type": "integer", "minimum": 1},
        "input": {"type": "string", "description": "The code as asked; a personal number only masked."},
        "kind": {"type": "string", "enum": [receipts.TAX_CODE, receipts.UNIT_CODE, receipts.PERSONAL]},
        "outcome": {"type": "string", "enum": [receipts.FOUND, receipts.UNKNOWN, receipts.MALFORMED,
                                               receipts.DUPLICATE]},
        "problem": {"type": "string", "enum": list(receipts.PROBLEMS)},
        "duplicate_of": {"type": "integer"}, "duplicate_rows": {"type": "array", "items": {"type": "integer"}},
        "employer": _object({"key": STRING, "name": STRING, "tax_code": NULL_STRING, "unit_code": STRING,
                             "personal_id_masked": NULL_STRING, "province_code": STRING}),
        "state": _nullable(_object({
            "status": {"type": "string", "enum": list(STATUSES)}, "since": DATE, "arrears_total": INT64,
            "months_late": COUNT, "evasion_decision": NULL_STRING, "evasion_decision_date": _nullable(DATE),
            "enforcement_stage": NULL_STRING})),
        "eligible": {"type": ["boolean", "null"], "description": "null: no answer (not in the register on the "
                                                                 "date, unknown, malformed or duplicate)."},
        "reason": {"type": "string", "enum": ["eligible", "evading", "delinquent", "no_record", receipts.UNKNOWN,
                                              receipts.MALFORMED, receipts.DUPLICATE,
                                              *(r for r in COMMENDATION_REASONS if r != "no_record")]},
        "note": {"type": "string", "enum": [receipts.PROVINCE_MISSING]},
    }, required=["row", "input", "outcome", "eligible", "reason"]),
    "ReleaseRef": _object({"id": STRING, "as_of": DATE, "datapackage_sha256": NULL_STRING,
                           "partial": {"type": "boolean"},
                           "published_at": {**NULL_STRING, "description": "When the release's data was last updated "
                                                                         "(version 2)."}},
                          required=["id", "as_of", "datapackage_sha256", "partial"]),
    "Rule": _object({"name": {"type": "string", "enum": [*ELIGIBILITY_RULES, receipts.COMMENDATION]},
                     "policy_version": STRING, "window_months": {"type": "integer"},
                     "requires_full_history": {"type": "boolean"}}, required=["name", "policy_version"]),
    "Summary": _object({name: COUNT for name in ("rows", "eligible", "barred", "not_in_register_on_date",
                                                 "unknown", "malformed", "duplicates")}),
    "DateSection": _object({
        "date": DATE, "role": {"type": ["string", "null"], "enum": [*receipts.ROLES, None]},
        "date_basis": {"type": "string", "enum": list(receipts.DATE_BASES)}, "release": _ref("ReleaseRef"),
        "rule": _ref("Rule"), "answers": {"type": "array", "items": _ref("Answer")}, "summary": _ref("Summary")}),
    "Receipt": _object({
        "type": {"const": receipts.RECEIPT_TYPE}, "version": {"type": "integer", "enum": list(receipts.RECEIPT_VERSIONS)},
        "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "created_at": {"type": "string", "format": "date-time"},
        "check": {"type": "string", "enum": list(receipts.CHECKS),
                  "description": "Version 2: tender eligibility or commendation (version 1: tender)."},
        "question": _object({"date": DATE, "codes": {"type": "array", "items": STRING},
                             "dates": {"type": "array", "items": _object({
                                 "date": DATE, "role": {"type": ["string", "null"], "enum": [*receipts.ROLES, None]}})}},
                            required=["date", "codes"]),
        "date_basis": {"type": "string", "enum": list(receipts.DATE_BASES)},
        "release": _ref("ReleaseRef"), "rule": _ref("Rule"),
        "answers": {"type": "array", "items": _ref("Answer")}, "summary": _ref("Summary"),
        "further_dates": {"type": "array", "items": _ref("DateSection"),
                          "description": "Version 2: the answers for the second date (the award date)."},
        "verification_code": {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$",
                              "description": "Version 2: ten characters to type on /verify."},
        "current_days": {"type": "integer", "minimum": 1}, "current_until": DATE,
        "public_key_id": STRING,
    }, required=["type", "version", "id", "created_at", "question", "date_basis", "release", "rule", "answers",
                 "summary", "public_key_id"]),
    "ResultRow": _object({
        "release_id": STRING, "as_of": DATE, "provinces": COUNT,
        **{name: {**_nullable(INT64), "description": "Summed over the employers whose report gives it apart; null "
                                                      "when none does (unknown, not 0)."}
           if name in REPORTED_APART else INT64 for name in RESULT_FIGURES}}),
    "RankedProvince": _object({
        "code": STRING, "name": STRING, "short_name": STRING, "url": STRING, "arrears_at_start": INT64,
        "recovered": INT64, "reported": COUNT, "recovery_rate": {"type": ["number", "null"], "minimum": 0},
        "recovery_rate_text": STRING}),
    "Ranking": _object({"days": {"type": "integer"}, "start": DATE, "end": DATE, "releases": COUNT,
                        "provinces": {"type": "array", "items": _ref("RankedProvince")}}),
    "Results": _object({
        "release_id": RELEASE_ID,
        "scope": _nullable(_object({"province_code": STRING, "name": STRING, "name_en": STRING})),
        "period": {"type": "string", "enum": ["30", "90", "365", "all"]},
        "definitions": {"type": "object", "additionalProperties": STRING,
                        "description": "What each figure means, in the reader's language."},
        "latest": _nullable(_ref("ResultRow")),
        "series": {"type": "array", "items": _ref("ResultRow")},
        "span": {**_nullable(_object({"first": DATE, "last": DATE, "releases": COUNT})),
                 "description": "What the series covers: its first and last release dates and how many "
                                "releases; null when it is empty."},
        "ranking": {"type": "object", "additionalProperties": _nullable(_ref("Ranking")),
                    "description": "days_7 and days_30: provinces by recovery rate = recovered / offenders' "
                                   "arrears at the window's start."},
    }),
    "InspectionRow": _object({
        "key": STRING, "name": STRING, "tax_code": NULL_STRING, "unit_code": STRING, "province_code": STRING,
        "province": STRING, "status": {"type": "string", "enum": list(STATUSES)}, "arrears_total": INT64,
        "months_late": COUNT, "enforcement_stage": NULL_STRING, "disputed_since": DISPUTED_SINCE, "links": LINKS},
        required=["key", "name", "province_code", "status", "arrears_total", "months_late", "disputed_since",
                  "links"]),
    "Inspections": _object({
        "release_id": RELEASE_ID, "as_of": DATE,
        "policy": _object({"min_months": {"type": "integer", "minimum": 1},
                           "publish": {"type": "string", "enum": ["before_visit", "after_visit"]}}),
        "total": COUNT, "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer"},
        "results": {"type": "array", "items": _ref("InspectionRow")}}),
    "Signature": _object({"algorithm": {"const": receipts.ALGORITHM}, "public_key_id": STRING, "value": STRING}),
    "SignedReceipt": _object({
        "release_id": RELEASE_ID, "receipt": _ref("Receipt"), "signature": _ref("Signature"), "links": LINKS,
    }, required=["release_id", "receipt", "signature"]),
    "ReceiptMatches": _object({
        "release_id": RELEASE_ID,
        "receipts": {"type": "array", "items": _ref("SignedReceipt"), "minItems": 1,
                     "description": "Normally one: receipts share a code (50 bits of the id) only by rare "
                                    "chance, and then all of them are given, in the order of their ids."},
    }),
    "BatchQuestion": _object({
        "codes": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": receipts.MAX_CODES,
                  "description": f"Tax codes, unit codes or household personal numbers; at most {receipts.MAX_CODES}. "
                                 "A code that cannot be one is answered as a malformed row, never dropped."},
        "date": {"type": "string", "format": "date", "description": "Default: today (Asia/Ho_Chi_Minh). For a "
                                                                   "tender: the bid closing date."},
        "award_date": {"type": "string", "format": "date", "description": "Tender checks only: a second date (the "
                                                                         "award date) answered in the same receipt."},
    }, required=["codes"]),
    "ReceiptToVerify": {"type": "object",
                        "description": "A signed receipt ({\"receipt\": Receipt, \"signature\": Signature}) as "
                                       "returned by the API or downloaded as JSON. Any other JSON object is answered "
                                       "with authentic: false, reason not_a_receipt; anything but an object is a 400."},
    "Verification": _object({
        "release_id": RELEASE_ID, "authentic": {"type": "boolean"},
        "reason": {"type": "string", "enum": [receipts.AUTHENTIC, receipts.NOT_A_RECEIPT, receipts.UNKNOWN_KEY,
                                              receipts.BAD_SIGNATURE]},
        "receipt_id": NULL_STRING, "public_key_id": NULL_STRING, "on_file": {"type": "boolean"}, "message": STRING,
    }),
}

HEADERS = {
    "X-Release-Id": {"description": "Id of the release the answer came from (absent before the first release).",
                     "schema": STRING},
}
GET_HEADERS = {
    **HEADERS,
    "ETag": {"description": "Changes with the release and the content; send it back in If-None-Match.",
             "schema": STRING},
    "Cache-Control": {"description": "How long the answer may be cached.", "schema": STRING},
}


def _error(description: str) -> dict:
    return {"description": description, "headers": HEADERS,
            "content": {"application/json": {"schema": _ref("Error")}}}


def _ok(schema: str, description: str, get: bool = True) -> dict:
    return {"description": description, "headers": GET_HEADERS if get else HEADERS,
            "content": {"application/json": {"schema": _ref(schema)}}}


NOT_MODIFIED = {"description": "Not modified: the ETag sent in If-None-Match still matches."}
COMMON = {"429": _error("Rate limited: too many requests from this client; see Retry-After."),
          "405": _error("Method not allowed on this path.")}


def _query(name: str, schema: dict, description: str, **extra) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


AS_OF = _query("as_of", {"type": "string", "format": "date"},
               "Answer for this past date from the history (YYYY-MM-DD); default: the latest release.")
KNOWN_AT = _query("known_at", {"type": "string", "format": "date"},
                  "Answer with the corrections published by this date (YYYY-MM-DD, not before as_of); default: "
                  "every correction published so far. `state` is always what the list said; `known` adds what "
                  "was known at known_at.")
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": STRING,
                 "description": "An ETag from an earlier answer: 304 when it is still current."}
AMOUNT = {"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT}

SEARCH_PARAMETERS = [
    _query("q", {"type": "string", "maxLength": MAX_QUERY_LENGTH},
           "Name (with or without diacritics, abbreviations such as cty/tnhh allowed), tax code or unit code."),
    _query("status", {"type": "array", "items": {"type": "string", "enum": list(STATUSES)}, "maxItems": len(STATUSES)},
           "Only these statuses (repeat the parameter).", style="form", explode=True),
    _query("province", {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 34},
           "Province codes such as 01 or 79, or slugs such as dong-nai (repeat the parameter).",
           style="form", explode=True),
    _query("ownership", {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 10},
           "Ownership types, as written in the data.", style="form", explode=True),
    _query("sector", {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 10},
           "Sectors, as written in the data.", style="form", explode=True),
    _query("arrears_min", AMOUNT, "Smallest total arrears in VND (inclusive)."),
    _query("arrears_max", AMOUNT, "Largest total arrears in VND (inclusive)."),
    _query("months_min", AMOUNT, "Fewest months late (inclusive)."),
    _query("months_max", AMOUNT, "Most months late (inclusive)."),
    _query("sort", {"type": "string", "enum": list(SORTS)}, "Default: relevance with words, arrears without."),
    _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "Page number, from 1."),
    _query("per_page", {"type": "integer", "enum": list(PER_PAGE_CHOICES)}, "Results per page (default 20)."),
    AS_OF,
]


def _get(summary: str, description: str, ok: dict, parameters: list, errors: dict, tag: str, operation: str) -> dict:
    return {"get": {"summary": summary, "description": description, "operationId": operation, "tags": [tag],
                    "parameters": [*parameters, IF_NONE_MATCH],
                    "responses": {"200": ok, "304": NOT_MODIFIED, **errors, **COMMON}}}


def _post(summary: str, description: str, body: str, ok: dict, errors: dict, tag: str, operation: str) -> dict:
    return {"post": {"summary": summary, "description": description, "operationId": operation, "tags": [tag],
                     "requestBody": {"required": True,
                                     "content": {"application/json": {"schema": _ref(body)}}},
                     "responses": {"200": ok, **errors, **COMMON}}}


def document(server_url: str = "/api/v1", release_id: str | None = None) -> dict:
    bad = {"400": _error("Bad input: the message says which parameter and why.")}
    unknown = {"404": _error("Unknown: no such employer, release or receipt, or no release for that date.")}
    eligibility_single = _get(
        "Check one code", "Eligibility of one employer for tenders funded by the state budget on a date, "
        "answered from the status history, as a signed receipt (the same question of the same release "
        "returns the same receipt).", _ok("SignedReceipt", "The signed receipt."),
        [{"name": "code", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1},
          "description": "Tax code, unit code, or a household owner's full personal number; a malformed one is "
                         "answered as a malformed row."},
         _query("date", {"type": "string", "format": "date"}, "Date that matters (the bid closing date); default "
                "today."),
         _query("award_date", {"type": "string", "format": "date"},
                "A second date (the award date) answered in the same receipt.")],
        {**bad, **unknown, "503": _error("Receipts cannot be signed at the moment.")}, "eligibility",
        "checkEligibility")
    eligibility_single.update(_post(
        "Check up to 1,000 codes", "The same check for a list; every row is answered (found, unknown, "
        "malformed, duplicate), none is dropped.", "BatchQuestion", _ok("SignedReceipt", "The signed receipt.", False),
        {**bad, **unknown, "413": _error("More than 1,000 codes, or a body over 1 MB."),
         "503": _error("Receipts cannot be signed at the moment.")}, "eligibility", "checkEligibilityBatch"))
    commendation = _get(
        "Commendation check, one code", "May the employer be commended or given an award on the date: no arrears "
        "in any release of the policy's commendation window (and followed by the register for all of it, if the "
        "policy asks), as a signed receipt.", _ok("SignedReceipt", "The signed receipt."),
        [eligibility_single["get"]["parameters"][0], _query("date", {"type": "string", "format": "date"},
                                                            "Date of the commendation; default today.")],
        {**bad, **unknown, "503": _error("Receipts cannot be signed at the moment.")}, "eligibility",
        "checkCommendation")
    commendation.update(_post(
        "Commendation check, up to 1,000 codes", "The same check for a list; every row is answered.",
        "BatchQuestion", _ok("SignedReceipt", "The signed receipt.", False),
        {**bad, **unknown, "413": _error("More than 1,000 codes, or a body over 1 MB."),
         "503": _error("Receipts cannot be signed at the moment.")}, "eligibility", "checkCommendationBatch"))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Công khai API",
            "version": "1.0.0",
            "summary": "Employers behind on social, health and unemployment insurance contributions, and tender "
                       "eligibility with signed receipts.",
            "description": "Every response carries the id of the release it came from (header X-Release-Id and "
                           "`release_id` in the body). GET answers are cacheable: ETag and Cache-Control follow "
                           "the release, and a matching If-None-Match gets 304. GET is open to every origin "
                           "(CORS). Errors are `{\"error\": {\"code\", \"status\", \"message\"}}`. Requests are "
                           "rate limited per client (429 with Retry-After).",
            "license": {"name": "CC-BY-4.0", "identifier": "CC-BY-4.0"},
        },
        "servers": [{"url": server_url}],
        "x-release-id": release_id,
        "tags": [{"name": "employers"}, {"name": "releases"}, {"name": "results"}, {"name": "eligibility"}, {"name": "receipts"},
                 {"name": "about"}],
        "paths": {
            "/employers": _get("Search employers", "Same query language, filters, sorting and paging as the "
                               "portal's search page.", _ok("SearchResult", "A page of results with facets."),
                               SEARCH_PARAMETERS, {**bad, **unknown,
                                                   "503": _error("Search is not available for this release.")},
                               "employers", "searchEmployers"),
            "/employers/{code}": _get(
                "One employer with its history", "By tax code (10 or 13 digits) or agency unit code; a household "
                "business by its unit code.", _ok("EmployerDetail", "The employer, its state and history."),
                [{"name": "code", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40},
                  "description": "Tax code or unit code."}, AS_OF, KNOWN_AT], {**bad, **unknown}, "employers",
                "getEmployer"),
            "/releases": _get("Every release", "Complete releases, newest first.",
                              _ok("ReleaseList", "The releases."), [], {}, "releases", "listReleases"),
            "/releases/{date}": _get(
                "One release", "Metadata, policy, counts and files (with their SHA-256) of a release.",
                _ok("ReleaseDetail", "The release."),
                [{"name": "date", "in": "path", "required": True, "schema": {"type": "string", "format": "date"},
                  "description": "The release's as-of date."}], unknown, "releases", "getRelease"),
            "/results": _get(
                "Daily results", "The provincial offices' daily results, release by release, for the country or "
                "one province, and the provinces ranked by recovery rate over 7 and 30 days.",
                _ok("Results", "The series and the rankings."),
                [_query("province", {"type": "string", "maxLength": 200},
                        "One province code such as 75, or slug such as dong-nai; default: the whole country."),
                 _query("period", {"type": "string", "enum": ["30", "90", "365", "all"]},
                        "Days of the series, counted back from the latest release; default: all.")],
                bad, "results", "getResults"),
            "/inspections": _get(
                "Planned inspections", "Employers in arrears for the policy's months or more and not yet inspected "
                "(or, if the policy publishes after the visit, inspected), most months late first.",
                _ok("Inspections", "A page of the list."),
                [SEARCH_PARAMETERS[2], SEARCH_PARAMETERS[10], SEARCH_PARAMETERS[11], AS_OF],
                {**bad, **unknown}, "results", "listPlannedInspections"),
            "/eligibility": eligibility_single,
            "/commendation": commendation,
            "/receipts/{id}": _get(
                "A receipt", "A stored receipt; receipts never change.", _ok("SignedReceipt", "The receipt."),
                [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64},
                  "description": "Receipt id."}], unknown, "receipts", "getReceipt"),
            "/receipts": _get(
                "Receipts by verification code", "The receipt whose short verification code (printed on it, "
                "typed on the portal's /verify page) is the one given, as GET /receipts/{id} gives it.",
                _ok("ReceiptMatches", "The matching receipts."),
                [{"name": "code", "in": "query", "required": True, "example": "7K3M9-X2Q4P",
                  "schema": {"type": "string", "maxLength": 40, "pattern": VERIFICATION_CODE_PATTERN},
                  "description": "Ten characters of Crockford base 32 (XXXXX-XXXXX); case, spaces and dashes do "
                                 "not matter and O, I, L read as 0, 1, 1."}],
                {"400": _error("Not a verification code: it needs ten letters and digits."),
                 "404": _error("No receipt has this verification code.")}, "receipts", "findReceiptsByCode"),
            "/verify": _post("Verify a receipt", "Whether a receipt is authentic (signed by the publishing key) "
                             "and unaltered, and whether this portal holds it.", "ReceiptToVerify",
                             _ok("Verification", "The verdict.", False),
                             {**bad, "413": _error("A body over 8 MB: larger than any receipt of 1,000 rows.")},
                             "receipts", "verifyReceipt"),
            "/": _get("This documentation as a web page", "The same document, readable.",
                      {"description": "The documentation page.", "headers": GET_HEADERS,
                       "content": {"text/html": {"schema": {"type": "string"}}}}, [], {}, "about", "getDocs"),
            "/openapi.json": _get("This document", "The OpenAPI 3.1 description of the API.",
                                  {"description": "This document.", "headers": GET_HEADERS,
                                   "content": {"application/json": {"schema": {"type": "object"}}}},
                                  [], {}, "about", "getOpenAPI"),
        },
        "components": {"schemas": SCHEMAS},
    }
