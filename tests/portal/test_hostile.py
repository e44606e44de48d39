"""Hostile employer names, published by the real pipeline, are shown as text in every output format:
escaped in HTML (every page type that shows a name), exact in JSON, escaped in Atom and RSS (which
feedparser reads without complaint), neutralised against formulas in CSV and XLSX, and stripped
of the invisible characters that would let one name pass for another."""
import csv
import io
import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import feedparser
import pytest
from openpyxl import load_workbook

from tests.portal.hostile_register import (DAY_2, EVADING, FIVE_THOUSAND, HONOUR, KEYS, PUBLISHED, REJECTED_KEY,  # noqa: F401
                                           app, writer)

from .conftest import html, soup

LISTED = [place for place in PUBLISHED if place != HONOUR]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
INVISIBLE = ("\u202e", "\u202c", "\u200b", "\u200d", "\u2060")
RELEASE = DAY_2.isoformat()


def receipt_links(client) -> dict:
    response = client.post("/api/v1/eligibility", json={"codes": list(KEYS.values()), "date": RELEASE})
    assert response.status_code == 200
    return response.get_json()["links"]


def assert_inert(page, raw: str) -> None:
    """Nothing the data says became markup: no script but our JSON-LD, no image, no handler, no
    element out of place."""
    assert all(script.get("type") == "application/ld+json" for script in page.find_all("script"))
    assert not page.find_all("img") and not page.find_all("iframe")
    assert not [e.name for e in page.find_all(True) if any(a.lower().startswith("on") for a in e.attrs)]
    assert all(link.find_parent("head") for link in page.find_all("link"))
    assert "<script>alert" not in raw and "<img src=x" not in raw and "\u202e" not in raw


HTML_PAGES = [
    ("/search?status=delinquent&status=evading&per_page=100", LISTED),
    ("/search?q=alert", [("01", 0), ("01", 1)]),
    ("/search?q=nam+anh", [HONOUR]),
    ("/lists/offenders?per_page=100", LISTED),
    ("/lists/evading", [EVADING]),
    ("/lists/honour-roll?province=48", [HONOUR]),
    ("/provinces/tuyen-quang", [("08", 0), ("08", 1), ("08", 2)]),
    ("/provinces/ha-noi", [("01", 0), ("01", 1)]),
    ("/lists/changes?per_page=100", LISTED),
    (f"/releases/{RELEASE}", LISTED),
] + [(f"/employers/{key}", [place]) for place, key in KEYS.items()]


@pytest.mark.parametrize("url, places", HTML_PAGES)
def test_every_html_page_shows_the_names_as_text(client, url, places):
    response = client.get(url)
    page = soup(response)
    assert_inert(page, response.get_data(as_text=True))
    text = page.get_text()
    for place in places:
        assert PUBLISHED[place] in text, (url, PUBLISHED[place])


def test_employer_page_title_is_the_name_as_text(client):
    for place, key in KEYS.items():
        page = soup(client.get(f"/employers/{key}"))
        assert page.h1.get_text() == PUBLISHED[place]
        assert page.title.get_text().startswith(PUBLISHED[place])
        assert page.find("svg").find("desc").get_text().count(PUBLISHED[place]) == 1


def test_receipt_pages_show_the_names_as_text(writer):
    links = receipt_links(writer)
    form = writer.post("/eligibility", data={"codes": "\n".join(KEYS.values()), "date": RELEASE})
    verify = writer.get(links["verify"].removeprefix("https://congkhai.example.vn"))
    for response in (form, writer.get(links["html"]), verify):
        page = soup(response)
        assert_inert(page, response.get_data(as_text=True))
        names = [cell.get_text(" ", strip=True) for cell in page.select("table.answers tbody tr")]
        for place in PUBLISHED:
            assert any(PUBLISHED[place] in row for row in names), PUBLISHED[place]


def test_json_twins_and_the_api_carry_the_names_exactly(writer):
    for place, key in KEYS.items():
        assert writer.get(f"/employers/{key}.json").get_json()["employer"]["name"] == PUBLISHED[place]
        assert writer.get(f"/api/v1/employers/{key}").get_json()["employer"]["name"] == PUBLISHED[place]
    found = writer.get("/api/v1/employers?status=delinquent&status=evading&per_page=100").get_json()["results"]
    assert {row["name"] for row in found} >= {PUBLISHED[place] for place in LISTED}
    search = writer.get("/search.json?q=alert").get_json()
    assert {PUBLISHED[("01", 0)], PUBLISHED[("01", 1)]} <= {row["name"] for row in search["results"]}
    receipt = writer.get(receipt_links(writer)["json"]).get_json()
    assert {a["employer"]["name"] for a in receipt["receipt"]["answers"]} == set(PUBLISHED.values())


def test_json_ld_of_the_data_page_is_data_that_cannot_close_its_element(client):
    page = soup(client.get("/data"))
    block = page.find("script", type="application/ld+json").string
    assert "<" not in block
    dataset = json.loads(block)
    assert dataset["@type"] == "Dataset" and dataset["temporalCoverage"] == RELEASE
    assert {f["name"] for f in dataset["distribution"]} >= {"employers.csv", f"congkhai-{RELEASE}.xlsx"}


FEEDS = ["/lists/offenders.atom", "/lists/offenders.rss", "/lists/changes.atom", "/lists/changes.rss",
         "/search.atom?q=alert", "/releases/current/feeds/newly-listed.atom", "/releases/current/feeds/newly-listed.rss",
         "/releases/current/feeds/changes.atom", "/releases/current/feeds/provinces/08.atom",
         "/releases/current/feeds/newly-evading.rss"] + [f"/employers/{key}.atom" for key in KEYS.values()]


@pytest.mark.parametrize("url", FEEDS)
def test_feeds_escape_the_names_and_parse(client, url):
    response = client.get(url)
    assert response.status_code == 200
    body = response.get_data()
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    root = ElementTree.fromstring(body)
    names = {element.tag.rpartition("}")[2] for element in root.iter()}
    assert not names & {"script", "img", "iframe"}
    links = [element.get("href") or element.text for element in root.iter() if element.tag.rpartition("}")[2] == "link"]
    assert links and all(link.startswith("https://congkhai.example.vn") for link in links)
    titles = " ".join(entry.title for entry in feed.entries)
    shown = [place for place in LISTED if KEYS[place] in body.decode()]
    assert shown or url == f"/employers/{KEYS[HONOUR]}.atom"      # the honour-roll employer never changed
    for place in shown:
        assert PUBLISHED[place] in titles, (url, PUBLISHED[place])
    assert not any(mark in body.decode() for mark in INVISIBLE)


def assert_neutralised(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                assert cell.lstrip("-").isdigit(), cell      # only a negative number may start with '-'


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def spreadsheet_form(name: str) -> str:
    return "'" + name if name.startswith(FORMULA_STARTS) else name


@pytest.mark.parametrize("url, places", [
    ("/lists/offenders.csv?lang=en", LISTED), ("/lists/changes.csv?lang=en", LISTED),
    ("/lists/honour-roll.csv?lang=en&province=48", [HONOUR]), ("/lists/evading.csv?lang=en", [EVADING]),
])
def test_list_downloads_are_safe_in_a_spreadsheet(client, url, places):
    rows = csv_rows(client.get(url).get_data(as_text=True))
    assert_neutralised(rows)
    names = {row[rows[0].index("Name")] for row in rows[1:]}
    assert {spreadsheet_form(PUBLISHED[place]) for place in places} <= names


def test_release_files_are_safe_in_a_spreadsheet(client, hostile):
    everyone = {spreadsheet_form(name) for name in PUBLISHED.values()}
    for name in ("employers.csv", "delinquent.csv", "evading.csv", "compliant.csv", "changes.csv"):
        response = client.get(f"/data/releases/{RELEASE}/{name}")
        assert response.status_code == 200
        rows = csv_rows(response.get_data(as_text=True))
        assert_neutralised(rows)
        if name == "employers.csv":
            assert everyone <= {row[rows[0].index("name")] for row in rows[1:]}
    workbook = load_workbook(io.BytesIO(client.get(f"/data/releases/{RELEASE}/congkhai-{RELEASE}.xlsx").get_data()),
                             read_only=True)
    seen = set()
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert_neutralised([[cell.value]])
                    assert not any(mark in cell.value for mark in INVISIBLE)
                    seen.add(cell.value)
    assert everyone <= seen


def test_invisible_characters_are_gone_and_the_plain_name_is_found(client):
    for url in ("/search.json?q=nam+anh", "/search.json?q=binh+an"):
        results = client.get(url).get_json()["results"]
        assert {row["name"] for row in results} & {PUBLISHED[HONOUR], PUBLISHED[("48", 2)]}
    for place in (HONOUR, ("48", 2)):
        body = client.get(f"/employers/{KEYS[place]}.json").get_data(as_text=True)
        assert not any(mark in body for mark in INVISIBLE)
        assert not any(mark in json.loads(body)["employer"]["name"] for mark in INVISIBLE)


def test_a_five_thousand_character_name_is_quarantined_not_published(client, hostile):
    rejects = csv_rows((Path(hostile["CONGKHAI_DATA_DIR"]) / "rejects" / RELEASE / "rejects.csv").read_text("utf-8"))
    assert [row[2:5:2] for row in rejects[1:] if row[3] == FIVE_THOUSAND] == [["Tên đơn vị", 'constraint "maxLength" is "500"']]
    missing = client.get(f"/employers/{REJECTED_KEY}")
    assert missing.status_code == 404 and FIVE_THOUSAND not in missing.get_data(as_text=True)
    assert client.get("/search?q=" + FIVE_THOUSAND).status_code == 400
    assert html(client.get("/search?q=" + FIVE_THOUSAND)).find("p", class_="lead").get_text()
