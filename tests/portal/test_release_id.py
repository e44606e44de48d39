"""Every page names the release it answers from twice, in `X-Release-Id` and in
`<meta name="release-id">`, and the two agree: the soak (bench/soak.py) checks exactly this while
a new release is published underneath, so a cache or a worker serving a mix is caught."""
import pytest

from .conftest import HA_THANH, TRANG_BOM, soup

PAGES = {
    "/search?q=ha+thanh": "2026-11-25",
    f"/employers/{HA_THANH}": "2026-11-25",
    "/lists/offenders?province=01": "2026-11-25",
    "/lists/changes": "2026-11-25",
    f"/employers/{TRANG_BOM}?as_of=2026-11-24": "2026-11-24",
    "/lists/evading?as_of=2026-11-24": "2026-11-24",
    "/about?as_of=2026-11-24": "2026-11-24",  # the thresholds of that release, without a coverage statement
}


@pytest.mark.parametrize("url", PAGES)
def test_pages_name_their_release_in_the_header_and_the_page(client, url):
    response = client.get(url)
    marker = soup(response).find("meta", attrs={"name": "release-id"})
    assert response.headers["X-Release-Id"] == marker["content"] == PAGES[url]


def test_the_api_keeps_naming_its_release_once(client):
    response = client.get(f"/api/v1/employers/{HA_THANH}")
    assert response.headers.getlist("X-Release-Id") == [response.get_json()["release_id"]] == ["2026-11-25"]


def test_pages_before_the_first_release_name_none(empty_app):
    response = empty_app.test_client().get("/about")
    assert "X-Release-Id" not in response.headers
    assert soup(response).find("meta", attrs={"name": "release-id"}) is None
