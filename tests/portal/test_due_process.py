"""Due process on the portal, on a register of its own published under the default policy: an
employer in its notice period is not named yet; a corrected past report is a public correction,
and a past day is answered both as the list said it and as we now know it."""
import csv
import io
from datetime import date, datetime, timezone

import feedparser
import pytest

from congkhai.config import load_settings
from congkhai.signing import generate_key
from portal import create_app
from publisher.correct import correct
from publisher.pipeline import publish
from tests.publisher.factory import tax_code, write_all

from .conftest import soup

DAYS = (date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26))
CROSSING = tax_code(1)  # row 0 of Hanoi's report: compliant, then four months in arrears
LISTED = {("79", 0): {"arrears_bhxh": "70.000.000", "months_late": 6}}  # listed from the first release


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("notices")
    settings = load_settings(env={}, CONGKHAI_DATA_DIR=str(root / "data"))
    generate_key(settings["CONGKHAI_SIGNING_KEY"])
    for day in DAYS:
        crossing = {("01", 0): {"arrears_bhxh": "40.000.000", "months_late": 4}} if day > DAYS[0] else {}
        write_all(root / day.isoformat(), as_of=day, rows_per_province=1, overrides={**crossing, **LISTED})
        if day == DAYS[2]:  # before the third run, Ho Chi Minh City corrects its first report: it had paid
            others = tuple(code for code in {k[0] for k in write_all(root / "fixed", as_of=DAYS[0],
                                                                     rows_per_province=1)} if code != "79")
            for path in (root / "fixed").iterdir():
                if path.name[:2] in others:
                    path.unlink()
            correct(root / "fixed", DAYS[0], settings)
        publish(root / day.isoformat(), day, settings)
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": settings["CONGKHAI_DATA_DIR"],
                      "CONGKHAI_BASE_URL": "https://congkhai.example.vn"})
    return app.test_client()


def corrected_key(client) -> str:
    [row] = client.get("/corrections.json").get_json()["rows"]
    return row["key"]


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


def test_the_corrections_list_and_its_twins(client):
    [row] = client.get("/corrections.json").get_json()["rows"]
    assert (row["applies_from"], row["applies_to"], row["recorded_in_release"]) == ("2026-11-24", "2026-11-25",
                                                                                     "2026-11-26")
    assert (row["published"]["status"], row["corrected"]["status"], row["removed"]) == ("delinquent", "compliant",
                                                                                       False)
    page = soup(client.get("/corrections"))
    cells = [td.get_text(" ", strip=True) for td in page.find(id=f"correction-{row['id']}").find_all("td")]
    assert "Nợ đọng" in cells[2] and "Đóng đúng hạn" not in cells[2] and "2026-11-26" in cells[5]
    table = list(csv.reader(io.StringIO(client.get("/corrections.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert len(table) == 2 and table[1][1] == row["key"] and "compliant" in table[1]
    recorded = datetime.fromisoformat(client.get("/api/v1/releases/2026-11-26").get_json()["release"]["created_at"])
    for fmt in ("atom", "rss"):
        feed = feedparser.parse(client.get(f"/corrections.{fmt}").data)
        assert not feed.bozo and len(feed.entries) == 1
        assert "Đúng là: Đóng đầy đủ" in feed.entries[0].summary
        # dated when the release that published it was published, not midnight of its date
        assert datetime(*feed.entries[0].published_parsed[:6], tzinfo=timezone.utc) == recorded
    assert client.get("/corrections.json?known_at=2026-11-25").get_json()["rows"] == []  # not yet known then


def test_a_past_day_answered_as_the_list_said_and_as_we_now_know(client):
    key = corrected_key(client)
    now = client.get(f"/employers/{key}.json?as_of=2026-11-24").get_json()
    assert now["employer"]["status"] == "delinquent"  # what the list said stays as it was
    assert now["known"]["corrected"] and now["known"]["as_known"]["status"] == "compliant"
    then = client.get(f"/employers/{key}.json?as_of=2026-11-24&known_at=2026-11-25").get_json()["known"]
    assert not then["corrected"] and then["as_known"]["status"] == "delinquent"
    text = soup(client.get(f"/employers/{key}?as_of=2026-11-24")).find(id="corrected").get_text(" ", strip=True)
    assert "theo thông tin hiện nay" in text and "2026-11-26" in text
    api = client.get(f"/api/v1/employers/{key}?as_of=2026-11-24").get_json()
    assert api["state"]["status"] == "delinquent" and api["known"]["as_known"]["status"] == "compliant"
    assert client.get(f"/api/v1/employers/{key}?as_of=2026-11-25&known_at=2026-11-24").status_code == 400


def test_a_receipt_says_its_answers_are_what_the_list_said_and_names_corrected_employers(client):
    key = corrected_key(client)
    document = client.post("/api/v1/eligibility", json={"codes": [key, CROSSING], "date": "2026-11-24"}).get_json()
    knowledge = document["receipt"]["knowledge"]
    assert knowledge == {"answers": "as_published", "known_at": "2026-11-26", "corrected_keys": [key]}
    assert document["receipt"]["answers"][0]["state"]["status"] == "delinquent"  # as the list said
