"""The commendation check, the tender's two dates in one receipt, and the short verification code.
On the three-release register of tests/portal/eligibility_register.py (a few weeks of history,
under the default policy: a 12-month window the register must have followed)."""
import json

from congkhai.receipts import sign_receipt
from congkhai.signing import load_signer
from tests.portal.conftest import soup
from tests.portal.eligibility_register import (COMPLIANT, DAY_1, DAY_2, DAY_3, DELINQUENT, EVADER, app,  # noqa: F401
                                               register)


def post(client, path, **body):
    response = client.post(path, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["receipt"]


def test_commendation_check_refuses_late_payers_and_says_why(client):
    receipt = post(client, "/api/v1/commendation", codes=[COMPLIANT, EVADER, DELINQUENT, "0000"], date=str(DAY_3))
    assert receipt["check"] == "commendation" and receipt["version"] == 2
    assert receipt["rule"]["name"] == "commendation" and receipt["rule"]["window_months"] == 12
    assert [(a["eligible"], a["reason"]) for a in receipt["answers"]] == [
        (False, "history_too_short"),   # clean, but followed for weeks, not a year: no record is not a clean record
        (False, "arrears_in_window"),   # compliant again on DAY_3, evading a week before
        (False, "in_arrears"),
        (None, "malformed")]
    assert receipt["summary"]["barred"] == 3


def test_commendation_form_in_both_languages(client):
    page = soup(client.post("/commendation", data={"codes": EVADER, "date": str(DAY_3)}))
    assert page.select_one("tr.verdict-no")
    assert "khen thưởng" in page.h1.get_text()
    english = soup(client.get("/commendation?lang=en"))
    assert "Commendation check" in english.h1.get_text()
    assert not english.select("#award_date")   # two dates belong to tenders


def test_one_receipt_answers_the_bid_closing_and_the_award_date(client):
    receipt = post(client, "/api/v1/eligibility", codes=[EVADER], date=str(DAY_1), award_date=str(DAY_2))
    assert [d["role"] for d in receipt["question"]["dates"]] == ["bid_closing", "award"]
    assert receipt["answers"][0]["eligible"] is True                       # at the bid closing date
    (award,) = receipt["further_dates"]
    assert award["date"] == str(DAY_2) and award["answers"][0]["eligible"] is False
    assert receipt["release"]["id"] == str(DAY_1) and award["release"]["id"] == str(DAY_2)
    assert receipt["release"]["published_at"] and award["release"]["published_at"]
    page = soup(client.get(f"/receipts/{receipt['id']}?lang=en"))
    headings = [h.get_text() for h in page.select("section.receipt-date h3")]
    assert headings[0].startswith("Bid closing date") and headings[1].startswith("Award date")
    assert "Data last updated" in page.get_text()
    get = client.get(f"/api/v1/eligibility?code={EVADER}&date={DAY_1}&award_date={DAY_2}").get_json()
    assert get["receipt"]["id"] == receipt["id"]


def test_receipt_is_current_for_the_policy_s_days(client):
    receipt = post(client, "/api/v1/eligibility", codes=[COMPLIANT], date=str(DAY_2))
    assert receipt["current_days"] == 30 and receipt["current_until"] > str(DAY_3)
    assert "30" in soup(client.get(f"/receipts/{receipt['id']}?lang=en")).select_one("dl.receipt-facts").get_text()


def test_a_typed_verification_code_finds_and_verifies_the_receipt(client):
    receipt = post(client, "/api/v1/eligibility", codes=[DELINQUENT], date=str(DAY_2))
    typed = receipt["verification_code"].lower().replace("-", " ")
    page = soup(client.get("/verify", query_string={"code": typed, "lang": "en"}))
    assert page.select_one("li.ok") and receipt["id"] in page.get_text()
    assert page.find("code", class_="verification-code").get_text() == receipt["verification_code"]
    assert client.get("/verify?code=ZZZZZ-ZZZZZ").status_code == 404
    assert client.get("/verify?code=123").status_code == 400


def test_version_1_receipts_on_file_still_show_and_verify(client, register, app):
    """A receipt stored before version 2: its page and /verify read it as one date."""
    from portal import current
    from datetime import datetime, timezone

    signer = load_signer(register["CONGKHAI_SIGNING_KEY"])
    body = {"id": "0" * 31 + "1", "created_at": "2026-11-25T09:30:00+00:00", "type": "congkhai.eligibility-receipt",
            "version": 1, "question": {"date": str(DAY_2), "codes": [EVADER]}, "date_basis": "release_day",
            "release": {"id": str(DAY_2), "as_of": str(DAY_2), "datapackage_sha256": None, "partial": False},
            "rule": {"name": "evasion_in_force", "policy_version": "2026-11-01"}, "answers": [
                {"row": 1, "input": EVADER, "outcome": "unknown", "kind": "tax_code", "eligible": None,
                 "reason": "unknown"}],
            "summary": {"rows": 1, "eligible": 0, "barred": 0, "not_in_register_on_date": 0, "unknown": 1,
                        "malformed": 0, "duplicates": 0}, "public_key_id": signer.key_id}
    data, document = sign_receipt(body, signer)
    with app.app_context():
        current.store_receipt(body["id"], datetime(2026, 11, 25, 9, 30, tzinfo=timezone.utc), str(DAY_2), data,
                              document["signature"]["value"])
    page = soup(client.get(f"/receipts/{body['id']}"))
    assert len(page.select("section.receipt-date")) == 1
    verdict = client.post("/api/v1/verify", data=json.dumps(document), content_type="application/json").get_json()
    assert verdict["authentic"] and verdict["on_file"]


def test_an_honour_roll_empty_because_the_register_is_young_says_so(client):
    """Regression: in a register weeks old, the roll (12 months followed, by default) was empty without a word."""
    from congkhai.rules.commendation import first_possible_day

    first = first_possible_day(DAY_1, 12)
    data = client.get("/lists/honour-roll.json").get_json()
    assert data["pagination"]["total"] == 0
    assert data["not_open_yet"] == {"began": str(DAY_1), "months": 12, "first_possible": str(first)}
    note = soup(client.get("/lists/honour-roll")).find(id="not-open-yet").get_text(" ", strip=True)
    assert note == (f"Sổ công khai bắt đầu từ ngày {DAY_1:%d/%m/%Y}. Danh sách biểu dương gồm các đơn vị đóng đầy đủ, "
                    f"đúng hạn liên tục 12 tháng, nên sớm nhất từ ngày {first:%d/%m/%Y} mới có đơn vị được biểu dương.")
    english = soup(client.get("/lists/honour-roll?lang=en")).find(id="not-open-yet").get_text(" ", strip=True)
    assert english.startswith(f"The register began on {DAY_1.day} {DAY_1:%b %Y}.") and "for 12 months in a row" in english
    assert not soup(client.get("/lists/offenders")).find(id="not-open-yet")

