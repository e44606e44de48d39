"""The employer page: identity, status, eligibility, lifecycle and history, for today or a past date."""
from urllib.parse import quote

import feedparser
import pytest

from congkhai.taxcode import mask_personal_id

from .conftest import (BEN_THANH, BIEN_HOA, COMPLIANT_KEY, DONG_A, FORMULA, HA_THANH, HOUSEHOLD, PERSONAL_NUMBER,
                       SAI_GON, TRANG_BOM, html, soup)


def test_evading_employer_is_barred_from_tenders(client):
    page = soup(client.get(f"/employers/{DONG_A}"))
    assert page.h1.get_text() == "Công ty Cổ phần Điện tử Đông Á"
    assert page.select_one(".status-line .badge-evading").get_text() == "Trốn đóng"
    tender = page.select_one(".checks li")
    assert "no" in tender["class"] and "đang có quyết định kết luận trốn đóng" in tender.get_text()
    rows = {tr.th.get_text(strip=True): tr.td.get_text(strip=True) for tr in page.select("table.arrears tr")}
    assert rows["Bảo hiểm xã hội (BHXH)"] == "2.500.000.000\u00a0₫"
    assert rows["Số tháng chậm đóng"] == "14"
    assert rows["Quyết định trốn đóng"] == "Số 123/QĐ-TTr ngày 05/03/2026"


def test_json_twin_is_built_from_the_same_data(client):
    data = client.get(f"/employers/{DONG_A}.json").get_json()
    assert data["employer"]["arrears_bhxh"] == 2_500_000_000
    assert data["eligibility"] == {"eligible": False, "reason": "evading", "rule": "evasion_in_force"}
    assert data["honour_roll"]["eligible"] is False
    assert data["day"] == "2026-11-25"
    assert data["links"]["permalink"] == f"https://congkhai.example.vn/employers/{DONG_A}"
    assert data["episodes"][0]["reason"] == "evasion_decision" and data["episodes"][0]["left_on"] is None


def test_resolved_employer_shows_when_and_why_it_left(client):
    data = client.get(f"/employers/{TRANG_BOM}.json").get_json()
    assert data["employer"]["status"] == "compliant"
    assert data["episodes"] == [{"listed_on": "2026-11-24", "status": "delinquent", "reason": "months_late",
                                 "months_late": 6, "evasion_decision": None, "threshold_months": 3,
                                 "left_on": "2026-11-25", "leaving_reason": "paid"}]
    text = soup(client.get(f"/employers/{TRANG_BOM}")).find("section", attrs={"aria-labelledby": "lifecycle-title"}).get_text(" ", strip=True)
    assert "24/11/2026" in text and "nợ 6 tháng, bằng hoặc vượt ngưỡng 3 tháng" in text
    assert "Đã hoàn thành nghĩa vụ ngày 25/11/2026" in text  # paid: the entry says so, not just "left"


def test_newly_listed_employer_lifecycle(client):
    data = client.get(f"/employers/{BIEN_HOA}.json").get_json()
    assert [(e["listed_on"], e["left_on"]) for e in data["episodes"]] == [("2026-11-25", None)]
    assert [h["status"] for h in data["history"]] == ["compliant", "delinquent"]


def test_as_of_a_past_date_answers_from_the_history(client):
    data = client.get(f"/employers/{TRANG_BOM}.json?as_of=2026-11-24").get_json()
    assert data["employer"]["status"] == "delinquent" and data["employer"]["arrears_total"] == 80_000_000
    assert data["coverage"]["release_id"] == "2026-11-24"
    later = client.get(f"/employers/{TRANG_BOM}.json?as_of=25/11/2026").get_json()
    assert later["employer"]["status"] == "compliant"
    page = soup(client.get(f"/employers/{TRANG_BOM}?as_of=2026-11-24"))
    assert "24/11/2026" in page.find("p", class_="notice").get_text()


def test_compliant_employer_qualifies_for_the_honour_roll(client):
    data = client.get(f"/employers/{COMPLIANT_KEY}.json").get_json()
    assert data["honour_roll"]["eligible"] is True and data["eligibility"]["eligible"] is True
    assert data["episodes"] == []


def test_household_is_addressed_by_unit_code_and_shows_only_a_masked_number(client):
    response = client.get(f"/employers/{HOUSEHOLD}")
    page = soup(response)
    assert mask_personal_id(PERSONAL_NUMBER) in page.select_one("dl.identity").get_text()
    assert PERSONAL_NUMBER not in response.get_data(as_text=True)
    data = client.get(f"/employers/{HOUSEHOLD}.json").get_json()
    assert data["employer"]["tax_code"] is None and data["employer"]["personal_id_masked"] == "001*******23"


def test_history_chart_and_table(client):
    page = soup(client.get(f"/employers/{HA_THANH}"))
    chart = page.select_one("section[aria-labelledby=history-title] svg")
    assert chart.find("polyline")["points"]
    cells = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in page.select("table.history tbody tr")]
    assert cells[0][:2] == ["24/11/2026", "25/11/2026"] and cells[1][1] == "nay"
    assert cells[1][3] == "145.000.000\u00a0₫"


def test_employer_feeds_parse(client):
    for fmt in ("atom", "rss"):
        feed = feedparser.parse(client.get(f"/employers/{HA_THANH}.{fmt}").data)
        assert not feed.bozo and len(feed.entries) == 1
        assert "nợ tăng 20.000.000\u00a0₫" in feed.entries[0].title


def test_unknown_employer_is_a_friendly_404(client):
    response = client.get("/employers/0100233488")
    assert response.status_code == 404
    assert "0100233488" in html(response).find("p", class_="lead").get_text()
    assert client.get("/employers/0100233488.json").get_json()["error"]["code"] == 404


def test_watchlist_feed_follows_several_codes(client):
    feed = feedparser.parse(client.get(f"/feeds/watchlist.atom?codes={TRANG_BOM}, {BIEN_HOA[:4]} {BIEN_HOA[4:]}").data)
    assert not feed.bozo
    assert {e.link.rsplit("/", 1)[1] for e in feed.entries} == {TRANG_BOM, BIEN_HOA}
    assert client.get("/feeds/watchlist.atom?codes=not-a-code").status_code == 400
    assert client.get("/feeds/watchlist.atom").status_code == 400


def test_other_spellings_of_a_code_redirect_to_the_permalink(client):
    from .conftest import BRANCH
    response = client.get(f"/employers/{BRANCH.replace('-', '')}.json?as_of=2026-11-24")
    assert response.status_code == 301
    assert response.headers["Location"] == f"/employers/{BRANCH}.json?as_of=2026-11-24"
    assert client.get(f"/employers/{HOUSEHOLD.lower()}").headers["Location"] == f"/employers/{HOUSEHOLD}"


@pytest.mark.parametrize("typed", [HOUSEHOLD.lower(), f" {HOUSEHOLD[:2]} {HOUSEHOLD[2:6]} {HOUSEHOLD[6:]}",
                                   HOUSEHOLD.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}),
                                   HOUSEHOLD.lower().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})])
def test_a_household_page_is_found_by_its_unit_code_however_typed(client, typed):
    """The unit code is normalised by one rule (congkhai.taxcode.normalise_unit_code) wherever it is read."""
    response = client.get(f"/employers/{quote(typed)}")
    assert response.status_code == 301 and response.headers["Location"] == f"/employers/{HOUSEHOLD}"
    assert client.get(f"/api/v1/employers/{quote(typed)}").get_json()["employer"]["key"] == HOUSEHOLD
    assert client.get("/search", query_string={"q": typed}).headers["Location"] == f"/employers/{HOUSEHOLD}"


def arrears_rows(client, key, lang="vi") -> dict:
    page = soup(client.get(f"/employers/{key}?lang={lang}"))
    return {tr.th.get_text(strip=True): tr.td.get_text(" ", strip=True) for tr in page.select("table.arrears tr")}


def test_a_fund_the_report_did_not_split_out_reads_not_reported_by_fund_never_0(client):
    english = arrears_rows(client, FORMULA, "en")
    assert [english[f"{name} insurance ({fund})"] for name, fund in
            (("Social", "BHXH"), ("Health", "BHYT"), ("Unemployment", "BHTN"))] == ["not reported by fund"] * 3
    assert english["Total"] == "VND\u00a09,000,000"                     # the report's own total
    vietnamese = arrears_rows(client, FORMULA)
    assert vietnamese["Bảo hiểm xã hội (BHXH)"] == "không báo cáo theo quỹ"
    assert vietnamese["Tổng cộng"] == "9.000.000\u00a0₫"
    combined = arrears_rows(client, SAI_GON)
    assert combined["Bảo hiểm y tế (BHYT)"] == "700.000\u00a0₫"
    assert combined["Bảo hiểm xã hội (BHXH)"] == combined["Bảo hiểm thất nghiệp (BHTN)"] == "không báo cáo theo quỹ"
    data = client.get(f"/employers/{FORMULA}.json").get_json()["employer"]
    assert (data["arrears_bhxh"], data["arrears_bhyt"], data["arrears_bhtn"], data["arrears_total"]) == (
        None, None, None, 9_000_000)
    assert data["status"] == "delinquent"                                 # classified on its total


def test_interest_is_shown_apart_and_never_added_into_the_total(client):
    english = arrears_rows(client, BEN_THANH, "en")
    assert english["Occupational accident and disease insurance (BHTNLĐ-BNN)"] == "VND\u00a0100,000"
    assert english["Total"] == "VND\u00a03,800,000"                     # 3 + 0.5 + 0.2 + 0.1 million, no interest
    assert english["Late-payment interest"] == "VND\u00a0250,000 (not included in the total)"
    vietnamese = arrears_rows(client, BEN_THANH)
    assert vietnamese["Lãi chậm đóng"] == "250.000\u00a0₫ (không tính vào tổng nợ)"
    assert list(vietnamese).index("Lãi chậm đóng") > list(vietnamese).index("Tổng cộng")
    data = client.get(f"/employers/{BEN_THANH}.json").get_json()
    assert (data["employer"]["arrears_bhtnld"], data["employer"]["interest"]) == (100_000, 250_000)
    assert [h["interest"] for h in data["history"]] == [200_000, 250_000]
    assert not {"Lãi chậm đóng", "Bảo hiểm tai nạn lao động, bệnh nghề nghiệp (BHTNLĐ-BNN)"} & set(
        arrears_rows(client, FORMULA))                                    # neither reported: no line at all


def test_the_api_answers_null_for_an_unknown_fund_as_its_openapi_document_says(client):
    from jsonschema import Draft202012Validator

    document = client.get("/api/v1/openapi.json").get_json()
    state = document["components"]["schemas"]["State"]["properties"]
    assert state["arrears_bhxh"]["type"] == ["integer", "null"]
    assert "unknown, not 0" in state["arrears_bhxh"]["description"]
    assert "never part of arrears_total" in state["interest"]["description"]
    assert "BHTNLĐ-BNN" in state["arrears_bhtnld"]["description"]
    validator = Draft202012Validator({"$ref": "#/components/schemas/EmployerDetail",
                                      "components": document["components"]})
    total_only = client.get(f"/api/v1/employers/{FORMULA}").get_json()
    validator.validate(total_only)
    amounts = ("arrears_bhxh", "arrears_bhyt", "arrears_bhtn", "arrears_total")
    assert [total_only["state"][name] for name in amounts] == [None, None, None, 9_000_000]
    assert all(h["arrears_bhxh"] is None for h in total_only["history"])
    interest = client.get(f"/api/v1/employers/{BEN_THANH}").get_json()
    validator.validate(interest)
    assert (interest["state"]["interest"], interest["state"]["arrears_total"]) == (250_000, 3_800_000)


def test_an_interest_change_is_told_in_the_employer_s_feed_and_no_fund_reads_0(client):
    feed = feedparser.parse(client.get(f"/employers/{BEN_THANH}.atom").data)
    assert not feed.bozo and [entry.title for entry in feed.entries] == [
        "Công ty TNHH Đóng tàu Bến Thành: thay đổi lãi chậm đóng"]
    assert "Lãi chậm đóng: 200.000\u00a0₫ → 250.000\u00a0₫." in feed.entries[0].summary
    assert "Tổng nợ: 3.800.000\u00a0₫." in feed.entries[0].summary
