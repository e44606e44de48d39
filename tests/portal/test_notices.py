"""An employer in its notice period: its own page says when it will be listed unless it pays; the
offender list does not name it yet. A register of its own, published under the default policy."""
from datetime import date

import pytest

from congkhai.config import load_settings
from congkhai.signing import generate_key
from portal import create_app
from publisher.pipeline import publish
from tests.publisher.factory import tax_code, write_all

from .conftest import soup

DAYS = (date(2026, 11, 24), date(2026, 11, 25))
CROSSING = tax_code(1)  # row 0 of Hanoi's report: compliant, then four months in arrears


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("notices")
    settings = load_settings(env={}, CONGKHAI_DATA_DIR=str(root / "data"))
    generate_key(settings["CONGKHAI_SIGNING_KEY"])
    for day in DAYS:
        overrides = {("01", 0): {"arrears_bhxh": "40.000.000", "months_late": 4}} if day == DAYS[1] else {}
        write_all(root / day.isoformat(), as_of=day, rows_per_province=1, overrides=overrides)
        publish(root / day.isoformat(), day, settings)
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": settings["CONGKHAI_DATA_DIR"]})
    return app.test_client()


def test_the_employer_page_says_when_it_will_be_listed_unless_it_pays(client):
    data = client.get(f"/employers/{CROSSING}.json").get_json()
    assert data["employer"]["status"] == "notice"
    assert (data["employer"]["notice_from"], data["employer"]["listing_on"]) == ("2026-11-25", "2026-12-10")
    text = soup(client.get(f"/employers/{CROSSING}")).find(id="notice-period").get_text(" ", strip=True)
    assert "Sẽ bị đưa vào danh sách vi phạm ngày 10/12/2026 nếu không nộp đủ tiền nợ" in text
    assert "từ ngày 25/11/2026" in text


def test_an_employer_in_notice_is_not_on_the_offender_list_yet(client):
    listed = client.get("/lists/offenders.json").get_json()
    assert CROSSING not in {row["key"] for row in listed["rows"]}
