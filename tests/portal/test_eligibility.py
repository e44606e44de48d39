"""The /eligibility page: answers from the history for any date, every row reported, household
numbers never echoed, and the limits on what one check may ask."""
import io
from datetime import timedelta

import pytest

from tests.portal.conftest import soup
from tests.portal.eligibility_register import (DAY_1, DAY_2, DAY_3, DECISION, DELINQUENT, EVADER, HOUSEHOLD_UNIT,  # noqa: F401
                                               NEW_CODE, OLD_CODE, PERSONAL_NUMBER, TODAY, app, register)


def rows(page) -> list[dict]:
    out = []
    for tr in page.select("table.answers tbody tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        out.append({"row": int(cells[0]), "input": cells[1], "employer": cells[2], "verdict": tr["class"][0],
                    "outcome": tr["class"][1].removeprefix("outcome-"), "why": cells[5]})
    return out


def check(client, codes: str, day, **extra):
    return client.post("/eligibility", data={"codes": codes, "date": str(day), **extra},
                       content_type="multipart/form-data")


def test_form_has_labelled_controls_and_defaults_to_today(client):
    page = soup(client.get("/eligibility"))
    form = page.find("form", class_="eligibility-form")
    for control in form.find_all(["input", "textarea"]):
        assert page.find("label", attrs={"for": control["id"]}), control
    assert form.find("input", attrs={"name": "date"})["value"] == TODAY.isoformat()
    assert form["enctype"] == "multipart/form-data"


@pytest.mark.parametrize("day, verdict, basis_text", [
    (DAY_1, "verdict-ok", "release"),                           # before the evasion interval
    (DAY_2, "verdict-no", "release"),                           # the day it starts
    (DAY_2 + timedelta(days=3), "verdict-no", "history"),       # between releases: from the history
    (DAY_3 - timedelta(days=1), "verdict-no", "history"),       # the last day in force
    (DAY_3, "verdict-ok", "release"),                           # the day it ends
    (DAY_3 + timedelta(days=2), "verdict-ok", "latest"),        # after the latest release, not in the future
])
def test_evader_on_dates_before_during_and_after_the_interval(client, day, verdict, basis_text):
    page = soup(check(client, EVADER, day))
    (answer,) = rows(page)
    assert answer["verdict"] == verdict
    assert "Xây lắp Đông Đô" in answer["employer"]
    if verdict == "verdict-no":
        assert DECISION in answer["why"]
    facts = " ".join(dl.get_text(" ") for dl in page.find_all("dl", class_="receipt-facts"))
    expected_release = DAY_1 if day < DAY_2 else DAY_2 if day < DAY_3 else DAY_3
    assert f"{expected_release:%d/%m/%Y}" in facts
    assert {"release": "ngày phát hành", "history": "lịch sử", "latest": "mới nhất"}[basis_text] in facts.lower()


def test_a_future_date_is_answered_from_the_latest_release_and_says_so(client):
    page = soup(check(client, EVADER, TODAY + timedelta(days=400)))
    assert rows(page)[0]["verdict"] == "verdict-ok"
    notice = page.find("p", class_="notice").get_text()
    assert "có thể thay đổi" in notice                      # "the answer may change"


def test_a_date_before_the_first_release_is_refused_clearly(client):
    response = check(client, EVADER, DAY_1 - timedelta(days=1))
    assert response.status_code == 404
    assert f"{DAY_1:%d/%m/%Y}" in response.get_data(as_text=True)


def test_batch_reports_malformed_duplicate_and_unknown_rows_in_order(client):
    unknown = "0100233488"                                  # a valid tax code nobody reported
    codes = "\n".join([EVADER, "abc", DELINQUENT, f" {EVADER[:4]}-{EVADER[4:]} ", unknown, "0100233489", "12345",
                       HOUSEHOLD_UNIT, PERSONAL_NUMBER, "", NEW_CODE])
    page = soup(check(client, codes, DAY_2))
    got = [(r["row"], r["outcome"], r["verdict"]) for r in rows(page)]
    assert got == [(1, "found", "verdict-no"), (2, "malformed", "verdict-unknown"), (3, "found", "verdict-ok"),
                   (4, "duplicate", "verdict-unknown"), (5, "unknown", "verdict-unknown"),
                   (6, "malformed", "verdict-unknown"), (7, "malformed", "verdict-unknown"),
                   (8, "found", "verdict-ok"), (9, "duplicate", "verdict-unknown"), (10, "found", "verdict-ok")]
    table = rows(page)
    assert "hàng 4" in table[0]["why"] and "hàng 1" in table[3]["why"]
    assert "chữ số kiểm tra" in table[5]["why"]             # the check digit is named as the problem


def test_household_by_personal_number_is_never_echoed(client):
    response = check(client, f"{PERSONAL_NUMBER}\n{PERSONAL_NUMBER[:-1]}0", DAY_3)
    body = response.get_data(as_text=True)
    assert PERSONAL_NUMBER not in body and PERSONAL_NUMBER[:-1] + "0" not in body
    first, second = rows(soup(response))
    assert first["input"] == "079*******89" and "Trần Thị Đào" in first["employer"]
    assert second["outcome"] == "unknown" and second["input"] == "079*******80"


def test_an_employer_not_yet_or_no_longer_reported_has_no_answer_for_that_day(client):
    before, after = rows(soup(check(client, NEW_CODE, DAY_1)))[0], rows(soup(check(client, OLD_CODE, DAY_3)))[0]
    for row in (before, after):
        assert row["outcome"] == "found" and row["verdict"] == "verdict-unknown"
        assert "Không có trong sổ công khai" in row["why"]


def test_uploaded_csv_uses_its_code_column(client):
    csv_text = f"STT,Tên,Mã số thuế\n1,Đông Đô,{EVADER}\n2,Hà Đông,{DELINQUENT}\n3,Sai,0100233489\n"
    response = client.post("/eligibility", data={"date": str(DAY_2), "file": (io.BytesIO(csv_text.encode("utf-8-sig")),
                                                                                "danh-sach.csv")},
                           content_type="multipart/form-data")
    assert [(r["input"], r["outcome"]) for r in rows(soup(response))] == [
        (EVADER, "found"), (DELINQUENT, "found"), ("0100233489", "malformed")]


def test_an_upload_that_is_not_utf8_is_a_clear_400(client):
    response = client.post("/eligibility", data={"file": (io.BytesIO("Mã số thuế\n".encode("utf-16")), "x.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "UTF-8" in response.get_data(as_text=True)


def test_single_code_by_get_is_a_shareable_url(client):
    page = soup(client.get(f"/eligibility?code={EVADER}&date={DAY_2.strftime('%d/%m/%Y')}"))
    assert rows(page)[0]["verdict"] == "verdict-no"
    assert page.find("a", string="Biên nhận dạng JSON") or page.select_one("p.twins a[href$='.json']")


@pytest.mark.parametrize("codes, day, status", [
    ("", DAY_2, 400),
    (EVADER, "32/13/2026", 400),
    ("\n".join(["0100233488"] * 1001), DAY_2, 413),
])
def test_bad_questions(client, codes, day, status):
    response = check(client, codes, day)
    assert response.status_code == status
    assert "<h1>" in response.get_data(as_text=True)       # a friendly page, not a stack trace


def test_a_request_body_over_the_limit_is_413(client):
    response = check(client, "0100233488\n" * 60_000, DAY_2)
    assert response.status_code == 413


def test_a_thousand_codes_are_answered(client):
    codes = "\n".join(f"TA{n:04d}A" for n in range(1, 1001))
    page = soup(check(client, codes, DAY_2))
    answered = rows(page)
    assert len(answered) == 1000
    assert sum(r["outcome"] == "found" for r in answered) == 34 * 3     # every unit code the factory reported
    assert sum(r["outcome"] == "unknown" for r in answered) == 1000 - 34 * 3


def test_honour_roll_reason_of_a_clean_employer_followed_too_briefly(client):
    """A compliant employer followed three weeks was told it was 'not paying on time throughout 12 months'."""
    from tests.portal.eligibility_register import COMPLIANT

    text = soup(client.get(f"/employers/{COMPLIANT}")).select_one("ul.checks").get_text(" ", strip=True)
    assert "thời gian theo dõi chưa đủ 12 tháng" in text and "chưa đóng đầy đủ" not in text
    text = soup(client.get(f"/employers/{DELINQUENT}")).select_one("ul.checks").get_text(" ", strip=True)
    assert "chưa đóng đầy đủ trong suốt 12 tháng" in text


def look_alike(code: str, zero: int) -> str:
    """The code written with another script's digits ('0' becomes chr(zero))."""
    return code.translate({ord(d): chr(zero + int(d)) for d in "0123456789"})


FULLWIDTH, MATHEMATICAL, ARABIC_INDIC, EXTENDED_ARABIC = 0xFF10, 0x1D7CE, 0x660, 0x6F0


def test_look_alike_digits_are_read_or_refused_never_unknown(client):
    """Issue 22: a tax code typed with fullwidth or mathematical digits was answered 'unknown', as if
    it had been looked up and was not in the register."""
    codes = [look_alike(EVADER, FULLWIDTH), look_alike(DELINQUENT, MATHEMATICAL), look_alike(EVADER, ARABIC_INDIC),
             look_alike(PERSONAL_NUMBER, EXTENDED_ARABIC)]
    response = check(client, "\n".join(codes), DAY_2)
    got = [(r["input"], r["outcome"], r["verdict"]) for r in rows(soup(response))]
    assert got[:2] == [(EVADER, "found", "verdict-no"), (DELINQUENT, "found", "verdict-ok")]
    assert [outcome for _, outcome, _ in got[2:]] == ["malformed", "malformed"]
    assert "chữ số khác 0-9" in rows(soup(response))[2]["why"]
    assert look_alike(PERSONAL_NUMBER, EXTENDED_ARABIC) not in response.get_data(as_text=True)


@pytest.mark.parametrize("zero, outcome, problem", [(FULLWIDTH, "found", None), (MATHEMATICAL, "found", None),
                                                    (ARABIC_INDIC, "malformed", "foreign_digits")])
def test_the_api_reads_look_alike_digits_as_the_page_does(client, zero, outcome, problem):
    for answer in (client.get("/api/v1/eligibility", query_string={"code": look_alike(EVADER, zero),
                                                                   "date": DAY_2.isoformat()}),
                   client.post("/api/v1/eligibility", json={"codes": [look_alike(EVADER, zero)],
                                                            "date": DAY_2.isoformat()})):
        row = answer.get_json()["receipt"]["answers"][0]
        assert (row["outcome"], row.get("problem")) == (outcome, problem)
