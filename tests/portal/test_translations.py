"""The catalogues: every message of the portal has its Vietnamese translation, compiled into the .mo."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from congkhai.config import REPO_ROOT

TRANSLATIONS = REPO_ROOT / "portal" / "translations"


def singular(value) -> str:
    return value if isinstance(value, str) else value[0]


def translations(lang: str, kind: str) -> dict:
    """msgid (singular form) -> tuple of translated forms, for the messages that have any."""
    path = TRANSLATIONS / lang / "LC_MESSAGES" / f"messages.{kind}"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=lang) if kind == "po" else read_mo(handle)
    forms = {singular(m.id): (m.string,) if isinstance(m.string, str) else tuple(m.string) for m in catalog if m.id}
    return {msgid: strings for msgid, strings in forms.items() if all(strings)}


def source_messages() -> set:
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.svg", "jinja2")]
    keywords = {"_": None, "_l": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
    return {singular(message[2]) for message in extract_from_dir(str(REPO_ROOT), method_map, keywords=keywords)
            if Path(message[0]).parts[0] in ("portal", "templates")}


def test_every_message_in_the_code_is_translated_to_vietnamese():
    messages = source_messages()
    assert len(messages) > 200
    assert sorted(messages - set(translations("vi", "po"))) == []


def test_compiled_vietnamese_catalogue_matches_its_source():
    assert translations("vi", "mo") == translations("vi", "po")


def test_english_catalogue_keeps_the_english_source_text():
    compiled = translations("en", "mo")
    assert all(strings == (msgid,) or strings[0] == msgid for msgid, strings in compiled.items())


def test_counts_in_plural_messages_get_thousands_separators(app):
    """'Tìm thấy 1190 đơn vị': ngettext's default num is the bare integer, so every call formats it."""
    import re

    from flask import render_template_string

    calls = [call for path in (REPO_ROOT / "templates").rglob("*.html")
             for call in re.findall(r"ngettext\((.*?)\) }}", path.read_text(encoding="utf-8"))]
    assert calls and all("num=" in call and "|number" in call for call in calls)
    with app.test_request_context("/?lang=vi"):
        assert render_template_string(
            '{{ ngettext("%(num)s employer found", "%(num)s employers found", 1190, num=1190|number) }}'
        ) == "Tìm thấy 1.190 đơn vị"
