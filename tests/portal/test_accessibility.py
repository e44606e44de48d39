"""Colour pairs of the stylesheet meet WCAG 2.1 AA contrast (4.5:1 for text), and focus stays visible."""
import re

import pytest

from congkhai.config import REPO_ROOT

CSS = (REPO_ROOT / "static" / "portal.css").read_text(encoding="utf-8")
VARIABLES = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-f]{6})", CSS))


def luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("text, background", [
    ("ink", "paper"), ("muted", "paper"), ("muted", "tint"), ("link", "paper"), ("link", "tint"),
    ("#ffffff", "brand"), ("#ffffff", "ok"), ("#ffffff", "late"), ("#ffffff", "delinquent"), ("#ffffff", "evading"),
    ("#ffffff", "muted"), ("ink", "#eef3f8"), ("link", "#eef3f8"), ("ink", "#fff7e0"), ("ink", "#fdecec"),
])
def test_text_colours_meet_aa(text, background):
    assert contrast(VARIABLES.get(text, text), VARIABLES.get(background, background)) >= 4.5


def test_focus_is_visible_and_nothing_needs_javascript():
    assert ":focus-visible" in CSS and "outline: 3px solid" in CSS
    templates = [p.read_text(encoding="utf-8") for p in (REPO_ROOT / "templates").rglob("*.html")]
    assert not any("<script" in t and "application/ld+json" not in t for t in templates)

