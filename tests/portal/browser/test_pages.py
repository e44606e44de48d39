"""Every page type in a real Chromium at 360 px and 1280 px: no horizontal scrolling, no console error,
and (on the phone: axe-core takes a second or more on the long pages) no WCAG 2.1 A/AA violation.

To cover a new page, add one line to PAGES: a name and a path, where `{receipt}` stands for the id
of a receipt issued for this session (add other such values to the `places` fixture), and its
status to STATUS when it is not 200.
"""
from __future__ import annotations

import json
import urllib.request
from importlib.resources import files

import pytest

from tests.portal.browser.conftest import VIEWPORTS
from tests.portal.conftest import DAY_2, DONG_A, HANOI, HA_THANH, HOUSEHOLD

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = [
    ("home", "/"),
    ("search-results", "/search?q=cong+ty&status=delinquent"),
    ("employer", f"/employers/{DONG_A}"),
    ("employer-in-english", f"/employers/{DONG_A}?lang=en"),
    ("household", f"/employers/{HOUSEHOLD}"),
    ("offenders", "/lists/offenders"),
    ("evading", "/lists/evading"),
    ("honour-roll", "/lists/honour-roll"),
    ("changes", "/lists/changes"),
    ("provinces", "/provinces"),
    ("province", f"/provinces/{HANOI}"),
    ("release", f"/releases/{DAY_2.isoformat()}"),
    ("data-catalogue", "/data"),
    ("about", "/about"),
    ("eligibility-form", "/eligibility"),
    ("eligibility-result", f"/eligibility?codes={DONG_A}%0A{HA_THANH}%0A123&date={DAY_2.isoformat()}"),
    ("receipt", "/receipts/{receipt}"),
    ("verify", "/verify"),
    ("verify-result", "/verify?id={receipt}"),
    ("api-docs", "/api/v1/"),
    ("results", "/results"),
    ("results-province", f"/results?province={HANOI}"),
    ("inspections", "/inspections"),
    ("commendation-form", "/commendation"),
    ("commendation-result", f"/commendation?codes={DONG_A}%0A{HA_THANH}&date={DAY_2.isoformat()}"),
    ("two-date-check", f"/eligibility?codes={DONG_A}&date={DAY_2.isoformat()}&award_date={DAY_2.isoformat()}"),
    ("dispute-form", f"/employers/{HA_THANH}/dispute"),
    ("dispute-lookup", "/disputes"),
    ("not-found", "/no-such-page"),
]
STATUS = {"not-found": 404}
PHONE_WIDTH = VIEWPORTS["phone"]["width"]


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's axe.min.js, as shipped inside the axe-playwright-python wheel (not kept in git)."""
    return files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def places(portal_url) -> dict:
    """Values for the paths of PAGES that the session must create first."""
    question = json.dumps({"codes": [DONG_A, HA_THANH], "date": DAY_2.isoformat()}).encode()
    request = urllib.request.Request(portal_url + "/api/v1/eligibility", data=question,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        document = json.load(response)
    return {"receipt": document["receipt"]["id"]}


def axe_violations(page, axe_source: str) -> list[str]:
    """Run axe-core on the loaded page; evaluated over the DevTools protocol, so no CSP blocks it."""
    page.evaluate(axe_source)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
                           AXE_TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} -> "
            + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
            for v in result["violations"]]


@pytest.mark.parametrize("name, path", PAGES, ids=[name for name, _ in PAGES])
def test_page_is_accessible_and_fits(page, viewport, places, axe_source, console_errors, name, path):
    response = page.goto(path.format(**places))
    assert response.status == STATUS.get(name, 200), f"{name}: {response.status} for {page.url}"
    if response.status == 404:
        console_errors[:] = [e for e in console_errors if "status of 404" not in e]
    assert page.evaluate("document.documentElement.lang") == ("en" if "lang=en" in path else "vi")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{name} scrolls sideways: {width} px wide on a {viewport['width']} px screen"
    if viewport["width"] > PHONE_WIDTH:
        return  # axe runs once per page type, on the phone, where a layout is most likely to break
    violations = axe_violations(page, axe_source)
    assert not violations, f"{name} at {viewport['width']} px:\n" + "\n".join(violations)


def test_axe_finds_what_it_is_asked_to(tabs, axe_source):
    """The check above is not vacuous: the same run reports an unlabelled field and a nameless link."""
    page, _ = tabs(VIEWPORTS["phone"])
    page.set_content('<html lang="vi"><title>t</title><main><input type="text"><a href="/x"></a></main></html>')
    assert {v.split(" ")[0] for v in axe_violations(page, axe_source)} >= {"label", "link-name"}
