"""What readers do, in a real Chromium at 360 px and 1280 px: a citizen searching without diacritics
and reading in English, a journalist downloading exactly the filtered list they see, a procurement
officer checking bidders and verifying the receipt."""
from __future__ import annotations

import csv
import io

from tests.portal.conftest import COMPLIANT_KEY, DAY_2, DONG_A, HA_THANH, HANOI

DONG_A_NAME = "Công ty Cổ phần Điện tử Đông Á"


def test_search_without_diacritics_then_read_in_english(page):
    page.goto("/")
    page.fill("#q", "dien tu dong a")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=dien+tu+dong+a*")
    page.get_by_role("link", name=DONG_A_NAME, exact=True).click()
    page.wait_for_url(f"**/employers/{DONG_A}")
    assert page.inner_text("h1") == DONG_A_NAME
    assert page.evaluate("document.documentElement.lang") == "vi"

    page.click(".langs a[hreflang=en]")
    page.wait_for_url("**lang=en*")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text("h1") == DONG_A_NAME
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Offender list").click()
    page.wait_for_url("**/lists/offenders")
    assert page.evaluate("document.documentElement.lang") == "en", "the language choice is remembered"
    assert page.inner_text("h1") == "Offender list"


def test_filtered_list_downloads_exactly_that_view_as_csv(page):
    page.goto("/lists/offenders")
    everyone = page.locator(".results .result").count()
    page.select_option("#province", HANOI)
    page.click(".list-filters button[type=submit]")
    page.wait_for_url(f"**/lists/offenders?province={HANOI}*")
    links = page.locator(".results .result h3 a")
    shown = [(link.get_attribute("href").rsplit("/", 1)[-1], link.inner_text()) for link in links.all()]
    assert 0 < len(shown) < everyone and HA_THANH in dict(shown) and DONG_A in dict(shown)

    with page.expect_download() as download:
        page.click("a[download]")
    assert download.value.suggested_filename == f"offenders-{DAY_2.isoformat()}.csv"
    text = download.value.path().read_text(encoding="utf-8-sig")
    header, *rows = csv.reader(io.StringIO(text))
    assert header[0] == "Mã định danh" and header[4] == "Tên"
    assert [(row[0], row[4]) for row in rows] == shown


def test_batch_eligibility_check_and_its_receipt_verify(page):
    page.goto("/eligibility")
    page.fill("#codes", "\n".join([DONG_A, HA_THANH, COMPLIANT_KEY, "12345"]))
    page.fill("#date", DAY_2.isoformat())
    page.click(".eligibility-form button[type=submit]")
    page.wait_for_selector("#results-title")
    verdicts = page.locator("table.answers tbody tr")
    assert verdicts.count() == 4
    assert [verdicts.nth(i).get_attribute("class").split()[0] for i in range(4)] == [
        "verdict-no", "verdict-ok", "verdict-ok", "verdict-unknown"]

    page.click("section[aria-labelledby=results-title] .twins a >> nth=0")
    page.wait_for_url("**/receipts/*")
    receipt_url = page.url
    assert page.locator("table.answers tbody tr").count() == 4
    document = page.request.get(page.get_attribute("a[href$='.json']", "href"))
    assert document.ok and document.headers["content-type"].startswith("application/json")

    page.goto("/verify")
    page.fill("#receipt", document.text())
    page.click("form:has(#receipt) button[type=submit]")  # /verify also has a form for the typed code
    page.wait_for_selector(".verdict")
    assert page.locator(".verdict .checks li.ok").count() == 2, "authentic, and the same receipt is on file"
    assert page.locator("table.answers tbody tr").count() == 4

    page.goto(receipt_url)
    page.click(".twins a[href*='/verify?id=']")
    page.wait_for_url("**/verify?id=*")
    assert page.locator(".verdict .checks li.ok").count() == 2
