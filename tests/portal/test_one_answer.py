"""Every area has one data function: its page, the page's .json twin and the API answer render the
same dict (the API through its field names, portal/api_fields.py). For each area, the API's answer
is the adapter applied to the .json twin, and the page shows what the twin says."""
from __future__ import annotations

import pytest

from portal import api_fields

from .conftest import BIEN_HOA, DAY_2, HA_THANH, HOUSEHOLD, soup

# area -> (page URL without its format, API URL, adapter)
AREAS = {
    "search by name": ("/search{fmt}?q=cong+ty", "/api/v1/employers?q=cong+ty", api_fields.search),
    "search by filters": ("/search{fmt}?status=delinquent&sort=name&per_page=50",
                          "/api/v1/employers?status=delinquent&sort=name&per_page=50", api_fields.search),
    "employer listed": (f"/employers/{HA_THANH}{{fmt}}", f"/api/v1/employers/{HA_THANH}", api_fields.employer),
    "employer newly listed": (f"/employers/{BIEN_HOA}{{fmt}}", f"/api/v1/employers/{BIEN_HOA}", api_fields.employer),
    "household": (f"/employers/{HOUSEHOLD}{{fmt}}", f"/api/v1/employers/{HOUSEHOLD}", api_fields.employer),
    "employer on a past day": (f"/employers/{HA_THANH}{{fmt}}?as_of=2026-11-24",
                               f"/api/v1/employers/{HA_THANH}?as_of=2026-11-24", api_fields.employer),
    "inspections": ("/inspections{fmt}", "/api/v1/inspections", api_fields.inspections),
    "release": (f"/releases/{DAY_2.isoformat()}{{fmt}}", f"/api/v1/releases/{DAY_2.isoformat()}", api_fields.release),
    "results": ("/results{fmt}?period=all", "/api/v1/results?period=all", api_fields.results),
    "releases": ("/data{fmt}", "/api/v1/releases", api_fields.releases),
}


@pytest.mark.parametrize("area", AREAS)
def test_the_api_answer_is_the_pages_json_in_the_apis_names(app, client, area):
    page, api, adapter = AREAS[area]
    twin = client.get(page.format(fmt=".json"))
    answer = client.get(api)
    assert (twin.status_code, answer.status_code) == (200, 200)
    with app.test_request_context():
        expected = adapter(twin.get_json())
    assert {k: v for k, v in answer.get_json().items() if k != "release_id"} == expected
    assert answer.headers["X-Release-Id"] == twin.headers["X-Release-Id"]


@pytest.mark.parametrize("area", [a for a in AREAS if a not in ("results", "releases")])
def test_the_page_shows_what_its_json_twin_says(client, area):
    page = AREAS[area][0]
    data = client.get(page.format(fmt=".json")).get_json()
    text = soup(client.get(page.format(fmt=""))).get_text(" ", strip=True)
    rows = data.get("results") or data.get("rows") or data.get("top_offenders") or []
    names = [row["name"] for row in rows] + ([data["employer"]["name"]] if "employer" in data else [])
    assert names and all(name in text for name in names)
    if "total" in data:
        assert f"{data['total']:,}".replace(",", ".") in text
