"""Planned inspections on the shared register: Hà Thành (5 months, already inspected), Biên Hòa
(3 months, newly delinquent, not inspected), the formula-named Đà Nẵng employer (4 months)."""
import feedparser

from tests.portal.conftest import BIEN_HOA, DONG_A, FORMULA, HA_THANH, soup


def keys(client, url):
    return [row["key"] for row in client.get(url).get_json()["rows"]]


def test_due_employers_are_listed_before_the_visit(client):
    listed = keys(client, "/inspections.json")
    assert BIEN_HOA in listed and FORMULA in listed
    assert HA_THANH not in listed     # "Đã thanh tra": inspected already
    assert DONG_A not in listed       # an evasion decision is the outcome of an inspection
    assert keys(client, "/inspections.json?province=dong-nai") == [BIEN_HOA]


def test_page_csv_and_feed(client):
    page = soup(client.get("/inspections?province=75"))
    assert "Kế hoạch thanh tra" in page.h1.get_text()
    assert client.get("/inspections.csv?province=75").get_data(as_text=True).count("\n") == 2
    feed = feedparser.parse(client.get("/inspections.atom").get_data())
    assert not feed.bozo
    assert any(BIEN_HOA in entry.link for entry in feed.entries)   # newly due on the second release


def test_employer_page_shows_the_stage_and_whether_it_is_due(client):
    inspected = client.get(f"/employers/{HA_THANH}.json").get_json()["enforcement"]
    assert inspected["stage"] == "inspection" and not inspected["due_for_inspection"]
    due = client.get(f"/employers/{BIEN_HOA}.json").get_json()["enforcement"]
    assert due["due_for_inspection"] and due["on_inspection_list"]
    text = soup(client.get(f"/employers/{HA_THANH}?lang=en")).get_text()
    assert "(inspected)" in text


def test_api_lists_the_planned_inspections(client):
    data = client.get("/api/v1/inspections?province=75").get_json()
    assert data["policy"] == {"min_months": 3, "publish": "before_visit"}
    assert [row["key"] for row in data["results"]] == [BIEN_HOA]
