"""Absurd input gets a friendly page in the reader's language (or a JSON error), never a 500."""
import pytest

from .conftest import html

BAD = [
    ("/lists/offenders?page=-1", 400), ("/lists/offenders?page=abc", 400), ("/lists/offenders?page=0", 400),
    ("/lists/offenders?page=99999999", 400), ("/lists/offenders?page=500", 404), ("/search?q=cong+ty&page=9999", 404),
    ("/lists/offenders?per_page=7", 400), ("/lists/offenders?sort=evil", 400), ("/lists/offenders?province=99", 400),
    ("/lists/offenders?status=compliant", 400), ("/search?q=" + "a" * 201, 400), ("/search?arrears_min=lots", 400),
    ("/lists/offenders?as_of=yesterday", 400), ("/lists/offenders?as_of=2099-01-01", 400),
    ("/lists/offenders?as_of=2020-01-01", 404), ("/employers/nobody", 404), ("/releases/2030-01-01", 404),
    ("/releases/2026-11-25/charts/pie.svg", 404), ("/provinces/atlantis", 404), ("/no/such/page", 404),
    ("/lists/changes?kind=everything", 400), ("/search?sector=" + "x" * 300, 400),
    ("/data/releases/2026-11-25/../../congkhai.db", 404), ("/data/releases/2026-11-25/missing.csv", 404),
]


@pytest.mark.parametrize("url, status", BAD)
def test_bad_requests_get_a_friendly_page(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    page = html(response)
    assert page.html["lang"] == "vi"
    assert page.h1.get_text() and page.find("p", class_="lead").get_text()
    assert page.find("form", role="search") and "Traceback" not in page.get_text()


@pytest.mark.parametrize("url, status", [("/lists/offenders.json?page=abc", 400), ("/employers/nobody.json", 404),
                                         ("/search.json?q=" + "b" * 500, 400)])
def test_json_twins_answer_errors_in_json(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == status and response.get_json()["error"]["message"]


def test_error_pages_speak_english_too(client):
    page = html(client.get("/lists/offenders?page=abc&lang=en"))
    assert page.html["lang"] == "en" and "Page numbers are whole numbers" in page.get_text()


def test_an_unknown_address_is_explained_in_the_readers_language(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Không có trang nào ở địa chỉ này" in text and "requested URL" not in text
    english = client.get("/khong-co-trang-nay?lang=en").get_data(as_text=True)
    assert "There is no page at this address" in english


def test_releases_lead_to_the_catalogue_of_every_release(client):
    response = client.get("/releases")
    assert response.status_code == 302 and response.headers["Location"].endswith("/data")
