"""Issue 22, "no wrong name ever comes out": a household owner's citizen identity number is in no
output of a release or of the portal, in full (12 digits) or as a spreadsheet shows it (11).

Households are written in every spelling offices use, one in a row that reads as a company, one
known only by a name without any legal-entity word. Everything is then read back as a reader, a
downloader or a crawler would: every file of the release (the workbook unzipped), the rejects
an operator reads, the search index's files and stored fields, every table of the database, and
the portal's pages, JSON, API answers, feeds and CSV downloads.
"""
from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from congkhai import search as engine
from congkhai.config import Paths, load_settings
from congkhai.signing import generate_key
from congkhai.taxcode import mask_personal_id
from portal import create_app
from publisher.pipeline import publish
from tests.publisher.factory import write_all

DAYS = (date(2026, 11, 24), date(2026, 11, 25))
OWED = {"arrears_bhxh": "5.000.000", "months_late": 3}
# (province, row) -> the row of a household, with its owner's number as the report writes it.
HOUSEHOLDS = {
    ("01", 0): {"ownership_type": "Hộ kinh doanh", "name": "Hộ kinh doanh Nguyễn Văn An", "tax_code": "001185123456"},
    ("01", 1): {"ownership_type": "HKD", "name": "Nguyễn Thị Bình", "tax_code": 79190234567,  # a number: zero lost
                "unit_code": "HKD-01"},
    # Before issue 22 this one came out as branch 0048087009-021: its check digit holds as one.
    ("01", 2): {"ownership_type": "Hộ KD", "name": "Tạp hóa Cường", "tax_code": "048 087 009 021"},
    ("04", 0): {"ownership_type": "hộ cá thể", "name": "Lê Văn Dũng", "tax_code": "031295456789"},
    ("04", 1): {"ownership_type": "Ho kinh doanh ca the", "name": "Pham Thi Em", "tax_code": "096178567890"},
    ("04", 2): {"ownership_type": "", "name": "HKD Đặng Văn Phúc", "tax_code": "075203678901"},
    ("08", 0): {"ownership_type": "Công ty TNHH", "name": "Công ty TNHH Giả Danh", "tax_code": "001299789012"},
    ("08", 1): {"ownership_type": "Tư nhân", "name": "Quán phở Gia Truyền", "tax_code": "123456789018"},
}
NUMBERS = [re.sub(r"\D", "", str(row["tax_code"])).zfill(12) for row in HOUSEHOLDS.values()]
# Each number in full, and without its leading zero as a spreadsheet number shows it, its digits
# found even when a dash, dot or space splits them (as a branch code's dash would).
FORBIDDEN = sorted({form for number in NUMBERS for form in (number, number.lstrip("0"))}, key=len, reverse=True)
_FORBIDDEN = re.compile("|".join(r"[\s.\-]?".join(form) for form in FORBIDDEN))


def leaks(text: str) -> list[str]:
    return sorted({re.sub(r"\D", "", found) for found in _FORBIDDEN.findall(text)})


def file_texts(path: Path):
    """(name, text) of a file as a reader gets it: a workbook is its unzipped XML parts."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            for member in book.namelist():
                yield f"{path.name}:{member}", book.read(member).decode("utf-8", "replace")
    else:
        yield path.name, path.read_bytes().decode("utf-8", "replace")


def directory_leaks(directory: Path) -> dict:
    found = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        for name, text in file_texts(path):
            if leaks(text):
                found[f"{path.relative_to(directory)} {name}"] = leaks(text)
    return found


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    root = tmp_path_factory.mktemp("personal")
    settings = load_settings(env={}, CONGKHAI_DATA_DIR=str(root / "data"))
    generate_key(settings["CONGKHAI_SIGNING_KEY"])
    for day in DAYS:
        overrides = {place: {**row, **OWED} for place, row in HOUSEHOLDS.items()}
        if day == DAYS[1]:
            overrides[("01", 0)]["arrears_bhxh"] = "7.000.000"  # a change, so changes and history show it
        write_all(root / f"reports-{day}", as_of=day, overrides=overrides)
        publish(root / f"reports-{day}", day, settings)
    return settings


@pytest.fixture(scope="module")
def paths(register):
    return Paths(register["CONGKHAI_DATA_DIR"])


@pytest.fixture(scope="module")
def households(paths) -> list[dict]:
    """The published households, as employers.jsonl lists them (the masked number in `tax_code`)."""
    lines = (paths.release(DAYS[1].isoformat()) / "employers.jsonl").read_text(encoding="utf-8").splitlines()
    return [row for row in map(json.loads, lines) if "*" in (row["tax_code"] or "")]


@pytest.fixture(scope="module")
def portal(register):
    """One client reads everything, as a crawler would: the rate limits are not what is tested."""
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": register["CONGKHAI_DATA_DIR"],
                      "CONGKHAI_BASE_URL": "https://congkhai.example.vn",
                      "CONGKHAI_PAGE_RATE_LIMIT": "10000 per minute", "CONGKHAI_API_RATE_LIMIT": "10000 per minute"})
    return app.test_client()


def test_every_spelling_is_published_as_a_household_with_a_masked_number(households):
    assert sorted(row["tax_code"] for row in households) == sorted(map(mask_personal_id, NUMBERS))
    assert all(row["key"] == row["unit_code"] for row in households)
    assert "HKD-01" in {row["key"] for row in households}


@pytest.mark.parametrize("day", DAYS)
def test_no_file_of_a_release_holds_a_personal_number(paths, day):
    release = paths.release(day.isoformat())
    assert {p.suffix for p in release.rglob("*")} >= {".csv", ".jsonl", ".json", ".xlsx", ".atom", ".rss", ".sig"}
    assert (release / "SHA256SUMS").is_file()
    assert directory_leaks(release) == {}


def test_the_rejects_and_notes_an_operator_reads_hold_no_personal_number(paths):
    """Rejects are not served (no portal route reads them), yet they are files other people may be
    sent: the note on the citizen identity number under a company shows it masked."""
    rejects = paths.rejects(DAYS[1].isoformat())
    assert mask_personal_id("001299789012") in (rejects / "rejects.csv").read_text(encoding="utf-8")
    assert directory_leaks(rejects) == {}


def test_the_search_index_holds_no_personal_number(paths, households):
    index = paths.search_index(DAYS[1].isoformat())
    assert directory_leaks(index) == {}
    found = engine.search(index, "", per_page=engine.MAX_PER_PAGE, sort="name")
    pages = [found] + [engine.search(index, "", per_page=engine.MAX_PER_PAGE, sort="name", page=n)
                       for n in range(2, found.pages + 1)]
    hits = [hit for page in pages for hit in page.hits]
    assert {row["key"] for row in households} <= {hit.key for hit in hits}
    assert leaks(repr(hits)) == []


def test_no_table_of_the_database_holds_a_personal_number(register):
    engine_ = sa.create_engine(register["DATABASE_URL"])
    metadata = sa.MetaData()
    metadata.reflect(engine_)
    found = {}
    with engine_.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                if leaks(repr(tuple(row))):
                    found[table.name] = leaks(repr(tuple(row)))
    engine_.dispose()
    assert "employers" in metadata.tables and found == {}


def portal_urls(paths, households) -> list[str]:
    day = DAYS[1].isoformat()
    urls = ["/", "/index.json", "/about", "/data", "/data.json", "/data/catalog.jsonld", "/provinces",
            "/provinces.json", "/releases", f"/releases/{day}", f"/releases/{day}.json", "/api/v1/releases",
            f"/api/v1/releases/{day}", "/api/v1/employers", "/api/v1/employers?per_page=100",
            "/api/v1/results", "/results", "/results.json", "/results.csv", "/inspections", "/inspections.json",
            "/inspections.csv", "/corrections", "/corrections.json", "/corrections.csv", "/api/v1/inspections",
            "/search?per_page=100", "/search.json?per_page=100", "/search.atom", "/search.rss",
            "/search.json?q=ho+kinh+doanh&per_page=100", "/search.json?status=late&status=delinquent&per_page=100"]
    for name in ("offenders", "evading", "honour-roll", "changes"):
        urls += [f"/lists/{name}"] + [f"/lists/{name}.{fmt}" for fmt in ("json", "csv", "atom", "rss")]
    for code in ("01", "04", "08"):
        urls += [f"/provinces/{code}", f"/provinces/{code}.json", f"/search?province={code}&per_page=100",
                 f"/lists/offenders.csv?province={code}"]
    for row in households:
        key = quote(row["key"])
        urls += [f"/employers/{key}", f"/employers/{key}.json", f"/employers/{key}.atom", f"/employers/{key}.rss",
                 f"/employers/{key}?as_of={DAYS[0]}", f"/api/v1/employers/{key}",
                 f"/search?q={quote(row['name'])}", f"/search.json?q={quote(row['name'])}",
                 f"/feeds/watchlist.atom?codes={key}"]
    release = paths.release(day)
    urls += [f"/data/releases/{day}/{path.relative_to(release).as_posix()}"
             for path in sorted(release.rglob("*")) if path.is_file()]
    urls += [f"/releases/current/feeds/{path.relative_to(release / 'feeds').as_posix()}"
             for path in sorted((release / "feeds").rglob("*")) if path.is_file()]
    return urls


def answer_text(response) -> str:
    """What a reader receives: the body (a workbook unzipped) and the headers."""
    body = response.get_data()
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            text = "".join(book.read(member).decode("utf-8", "replace") for member in book.namelist())
    else:
        text = body.decode("utf-8", "replace")
    return text + str(response.headers)


def test_no_page_or_answer_of_the_portal_holds_a_personal_number(portal, paths, households):
    found, failed = {}, []
    for url in portal_urls(paths, households):
        response = portal.get(url, follow_redirects=True)
        if response.status_code != 200:
            failed.append((url, response.status_code))
        if leaks(answer_text(response)):
            found[url] = leaks(answer_text(response))
    assert found == {} and failed == []


def test_the_eligibility_check_by_personal_number_holds_none_in_its_answers(portal):
    """Asked by the owners' full numbers, the check finds every household and repeats no number."""
    codes = [str(row["tax_code"]) for row in HOUSEHOLDS.values()]
    answers = [portal.post("/api/v1/eligibility", json={"codes": codes, "date": DAYS[1].isoformat()}),
               portal.get("/api/v1/eligibility", query_string=[("code", c) for c in codes]),
               portal.post("/eligibility", data={"codes": "\n".join(codes), "date": DAYS[1].isoformat()},
                           content_type="multipart/form-data")]
    receipt = answers[0].get_json()
    assert [a["outcome"] for a in receipt["receipt"]["answers"]] == ["found"] * len(codes)
    followed = [portal.get(link) for link in receipt["links"].values() if isinstance(link, str) and
                link.startswith("/")]
    assert [leaks(answer_text(response)) for response in answers + followed] == [[]] * len(answers + followed)


@pytest.mark.parametrize("typed", ["hkd-01", " HKD - 01 ", "ＨＫＤ－０１", "ｈｋｄ-01"])
def test_a_household_with_a_unit_code_of_its_own_shape_is_found_however_typed(portal, typed):
    response = portal.get(f"/employers/{quote(typed)}")
    assert response.status_code == 301 and response.headers["Location"] == "/employers/HKD-01"


def test_the_api_search_never_repeats_a_personal_number(portal):
    """Regression (issue 24): `/api/v1/employers?q=<a household's number>` echoed the number in full
    in its `query` field, while `/search.json` masked it: the API had its own copy of the flow."""
    number = HOUSEHOLDS[("04", 0)]["tax_code"]
    for url in (f"/api/v1/employers?q={number}", f"/search.json?q={number}"):
        response = portal.get(url)
        assert response.status_code == 200 and leaks(answer_text(response)) == []
    assert portal.get(f"/api/v1/employers?q={number}").get_json()["query"] == mask_personal_id(number)
