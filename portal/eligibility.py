"""Tender eligibility for procurement officers: check codes for a date, get a signed receipt, verify one.

`/eligibility` takes one code, a pasted list or an uploaded file (CSV or one per line, up to
1,000) and the date that matters; the answer comes from the status history of the release in force
on that date, row by row. Every check is a receipt (`congkhai.receipts`): `/receipts/<id>` prints
on A4 with a QR code of its verification link, `/receipts/<id>.json` is what an auditor keeps, and
`/verify` says whether a receipt is authentic and unaltered, from its JSON or its typed verification
code. `issue_receipt()` is shared with the API.

`/commendation` is the same check for award committees, answered by the commendation rule; a tender
check may ask a second date (the award date) answered in the same receipt.

Dates: before the first release there is nothing to answer from (404, said plainly); a date after
the latest release is answered from the latest release and the receipt states it (`date_basis`:
`after_latest_release`, or `future` when the date is still to come, as the answer may change).
"""
from __future__ import annotations

import io
import json
from datetime import date, datetime, timezone
from typing import NamedTuple

import qrcode
import qrcode.image.svg
from flask import Blueprint, abort, current_app, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup

from congkhai import receipts
from congkhai.models import Receipt
from congkhai.policy import Policy
from congkhai.provinces import by_code
from congkhai.rules.commendation import commendation_verdict
from congkhai.signing import Signer, SigningKeyError, load_signer
from congkhai.register import ReleaseInfo

from . import cache, current, i18n, params, release_files
from .rendering import respond

bp = Blueprint("eligibility", __name__)

MAX_REQUEST_BYTES = 512 * 1024   # a form or upload of 1,000 codes is a few tens of kilobytes
SIGNER = "congkhai.signer"

OUTCOME_LABELS = {
    receipts.FOUND: _l("Found"),
    receipts.UNKNOWN: _l("Unknown code: no employer with this code is in the register"),
    receipts.MALFORMED: _l("Malformed code"),
    receipts.DUPLICATE: _l("Duplicate"),
}
PROBLEM_LABELS = {
    receipts.TOO_LONG: _l("too long to be a tax code or unit code"),
    receipts.NOT_A_CODE: _l("not a tax code (10 or 13 digits) or a unit code (such as YN0123A)"),
    receipts.WRONG_LENGTH: _l("wrong number of digits: a tax code has 10, a branch 13, a personal number 12"),
    receipts.CHECK_DIGIT: _l("the check digit is wrong: check the digits"),
    receipts.INVALID_TAX_CODE: _l("not a valid tax code"),
    receipts.FOREIGN_DIGITS: _l("written with digits other than 0-9: type the code with the digits 0 to 9"),
}
BASIS_LABELS = {
    receipts.RELEASE_DAY: _l("The date is the day of a release: answered from that release."),
    receipts.BETWEEN_RELEASES: _l("Answered from the status history: the release in force on that date."),
    receipts.AFTER_LATEST_RELEASE: _l("The date is after the latest release: answered from the latest release, "
                                      "the newest information the register has."),
    receipts.FUTURE: _l("The date is still to come: answered from the latest release. The answer may change "
                        "before that date; check again on the day."),
}
VERIFICATION_LABELS = {
    receipts.AUTHENTIC: _l("Authentic and unaltered: signed by the publishing key, and not changed since."),
    receipts.NOT_A_RECEIPT: _l("Not a receipt: the document does not have the shape of a Công khai receipt."),
    receipts.UNKNOWN_KEY: _l("Not authentic: it names a signing key that is not the publishing key."),
    receipts.BAD_SIGNATURE: _l("Not authentic or altered: the signature does not match the content. Something "
                               "in the receipt was changed after it was signed, or another key signed it."),
}


# ---- issuing receipts (also used by the API) ------------------------------------------------------------

def signer() -> Signer:
    """The publishing key, loaded once per process; without it no receipt can be issued."""
    loaded = current_app.extensions.get(SIGNER)
    if loaded is None:
        try:
            loaded = current_app.extensions[SIGNER] = load_signer(current_app.config["CONGKHAI_SIGNING_KEY"])
        except SigningKeyError as error:
            current_app.logger.error("receipts cannot be signed: %s", error)
            abort(503, description=_("Receipts cannot be signed at the moment. Please try again later."))
    return loaded


def question_day(raw: str | None) -> date:
    """The date that matters (the tender's closing date); today in Vietnam when none is given."""
    raw = (raw or "").strip()
    if not raw:
        return params.today()
    day = params.parse_day(raw[:20])
    if day is None:
        params.bad_request(_("Dates are written YYYY-MM-DD or DD/MM/YYYY."))
    return day


def release_for(day: date) -> tuple[ReleaseInfo, str]:
    """The latest complete release on or before `day` and how the date relates to it."""
    latest = current.release()
    if latest is None:
        abort(404, description=_("No release has been published yet."))
    release = latest if day >= latest.as_of else current.register().release_in_force(day)
    if release is None:
        abort(404, description=_("The register starts with the release of %(first)s; it cannot answer for "
                                 "%(day)s.", first=i18n.day(current.register().first_release_day()), day=i18n.day(day)))
    return release, receipts.date_basis(day, release.as_of, latest.as_of, params.today())


def document_of(stored: Receipt) -> dict:
    return receipts.signed_document(json.loads(stored.body), stored.signature)


def commendation_judge(found: dict, day: date, policy: Policy):
    """The commendation rule of the release's policy, over the found employers' histories."""
    window, full = policy.commendation_window_months, policy.commendation_requires_full_history
    histories = current.register().histories_of({match["employer"]["key"] for match in found.values()})

    def judge(match: dict):
        return commendation_verdict(histories.get(match["employer"]["key"], []), day, window, full)
    rule = {"name": receipts.COMMENDATION, "window_months": window, "requires_full_history": full,
            "policy_version": policy.version}
    return judge, rule


def answer_date(codes: list[receipts.Code], day: date, role: str | None, check: str) -> dict:
    """One date's section of a receipt: the release in force, the rule of its policy, the answers."""
    release, basis = release_for(day)
    found = current.register().employers_for_codes(day, receipts.lookups(codes))
    if check == receipts.COMMENDATION:
        judge, rule = commendation_judge(found, day, release.policy)
    else:
        judge, rule = None, {"name": release.policy.eligibility_rule, "policy_version": release.policy.version}
    answers = receipts.answer_rows(codes, found, rule["name"], tuple(release.missing_provinces), judge=judge)
    created = release.created_at if release.created_at.tzinfo else release.created_at.replace(tzinfo=timezone.utc)
    return receipts.date_section(
        day=day, role=role, basis=basis, rule=rule, answers=answers,
        release={"id": release.id, "as_of": release.as_of, "partial": release.partial,
                 "datapackage_sha256": release_files.datapackage_sha256(release),
                 "published_at": created.isoformat()})


class Issued(NamedTuple):
    """A receipt just issued (or found, the same question asked again) and the key id it is signed
    with, which its JSON form repeats: the API writes that form around the stored bytes without
    parsing them, which was a good part of a batch check's time."""
    stored: Receipt
    public_key_id: str


def issue_receipt(raw_codes: list[str], days: list[tuple[str | None, date]], check: str = receipts.TENDER) -> Issued:
    """Answer the codes for each (role, day) from the history and return the signed receipt (stored).

    The id covers the signing key, so a stored receipt found by id is signed with `key`. The same
    question asked again returns the receipt first issued for it (its time and signature)."""
    try:
        codes = receipts.parse_question(raw_codes)
    except receipts.TooManyCodes:
        abort(413, description=_("At most %(most)s codes can be checked at once.", most=receipts.MAX_CODES))
    except receipts.QuestionError:
        params.bad_request(_("Give at least one tax code or unit code."))
    sections = [answer_date(codes, day, role, check) for role, day in days]
    key = signer()
    latest = current.release()
    body = receipts.build_receipt(
        check=check, codes=codes, sections=sections, public_key_id=key.key_id,
        created_at=datetime.now(timezone.utc).replace(microsecond=0), today=params.today(),
        current_days=latest.policy.receipt_current_days, known_at=latest.as_of,
        corrected_keys=sorted({found for section in sections for found in current.corrected_on(
            date.fromisoformat(section["date"]),
            [a["employer"]["key"] for a in section["answers"] if a.get("employer")])}))
    stored = current.register().receipt(body["id"])
    if stored is None:
        data, document = receipts.sign_receipt(body, key)
        stored = current.store_receipt(body["id"], datetime.fromisoformat(body["created_at"]),
                                       body["release"]["id"], data, document["signature"]["value"])
    return Issued(stored, key.key_id)


def question_days(first: str | None, award: str | None) -> list[tuple[str | None, date]]:
    """The date that matters (the bid closing date) and, when given, the award date."""
    days = [(receipts.BID_CLOSING if (award or "").strip() else None, question_day(first))]
    if (award or "").strip():
        days.append((receipts.AWARD, question_day(award)))
    return days


def receipts_by_code(text: str) -> list[Receipt]:
    """Receipts a typed verification code names (normally one), for the page and the API alike: a clear
    400 for a code of the wrong shape, a 404 when no receipt has it."""
    code = receipts.parse_verification_code(text[:40])
    if code is None:
        params.bad_request(_("A verification code has 10 letters and digits, such as 7K3M9-X2Q4P."))
    found = [stored for stored in current.register().receipts_with_prefix(receipts.id_prefix_of_code(code))
             if receipts.verification_code(stored.id) == code]
    if not found:
        abort(404, description=_("No receipt has the verification code %(code)s. Check the ten characters "
                                 "printed on the receipt.", code=text.strip()[:20]))
    return found


def receipt_or_404(receipt_id: str) -> Receipt:
    stored = current.register().receipt(receipt_id)
    if stored is None:
        abort(404, description=_("No receipt has the identifier %(id)s.", id=receipt_id[:40]))
    return stored


def links_for(receipt_id: str) -> dict:
    base = current_app.config["CONGKHAI_BASE_URL"].rstrip("/")
    return {"html": url_for("eligibility.receipt", receipt_id=receipt_id),
            "json": url_for("eligibility.receipt", receipt_id=receipt_id, fmt="json"),
            "verify": base + url_for("eligibility.verify", id=receipt_id),
            "api": url_for("api.receipt", receipt_id=receipt_id)}


def verify_document(document) -> dict:
    """Cryptographic verdict plus whether this portal holds the same receipt on file."""
    verdict = receipts.verify_receipt(document, release_files.verification_keys())
    stored = current.register().receipt(verdict.receipt_id) if verdict.receipt_id else None
    on_file = bool(verdict.authentic and stored is not None and document_of(stored)["receipt"] == document["receipt"])
    return {**verdict.to_dict(), "on_file": on_file,
            "message": str(VERIFICATION_LABELS[verdict.reason]) + (f" ({verdict.detail})" if verdict.detail else "")}


# ---- presenting a receipt ---------------------------------------------------------------------------------

def verdict_text(eligible: bool, check: str) -> str:
    if check == receipts.COMMENDATION:
        return _("May be commended") if eligible else _("Not to be commended")
    return _("Eligible") if eligible else _("Barred")


def _why(answer: dict, check: str) -> str:
    outcome = answer["outcome"]
    if outcome == receipts.MALFORMED:
        return str(PROBLEM_LABELS.get(answer.get("problem"), OUTCOME_LABELS[outcome]))
    if outcome == receipts.DUPLICATE:
        return _("Same employer as row %(row)s: answered there.", row=answer["duplicate_of"])
    if outcome == receipts.UNKNOWN:
        return str(OUTCOME_LABELS[outcome])
    labels = i18n.COMMENDATION_LABELS if check == receipts.COMMENDATION else i18n.ELIGIBILITY_LABELS
    parts = [i18n.label(answer["reason"], labels) + "."]
    state = answer.get("state")
    if state:
        if state.get("evasion_decision"):
            parts.append(_("Evasion decision: %(decision)s.", decision=state["evasion_decision"]))
        if state["arrears_total"]:
            parts.append(_("Arrears %(amount)s, %(months)s months late.", amount=i18n.money(state["arrears_total"]),
                           months=state["months_late"]))
        if state.get("enforcement_stage"):
            parts.append(state["enforcement_stage"] + ".")
    if answer.get("note") == receipts.PROVINCE_MISSING:
        parts.append(_("The employer's province did not report in this release: the state shown is the last one "
                       "reported."))
    if answer.get("duplicate_rows"):
        parts.append(_("Also asked in rows %(rows)s.", rows=", ".join(map(str, answer["duplicate_rows"]))))
    return " ".join(parts)


def present_row(answer: dict, check: str = receipts.TENDER) -> dict:
    employer = answer.get("employer")
    state = answer.get("state")
    province = by_code().get(employer["province_code"]) if employer else None
    verdict = {True: "ok", False: "no"}.get(answer["eligible"], "unknown")
    return {
        "row": answer["row"], "input": answer["input"], "verdict": verdict, "outcome": answer["outcome"],
        "name": employer["name"] if employer else "",
        "identifier": (employer["tax_code"] or employer["personal_id_masked"] or employer["unit_code"]) if employer else "",
        "province": province.name if province else "",
        "url": url_for("employers.employer", key=employer["key"]) if employer else None,
        "status": state["status"] if state else None,
        "verdict_text": verdict_text(answer["eligible"], check) if answer["eligible"] is not None
        else (_("No answer") if answer["outcome"] != receipts.FOUND else _("Not in the register")),
        "why": _why(answer, check),
    }


def qr_svg(text: str) -> Markup:
    """An inline SVG QR code: printed receipts carry their verification link without any network call."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    svg = out.getvalue().decode("utf-8")
    return Markup(svg[svg.index("<svg"):])


ROLE_LABELS = {receipts.BID_CLOSING: _l("Bid closing date"), receipts.AWARD: _l("Award date")}
CHECK_TITLES = {receipts.TENDER: _l("Tender eligibility receipt"), receipts.COMMENDATION: _l("Commendation receipt")}


def rule_text(rule: dict) -> str:
    if rule["name"] == receipts.COMMENDATION:
        text = _("no arrears in any release of the %(months)s months before the date", months=rule["window_months"])
        if rule.get("requires_full_history"):
            text += "; " + _("followed by the register for those whole months")
        return text
    return i18n.label(rule["name"], i18n.RULE_LABELS)


def present_section(section: dict, check: str) -> dict:
    release = section["release"]
    return {"date": section["date"], "role_text": str(ROLE_LABELS[section["role"]]) if section.get("role") else "",
            "basis": section["date_basis"], "basis_text": str(BASIS_LABELS[section["date_basis"]]),
            "rule_text": rule_text(section["rule"]), "policy_version": section["rule"].get("policy_version", ""),
            "release": release, "release_url": url_for("lists.release", date_text=release["id"]),
            "partial": release["partial"], "summary": section["summary"],
            "rows": [present_row(answer, check) for answer in section["answers"]]}


def receipt_view(document: dict) -> dict:
    body = document["receipt"]
    check = body.get("check", receipts.TENDER)
    sections = [present_section(section, check) for section in receipts.sections_of(body)]
    until = body.get("current_until")
    return {
        "title": _("Receipt %(id)s", id=body["id"]), "kind_title": str(CHECK_TITLES[check]), "check": check,
        "receipt": body, "signature": document["signature"], "links": links_for(body["id"]),
        "verification_code": body.get("verification_code") or receipts.verification_code(body["id"]),
        "current_until": until, "is_current": until is None or params.today().isoformat() <= until,
        "sections": sections,
        # The first date, as version 1 receipts have it (pages and tests read these).
        "rows": sections[0]["rows"], "basis_text": sections[0]["basis_text"], "rule_text": sections[0]["rule_text"],
        "release_url": sections[0]["release_url"], "partial": any(section["partial"] for section in sections),
    }


# ---- pages ----------------------------------------------------------------------------------------------

@bp.before_request
def limit_request_size():
    """A thousand codes fit in MAX_REQUEST_BYTES; a receipt of a thousand rows needs more."""
    if request.endpoint == "eligibility.verify":
        request.max_content_length = request.max_form_memory_size = receipts.MAX_DOCUMENT_BYTES
    else:
        request.max_content_length = MAX_REQUEST_BYTES


def submitted_codes() -> list[str]:
    """Codes from the text box, the uploaded file and `?code=`, in that order."""
    codes = receipts.split_codes(request.values.get("codes", "")[:MAX_REQUEST_BYTES])
    upload = request.files.get("file")
    if upload and upload.filename:
        try:
            codes += receipts.split_codes(upload.read(MAX_REQUEST_BYTES).decode("utf-8-sig"))
        except UnicodeDecodeError:
            params.bad_request(_("The file %(name)s is not UTF-8 text: save it as CSV UTF-8 or plain text.",
                                 name=upload.filename[:80]))
    codes += [c for c in request.args.getlist("code") if c.strip()]
    return codes


FORM_TITLES = {receipts.TENDER: _l("Tender eligibility check"), receipts.COMMENDATION: _l("Commendation check")}


def form_data(check: str, day_text: str, award_text: str = "", codes_text: str = "") -> dict:
    return {"title": str(FORM_TITLES[check]), "check": check, "day_text": day_text, "award_text": award_text,
            "codes_text": codes_text, "today": params.today().isoformat(), "max_codes": receipts.MAX_CODES}


@bp.route("/eligibility", methods=["GET", "POST"], defaults={"check": receipts.TENDER})
@bp.route("/commendation", methods=["GET", "POST"], defaults={"check": receipts.COMMENDATION})
@cache.exempt  # the empty form proposes today's date
def check(check: str):
    """The tender check (one or two dates: bid closing and award) or the commendation check."""
    day_text = request.values.get("date", "").strip()[:20]
    award_text = request.values.get("award_date", "").strip()[:20] if check == receipts.TENDER else ""
    codes = submitted_codes()
    if request.method == "GET" and not codes:
        return respond("html", "eligibility/check.html", form_data(check, day_text or params.today().isoformat(),
                                                                   award_text))
    document = document_of(issue_receipt(codes, question_days(day_text, award_text), check).stored)
    question = document["receipt"]["question"]
    data = {**form_data(check, day_text or question["date"], award_text, "\n".join(question["codes"])),
            **receipt_view(document)}
    data["title"] = str(FORM_TITLES[check])
    return respond("html", "eligibility/check.html", data)


@bp.get("/receipts/<receipt_id>", defaults={"fmt": "html"})
@bp.get("/receipts/<receipt_id>.<any(json):fmt>")
def receipt(receipt_id: str, fmt: str):
    document = document_of(receipt_or_404(receipt_id))
    if fmt == "json":
        response = respond("json", "", document)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    data = receipt_view(document)
    data["qr"] = qr_svg(data["links"]["verify"])
    return respond("html", "receipts/receipt.html", data)


def submitted_document():
    """The receipt JSON pasted in the form or uploaded as a file; a clear 400 when it is not JSON."""
    upload = request.files.get("file")
    text = request.form.get("receipt", "")
    if upload and upload.filename:
        text = upload.read(receipts.MAX_DOCUMENT_BYTES).decode("utf-8-sig", errors="replace")
    if not text.strip():
        params.bad_request(_("Paste the receipt's JSON or choose its file."))
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        params.bad_request(_("This is not valid JSON: the problem is at line %(line)s, column %(column)s. Paste the "
                             "whole receipt, as downloaded.", line=error.lineno, column=error.colno))


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    data = {"title": _("Verify a receipt"), "result": None, "matches": []}
    code = request.values.get("code", "").strip()
    if code:
        found = receipts_by_code(code)
        if len(found) > 1:  # two receipts sharing 50 bits of their id: let the reader pick by date
            data["matches"] = [{"id": r.id, "created_at": r.created_at, "url": url_for("eligibility.verify", id=r.id)}
                               for r in found]
            return respond("html", "receipts/verify.html", data)
        document = document_of(found[0])
    elif request.method == "POST":
        document = submitted_document()
    elif request.args.get("id"):
        document = document_of(receipt_or_404(request.args["id"].strip()))
    else:
        return respond("html", "receipts/verify.html", data)
    data["result"] = verify_document(document)
    if data["result"]["authentic"]:
        data.update(receipt_view(document))
        data["title"] = _("Verify a receipt")
    return respond("html", "receipts/verify.html", data)
