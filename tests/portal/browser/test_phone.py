"""What a citizen sees on a 360 px phone: every amount on one line, and the search box on the first screen."""
from __future__ import annotations

import pytest

from tests.portal.browser.conftest import VIEWPORTS
from tests.portal.conftest import DONG_A, HANOI

PHONE = VIEWPORTS["phone"]
FIRST_SCREEN = 640  # px: what a phone shows before the reader scrolls

# Line boxes of every amount ('1.234.567 ₫' or 'VND 1,234,567') in the page's text; an amount
# spread over two lines has boxes with two different tops.
AMOUNT_LINES = r"""() => {
  const amount = /\d[\d.,]*\s₫|VND\s\d[\d,]*/g;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const found = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.getClientRects().length) continue;
    for (const match of node.data.matchAll(amount)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      found.push({text: match[0], lines: tops.size});
    }
  }
  return found;
}"""


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone"])
@pytest.mark.parametrize("path", [f"/employers/{DONG_A}", f"/employers/{DONG_A}?lang=en", "/lists/offenders", "/",
                                  "/provinces", f"/provinces/{HANOI}", "/results", "/lists/changes"])
def test_amounts_never_break_across_lines_on_a_phone(page, viewport, path):
    page.goto(path)
    amounts = page.evaluate(AMOUNT_LINES)
    assert amounts, f"{path} shows no amount to check"
    broken = [a["text"] for a in amounts if a["lines"] > 1]
    assert not broken, f"{path}: amounts broken across lines at {viewport['width']} px: {broken}"


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone"])
@pytest.mark.parametrize("path", ["/", "/search"])
def test_the_search_box_is_on_the_first_screen_of_a_phone(page, viewport, path):
    page.goto(path)
    box = page.locator("#q").bounding_box()
    assert box and box["y"] + box["height"] <= FIRST_SCREEN, (
        f"{path}: the search box ends {box['y'] + box['height']:.0f} px down, below the first {FIRST_SCREEN} px")
