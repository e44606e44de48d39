"""The right of reply: an employer tells the agency that its own entry is wrong.

`/employers/<key>/dispute` is a form for the employer itself: it must give its own tax code (the
key of the page), a contact, a reason in plain text and, optionally, one PDF, JPEG or PNG. The
dispute is stored with a reference (`congkhai.disputes`), and `/disputes/<ref>?tax_code=` (and its
`.json` twin) tells its status to whoever has both the reference and the tax code. While it is
open, the entry is marked "disputed by the employer since <date>" (`congkhai.rules.disputes`).

Abuse, without third-party captchas: a signed form token (itsdangerous, Flask's own) bound to a
double-submit cookie (CSRF) whose timestamp enforces a minimum fill time; a honeypot field; rate
limits per address and per employer (`portal.ratelimits`); a cap of open disputes per employer;
bounded lengths and attachment size; no HTML kept.
"""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from congkhai import disputes
from congkhai.search import parse_code

from . import current, params
from .employers import employer_or_404
from .rendering import respond

bp = Blueprint("disputes", __name__)

TOKEN_SALT = "congkhai.dispute-form"
TOKEN_MAX_AGE = 2 * 3600       # seconds a form stays valid once shown
COOKIE = "congkhai_dispute"
HONEYPOT = "website"           # hidden from people; robots fill it in
FORM_OVERHEAD = 64 * 1024      # the text fields around the attachment

PROBLEM_LABELS = {
    "tax_code_invalid": _l("Give the employer's tax code (10 or 13 digits), or its unit code for a household "
                           "business."),
    "tax_code_mismatch": _l("This is not the tax code of this employer. The form is for the employer itself: give "
                            "its own tax code."),
    "name_missing": _l("Give the name of the person we should reply to."),
    "name_too_long": _l("The name is too long (%(most)s characters at most).", most=disputes.NAME_MAX),
    "contact_invalid": _l("Give an e-mail address or a phone number where we can reach you."),
    "reason_too_short": _l("Explain what is wrong in at least %(least)s characters.", least=disputes.REASON_MIN),
    "reason_too_long": _l("The explanation is too long (%(most)s characters at most).", most=disputes.REASON_MAX),
    "attachment_type": _l("The attachment must be a PDF, JPEG or PNG file."),
}
STATUS_LABELS = {
    "open": _l("Open: the agency is examining it"),
    "upheld": _l("Upheld: the entry is being corrected"),
    "rejected": _l("Rejected: the entry stands"),
}


def max_attachment_bytes() -> int:
    return int(current_app.config["CONGKHAI_DISPUTE_MAX_ATTACHMENT_BYTES"])


def size_text(size: int) -> str:
    megabytes = f"{size / 1_000_000:.1f}".rstrip("0").rstrip(".")
    return _("%(size)s MB", size=megabytes)


def problem_text(code: str) -> str:
    if code == "attachment_too_big":
        return _("The attachment is larger than %(size)s.", size=size_text(max_attachment_bytes()))
    return str(PROBLEM_LABELS[code])


def serializer() -> URLSafeTimedSerializer:
    if not current_app.secret_key:
        current_app.logger.error("the dispute form needs SECRET_KEY to sign its tokens")
        abort(503, description=_("The form is not available at the moment. Please try again later."))
    return URLSafeTimedSerializer(current_app.secret_key, salt=TOKEN_SALT)


def form_page(employer, values: dict | None = None, problems: dict | None = None, message: str | None = None,
              status: int = 200):
    """The form with a fresh token, and the cookie the token is bound to."""
    nonce = secrets.token_urlsafe(16)
    problems = problems or {}
    data = {
        "title": _("Report an error in the entry of %(name)s", name=employer.name),
        "employer": {"key": employer.key, "name": employer.name, "tax_code": employer.tax_code},
        "values": {name: (values or {}).get(name, "") for name in ("tax_code", "contact_name", "contact", "reason")},
        "problems": {field: problem_text(code) for field, code in problems.items()},
        "message": message,
        "token": serializer().dumps([employer.key, nonce]),
        "honeypot": HONEYPOT,
        "limits": {"reason_min": disputes.REASON_MIN, "reason_max": disputes.REASON_MAX,
                   "name_max": disputes.NAME_MAX, "contact_max": disputes.CONTACT_MAX,
                   "attachment": size_text(max_attachment_bytes())},
        "links": {"employer": url_for("employers.employer", key=employer.key),
                  "action": url_for("disputes.submit", key=employer.key), "lookup": url_for("disputes.lookup")},
    }
    response = make_response(render_template("disputes/form.html", data=data, **data), status)
    response.set_cookie(COOKIE, nonce, max_age=TOKEN_MAX_AGE, path=data["links"]["action"], httponly=True,
                        samesite="Strict", secure=request.is_secure)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/employers/<key>/dispute")
def form(key: str):
    return form_page(employer_or_404(key))


def form_problem(employer) -> str | None:
    """Why the sent form cannot be taken as the employer's own (token, cookie, fill time, honeypot)."""
    try:
        (token_key, nonce), signed_at = serializer().loads(request.form.get("token", ""), max_age=TOKEN_MAX_AGE,
                                                           return_timestamp=True)
    except SignatureExpired:
        return _("The form was open too long and has expired. Please send it again.")
    except (BadSignature, ValueError, TypeError):
        token_key = nonce = None
    if token_key != employer.key or not secrets.compare_digest(str(nonce), request.cookies.get(COOKIE, "")):
        return _("The form could not be checked: it must be filled in on this site, with cookies allowed. "
                 "Please send it again.")
    if request.form.get(HONEYPOT):
        return _("The form could not be accepted. Please send it again, leaving hidden fields empty.")
    if time.time() - signed_at.timestamp() < float(current_app.config["CONGKHAI_DISPUTE_MIN_SECONDS"]):
        return _("The form was sent too quickly after it was opened. Please check it and send it again.")
    return None


@bp.post("/employers/<key>/dispute")
def submit(key: str):
    employer = employer_or_404(key)
    values = {name: request.form.get(name, "") for name in ("tax_code", "contact_name", "contact", "reason")}
    problem = form_problem(employer)
    if problem:
        return form_page(employer, values, message=problem, status=400)
    upload = request.files.get("attachment")
    attachment = upload.read(max_attachment_bytes() + 1) if upload and upload.filename else None
    submission, problems = disputes.check_submission(
        employer.key, parse_code(values["tax_code"]), values["contact_name"], values["contact"],
        values["reason"], attachment, max_attachment_bytes())
    if problems:
        return form_page(employer, values, problems, _("Please correct the fields marked below."), 400)
    try:
        reference = current.open_dispute(submission, datetime.now(timezone.utc))
    except disputes.TooManyOpenDisputes:
        return form_page(employer, values, message=_(
            "This employer already has %(most)s disputes open. The agency answers them first; you can follow them "
            "with their references.", most=current_app.config["CONGKHAI_DISPUTE_MAX_OPEN"]), status=409)
    response = redirect(url_for("disputes.status", reference=reference, tax_code=employer.key, sent=1), 303)
    response.delete_cookie(COOKIE, path=url_for("disputes.submit", key=employer.key))
    return response


@bp.get("/disputes")
def lookup():
    """Look a dispute up by its reference and the employer's tax code."""
    reference, tax_code = request.args.get("reference", "").strip(), request.args.get("tax_code", "").strip()
    if reference or tax_code:
        parsed = disputes.parse_reference(reference)
        if parsed is None:
            params.bad_request(_("%(reference)s is not a dispute reference: it looks like KN-2026-7K3F-9QX2.",
                                 reference=reference[:40]))
        return redirect(url_for("disputes.status", reference=parsed, tax_code=tax_code))
    return respond("html", "disputes/lookup.html", {"title": _("Follow a dispute")})


@bp.get("/disputes/<reference>", defaults={"fmt": "html"})
@bp.get("/disputes/<reference>.<any(json):fmt>")
def status(reference: str, fmt: str):
    parsed = disputes.parse_reference(reference)
    tax_code = request.args.get("tax_code", "")
    if parsed is None:
        params.bad_request(_("%(reference)s is not a dispute reference: it looks like KN-2026-7K3F-9QX2.",
                             reference=reference[:40]))
    if not tax_code.strip():
        params.bad_request(_("Give the employer's tax code with the reference: ?tax_code=…"))
    found = current.register().dispute_status(parsed, parse_code(tax_code) or tax_code.strip()[:40])
    if found is None:
        abort(404, description=_("No dispute has this reference for this tax code. Check both."))
    employer = current.register().employer(found["employer_key"])
    data = {
        "title": _("Dispute %(reference)s", reference=found["reference"]),
        "just_sent": request.args.get("sent") == "1" and fmt == "html",
        "dispute": {"reference": found["reference"], "status": found["status"],
                    "status_label": str(STATUS_LABELS[found["status"]]), "opened_on": found["opened_on"],
                    "resolved_on": found["resolved_at"].date() if found["resolved_at"] else None,
                    "resolution_note": found["resolution_note"]},
        "employer": {"key": employer.key, "name": employer.name} if employer else {"key": found["employer_key"]},
        "links": {"employer": url_for("employers.employer", key=found["employer_key"]),
                  "json": url_for("disputes.status", reference=found["reference"], fmt="json",
                                  tax_code=found["employer_key"])},
    }
    response = make_response(respond(fmt, "disputes/status.html", data))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.before_request
def limit_body():
    """An attachment at the size limit passes; anything much larger is refused before it is read."""
    if request.method == "POST":
        request.max_content_length = max_attachment_bytes() + FORM_OVERHEAD


@bp.errorhandler(413)
def too_large(error):
    return render_template("error.html", code=413, title=_("Too large"), message=_(
        "The attachment is larger than %(size)s. Send a smaller file (a scan at a lower resolution, or only the "
        "pages that matter).", size=size_text(max_attachment_bytes()))), 413


@bp.errorhandler(429)
def too_many(error):
    return render_template("error.html", code=429, title=_("Too many requests"), message=_(
        "Too many disputes or look-ups from your address, or about this employer, in a short time. Please try "
        "again later.")), 429
