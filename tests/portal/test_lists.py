"""List pages, changes, provinces and the release page: filters, sorting, CSV of exactly the view, feeds."""
import csv
import datetime
import io
import xml.etree.ElementTree as ElementTree

import feedparser
import pytest

from congkhai.models import Employer
from congkhai.rules.commendation import is_commendable
from congkhai.register import Filters
from portal import current

from .conftest import BIEN_HOA, DONG_A, FORMULA, HA_THANH, HOUSEHOLD, TRANG_BOM, DAY_2, soup


def keys(client, url):
    return [row["key"] for row in client.get(url).get_json()["rows"]]


def test_offender_list_is_delinquent_and_evading_by_arrears(client):
    data = client.get("/lists/offenders.json").get_json()
    assert [row["key"] for row in data["rows"]] == [DONG_A, HA_THANH, BIEN_HOA, FORMULA]
    assert {row["status"] for row in data["rows"]} == {"delinquent", "evading"}
    assert data["pagination"]["total"] == 4


def test_list_filters_sort_and_past_dates(client):
    assert keys(client, "/lists/offenders.json?province=75") == [BIEN_HOA]
    assert keys(client, "/lists/offenders.json?province=dong-nai") == [BIEN_HOA]
    assert keys(client, "/lists/offenders.json?status=evading") == [DONG_A]
    assert keys(client, "/lists/offenders.json?sector=Sản xuất điện tử") == [DONG_A]
    assert keys(client, "/lists/offenders.json?sort=months")[:2] == [DONG_A, HA_THANH]
    assert keys(client, "/lists/offenders.json?province=75&as_of=2026-11-24") == [TRANG_BOM]
    assert keys(client, "/lists/evading.json") == [DONG_A]


def test_list_form_keeps_the_choices(client):
    page = soup(client.get("/lists/offenders?province=75&sort=months"))
    assert page.find("select", id="province").find("option", selected=True)["value"] == "75"
    assert page.find("select", id="sort").find("option", selected=True)["value"] == "months"


def read_csv(response):
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_is_exactly_the_filtered_view_and_safe_in_a_spreadsheet(client):
    rows = read_csv(client.get("/lists/offenders.csv"))
    assert [row["Mã định danh"] for row in rows] == [DONG_A, HA_THANH, BIEN_HOA, FORMULA]
    formula = next(row for row in rows if row["Mã định danh"] == FORMULA)
    assert formula["Tên"] == "'=HYPERLINK(\"http://x\")"
    assert formula["Tổng số nợ (đồng)"] == "9000000"
    assert [row["Mã định danh"] for row in read_csv(client.get("/lists/offenders.csv?province=75"))] == [BIEN_HOA]
    whole = read_csv(client.get("/lists/honour-roll.csv?per_page=10"))
    assert len(whole) == client.get("/lists/honour-roll.json").get_json()["pagination"]["total"]


def test_list_downloads_leave_an_unknown_fund_empty_and_json_null(client):
    formula = next(row for row in read_csv(client.get("/lists/offenders.csv")) if row["Mã định danh"] == FORMULA)
    assert (formula["Nợ BHXH"], formula["Nợ BHYT"], formula["Nợ BHTN"]) == ("", "", "")   # never "0"
    assert (formula["Nợ BHTNLĐ-BNN"], formula["Lãi chậm đóng (đồng)"]) == ("", "")
    english = next(row for row in read_csv(client.get("/lists/offenders.csv?lang=en")) if row["Identifier"] == FORMULA)
    assert english["Social insurance arrears"] == "" and english["Total arrears (VND)"] == "9000000"
    assert "Late-payment interest (VND)" in english
    row = next(row for row in client.get("/lists/offenders.json").get_json()["rows"] if row["key"] == FORMULA)
    assert (row["arrears_bhxh"], row["arrears_bhtnld"], row["interest"], row["arrears_total"]) == (
        None, None, None, 9_000_000)


@pytest.mark.parametrize("full_history", [False, True])
def test_honour_roll_query_agrees_with_the_rule(app, full_history):
    with app.app_context():
        filters = Filters(honour_roll=True, window_months=12, full_history=full_history)
        on_roll = {row["key"] for row in current.register().states_on(DAY_2, filters, "name", 1, 1000).rows}
        expected = {e.key for e in current.db.session.query(Employer)
                    if is_commendable(e.intervals, DAY_2, 12, requires_full_history=full_history)}
    assert on_roll == expected and TRANG_BOM not in on_roll and HOUSEHOLD not in on_roll
    assert len(on_roll) > 90 if not full_history else on_roll == set()  # two days of history: nobody yet


def test_recent_changes_by_kind(client):
    data = client.get("/lists/changes.json").get_json()
    kinds = {c["employer"]["key"]: c["kinds"] for c in data["changes"]}
    assert "newly_listed" in kinds[BIEN_HOA] and "resolved" in kinds[TRANG_BOM]
    assert kinds[HA_THANH] == ["arrears_changed"]
    resolved = client.get("/lists/changes.json?kind=resolved").get_json()["changes"]
    assert [c["employer"]["key"] for c in resolved] == [TRANG_BOM] and resolved[0]["leaving_reason"] == "paid"
    assert client.get("/lists/changes.json?as_of=2026-11-24").get_json()["changes"] == []
    rows = read_csv(client.get("/lists/changes.csv?kind=newly_listed"))
    assert [(r["Mã định danh"], r["Chênh lệch số nợ (đồng)"]) for r in rows] == [(BIEN_HOA, "50000000")]


@pytest.mark.parametrize("url, links", [
    ("/lists/offenders.atom?province=75", {BIEN_HOA, TRANG_BOM}),
    ("/lists/offenders.rss?province=75&sector=Xây dựng", {BIEN_HOA, TRANG_BOM}),
    ("/lists/evading.atom", set()),
    ("/lists/changes.atom?kind=resolved", {TRANG_BOM}),
])
def test_every_list_has_a_feed_with_the_same_filters(client, url, links):
    feed = feedparser.parse(client.get(url).data)
    assert not feed.bozo
    assert {entry.link.rsplit("/", 1)[1] for entry in feed.entries} == links


def test_feeds_are_dated_when_the_release_was_published_not_at_midnight(client):
    """Regression: portal feeds dated their entries and themselves 00:00 of the release date."""
    created = datetime.datetime.fromisoformat(client.get("/api/v1/releases/2026-11-25").get_json()["release"]["created_at"])
    def utc(parsed):
        return datetime.datetime(*parsed[:6], tzinfo=datetime.timezone.utc)

    for url in ("/lists/changes.rss", "/lists/changes.atom", f"/employers/{HA_THANH}.atom"):
        feed = feedparser.parse(client.get(url).data)
        assert feed.entries, url
        assert {utc(entry.published_parsed) for entry in feed.entries} == {created}, url
        if url.endswith(".atom"):
            assert {utc(entry.updated_parsed) for entry in feed.entries} == {utc(feed.feed.updated_parsed)} == {created}


def test_province_pages(client):
    assert client.get("/provinces/75").headers["Location"] == "/provinces/dong-nai"
    data = client.get("/provinces/dong-nai.json").get_json()
    assert data["figures"]["offenders"] == 1 and data["figures"]["employers"] == 3
    assert [row["key"] for row in data["top_offenders"]] == [BIEN_HOA]
    page = soup(client.get("/provinces/dong-nai"))
    assert page.h1.get_text() == "Tỉnh Đồng Nai"
    assert page.find("a", href="/lists/offenders.atom?province=75")
    ranked = client.get("/provinces.json").get_json()["provinces"]
    assert ranked[0]["code"] == "01" and len(ranked) == 34


def test_release_page_for_the_press(client):
    data = client.get("/releases/2026-11-25.json").get_json()
    assert [c["employer"]["key"] for c in data["newly_listed"]] == [BIEN_HOA]
    assert [c["employer"]["key"] for c in data["resolved"]] == [TRANG_BOM]
    assert [c["employer"]["key"] for c in data["largest_increases"]] == [HA_THANH]
    assert data["largest_increases"][0]["arrears_delta"] == 20_000_000
    assert data["top_offenders"][0]["key"] == DONG_A
    assert data["provinces_ranked"][0]["code"] == "01"
    assert data["permalink"] == "https://congkhai.example.vn/releases/2026-11-25"
    page = soup(client.get("/releases/2026-11-25"))
    assert data["permalink"] in page.select_one(".citation").get_text()
    assert "25/11/2026" in page.select_one(".citation").get_text()
    first = soup(client.get("/releases/2026-11-24"))
    assert "kỳ công bố đầu tiên" in first.find("p", class_="lead").get_text()
    assert client.get("/releases/latest").headers["Location"] == "/releases/2026-11-25"


@pytest.mark.parametrize("name", ["provinces-arrears", "provinces-offenders"])
def test_release_charts_download_as_standalone_svg(client, name):
    response = client.get(f"/releases/2026-11-25/charts/{name}.svg")
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.data)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    assert root.find("svg:title", ns).text and root.findall(".//svg:rect", ns)
    labels = [t.text for t in root.findall(".//svg:text", ns)]
    assert "Hà Nội" in labels


def test_a_paid_employer_shows_obligation_completed_for_the_retention_then_leaves(client, app):
    data = client.get("/lists/offenders.json").get_json()
    assert TRANG_BOM not in {row["key"] for row in data["rows"]}
    assert [(r["key"], r["completed_on"]) for r in data["completed"]["rows"]] == [(TRANG_BOM, "2026-11-25")]
    assert data["completed"]["days"] == 30
    text = soup(client.get("/lists/offenders")).find(id="completed").get_text(" ", strip=True)
    assert "hoàn thành nghĩa vụ ngày 25/11/2026" in text
    with app.app_context():
        later = DAY_2 + datetime.timedelta(days=30)
        assert current.register().recently_completed(later - datetime.timedelta(days=1), 30, Filters())[0]["key"] == TRANG_BOM
        assert current.register().recently_completed(later, 30, Filters()) == []  # retention over: history only


def test_an_honour_roll_under_a_policy_that_waives_full_history_has_no_not_open_yet_note(client):
    """This register is two days old, but its policy waives the whole-window rule: the roll has members."""
    data = client.get("/lists/honour-roll.json").get_json()
    assert data["pagination"]["total"] > 0 and data["not_open_yet"] is None
    assert not soup(client.get("/lists/honour-roll")).find(id="not-open-yet")


def test_honour_roll_feed_lists_no_offenders_changes(client):
    """The honour roll's feed used to carry every employer's changes ("arrears up" of offenders)."""
    feed = feedparser.parse(client.get("/lists/honour-roll.atom").data)
    assert not feed.bozo
    on_roll = set(keys(client, "/lists/honour-roll.json?per_page=100"))
    linked = {entry.link.rsplit("/", 1)[1] for entry in feed.entries}
    assert linked <= on_roll
    assert not linked & {HA_THANH, BIEN_HOA, TRANG_BOM, DONG_A}
