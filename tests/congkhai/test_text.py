import unicodedata

import pytest

from congkhai.text import clean, fold, format_int, format_vnd, has_visible, lookalikes, slugify


@pytest.mark.parametrize("text, folded", [
    ("Công ty Xây dựng Điện tử", "cong ty xay dung dien tu"),
    ("ĐẮK LẮK", "dak lak"),
    ("đ Đ", "d d"),
    ("Thế Hệ Mới Ộ Ự Ễ", "the he moi o u e"),
    (unicodedata.normalize("NFD", "Nguyễn Đức Thắng"), "nguyen duc thang"),
])
def test_fold(text, folded):
    assert fold(text) == folded


def test_clean_composes_and_collapses_whitespace():
    decomposed = unicodedata.normalize("NFD", "  Công\u00a0ty   Điện  tử\t")
    assert clean(decomposed) == "Công ty Điện tử"
    assert unicodedata.is_normalized("NFC", clean(decomposed))
    assert clean(None) == ""


def test_money_and_numbers():
    assert format_vnd(1234567) == "1.234.567\u00a0₫"
    assert format_vnd(3_000_000_000_000, "en") == "VND\u00a03,000,000,000,000"
    assert format_int(1234567) == "1.234.567" and format_int(1234567, "en") == "1,234,567"
    assert format_vnd(None) == ""


def test_slugify():
    assert slugify("Thành phố Hồ Chí Minh") == "thanh-pho-ho-chi-minh"
    assert slugify("Đắk Lắk") == "dak-lak"


@pytest.mark.parametrize("text, visible", [
    ("Công ty", True), ("\u3164\u115f\u1160\uffa0", False), ("\u2800", False), ("\u0301", False),
    ("\u3164가", True), ("\u200b.", True), ("", False), (" \u3000", False),
])
def test_has_visible(text, visible):
    assert has_visible(text) is visible


@pytest.mark.parametrize("text, found", [
    ("\u0421ông ty", ["\u0421"]), ("Công ty \u03a9mega \u03a9", ["\u03a9"]), ("Công ty", []),
    ("Ромашка", []), (unicodedata.normalize("NFD", "Đặng Ươm Ấp"), []),
])
def test_lookalikes(text, found):
    assert lookalikes(text) == found
