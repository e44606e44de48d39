"""Bounded everything and no way out of the release directory: absurd sizes get a clear 4xx, the
rate limits answer 429 with Retry-After on pages as on the API, and no path parameter reaches a
file or row it should not. (Query, page and batch bounds of single views are in test_errors,
test_api and test_eligibility; these are the bounds every route shares.)"""
import io
from pathlib import Path

import pytest

from congkhai.receipts import MAX_DOCUMENT_BYTES
from portal import create_app
from portal.guards import MAX_CONTENT_LENGTH, MAX_FORM_PARTS

from .conftest import DONG_A, html

RELEASE = "2026-11-25"


@pytest.fixture
def limited(published):
    """A portal whose page limit is 2 requests a minute, API limit 3."""
    return create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"],
                       "CONGKHAI_PAGE_RATE_LIMIT": "2 per minute", "CONGKHAI_API_RATE_LIMIT": "3 per minute"})


def test_pages_are_rate_limited_with_a_translated_429_and_retry_after(limited):
    client = limited.test_client()
    assert [client.get(url).status_code for url in ("/about", "/lists/offenders")] == [200, 200]
    page = client.get("/provinces")
    assert page.status_code == 429 and 0 < int(page.headers["Retry-After"]) <= 60
    assert html(page).h1.get_text() == "Quá nhiều yêu cầu" and "Vui lòng chờ một phút" in html(page).p.get_text()
    english = client.get("/about?lang=en")
    assert english.status_code == 429 and html(english).h1.get_text() == "Too many requests"
    twin = client.get("/lists/offenders.json")
    assert twin.status_code == 429 and twin.get_json()["error"]["code"] == 429 and "Retry-After" in twin.headers
    assert client.get("/static/portal.css").status_code == 200                        # static files are not counted
    assert [client.get("/api/v1/releases").status_code for _ in range(4)] == [200, 200, 200, 429]  # the API's own
    assert client.get("/about", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200     # per client


@pytest.mark.parametrize("query", ["q=" + "a" * 201, "page=10001", "page=0", "per_page=1000", "per_page=5",
                                   "sector=" + "s" * 201, "&".join(f"sector=s{i}" for i in range(51)), "arrears_min=" + "9" * 19])
@pytest.mark.parametrize("path", ["/search", "/search.json", "/api/v1/employers"])
def test_every_search_bound_is_the_same_on_the_page_its_twin_and_the_api(client, path, query):
    assert client.get(f"{path}?{query}").status_code == 400


def test_without_redis_the_limits_fall_back_to_memory_instead_of_failing(published):
    nobody = "redis://127.0.0.1:5122/0"                                   # a port in our range nobody listens on
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "REDIS_URL": nobody,
                      "CONGKHAI_PAGE_RATE_LIMIT": "2 per minute"})
    client = app.test_client()
    assert [client.get("/about").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v1/releases").status_code == 200


def test_request_bodies_and_forms_are_bounded_on_every_route(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == MAX_CONTENT_LENGTH and app.config["MAX_FORM_PARTS"] == MAX_FORM_PARTS
    too_big = client.post("/eligibility", data={"codes": "x" * (MAX_CONTENT_LENGTH + 1)})
    assert too_big.status_code == 413 and html(too_big).h1.get_text()
    assert client.post("/verify", data={"receipt": "x" * (MAX_DOCUMENT_BYTES + 1)}).status_code == 413
    parts = {f"field{n}": "x" for n in range(MAX_FORM_PARTS + 5)}
    assert client.post("/eligibility", data=parts, content_type="multipart/form-data").status_code == 413
    many_files = {f"file{n}": (io.BytesIO(b"0100233488"), f"{n}.csv") for n in range(MAX_FORM_PARTS + 5)}
    assert client.post("/verify", data=many_files, content_type="multipart/form-data").status_code == 413
    api = client.post("/api/v1/eligibility", data="x" * (MAX_CONTENT_LENGTH + 1), content_type="application/json")
    assert api.status_code == 413 and api.get_json()["error"]["status"] == 413


@pytest.mark.parametrize("url, status", [
    ("/search?q=a%00b", 400), ("/employers/0100%00", 404), (f"/data/releases/{RELEASE}/employers.csv%00.txt", 404),
    ("/provinces/ha-noi%00", 404), ("/api/v1/employers/%00", 404), ("/api/v1/employers?q=%00", 400),
    ("/lists/offenders.json?sector=%00", 400), ("/search.atom?q=%EF%BF%BF", 400), ("/search.rss?q=a%01", 400),
    ("/lists/changes.atom?sector=%1B", 400), ("/employers/0100%7F", 404), ("/api/v1/receipts/%04x", 404),
])
def test_nul_and_control_characters_are_refused_before_they_reach_the_database_disk_or_a_feed(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    if url.startswith("/api/") or ".json" in url:
        assert response.get_json()["error"]["status" if url.startswith("/api/") else "code"] == status
    elif status == 400:
        assert "không được phép" in html(response).find("p", class_="lead").get_text()
    else:
        assert "Không có trang nào ở địa chỉ này" in html(response).find("p", class_="lead").get_text()


TRAVERSALS = [
    f"/data/releases/{RELEASE}/../../congkhai.db", f"/data/releases/{RELEASE}/..%2F..%2Fkeys%2Fsigning.key",
    f"/data/releases/{RELEASE}/%2e%2e/%2e%2e/keys/signing.key", f"/data/releases/{RELEASE}/..%5C..%5Ckeys%5Csigning.key",
    f"/data/releases/{RELEASE}//etc/passwd", f"/data/releases/{RELEASE}/%2Fetc%2Fpasswd",
    "/data/releases/..%2F..%2Fkeys/signing.key", "/data/releases/../keys/signing.key",
    "/releases/current/feeds/../../../keys/signing.key", "/releases/current/feeds/%2e%2e/%2e%2e/%2e%2e/congkhai.db",
    "/releases/current/feeds/..%2F..%2F..%2Fkeys%2Fsigning.key", "/releases/current/feeds//etc/passwd",
    "/releases/..%2F..%2Fkeys", "/releases/..%2F..%2Fkeys.json", f"/releases/{RELEASE}/charts/..%2F..%2Fsigning.svg",
    "/releases/..%2Fkeys/charts/provinces-arrears.svg", "/employers/..%2F..%2Fkeys%2Fsigning.key",
    "/employers/..%2F..%2Fetc%2Fpasswd.json", "/provinces/..%2F01", "/provinces/..%2F..%2Fkeys",
    "/receipts/..%2F..%2Fkeys%2Fsigning.key", "/receipts/..%2F..%2Fcongkhai.db.json", "/verify?id=../../keys/signing.key",
    "/api/v1/releases/..%2F..%2Fkeys", "/api/v1/employers/..%2F..%2Fetc%2Fpasswd", "/api/v1/receipts/..%2F..%2Fkeys",
    "/lists/..%2F..%2Fkeys", "/static/..%2F..%2Fkeys%2Fsigning.key", "/static/../README.md",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_no_path_parameter_leads_out_of_its_directory(client, published, url):
    data_dir = Path(published["CONGKHAI_DATA_DIR"])
    assert (data_dir / "keys" / "signing.key").is_file() and (data_dir / "congkhai.db").is_file()  # there to steal
    response = client.get(url, follow_redirects=True)          # `//` is merged by a redirect first
    assert response.status_code in (400, 404), (url, response.status_code)
    body = response.get_data()
    assert b"PRIVATE KEY" not in body and b"SQLite format" not in body and b"root:" not in body


def test_the_release_files_themselves_are_served(client):
    """The guard is not a wall: the files a release lists are there."""
    assert client.get(f"/data/releases/{RELEASE}/employers.csv").status_code == 200
    assert client.get("/releases/current/feeds/provinces/01.atom").status_code == 200
    assert client.get(f"/employers/{DONG_A}").status_code == 200
