"""Checks every page must pass: it answers, in Vietnamese by default, with a title, one h1, labelled
controls, a coverage statement on list and result pages, and never a household's personal number."""
import pytest

from .conftest import BIEN_HOA, DONG_A, HA_THANH, HOUSEHOLD, PERSONAL_NUMBER, TRANG_BOM, soup

PAGES = [
    "/", "/search", "/search?q=cong+ty", "/search?status=delinquent&province=75",
    f"/employers/{HA_THANH}", f"/employers/{DONG_A}", f"/employers/{HOUSEHOLD}", f"/employers/{TRANG_BOM}?as_of=2026-11-24",
    "/provinces", "/provinces/dong-nai", "/releases/2026-11-25", "/releases/2026-11-24", "/data", "/about",
    "/results", "/results?province=dong-nai&period=all", "/commendation",
]
LIST_PAGES = [
    "/lists/offenders", "/lists/offenders?province=75&sort=months", "/lists/evading", "/lists/honour-roll",
    "/lists/honour-roll?page=2&per_page=10", "/lists/honour-roll?province=ha-noi", "/lists/changes", "/lists/changes?kind=resolved",
    "/lists/offenders?as_of=2026-11-24", "/search?q=dien+tu", "/search?q=cong+ty&as_of=2026-11-24",
    "/inspections", "/inspections?province=75&sort=arrears",
]
TWINS = [
    "/index.json", "/search.json?q=ho+kinh+doanh", "/search.atom?q=nguyen+van+duc", "/lists/offenders.json",
    "/lists/offenders.csv", "/lists/offenders.atom", "/lists/offenders.rss", "/lists/changes.csv", "/lists/changes.json",
    f"/employers/{HOUSEHOLD}.json", f"/employers/{HOUSEHOLD}.atom", "/provinces/dong-nai.json", "/provinces.json",
    "/releases/2026-11-25.json", "/data.json", "/data/catalog.jsonld", f"/feeds/watchlist.atom?codes={HOUSEHOLD}",
    "/lists/offenders.csv?province=75&as_of=2026-11-24",
    "/results.json", "/results.csv", "/inspections.json", "/inspections.csv", "/inspections.atom",
]


@pytest.mark.parametrize("url", PAGES + LIST_PAGES)
def test_every_page_is_vietnamese_semantic_html(client, url):
    page = soup(client.get(url))
    assert page.html["lang"] == "vi"
    assert page.title.string.strip().endswith("Công khai") and len(page.title.string.strip()) > len("· Công khai")
    assert len(page.find_all("h1")) == 1
    assert page.find("main", id="main") and page.find("a", class_="skip")["href"] == "#main"
    for control in page.select("input, select, textarea"):
        if control.get("type") in ("hidden", "submit"):
            continue
        labelled = control.get("id") and page.find("label", attrs={"for": control["id"]})
        assert labelled or control.find_parent("label"), f"unlabelled control {control}"
    for svg in page.find_all("svg"):
        # a chart whose bars are links is a group: role="img" would hide its links from screen readers
        assert svg.get("role") == ("group" if svg.find("a") else "img") and svg.find("title").string


@pytest.mark.parametrize("url", LIST_PAGES)
def test_list_and_result_pages_state_what_they_cover(client, url):
    coverage = soup(client.get(url)).find("aside", class_="coverage")
    assert coverage is not None
    text = coverage.get_text(" ", strip=True)
    assert "3 tháng" in text and "1\u00a0₫" in text
    if "as_of" in url:
        assert "24/11/2026" in text
    else:
        assert "25/11/2026" in text and "18:30" in text and "26/11/2026" in text


@pytest.mark.parametrize("url", PAGES + LIST_PAGES + TWINS)
def test_no_household_personal_number_in_any_output(client, url):
    response = client.get(url)
    assert response.status_code == 200, url  # an error page would pass the checks below
    body = response.get_data(as_text=True)
    assert PERSONAL_NUMBER not in body
    assert PERSONAL_NUMBER[:9] not in body


def test_english_is_one_click_away_and_remembered(client):
    page = soup(client.get(f"/employers/{DONG_A}?lang=en"))
    assert page.html["lang"] == "en"
    assert "VND\u00a02,500,000,000" in page.get_text()
    assert "24 Nov 2026" in page.get_text()
    follow = soup(client.get("/lists/evading"))
    assert follow.html["lang"] == "en" and follow.h1.string == "Evading employers"
    back = soup(client.get("/lists/evading?lang=vi"))
    assert back.html["lang"] == "vi" and back.h1.string == "Đơn vị trốn đóng"


def test_vietnamese_formats_money_and_dates(client):
    text = soup(client.get(f"/employers/{DONG_A}")).get_text()
    assert "2.500.000.000\u00a0₫" in text and "24/11/2026" in text


def test_language_switch_links_keep_the_page_and_its_filters(client):
    page = soup(client.get("/lists/offenders?province=75"))
    switch = page.find("a", hreflang="en")
    assert switch["href"].startswith("/lists/offenders?") and "province=75" in switch["href"]
    assert "lang=en" in switch["href"]


def test_every_page_offers_its_twins(client):
    page = soup(client.get("/lists/offenders?province=75"))
    feed = page.find("link", rel="alternate", type="application/atom+xml")
    assert feed["href"] == "/lists/offenders.atom?province=75"
    hrefs = {a["href"] for a in page.select(".twins a")}
    assert {"/lists/offenders.csv?province=75", "/lists/offenders.json?province=75"} <= hrefs
    assert soup(client.get(f"/employers/{BIEN_HOA}")).find("a", href=f"/employers/{BIEN_HOA}.json")
