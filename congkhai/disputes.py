"""Disputes: an employer's "this is wrong" about its own entry, kept for the agency's staff.

Plain functions over a SQLAlchemy connection or session (the portal passes its session, the CLI a
connection), so the form, the command line and the publisher share one implementation. Whether an
entry counts as disputed is `congkhai.rules.disputes.disputed_since`; this module stores and reads.

References are random, typeable and unguessable: 'KN-2026-7K3F-9QX2' carries 40 random bits in
Crockford's base32 (no I, L, O or U; 'o' is read as 0, 'i' and 'l' as 1). A status is only ever
looked up by reference *and* the employer's own code, so references cannot be walked to learn who
complained. Contact details, reason and attachment never leave this module's readers for staff.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import func, insert, select, update

from .config import Paths
from .models import COMPLIANT, Dispute, Employer
from .rules.disputes import OPEN, UPHELD, disputed_since, resolution_problem
from .text import nfc

TABLE = Dispute.__table__
EMPLOYERS = Employer.__table__
VIETNAM = timezone(timedelta(hours=7))  # no daylight saving time
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_REFERENCE = re.compile(r"KN(\d{4})([0-9A-HJKMNP-TV-Z]{8})")

NAME_MAX = 200
CONTACT_MAX = 200
REASON_MIN = 20
REASON_MAX = 4000
ATTACHMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
_MAGIC = ((b"%PDF-", "application/pdf"), (b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?[\d\s.\-()]{8,20}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_LEFTOVER_TAG = re.compile(r"</?[A-Za-z!?/][^>]*>")


class DisputeError(Exception):
    """A dispute cannot be stored or resolved as asked; the message says why."""


class TooManyOpenDisputes(DisputeError):
    """The employer already has as many open disputes as allowed."""


# ---- references -------------------------------------------------------------------------------------------

def new_reference(year: int) -> str:
    """A fresh reference: 'KN-<year>-XXXX-XXXX', 40 random bits in Crockford's base32."""
    value = secrets.randbits(40)
    chars = "".join(CROCKFORD[(value >> shift) & 31] for shift in range(35, -1, -5))
    return f"KN-{year:04d}-{chars[:4]}-{chars[4:]}"


def parse_reference(text: str) -> str | None:
    """The canonical reference as typed in any case, with or without dashes or spaces; None if it is not one."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    compact = re.sub(r"[\s\-_.]", "", text).upper()
    if not compact.startswith("KN"):
        return None
    compact = "KN" + compact[2:].translate(_READ_AS)
    match = _REFERENCE.fullmatch(compact)
    if not match:
        return None
    year, chars = match.groups()
    return f"KN-{year}-{chars[:4]}-{chars[4:]}"


# ---- what the employer sends --------------------------------------------------------------------------------

class _TextOnly(HTMLParser):
    """The text of a fragment: tags dropped, entities decoded, script and style contents dropped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def plain_text(value: str) -> str:
    """Plain text from what a form field received: no HTML kept (also none spelled with entities),
    no control or direction-override characters, NFC, lines trimmed, at most one blank line in a row."""
    text = nfc(str(value or "")).replace("\r\n", "\n").replace("\r", "\n")
    for _ in range(3):  # '&lt;b&gt;' decodes to '<b>', which the next round removes
        parser = _TextOnly()
        parser.feed(text)
        parser.close()
        stripped = _LEFTOVER_TAG.sub("", "".join(parser.parts))
        if stripped == text:
            break
        text = stripped
    text = _CONTROL.sub("", text).replace("\t", " ")
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def sniff_type(data: bytes) -> str | None:
    """The content type the bytes are (PDF, JPEG or PNG), whatever the file's name or the browser says."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


@dataclass(frozen=True)
class Submission:
    """A checked dispute, ready to store."""
    employer_key: str
    contact_name: str
    contact: str
    reason: str
    attachment: bytes | None = None
    attachment_type: str | None = None


def check_submission(employer_key: str, given_key: str | None, contact_name: str, contact: str, reason: str,
                     attachment: bytes | None, max_attachment_bytes: int) -> tuple[Submission | None, dict]:
    """The submission, or None and {field: problem code}. `given_key` is the tax code (or unit code) the
    sender typed, already parsed; it must be the employer's own: the form is for the employer."""
    problems = {}
    if given_key is None:
        problems["tax_code"] = "tax_code_invalid"
    elif given_key != employer_key:
        problems["tax_code"] = "tax_code_mismatch"
    name, contact, reason = plain_text(contact_name), plain_text(contact).replace("\n", " "), plain_text(reason)
    if not name:
        problems["contact_name"] = "name_missing"
    elif len(name) > NAME_MAX:
        problems["contact_name"] = "name_too_long"
    if len(contact) > CONTACT_MAX or not (_EMAIL.fullmatch(contact) or (
            _PHONE.fullmatch(contact) and 8 <= sum(ch.isdigit() for ch in contact) <= 15)):
        problems["contact"] = "contact_invalid"
    if len(reason) < REASON_MIN:
        problems["reason"] = "reason_too_short"
    elif len(reason) > REASON_MAX:
        problems["reason"] = "reason_too_long"
    kind = None
    if attachment:
        kind = sniff_type(attachment)
        if len(attachment) > max_attachment_bytes:
            problems["attachment"] = "attachment_too_big"
        elif kind is None:
            problems["attachment"] = "attachment_type"
    if problems:
        return None, problems
    return Submission(employer_key, name, contact, reason, attachment or None, kind), {}


# ---- storage --------------------------------------------------------------------------------------------------

def count_open(conn, employer_key: str) -> int:
    return conn.execute(select(func.count()).select_from(TABLE)
                        .where(TABLE.c.employer_key == employer_key, TABLE.c.status == OPEN)).scalar_one()


def attachment_path(data_dir, reference: str, content_type: str) -> Path:
    return Paths(data_dir).disputes / reference / f"attachment.{ATTACHMENT_TYPES[content_type]}"


def open_dispute(conn, submission: Submission, now: datetime, max_open: int, data_dir) -> str:
    """Store a dispute (and its attachment under the data directory); returns its reference. The caller
    commits; the attachment is written before, so a failed write stores nothing."""
    if count_open(conn, submission.employer_key) >= max_open:
        raise TooManyOpenDisputes(f"employer {submission.employer_key} already has {max_open} open disputes")
    local = now.astimezone(VIETNAM)
    reference = new_reference(local.year)
    while conn.execute(select(TABLE.c.id).where(TABLE.c.reference == reference)).first():
        reference = new_reference(local.year)
    values = {"reference": reference, "employer_key": submission.employer_key,
              "contact_name": submission.contact_name, "contact": submission.contact, "reason": submission.reason,
              "status": OPEN, "opened_on": local.date(), "created_at": now}
    if submission.attachment:
        path = attachment_path(data_dir, reference, submission.attachment_type)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(submission.attachment)
        os.replace(temporary, path)
        values.update(attachment_type=submission.attachment_type, attachment_bytes=len(submission.attachment),
                      attachment_sha256=hashlib.sha256(submission.attachment).hexdigest())
    conn.execute(insert(TABLE).values(**values))
    return reference


def get_dispute(conn, reference: str) -> dict | None:
    """Everything about one dispute, for the agency's staff."""
    canonical = parse_reference(reference)
    if canonical is None:
        return None
    row = conn.execute(select(TABLE).where(TABLE.c.reference == canonical)).mappings().first()
    return dict(row) if row else None


def dispute_of_employer(conn, reference: str, employer_key: str) -> dict | None:
    """A dispute's public status for the employer who sent it: only when the reference *and* the employer
    match, so a reference alone says nothing. No contact details, reason or attachment."""
    found = get_dispute(conn, reference)
    if found is None or found["employer_key"] != employer_key:
        return None
    return {name: found[name] for name in ("reference", "employer_key", "status", "opened_on", "resolved_at",
                                           "resolution_note")}


def list_disputes(conn, status: str | None = None) -> list[dict]:
    """Disputes, oldest first, optionally of one status, each with its employer's name and province
    (`employer_name`, `province_code`; None for a key the register does not know), so the staff
    see whom a dispute is about without looking each key up."""
    query = (select(TABLE, EMPLOYERS.c.name.label("employer_name"), EMPLOYERS.c.province_code)
             .select_from(TABLE.outerjoin(EMPLOYERS, EMPLOYERS.c.key == TABLE.c.employer_key))
             .order_by(TABLE.c.created_at, TABLE.c.id))
    if status:
        query = query.where(TABLE.c.status == status)
    return [dict(row) for row in conn.execute(query).mappings()]


def generation_query():
    """count, newest id, count resolved: changes whenever a dispute is opened or resolved."""
    return select(func.count(TABLE.c.id), func.max(TABLE.c.id), func.count(TABLE.c.resolved_at))


def disputed_since_by_key(conn, keys=None) -> dict[str, date]:
    """Employer key -> the day its entry became disputed, for every entry disputed now (or among `keys`)."""
    query = select(TABLE.c.employer_key, TABLE.c.status, TABLE.c.opened_on).where(TABLE.c.status == OPEN)
    if keys is not None:
        query = query.where(TABLE.c.employer_key.in_(list(keys)))
    grouped: dict[str, list] = {}
    for key, status, opened_on in conn.execute(query):
        grouped.setdefault(key, []).append((status, opened_on))
    marks = {key: disputed_since(rows) for key, rows in grouped.items()}
    return {key: day for key, day in marks.items() if day is not None}


@dataclass(frozen=True)
class CorrectionRequest:
    """What an upheld dispute asks the corrections mechanism to record."""
    employer_key: str
    dispute_reference: str
    note: str
    status: str | None       # the status the entry should have had, when the staff gave it
    valid_from: date | None  # from which date
    correction_id: int | None = None  # the correction recorded in the register, if one was


def correction_for_upheld_dispute(conn, dispute: dict) -> CorrectionRequest:
    """The one place where an upheld dispute leads to a correction. With the corrected status the
    staff gave, the correction is recorded in the register's corrections (same transaction), to be
    published with the next release, in its list and feed; until then the next release's own report
    speaks (`until_next_release`). A note alone, or an employer the register never published, leaves
    the correction to the staff (the request says so: `correction_id` is None)."""
    from .corrections import CorrectionError, record_correction
    from .register import Register

    request = CorrectionRequest(dispute["employer_key"], dispute["reference"], dispute["resolution_note"],
                                dispute["corrected_status"], dispute["corrected_from"])
    if request.status is None:
        return request
    employer_id = conn.execute(select(EMPLOYERS.c.id).where(EMPLOYERS.c.key == request.employer_key)).scalar()
    published = Register(conn).state_of_employer_on(employer_id, request.valid_from) if employer_id else None
    if published is None:
        return request
    if request.status == COMPLIANT:
        # Owes nothing: a total of 0 makes every fund 0; BHTNLĐ-BNN and interest, which are shown only
        # where a report gave them, become 0 where it did.
        stated = {name: 0 for name in ("arrears_bhtnld", "interest") if getattr(published, name) is not None}
        corrected = published._replace(status=COMPLIANT, arrears_bhxh=0, arrears_bhyt=0, arrears_bhtn=0,
                                       arrears_total=0, months_late=0, evasion_decision=None,
                                       evasion_decision_date=None, **stated)
    else:
        corrected = published._replace(status=request.status)
    try:
        correction_id = record_correction(conn, request.employer_key, request.valid_from, None, corrected,
                                          request.note, f"dispute {request.dispute_reference}",
                                          until_next_release=True)
    except CorrectionError as error:
        raise DisputeError(f"{request.dispute_reference}: {error}") from None
    return replace(request, correction_id=correction_id)


def resolve_dispute(conn, reference: str, outcome: str, note: str, now: datetime,
                    corrected_status: str | None = None, corrected_from: date | None = None
                    ) -> tuple[dict, CorrectionRequest | None]:
    """Record the staff's decision on an open dispute; an upheld one leads to a correction."""
    found = get_dispute(conn, reference)
    if found is None:
        raise DisputeError(f"no dispute has the reference {reference}")
    note = plain_text(note)
    problem = resolution_problem(outcome, note, corrected_status, corrected_from, found["status"])
    if problem:
        raise DisputeError(f"{found['reference']}: {problem}")
    changes = {"status": outcome, "resolved_at": now, "resolution_note": note,
               "corrected_status": corrected_status, "corrected_from": corrected_from}
    conn.execute(update(TABLE).where(TABLE.c.id == found["id"]).values(**changes))
    found.update(changes)
    return found, correction_for_upheld_dispute(conn, found) if outcome == UPHELD else None
