"""Search pages: folded Vietnamese, identifiers that jump to the employer, facets, sorting, paging, dates."""
import re

import feedparser
import pytest

from .conftest import BRANCH, DONG_A, FORMULA, HOUSEHOLD, PERSONAL_NUMBER, SAI_GON, TRANG_BOM, html, soup


def results(client, url):
    data = client.get(url).get_json()
    return data, [row["key"] for row in data["results"]]


@pytest.mark.parametrize("q", ["cong ty co phan dien tu dong a", "Công ty Cổ phần Điện tử Đông Á", "ctcp dien tu dong a",
                               "CÔNG TY ĐIỆN TỬ ĐÔNG Á", "cong ty dien tu dong a".upper(), "dien tư dông a"])
def test_names_are_found_with_or_without_marks(client, q):
    _, keys = results(client, f"/search.json?q={q}")
    assert keys[0] == DONG_A


def test_nfd_name_is_found_by_its_nfc_spelling(client):
    data, _ = results(client, "/search.json?q=Thương mại Sài Gòn")
    assert data["results"][0]["name"] == "Công ty TNHH Thương mại Sài Gòn"


def test_results_show_the_reported_total_of_an_employer_whose_funds_are_unknown(client):
    data, keys = results(client, "/search.json?q=Thương mại Sài Gòn")
    hit = data["results"][0]
    assert hit["key"] == SAI_GON and hit["arrears_total"] == 4_000_000 and "arrears_bhxh" not in hit
    data, keys = results(client, "/search.json?status=delinquent&province=48")
    assert FORMULA in keys and data["results"][keys.index(FORMULA)]["arrears_total"] == 9_000_000
    page = soup(client.get("/search?q=Thương mại Sài Gòn&lang=en")).get_text()
    assert "VND\u00a04,000,000" in page and "VND\u00a00" not in page


@pytest.mark.parametrize("q, key", [
    (DONG_A, DONG_A), (f" {DONG_A[:4]} {DONG_A[4:]} ", DONG_A), (BRANCH.replace("-", ""), BRANCH), (BRANCH, BRANCH),
    (HOUSEHOLD.lower(), HOUSEHOLD),
])
def test_a_tax_code_or_unit_code_goes_straight_to_the_employer(client, q, key):
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/employers/{key}"


@pytest.mark.parametrize("q", [PERSONAL_NUMBER, f"{PERSONAL_NUMBER[:3]} {PERSONAL_NUMBER[3:]}", PERSONAL_NUMBER[1:]])
def test_a_household_is_found_by_the_owners_exact_full_number(client, q):
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 302 and response.headers["Location"] == f"/employers/{HOUSEHOLD}"
    assert client.get(f"/api/v1/employers/{q.replace(' ', '')}").get_json()["employer"]["key"] == HOUSEHOLD


def test_an_unknown_personal_number_is_never_repeated_back(client):
    unknown = "079999999999"
    for url in (f"/search?q={unknown}", f"/search.json?q={unknown}", f"/search.atom?q={unknown}",
                f"/employers/{unknown}", f"/api/v1/employers/{unknown}", f"/feeds/watchlist.atom?codes={unknown}"):
        response = client.get(url)
        assert response.status_code < 500, url
        assert unknown not in response.get_data(as_text=True), url


def test_identifier_redirect_keeps_the_date(client):
    response = client.get("/search", query_string={"q": TRANG_BOM, "as_of": "2026-11-24"})
    assert response.headers["Location"] == f"/employers/{TRANG_BOM}?as_of=2026-11-24"


def test_unknown_tax_code_gets_a_friendly_not_found_page(client):
    response = client.get("/search?q=0100233488")
    assert response.status_code == 404
    page = html(response)
    assert "0100233488" in page.find("p", class_="lead").get_text()
    assert page.find("form", role="search")


def test_tax_code_with_a_wrong_check_digit_gets_a_hint(client):
    page = soup(client.get("/search?q=0100233489"))
    assert "0100233489" in page.find("p", class_="notice").get_text()


def test_facets_count_what_the_filters_would_show(client):
    data, _ = results(client, "/search.json?q=cong+ty")
    statuses = {option["value"]: option["count"] for option in data["facets"]["status"]}
    assert sum(statuses.values()) == data["total"]
    for status, count in statuses.items():
        filtered, _ = results(client, f"/search.json?q=cong+ty&status={status}")
        assert filtered["total"] == count


def test_filters_are_in_the_url_and_checked_in_the_form(client):
    page = soup(client.get("/search?q=cong+ty&province=75&status=delinquent"))
    assert page.find("input", attrs={"name": "province", "value": "75"}).has_attr("checked")
    assert page.find("input", attrs={"name": "status", "value": "delinquent"}).has_attr("checked")
    names = [h.get_text(strip=True) for h in page.select(".result h3")]
    assert names == ["Công ty TNHH May Mặc Biên Hòa"]


def test_range_facets_link_to_their_bounds(client):
    data, _ = results(client, "/search.json?status=delinquent&status=evading")
    page = soup(client.get("/search?status=delinquent&status=evading"))
    link = page.select(".range-facet a")[0]
    followed, _ = results(client, link["href"].replace("/search?", "/search.json?"))
    assert 0 < followed["total"] <= data["total"]
    assert followed["filters"]["arrears_min"] is not None


def test_sorting_and_paging(client):
    data, keys = results(client, "/search.json?q=cong+ty&sort=arrears&per_page=10")
    amounts = [row["arrears_total"] for row in data["results"]]
    assert amounts == sorted(amounts, reverse=True) and keys[0] == DONG_A
    second, second_keys = results(client, "/search.json?q=cong+ty&sort=arrears&per_page=10&page=2")
    assert second["pagination"]["page"] == 2 and not set(keys) & set(second_keys)
    page = soup(client.get("/search?q=cong+ty&per_page=10&page=2"))
    assert page.find("a", rel="prev")["href"] == "/search?q=cong+ty&per_page=10"


def test_search_as_of_a_past_date_uses_that_release(client):
    past, _ = results(client, "/search.json?q=go+trang+bom&as_of=2026-11-24")
    today, _ = results(client, "/search.json?q=go+trang+bom")
    assert past["results"][0]["status"] == "delinquent"
    assert today["results"][0]["status"] == "compliant"


def test_empty_search_invites_a_query(client):
    page = soup(client.get("/search?q="))
    assert page.find("h2", id="results-title").get_text(strip=True) == "Nhập tên, mã số thuế hoặc mã đơn vị"
    assert not page.select(".result")


def test_search_feed_follows_the_employers_found(client):
    feed = feedparser.parse(client.get("/search.atom?q=go+trang+bom").data)
    assert not feed.bozo
    assert [e.link for e in feed.entries] == [f"https://congkhai.example.vn/employers/{TRANG_BOM}"]
    assert "đã nộp tiền nợ" in feed.entries[0].title


def search_links(page) -> list[str]:
    return [a["href"] for a in page.find_all("a", href=True) if a["href"].startswith("/search")]


def test_every_link_of_a_search_for_the_top_arrears_band_answers(client):
    """Issue 22: every 11- or 12-digit query value was masked as if it were a personal number, so
    the links of a search for the top band (arrears_min=10000000000) carried '010*******00' and
    answered 400."""
    query = "status=delinquent&status=evading&arrears_min=10000000000&per_page=10"
    links = search_links(soup(client.get(f"/search?{query}")))
    data = client.get(f"/search.json?{query}").get_json()
    links += [option["url"] for facet in ("arrears", "months") for option in data["facets"][facet]]
    assert any("arrears_min=10000000000" in link for link in links)
    for link in links:
        assert client.get(link).status_code == 200, link


def links_in(response) -> list[str]:
    """Every link an answer carries: its redirect, the hrefs of HTML and feeds, and JSON's URLs."""
    links = [response.headers.get("Location", "")]
    if response.is_json:
        found = []

        def walk(value):
            if isinstance(value, dict):
                found.extend(v for k, v in value.items() if isinstance(v, str) and (k in ("url", "href") or
                                                                                    v.startswith("/")))
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)
        walk(response.get_json())
        return links + found
    return links + re.findall(r'href="([^"]*)"', response.get_data(as_text=True))  # HTML and Atom alike


@pytest.mark.parametrize("url", [
    f"/search.json?q={PERSONAL_NUMBER}&status=delinquent&per_page=10", f"/search.atom?q={PERSONAL_NUMBER}",
    f"/search?q={PERSONAL_NUMBER[1:]}", f"/search?sector={PERSONAL_NUMBER}&q=cong+ty",
    f"/search.json?ownership={PERSONAL_NUMBER}&q=cong+ty", f"/feeds/watchlist.atom?codes={PERSONAL_NUMBER}",
    f"/employers/{PERSONAL_NUMBER}", f"/employers/{PERSONAL_NUMBER}.json",
])
def test_a_searched_personal_number_is_in_no_link(client, url):
    response = client.get(url)
    assert response.status_code < 500
    assert not [link for link in links_in(response) if PERSONAL_NUMBER in link or PERSONAL_NUMBER[1:] in link]
