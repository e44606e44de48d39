"""Every page names the release it answers from twice, in `X-Release-Id` and in
`<meta name="release-id">`, and the two agree: the soak (bench/soak.py) checks exactly this while
a new release is published underneath, so a cache or a worker serving a mix is caught."""
import pytest

from congkhai.config import load_settings
from congkhai.signing import generate_key
from portal import create_app, current
from publisher.pipeline import publish
from tests.publisher.factory import write_all

from .conftest import DAY_1, DAY_2, HA_THANH, TRANG_BOM, soup

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


def test_a_request_straddling_the_refresh_keeps_one_current_release(tmp_path, monkeypatch):
    """Regression: each call of `current_release()` could re-read the database, so a request that
    straddled the refresh moment answered from one release and called another the latest."""
    settings = load_settings(env={}, CONGKHAI_DATA_DIR=str(tmp_path / "data"))
    generate_key(settings["CONGKHAI_SIGNING_KEY"])
    write_all(tmp_path / "reports-1", as_of=DAY_1)
    publish(tmp_path / "reports-1", DAY_1, settings)
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": settings["CONGKHAI_DATA_DIR"]})
    monkeypatch.setattr(current, "CURRENT_RELEASE_SECONDS", -1)  # every call may re-read
    with app.test_request_context("/search"):
        assert current.release().id == "2026-11-24"
        write_all(tmp_path / "reports-2", as_of=DAY_2)
        publish(tmp_path / "reports-2", DAY_2, settings)
        assert current.release().id == "2026-11-24"
    with app.test_request_context("/search"):
        assert current.release().id == "2026-11-25"
