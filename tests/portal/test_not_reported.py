"""An employer whose row was rejected keeps its last reported state on the portal: its page says it
was not in that day's report, the evading list still names it and the tender check still bars it.
The about page says, in both languages, when an employer can leave the list."""
from datetime import timedelta

import pytest

from congkhai.config import load_settings
from congkhai.signing import generate_key
from portal import create_app
from publisher.pipeline import publish
from tests.publisher.factory import AS_OF, tax_code, write_all

from .conftest import soup

DAY2 = AS_OF + timedelta(1)
EVADER = tax_code(4)  # row 3 of Hanoi's report
EVADING = {"arrears_bhxh": 5_000_000, "months_late": 6, "evasion_decision": "Số 12/QĐ-TTr ngày 05/03/2026"}
TYPO = EVADING | {"evasion_decision": "Số 12/QĐ-TTr ngày 35/03/2026"}


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("not-reported")
    settings = load_settings(env={}, CONGKHAI_DATA_DIR=str(root / "data"))
    generate_key(settings["CONGKHAI_SIGNING_KEY"])
    for day, row in ((AS_OF, EVADING), (DAY2, TYPO)):
        write_all(root / day.isoformat(), as_of=day, rows_per_province=25, overrides={("01", 3): row})
        publish(root / day.isoformat(), day, settings)
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": settings["CONGKHAI_DATA_DIR"],
                      "CONGKHAI_BASE_URL": "https://congkhai.example.vn"})
    return app.test_client()


def test_the_page_of_an_employer_whose_row_was_rejected_says_so_and_keeps_its_status(client):
    page = soup(client.get(f"/employers/{EVADER}"))
    assert "Không có trong báo cáo ngày 26/11/2026" in page.select_one("#not-reported").get_text()
    english = soup(client.get(f"/employers/{EVADER}?lang=en"))
    assert "Not in the report of" in english.select_one("#not-reported").get_text()
    data = client.get(f"/employers/{EVADER}.json").get_json()
    assert (data["employer"]["status"], data["employer"]["not_reported_since"]) == ("evading", DAY2.isoformat())


def test_the_tender_check_still_bars_an_evader_whose_row_was_rejected(client):
    """Regression: the tender check answered "no record" once a typo rejected the evader's row."""
    answer = client.get("/api/v1/eligibility", query_string={"code": EVADER, "date": DAY2.isoformat()}).get_json()
    row = answer["receipt"]["answers"][0]
    assert row["outcome"] == "found" and row["eligible"] is False


@pytest.mark.parametrize("lang, words", [("vi", "Chỉ khi báo cáo ghi đơn vị không còn nợ"),
                                         ("en", "Only a report that says the employer owes nothing")])
def test_the_about_page_says_when_an_employer_can_leave_the_list(client, lang, words):
    assert words in soup(client.get(f"/about?lang={lang}")).select_one("#leave-title").parent.get_text()


def test_the_release_says_how_many_employers_it_kept_from_their_last_report(client):
    coverage = soup(client.get("/lists/evading?lang=en")).select_one("aside.coverage").get_text(" ", strip=True)
    assert "1 employer(s) had no valid row in their province's report" in coverage
    release = client.get(f"/api/v1/releases/{DAY2.isoformat()}").get_json()["release"]
    assert release["verification"]["not_reported"] == [EVADER]


def test_list_rows_mark_an_employer_kept_from_its_last_report(client):
    rows = soup(client.get("/lists/evading?lang=vi")).select("li.result")
    marked = [row for row in rows if row.select_one(".not-reported")]
    assert len(marked) == 1 and EVADER in marked[0].get_text()
    assert "Không có trong báo cáo ngày 26/11/2026" in marked[0].select_one(".not-reported").get_text()
