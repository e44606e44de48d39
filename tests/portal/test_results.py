"""The daily results page, its twins and the API, on the shared two-release register."""
import csv
import io

from tests.portal.conftest import DA_NANG, DONG_NAI, HANOI, HO_CHI_MINH, soup


def test_province_series_counts_the_day_s_listings_and_recovery(client):
    data = client.get("/results.json?province=dong-nai").get_json()
    assert data["scope"]["province_code"] == DONG_NAI
    first, second = data["series"]
    assert (first["as_of"], second["as_of"]) == ("2026-11-24", "2026-11-25")
    assert second["new_offenders"] == 1 and second["resolved_offenders"] == 1   # Biên Hòa in, Trảng Bom out
    assert second["recovered"] == 80_000_000                                    # Trảng Bom paid in full
    assert second["arrears_total"] == second["arrears_bhxh"] + second["arrears_bhyt"] + second["arrears_bhtn"]
    assert first["recovered"] == 0 and first["new_offenders"] == 0             # the first release has no "before"


def test_fund_sums_leave_out_what_no_report_split_and_interest_stays_apart(client):
    hcmc = client.get(f"/results.json?province={HO_CHI_MINH}").get_json()["series"][-1]
    assert (hcmc["arrears_bhtnld"], hcmc["interest"]) == (100_000, 250_000)
    assert hcmc["employers_without_fund_split"] == 1                          # BHXH and BHTN reported together
    assert hcmc["arrears_total"] == 4_000_000 + 3_800_000                     # reported totals, interest not in them
    assert hcmc["arrears_bhyt"] == 700_000 + 500_000 and hcmc["arrears_bhxh"] == 3_000_000
    da_nang = client.get(f"/results.json?province={DA_NANG}").get_json()["series"][-1]
    assert da_nang["employers_without_fund_split"] == 1 and da_nang["arrears_bhxh"] == 0   # a total only
    assert da_nang["arrears_total"] == 9_000_000 and da_nang["arrears_bhtnld"] is None       # nobody reported it
    rows = list(csv.DictReader(io.StringIO(client.get(f"/results.csv?province={DA_NANG}&lang=en")
                                           .get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[-1]["Occupational accident and disease insurance arrears"] == ""
    assert rows[-1]["Employers without a split by fund"] == "1"
    cells = [td.get_text() for td in soup(client.get(f"/results?province={DA_NANG}&lang=en"))
             .select("#table-title ~ div table tbody tr")[0].find_all("td")]
    assert "not reported by fund" in cells and "not reported" in cells    # BHTNLĐ-BNN and interest: nobody gave them


def test_country_is_the_sum_of_its_provinces(client):
    country = client.get("/results.json").get_json()["series"][-1]
    hanoi = client.get(f"/results.json?province={HANOI}").get_json()["series"][-1]
    dong_nai = client.get(f"/results.json?province={DONG_NAI}").get_json()["series"][-1]
    assert country["provinces"] == 34
    assert country["recovered"] == dong_nai["recovered"] + hanoi["recovered"]
    assert country["arrears_total"] >= hanoi["arrears_total"] + dong_nai["arrears_total"]


def test_ranking_defines_and_orders_recovery_rates(client):
    data = client.get("/results.json?lang=en").get_json()
    week = data["ranking"]["days_7"]
    assert (week["start"], week["end"]) == ("2026-11-24", "2026-11-25")
    top = week["provinces"][0]
    assert top["code"] == DONG_NAI
    assert top["recovery_rate"] == top["recovered"] / top["arrears_at_start"]
    rates = [p["recovery_rate"] for p in week["provinces"] if p["recovery_rate"] is not None]
    assert rates == sorted(rates, reverse=True)
    assert "window's start" in data["definitions"]["recovery_rate"]


def test_page_has_charts_a_table_twin_and_definitions_in_vietnamese(client):
    page = soup(client.get("/results?province=dong-nai"))
    assert len(page.select("svg.chart")) >= 4   # three trends and at least one ranking
    ids = [tag["id"] for tag in page.select("[id]")]
    assert len(ids) == len(set(ids))
    assert len(page.select("#table-title ~ div table tbody tr")) == 2
    assert not page.select("script")
    assert "Tỷ lệ thu hồi" in page.get_text()
    english = soup(client.get("/results?lang=en"))
    assert "Recovery rate" in english.get_text()


def test_page_says_which_releases_its_figures_cover_and_where_they_come_from(client):
    span = soup(client.get("/results")).select_one(".results-span").get_text()
    assert span == ("Số liệu gồm 2 kỳ công bố, từ ngày 24/11/2026 đến ngày 25/11/2026, lấy từ lịch sử tình trạng "
                    "của cơ sở dữ liệu.")
    english = soup(client.get("/results?province=dong-nai&lang=en")).select_one(".results-span").get_text()
    assert english == ("These figures cover 2 releases, from 24 Nov 2026 to 25 Nov 2026, and come from the "
                       "register's status history.")
    assert client.get("/api/v1/results").get_json()["span"] == {"first": "2026-11-24", "last": "2026-11-25",
                                                                "releases": 2}
    assert client.get("/results.json?province=dong-nai&period=30").get_json()["span"]["releases"] == 2


def test_csv_twin_holds_the_series(client):
    response = client.get("/results.csv?province=75")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 3 and rows[2][0] == "2026-11-25"


def test_bad_province_or_period_is_a_clear_400(client):
    assert client.get("/results?province=atlantis").status_code == 400
    assert client.get("/results?period=7").status_code == 400
    assert client.get("/results?province=01&province=75").status_code == 400
