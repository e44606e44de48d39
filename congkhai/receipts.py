"""Eligibility receipts: the question, the answers and the release they came from, signed.

A receipt is what a procurement officer files with a tender record and what an auditor checks
later, so everything in it is public data and it is checkable with the published key alone:

- the question: the codes as entered (a household owner's personal number only in its masked
  form) and the date that matters;
- one answer per row of the question, never dropping a row: found (status on that date, eligible
  or not and why), unknown, malformed (and why), or a duplicate of an earlier row;
- the release the answers came from with the sha256 of its datapackage.json, and the rule of that
  release's policy that decided eligibility;
- when it was first issued and the id of the key that signed it.

The id is a digest of the content (question, basis, release, rule, answers, key and, from version
2, the date until which it is current): asking the same question of the same release again on the
same day returns the same receipt, so a GET is repeatable and cacheable
and the table does not grow with reloads. `created_at` is when that answer was first issued.

The signed bytes are `canonical_json(receipt)`; the JSON form is
`{"receipt": {...}, "signature": {"algorithm": "Ed25519", "public_key_id": ..., "value": base64}}`.
No Flask here: the portal, the API and any auditor's script share these functions.

Version 2 (this module issues only version 2; version 1 receipts stay verifiable, since the
signature covers whatever body was signed, and readable by the portal):
- `check`: "tender" (tender eligibility) or "commendation" (may the employer be commended);
- `question.dates`: one or two dates with their role ("bid_closing", "award"); the first date's
  answers keep version 1's top-level places (`question.date`, `date_basis`, `release`, `rule`,
  `answers`, `summary`), so a version 1 reader still reads the first date right; the second date's
  are in `further_dates`, one section of the same keys;
- each section's `release.published_at`: when the data it was answered from was last updated;
- `verification_code`: ten characters (Crockford base 32 of the id's first 50 bits) a person can
  type on /verify; `current_days` and `current_until`: how long the agency considers it current.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from .rules.eligibility import tender_eligibility
from .search import parse_code
from .signing import Signer, canonical_json, verify_signature
from .taxcode import (InvalidTaxCode, compact, has_citizen_id_structure, has_foreign_digits, is_digits, mask_personal_id,
                      parse_tax_code, personal_id_hash)
from .text import fold, nfc

RECEIPT_TYPE = "congkhai.eligibility-receipt"
RECEIPT_VERSION = 2
RECEIPT_VERSIONS = (1, 2)
TENDER = "tender"
COMMENDATION = "commendation"
CHECKS = (TENDER, COMMENDATION)
BID_CLOSING = "bid_closing"
AWARD = "award"
ROLES = (BID_CLOSING, AWARD)
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O or U to misread
CODE_LENGTH = 10
ALGORITHM = "Ed25519"
MAX_CODES = 1000
MAX_CODE_CHARS = 40
# The largest signed receipt as downloaded (UTF-8 JSON): MAX_CODES rows of an employer with the
# longest fields the schemas allow, 1,900 characters of up to 3 bytes (about 6 MB pretty-printed).
# /verify takes documents up to this size.
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024

# Kinds of identifier a row can carry.
TAX_CODE = "tax_code"
UNIT_CODE = "unit_code"
PERSONAL = "personal_number"

# Outcome of a row.
FOUND = "found"
UNKNOWN = "unknown"
MALFORMED = "malformed"
DUPLICATE = "duplicate"

# Why a code is malformed; the portal translates these.
TOO_LONG = "too_long"
NOT_A_CODE = "not_a_code"
WRONG_LENGTH = "wrong_length"
CHECK_DIGIT = "check_digit"
INVALID_TAX_CODE = "invalid_tax_code"
FOREIGN_DIGITS = "foreign_digits"  # Arabic-Indic and other digits that are not 0-9 even after NFKC
PROBLEMS = (TOO_LONG, NOT_A_CODE, WRONG_LENGTH, CHECK_DIGIT, INVALID_TAX_CODE, FOREIGN_DIGITS)

# How the question's date relates to the releases (see `date_basis`).
RELEASE_DAY = "release_day"
BETWEEN_RELEASES = "between_releases"
AFTER_LATEST_RELEASE = "after_latest_release"
FUTURE = "future"
DATE_BASES = (RELEASE_DAY, BETWEEN_RELEASES, AFTER_LATEST_RELEASE, FUTURE)

# Why a receipt fails verification.
AUTHENTIC = "authentic"
NOT_A_RECEIPT = "not_a_receipt"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"

PROVINCE_MISSING = "province_missing_in_release"

_HEADER_NAMES = {"ma so thue", "mst", "tax code", "tax_code", "ma don vi", "unit code", "unit_code", "code", "ma",
                 "ma so", "codes"}
_LONG_DIGITS = re.compile(r"\d{11,12}")


class TooManyCodes(ValueError):
    """More codes than one check answers (MAX_CODES); blank entries are not counted."""


class QuestionError(ValueError):
    """The question cannot be asked: too many codes, or none."""


# ---- the question ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Code:
    """One row of a question, classified without looking anything up."""
    row: int
    shown: str                 # safe to publish: canonical code, or the masked personal number
    kind: str | None           # TAX_CODE, UNIT_CODE, PERSONAL; None when malformed
    value: str | None          # canonical tax or unit code, or the personal number's stored hash
    problem: str | None = None
    branch_alternative: str | None = None  # 12 digits that also read as a branch code missing its zero

    @property
    def identity(self) -> tuple:
        """What makes two rows the same question."""
        return (self.kind, self.value) if self.kind else (MALFORMED, self.shown)


def mask_long_digits(text: str) -> str:
    """Any run of 11-12 digits could be someone's personal number: never echo it."""
    return _LONG_DIGITS.sub(lambda m: mask_personal_id(m.group()), text)


def classify_code(raw: str, row: int) -> Code:
    text = nfc(str(raw)).strip().strip("'\"").strip()
    if len(text) > MAX_CODE_CHARS:
        return Code(row, mask_long_digits(text[:MAX_CODE_CHARS]) + "…", None, None, TOO_LONG)
    digits = compact(text)
    if has_foreign_digits(text):
        return Code(row, mask_long_digits(text), None, None, FOREIGN_DIGITS)
    if is_digits(digits):
        if len(digits) in (11, 12):
            alternative = None
            if len(digits) == 12 and not has_citizen_id_structure(digits):
                try:
                    alternative = parse_tax_code(digits).public
                except InvalidTaxCode:
                    alternative = None
            return Code(row, mask_personal_id(digits), PERSONAL, personal_id_hash(digits),
                        branch_alternative=alternative)
        if len(digits) not in (9, 10, 13):
            return Code(row, mask_long_digits(text), None, None, WRONG_LENGTH)
        try:
            canonical = parse_tax_code(digits).value
        except InvalidTaxCode as error:
            problem = CHECK_DIGIT if "check digit" in str(error) else INVALID_TAX_CODE
            return Code(row, text, None, None, problem)
        return Code(row, canonical, TAX_CODE, canonical)
    unit = parse_code(text)
    if unit is not None:
        return Code(row, unit, UNIT_CODE, unit)
    return Code(row, mask_long_digits(text), None, None, NOT_A_CODE)


def split_codes(text: str) -> list[str]:
    """The codes of a pasted list or an uploaded file: one per line, or CSV (`,` `;` or tab).

    A CSV whose first row names a code column ("Mã số thuế", "MST", "tax_code", "code"...) is read
    from that column only; otherwise every non-empty cell is a code. Empty cells are not rows.
    """
    text = text.lstrip("\ufeff")
    counts = {delimiter: text.count(delimiter) for delimiter in (",", ";", "\t")}
    delimiter = max(counts, key=counts.get)
    if not counts[delimiter]:
        rows = [[line] for line in text.splitlines()]
    else:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [[cell.strip() for cell in r] for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        return []
    header = [fold(nfc(cell)).strip().lower() for cell in rows[0]]
    columns = [i for i, name in enumerate(header) if name in _HEADER_NAMES]
    if columns:
        return [r[columns[0]] for r in rows[1:] if len(r) > columns[0] and r[columns[0]]]
    return [cell for r in rows for cell in r if cell]


def parse_question(codes: list[str]) -> list[Code]:
    codes = [c for c in codes if str(c).strip()]
    if not codes:
        raise QuestionError("no codes were given")
    if len(codes) > MAX_CODES:
        raise TooManyCodes(f"{len(codes)} codes were given; at most {MAX_CODES} can be checked at once")
    return [classify_code(raw, row) for row, raw in enumerate(codes, start=1)]


def lookups(codes: list[Code]) -> dict[str, set[str]]:
    """The distinct values to look up, by kind: what one batch query needs."""
    wanted = {TAX_CODE: set(), UNIT_CODE: set(), PERSONAL: set()}
    for code in codes:
        if code.kind:
            wanted[code.kind].add(code.value)
        if code.branch_alternative:
            wanted[TAX_CODE].add(code.branch_alternative)
    return wanted


# ---- the answers ------------------------------------------------------------------------------------

def _match_for(code: Code, found: dict) -> dict | None:
    if code.branch_alternative and (TAX_CODE, code.branch_alternative) in found:
        return found[(TAX_CODE, code.branch_alternative)]
    return found.get((code.kind, code.value))


def answer_rows(codes: list[Code], found: dict, rule: str, missing_provinces=(), judge=None) -> list[dict]:
    """One answer per row, in the order asked.

    `found[(kind, value)]` is {"employer": public facts, "state": the interval in force or None}.
    `judge(match)` gives (eligible, reason) for a found employer; by default the tender rule `rule`.
    A row asking again about an employer already answered (same code, or another code of the
    same employer) is reported as a duplicate of the first row, which lists its duplicates.
    """
    answers: list[dict] = []
    first_row_of: dict = {}
    for code in codes:
        base = {"row": code.row, "input": code.shown}
        match = _match_for(code, found) if code.kind else None
        identity = ("employer", match["employer"]["key"]) if match else code.identity
        if identity in first_row_of:
            first = answers[first_row_of[identity] - 1]
            first.setdefault("duplicate_rows", []).append(code.row)
            answers.append({**base, "outcome": DUPLICATE, "duplicate_of": first["row"], "eligible": None,
                            "reason": DUPLICATE})
            continue
        first_row_of[identity] = code.row
        if code.kind is None:
            answers.append({**base, "outcome": MALFORMED, "problem": code.problem, "eligible": None,
                            "reason": MALFORMED})
        elif match is None:
            answers.append({**base, "kind": code.kind, "outcome": UNKNOWN, "eligible": None, "reason": UNKNOWN})
        else:
            state = match["state"]
            if judge is None:
                verdict = tender_eligibility(state["status"] if state else None, rule)
                eligible, reason = verdict.eligible, verdict.reason
            else:
                eligible, reason = judge(match)
            row = {**base, "kind": code.kind, "outcome": FOUND, "employer": match["employer"], "state": state,
                   "eligible": eligible, "reason": reason}
            if match["employer"]["province_code"] in missing_provinces:
                row["note"] = PROVINCE_MISSING
            answers.append(row)
    return answers


def summary(answers: list[dict]) -> dict:
    return {
        "rows": len(answers),
        "eligible": sum(1 for a in answers if a["eligible"] is True),
        "barred": sum(1 for a in answers if a["eligible"] is False),
        "not_in_register_on_date": sum(1 for a in answers if a["outcome"] == FOUND and a["eligible"] is None),
        "unknown": sum(1 for a in answers if a["outcome"] == UNKNOWN),
        "malformed": sum(1 for a in answers if a["outcome"] == MALFORMED),
        "duplicates": sum(1 for a in answers if a["outcome"] == DUPLICATE),
    }


def date_basis(day: date, release_as_of: date, latest_as_of: date, today: date) -> str:
    """How the date relates to the register: the answer's footing, stated on the receipt.

    A date after the latest release is answered from the latest release (the register's newest
    knowledge); when that date is still to come the receipt says FUTURE: the answer may change.
    """
    if day > latest_as_of:
        return FUTURE if day > today else AFTER_LATEST_RELEASE
    return RELEASE_DAY if day == release_as_of else BETWEEN_RELEASES


# ---- the receipt ------------------------------------------------------------------------------------

def receipt_id(content: dict) -> str:
    """32 hex digits of the sha256 of the receipt's content (everything but its id, time and the
    verification code derived from the id)."""
    unsigned = {k: v for k, v in content.items() if k not in ("id", "created_at", "verification_code")}
    return hashlib.sha256(canonical_json(unsigned)).hexdigest()[:32]


def verification_code(receipt_id_: str) -> str:
    """The first 50 bits of the id in Crockford base 32, as 'XXXXX-XXXXX': short enough to type."""
    bits = int(receipt_id_[:13], 16) >> 2
    chars = "".join(CODE_ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))
    return chars[:5] + "-" + chars[5:]


def parse_verification_code(text: str) -> str | None:
    """A typed code in canonical form ('7k3m9-x2q4p', 'O' for 0 and 'I'/'L' for 1 read kindly), or None."""
    cleaned = "".join(ch for ch in str(text).upper() if ch not in " -_.")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return None
    return cleaned[:5] + "-" + cleaned[5:]


def id_prefix_of_code(code: str) -> str:
    """The 12 hex digits every id with this verification code starts with (its first 48 bits)."""
    bits = 0
    for ch in code.replace("-", ""):
        bits = bits * 32 + CODE_ALPHABET.index(ch)
    return f"{bits >> 2:012x}"


def date_section(*, day: date, role: str | None, basis: str, release: dict, rule: dict,
                 answers: list[dict]) -> dict:
    """The answers for one date and where they came from. `release`: id, as_of, datapackage_sha256,
    partial, published_at (when its data was last updated); `rule`: name, policy_version and, for
    commendation, the window."""
    return {
        "date": day.isoformat(), "role": role, "date_basis": basis,
        "release": {"id": release["id"], "as_of": str(release["as_of"]),
                    "datapackage_sha256": release.get("datapackage_sha256"),
                    "partial": bool(release.get("partial")), "published_at": release.get("published_at")},
        "rule": rule, "answers": answers, "summary": summary(answers),
    }


def build_receipt(*, check: str, codes: list[Code], sections: list[dict], public_key_id: str,
                  created_at: datetime, current_days: int, today: date, known_at: date | None = None,
                  corrected_keys: list[str] = ()) -> dict:
    """The version 2 receipt body that is signed: the first section at version 1's places, the
    others in `further_dates`. `today` is the issue date in Vietnam, from which it is current.

    The answers are what the list said on each date; `corrected_keys` names the answered employers
    for which corrections published by `known_at` apply to an asked date, so the receipt says which."""
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}")
    first, *further = sections
    content = {
        "type": RECEIPT_TYPE,
        "version": RECEIPT_VERSION,
        "check": check,
        "question": {"date": first["date"], "codes": [code.shown for code in codes],
                     "dates": [{"date": s["date"], "role": s["role"]} for s in sections]},
        **{key: first[key] for key in ("date_basis", "release", "rule", "answers", "summary")},
        "further_dates": further,
        "current_days": current_days,
        "current_until": date.fromordinal(today.toordinal() + current_days).isoformat(),
        "public_key_id": public_key_id,
    }
    if known_at is not None:
        content["knowledge"] = {"answers": "as_published", "known_at": known_at.isoformat(),
                                "corrected_keys": sorted(corrected_keys)}
    identifier = receipt_id(content)
    return {"id": identifier, "created_at": created_at.isoformat(), "verification_code": verification_code(identifier),
            **content}


def sections_of(body: dict) -> list[dict]:
    """Every date a receipt answers, version 1 or 2, in the order asked."""
    first = {key: body[key] for key in ("date_basis", "release", "rule", "answers", "summary")}
    first.update(date=body["question"]["date"], role=(body["question"].get("dates") or [{}])[0].get("role"))
    return [first, *body.get("further_dates", [])]


def signature_part(public_key_id: str, signature: str) -> dict:
    return {"algorithm": ALGORITHM, "public_key_id": public_key_id, "value": signature}


def signed_document(body: dict, signature: str) -> dict:
    return {"receipt": body, "signature": signature_part(body["public_key_id"], signature)}


def sign_receipt(body: dict, signer: Signer) -> tuple[bytes, dict]:
    """The exact bytes signed (to store) and the JSON form of the signed receipt."""
    if body["public_key_id"] != signer.key_id:
        raise ValueError(f"receipt names key {body['public_key_id']}, signer is {signer.key_id}")
    data = canonical_json(body)
    return data, signed_document(body, signer.sign(data))


@dataclass(frozen=True)
class Verification:
    authentic: bool
    reason: str                  # AUTHENTIC, NOT_A_RECEIPT, UNKNOWN_KEY, BAD_SIGNATURE
    receipt_id: str | None = None
    public_key_id: str | None = None
    detail: str = ""             # for NOT_A_RECEIPT: what is missing (English, for logs and the API)

    def to_dict(self) -> dict:
        return {"authentic": self.authentic, "reason": self.reason, "receipt_id": self.receipt_id,
                "public_key_id": self.public_key_id}


def _shape_problem(document) -> str | None:
    if not isinstance(document, dict):
        return "the document is not a JSON object"
    body, signature = document.get("receipt"), document.get("signature")
    if not isinstance(body, dict):
        return "no \"receipt\" object"
    if body.get("type") != RECEIPT_TYPE:
        return f"\"receipt.type\" is not {RECEIPT_TYPE!r}"
    if not isinstance(body.get("id"), str) or not isinstance(body.get("public_key_id"), str):
        return "\"receipt.id\" or \"receipt.public_key_id\" is missing"
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        return "no \"signature.value\""
    return None


def verify_receipt(document, public_keys: dict[str, str]) -> Verification:
    """Is `document` a receipt signed by one of `public_keys` (key id -> PEM) and unaltered since?

    Any change to the receipt's content (one character of a name, an answer, the date) changes
    its canonical bytes and breaks the signature; a receipt signed by another key names a key
    id that is not ours, or fails against ours if it claims our id.
    """
    problem = _shape_problem(document)
    if problem:
        return Verification(False, NOT_A_RECEIPT, detail=problem)
    body = document["receipt"]
    ids = {"receipt_id": body["id"][:64], "public_key_id": body["public_key_id"][:64]}
    pem = public_keys.get(body["public_key_id"])
    if pem is None:
        return Verification(False, UNKNOWN_KEY, **ids)
    try:
        data = canonical_json(body)
    except (TypeError, ValueError, RecursionError) as error:
        return Verification(False, NOT_A_RECEIPT, detail=str(error)[:200], **ids)
    if not verify_signature(pem, data, document["signature"]["value"]):
        return Verification(False, BAD_SIGNATURE, **ids)
    return Verification(True, AUTHENTIC, **ids)
