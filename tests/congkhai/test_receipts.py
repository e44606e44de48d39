"""The pure receipt rules: reading a question, answering row by row, signing and verifying."""
import json
from datetime import date, datetime, timezone

import pytest

from congkhai import receipts as r
from congkhai.signing import canonical_json, generate_key
from congkhai.taxcode import personal_id_hash
from tests.publisher.factory import tax_code

DAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc)
PERSONAL = "001234567823"


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    return generate_key(tmp_path_factory.mktemp("keys") / "signing.key")


@pytest.fixture(scope="module")
def other_signer(tmp_path_factory):
    return generate_key(tmp_path_factory.mktemp("other") / "signing.key")


@pytest.mark.parametrize("raw, kind, shown, problem", [
    ("0100233488", r.TAX_CODE, "0100233488", None),
    (" 0100-233-488 ", r.TAX_CODE, "0100233488", None),
    ("100233488", r.TAX_CODE, "0100233488", None),               # a spreadsheet lost the leading zero
    ("0100233488-001", r.TAX_CODE, "0100233488-001", None),
    ("0100233488001", r.TAX_CODE, "0100233488-001", None),
    ("yn 0123-a", r.UNIT_CODE, "YN0123A", None),
    (PERSONAL, r.PERSONAL, "001*******23", None),
    ("0100233489", None, "0100233489", r.CHECK_DIGIT),
    ("0100233488-000", None, "0100233488-000", r.INVALID_TAX_CODE),
    ("12345", None, "12345", r.WRONG_LENGTH),
    ("Công ty Đông Á", None, "Công ty Đông Á", r.NOT_A_CODE),
    ("x" * 60, None, "x" * 40 + "…", r.TOO_LONG),
    ("０１００２３３４８８", r.TAX_CODE, "0100233488", None),      # fullwidth digits, as an IME types them
    ("𝟎𝟏𝟎𝟎𝟐𝟑𝟑𝟒𝟖𝟖－𝟎𝟎𝟏", r.TAX_CODE, "0100233488-001", None),  # mathematical digits, pasted
    ("٠١٠٠٢٣٣٤٨٨", None, "٠١٠٠٢٣٣٤٨٨", r.FOREIGN_DIGITS),       # Arabic-Indic: refused, not looked up
    ("ｔａ ０００１ａ", r.UNIT_CODE, "TA0001A", None),
    ("hkd-0003", r.UNIT_CODE, "HKD-0003", None),                 # a unit code of another office's shape
])
def test_classify_code(raw, kind, shown, problem):
    code = r.classify_code(raw, 1)
    assert (code.kind, code.shown, code.problem) == (kind, shown, problem)


def test_a_citizen_id_is_never_also_looked_up_as_a_branch_code():
    """Issue 22: twelve digits were also tried as a branch code that lost its zero; a citizen
    identity number (it begins with 0) never is one, and must not travel as a tax code."""
    assert r.classify_code(PERSONAL, 1).branch_alternative is None
    assert r.classify_code("100233488001", 1).branch_alternative == "0100233488-001"


def test_foreign_digits_of_a_personal_number_are_not_echoed():
    arabic = PERSONAL.translate({ord(d): chr(0x660 + int(d)) for d in "0123456789"})
    code = r.classify_code(arabic, 1)
    assert code.problem == r.FOREIGN_DIGITS and arabic not in code.shown


def test_a_personal_number_is_kept_only_as_its_hash_and_mask():
    code = r.classify_code(PERSONAL, 3)
    assert code.value == personal_id_hash(PERSONAL)
    assert PERSONAL not in repr(code)
    long_text = r.classify_code(f"CCCD {PERSONAL} của chủ hộ, ghi chú rất dài quá giới hạn", 4)
    assert long_text.problem == r.TOO_LONG and PERSONAL not in long_text.shown


def test_split_codes_one_per_line_csv_and_header_column():
    assert r.split_codes("\ufeff0100233488\n\n  TA0001A \r\n") == ["0100233488", "TA0001A"]
    assert r.split_codes("0100233488, TA0001A;x") == ["0100233488", "TA0001A;x"]
    table = "STT;Tên đơn vị;Mã số thuế\n1;Công ty A;0100233488\n2;Công ty B;\n3;Công ty C;TA0001A\n"
    assert r.split_codes(table) == ["0100233488", "TA0001A"]
    assert r.split_codes("MÃ SỐ THUẾ\n0100233488\n") == ["0100233488"]   # header in NFC capitals


def test_question_limits():
    with pytest.raises(r.QuestionError, match="no codes"):
        r.parse_question(["", "  "])
    with pytest.raises(r.TooManyCodes, match="at most 1000"):
        r.parse_question(["0100233488"] * 1001)
    assert len(r.parse_question(["0100233488"] * 1000)) == 1000


def _found(key, status, province="01", household=False):
    employer = {"key": key, "name": f"Đơn vị {key}", "tax_code": None if household else key, "unit_code": "TA0001A",
                "personal_id_masked": "001*******23" if household else None, "province_code": province}
    state = None if status is None else {"status": status, "since": "2026-11-24", "arrears_total": 0,
                                          "months_late": 0, "evasion_decision": None, "evasion_decision_date": None,
                                          "enforcement_stage": None}
    return {"employer": employer, "state": state}


def test_answers_every_row_with_duplicates_once():
    evading, compliant, gone = tax_code(1), tax_code(2), tax_code(3)
    codes = r.parse_question([evading, "bad", compliant, "TA0001A", evading.replace("", " ").strip(), "0100233489",
                              tax_code(4), gone, "bad", PERSONAL])
    found = {(r.TAX_CODE, evading): _found(evading, "evading"),
             (r.TAX_CODE, compliant): _found(compliant, "compliant", province="75"),
             (r.UNIT_CODE, "TA0001A"): _found("TA0001A", "late", household=True),
             (r.PERSONAL, personal_id_hash(PERSONAL)): _found("TA0001A", "late", household=True),
             (r.TAX_CODE, gone): _found(gone, None)}
    answers = r.answer_rows(codes, found, "evasion_in_force", missing_provinces=["75"])
    flat = [(a["row"], a["outcome"], a["eligible"], a["reason"]) for a in answers]
    assert flat == [(1, "found", False, "evading"), (2, "malformed", None, "malformed"),
                    (3, "found", True, "eligible"), (4, "found", True, "eligible"),
                    (5, "duplicate", None, "duplicate"), (6, "malformed", None, "malformed"),
                    (7, "unknown", None, "unknown"), (8, "found", None, "no_record"),
                    (9, "duplicate", None, "duplicate"), (10, "duplicate", None, "duplicate")]
    assert answers[0]["duplicate_rows"] == [5] and answers[4]["duplicate_of"] == 1
    assert answers[1]["duplicate_rows"] == [9]
    assert answers[3]["duplicate_rows"] == [10]          # the household by unit code and by personal number
    assert answers[9]["input"] == "001*******23"
    assert answers[2]["note"] == r.PROVINCE_MISSING
    assert r.summary(answers) == {"rows": 10, "eligible": 2, "barred": 1, "not_in_register_on_date": 1,
                                  "unknown": 1, "malformed": 2, "duplicates": 3}


def test_the_rule_of_the_release_decides():
    codes = r.parse_question([tax_code(1)])
    found = {(r.TAX_CODE, tax_code(1)): _found(tax_code(1), "delinquent")}
    assert r.answer_rows(codes, found, "evasion_in_force")[0]["eligible"] is True
    assert r.answer_rows(codes, found, "evasion_or_delinquent")[0]["reason"] == "delinquent"


@pytest.mark.parametrize("day, basis", [(date(2026, 11, 25), r.RELEASE_DAY), (date(2026, 11, 26), r.BETWEEN_RELEASES),
                                        (date(2026, 11, 28), r.AFTER_LATEST_RELEASE), (date(2026, 11, 29), r.FUTURE)])
def test_date_basis(day, basis):
    release_as_of = day if basis == r.RELEASE_DAY else date(2026, 11, 25)
    latest = date(2026, 11, 27) if basis in (r.RELEASE_DAY, r.BETWEEN_RELEASES) else date(2026, 11, 25)
    assert r.date_basis(day, release_as_of, latest, today=date(2026, 11, 28)) == basis


def _receipt(signer, created_at=NOW, codes=None):
    codes = r.parse_question(codes or [tax_code(1), "bad"])
    answers = r.answer_rows(codes, {(r.TAX_CODE, tax_code(1)): _found(tax_code(1), "evading")}, "evasion_in_force")
    section = r.date_section(day=DAY, role=None, basis=r.RELEASE_DAY, answers=answers,
                             release={"id": "2026-11-25", "as_of": DAY, "datapackage_sha256": "ab" * 32},
                             rule={"name": "evasion_in_force", "policy_version": "2026-11-01"})
    return r.build_receipt(check=r.TENDER, codes=codes, sections=[section], public_key_id=signer.key_id,
                           created_at=created_at, current_days=30, today=DAY)


def test_receipt_id_depends_on_content_not_on_time(signer):
    first, later = _receipt(signer), _receipt(signer, created_at=datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert first["id"] == later["id"] and len(first["id"]) == 32
    assert _receipt(signer, codes=[tax_code(1)])["id"] != first["id"]
    assert first["question"] == {"date": "2026-11-25", "codes": [tax_code(1), "bad"],
                                 "dates": [{"date": "2026-11-25", "role": None}]}
    assert first["version"] == 2 and first["current_until"] == "2026-12-25"
    assert first["release"]["datapackage_sha256"] == "ab" * 32 and first["rule"]["name"] == "evasion_in_force"


def test_signed_receipt_verifies_and_survives_a_json_round_trip(signer):
    data, document = r.sign_receipt(_receipt(signer), signer)
    assert data == canonical_json(document["receipt"])
    pasted = json.loads(json.dumps(document, indent=2))
    assert r.verify_receipt(pasted, {signer.key_id: signer.public_key_pem}) == r.Verification(
        True, r.AUTHENTIC, document["receipt"]["id"], signer.key_id)


def test_one_changed_character_anywhere_fails(signer):
    _, document = r.sign_receipt(_receipt(signer), signer)
    text = json.dumps(document["receipt"], ensure_ascii=False, sort_keys=True)
    keys = {signer.key_id: signer.public_key_pem}
    positions = [i for i, ch in enumerate(text) if ch.isalnum()]
    for position in positions[::7]:
        original = text[position]
        replacement = "1" if original != "1" else "2"
        altered = text[:position] + replacement + text[position + 1:]
        try:
            body = json.loads(altered)
        except ValueError:
            continue
        result = r.verify_receipt({"receipt": body, "signature": document["signature"]}, keys)
        assert not result.authentic, altered


def test_wrong_key_and_malformed_documents(signer, other_signer):
    _, foreign = r.sign_receipt(_receipt(other_signer), other_signer)
    keys = {signer.key_id: signer.public_key_pem}
    assert r.verify_receipt(foreign, keys).reason == r.UNKNOWN_KEY
    foreign["receipt"]["public_key_id"] = signer.key_id
    assert r.verify_receipt(foreign, keys).reason == r.BAD_SIGNATURE
    _, document = r.sign_receipt(_receipt(signer), signer)
    document["signature"]["value"] = document["signature"]["value"][:-4] + "AAA="
    assert r.verify_receipt(document, keys).reason == r.BAD_SIGNATURE
    for bad in (None, [], {"receipt": "x"}, {"receipt": {"type": "other"}, "signature": {}},
                {"receipt": {**document["receipt"], "n": float("nan")}, "signature": document["signature"]}):
        assert not r.verify_receipt(bad, keys).authentic
    with pytest.raises(ValueError, match="names key"):
        r.sign_receipt(_receipt(signer), other_signer)


def test_verification_code_is_short_typable_and_leads_back_to_the_id(signer):
    body = _receipt(signer)
    code = body["verification_code"]
    assert len(code) == 11 and code[5] == "-" and code == r.verification_code(body["id"])
    assert r.parse_verification_code(code.lower().replace("-", " ")) == code
    assert body["id"].startswith(r.id_prefix_of_code(code))
    assert r.parse_verification_code("12345") is None and r.parse_verification_code("UUUUU-UUUUU") is None
    assert r.parse_verification_code("OOOOO-IIIII") == "00000-11111"


def test_version_1_receipts_still_verify_and_read(signer):
    """A receipt issued before version 2 (its shape as then built) keeps its signature and reads as one date."""
    v1 = {key: value for key, value in _receipt(signer).items()
          if key not in ("check", "further_dates", "current_days", "current_until", "verification_code")}
    v1.update(version=1, question={"date": "2026-11-25", "codes": [tax_code(1), "bad"]})
    v1["release"] = {k: v for k, v in v1["release"].items() if k != "published_at"}
    _, document = r.sign_receipt(v1, signer)
    assert r.verify_receipt(document, {signer.key_id: signer.public_key_pem}).authentic
    (section,) = r.sections_of(document["receipt"])
    assert section["date"] == "2026-11-25" and section["role"] is None and len(section["answers"]) == 2


def test_two_dates_in_one_receipt(signer):
    codes = r.parse_question([tax_code(1)])
    sections = [r.date_section(day=day, role=role, basis=r.RELEASE_DAY, rule={"name": "evasion_in_force"},
                               answers=r.answer_rows(codes, {(r.TAX_CODE, tax_code(1)): _found(tax_code(1), status)},
                                                     "evasion_in_force"),
                               release={"id": day.isoformat(), "as_of": day, "published_at": "2026-11-25T11:00:00+00:00"})
                for day, role, status in ((DAY, r.BID_CLOSING, "compliant"), (date(2026, 12, 5), r.AWARD, "evading"))]
    body = r.build_receipt(check=r.TENDER, codes=codes, sections=sections, public_key_id=signer.key_id,
                           created_at=NOW, current_days=30, today=DAY)
    assert [d["role"] for d in body["question"]["dates"]] == [r.BID_CLOSING, r.AWARD]
    assert body["answers"][0]["eligible"] is True and body["further_dates"][0]["answers"][0]["eligible"] is False
    assert body["release"]["published_at"] == "2026-11-25T11:00:00+00:00"
    assert [s["date"] for s in r.sections_of(body)] == ["2026-11-25", "2026-12-05"]
