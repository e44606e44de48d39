"""Search: Vietnamese analysis, identifiers, relevance on a fixed set of names, filters, facets,
sorting, paging, next-day updates and hostile queries, on a 30-employer index."""
from __future__ import annotations

import sys
import unicodedata
from collections import Counter

import pytest
from stdnum.vn import mst
from whoosh import index as whoosh_index

from congkhai import search
from congkhai.taxcode import PERSONAL, TaxId
from publisher.records import Record

BIG = 2 ** 31   # arrears above this must filter and sort as 64-bit integers


def tax_code(n: int, branch: int | None = None) -> str:
    """A valid tax code, distinct per n (prefix 01 = Hà Nội), optionally a branch."""
    while True:
        first9 = f"01{n:07d}"
        code = first9 + mst.calc_check_digit(first9)
        if mst.is_valid(code):
            return code if branch is None else f"{code}-{branch:03d}"
        n += 1000


NFD = lambda text: unicodedata.normalize("NFD", text)  # noqa: E731

# name, province, status, ownership type, sector, arrears, months
EMPLOYERS = [
    ("Công ty TNHH Minh Phát", "01", "delinquent", "Công ty TNHH", "Xây dựng", 5 * BIG, 7),
    ("Công ty cổ phần Xây dựng Điện tử Sao Mai", "79", "late", "Công ty cổ phần", "Xây dựng", 120_000_000, 2),
    ("Công ty Xây dựng Điện tử", "79", "evading", "Công ty TNHH", "Xây dựng", 3 * BIG, 14),
    ("Doanh nghiệp tư nhân Đức Thành", "48", "compliant", "Doanh nghiệp tư nhân", "Bán lẻ", 0, 0),
    ("DNTN Đại Phát", "48", "late", "Doanh nghiệp tư nhân", "Bán lẻ", 9_000_000, 1),
    ("Hợp tác xã Nông nghiệp Đông Hòa", "66", "compliant", "Hợp tác xã", "Nông nghiệp", 0, 0),
    ("Chi nhánh Công ty cổ phần Hưng Thịnh tại Đồng Nai", "75", "delinquent", "Công ty cổ phần", "Bất động sản",
     BIG + 1, 4),
    ("Công ty TNHH MTV Cơ khí Quang Trung", "01", "delinquent", "Công ty TNHH", "Cơ khí", 800_000_000, 5),
    ("Công ty TNHH Một thành viên Thực phẩm Hải Hà", "31", "late", "Công ty TNHH", "Thực phẩm", 40_000_000, 2),
    ("CTCP Vận tải Hoàng Long", "01", "evading", "Công ty cổ phần", "Vận tải", 7 * BIG, 30),
    ("Công ty Minh Phat", "79", "compliant", "Công ty TNHH", "Xây dựng", 0, 0),
    (NFD("Công ty TNHH Điện lạnh Ánh Dương"), "92", "late", "Công ty TNHH", "Điện, điện tử", 15_000_000, 1),
    ("Công ty TNHH Thương mại Dịch vụ Phú Quý", "79", "compliant", "Công ty TNHH", "Bán lẻ", 0, 0),
    ("Công ty cổ phần Đầu tư Phát triển Nhà Đà Nẵng", "48", "delinquent", "Công ty cổ phần", "Bất động sản",
     2 * BIG, 9),
    ("Hộ kinh doanh Bà Năm", "01", "late", "Hộ kinh doanh", "Bán lẻ", 3_000_000, 1),
    ("Công ty TNHH Dệt may Thành Công", "79", "delinquent", "Công ty TNHH", "Dệt may", 950_000_000, 6),
    ("Công ty cổ phần Thủy sản Bình Định", "52", "late", "Công ty cổ phần", "Thủy sản", 70_000_000, 2),
    ("Công ty TNHH Giáo dục Ánh Sao", "01", "compliant", "Công ty TNHH", "Giáo dục", 0, 0),
    ("Công ty TNHH Dược phẩm Trường Thọ", "79", "late", "Công ty TNHH", "Y tế", 25_000_000, 2),
    ("Công ty TNHH Nội thất Hòa Phát", "01", "delinquent", "Công ty TNHH", "Nội thất", 4 * BIG, 12),
    ("Hợp tác xã Vận tải Quyết Thắng", "66", "late", "Hợp tác xã", "Vận tải", 8_000_000, 2),
    ("Công ty TNHH Xuất nhập khẩu Nguyễn Kim", "79", "compliant", "Công ty TNHH", "Bán lẻ", 0, 0),
    ("Công ty Cổ phần Kỹ thuật Điện Miền Nam", "79", "delinquent", "Công ty cổ phần", "Điện, điện tử",
     600_000_000, 3),
    ("Công ty TNHH Du lịch Hạ Long Xanh", "22", "late", "Công ty TNHH", "Du lịch", 12_000_000, 1),
    ("Doanh nghiệp tư nhân Vàng bạc Kim Tín", "01", "compliant", "Doanh nghiệp tư nhân", "Bán lẻ", 0, 0),
    ("Công ty TNHH Môi trường Xanh Việt", "01", "evading", "Công ty TNHH", "Môi trường", 6 * BIG, 24),
    ("Công ty TNHH Khoáng sản Tây Bắc", "15", "delinquent", "Công ty TNHH", "Khai khoáng", 300_000_000, 8),
    ("Công ty cổ phần Truyền thông Đất Việt", "01", "late", "Công ty cổ phần", "Truyền thông", 20_000_000, 2),
    ("ĐIỆN TỬ ĐÔNG Á", "01", "compliant", "Công ty TNHH", "Điện, điện tử", 0, 0),
    ("Công ty TNHH Minh Phát Hưng", "79", "late", "Công ty TNHH", "Xây dựng", 30_000_000, 2),
]
HOUSEHOLD = 14                      # index of the household business in EMPLOYERS
HOUSEHOLD_UNIT = "HN0042K"
PERSONAL_NUMBER = "001234567823"
BRANCH = 6                          # index of the branch (13-digit tax code)


def key_of(i: int) -> str:
    if i == HOUSEHOLD:
        return HOUSEHOLD_UNIT
    return tax_code(i, branch=1) if i == BRANCH else tax_code(i)


def make_doc(i: int, **changes) -> dict:
    name, province, status, ownership, sector, arrears, months = EMPLOYERS[i]
    doc = {
        "key": key_of(i),
        "tax_code": None if i == HOUSEHOLD else key_of(i),
        "unit_code": HOUSEHOLD_UNIT if i == HOUSEHOLD else f"TA{i:04d}Z",
        "name": name, "province_code": province, "status": status, "ownership_type": ownership,
        "sector": sector, "arrears_total": arrears, "months_late": months,
    }
    doc.update(changes)
    return doc


DOCS = [make_doc(i) for i in range(len(EMPLOYERS))]
BY_KEY = {doc["key"]: doc for doc in DOCS}


@pytest.fixture(scope="module")
def index_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "2026-11-25"
    assert search.build_index(path, DOCS) == len(DOCS)
    return path


@pytest.fixture(scope="module")
def index(index_path):
    return search.open_index(index_path)


def keys(result) -> list[str]:
    return [hit.key for hit in result.hits]


def top(index, q, **options) -> str:
    result = search.search(index, q, **options)
    assert result.hits, f"nothing found for {q!r}"
    return result.hits[0].key


# --- Analysis and identifiers ----------------------------------------------------------------------

def test_decomposed_text_analyses_like_composed():
    assert search.analyse(NFD("Xây dựng Điện tử")) == search.analyse("Xây dựng Điện tử")
    assert search.analyse("Xây dựng Điện tử").folded == ("xay", "dung", "dien", "tu")


def test_two_mark_letters_and_d_bar_fold():
    assert search.analyse("Thiết Bộ Lực ĐỨC").folded == ("thiet", "bo", "luc", "duc")


@pytest.mark.parametrize("long_form, short_form", [
    ("Công ty trách nhiệm hữu hạn", "cty tnhh"),
    ("Công ty cổ phần", "ctcp"),
    ("Công ty cổ phần", "cty cp"),
    ("một thành viên", "mtv"),
    ("chi nhánh", "cn"),
    ("Doanh nghiệp tư nhân", "dntn"),
    ("Hợp tác xã", "htx"),
])
def test_legal_forms_and_abbreviations_share_tokens(long_form, short_form):
    assert search.analyse(long_form).legal == search.analyse(short_form).legal
    assert search.analyse(long_form).folded == ()


@pytest.mark.parametrize("q, expected", [
    ("0100233488", "0100233488"),
    (" 0100-233-488 ", "0100233488"),
    ("0100233488-001", "0100233488-001"),
    ("0100233488 001", "0100233488-001"),
    ("0100233488001", "0100233488-001"),
    ("yn0123a", "YN0123A"),
    ("TA 0001-Z", "TA0001Z"),
    ("0100233489", None),           # wrong check digit
    ("001234567823", None),         # 12 digits: may be a personal number, never an identifier
    ("0100233488-000", None),       # branch 000 is not a branch
    ("minh phat", None),
    ("YN01234A", None),
    ("", None),
])
def test_parse_identifier(q, expected):
    assert search.parse_identifier(q) == expected


@pytest.mark.parametrize("text, expected", [
    ("０１００２３３４８８", "0100233488"), ("ｙｎ０１２３ａ", "YN0123A"), ("hkd-01", "HKD-01"), (" hkd 0003 ", "HKD0003"),
    ("YN01234A", "YN01234A"), ("minh phat", None), ("12345", None), ("001234567823", None), ("٠١٠٠٢٣٣٤٨٨", None),
])
def test_parse_code_takes_a_unit_code_of_any_shape_the_reports_allow(text, expected):
    assert search.parse_code(text) == expected


# --- Relevance -------------------------------------------------------------------------------------

@pytest.mark.parametrize("q, expected", [
    ("cong ty xay dung dien tu", 2),
    ("Công ty Xây dựng Điện tử", 2),
    ("xay dung dien tu sao mai", 1),
    ("minh phát", 0),                 # exact marks rank above the folded "Minh Phat"
    ("minh phat", 10),                # ... and the unmarked spelling ranks the unmarked name first
    ("cty minh phát", 0),
    ("công ty tnhh minh phát", 0),
    (NFD("Minh Phát"), 0),
    ("dien lanh anh duong", 11),      # NFD document found by folded words
    ("Điện lạnh Ánh Dương", 11),      # and by NFC ones
    ("duc thanh", 3),
    ("ĐỨC THÀNH", 3),
    ("dntn dai phat", 4),
    ("doanh nghiep tu nhan dai phat", 4),
    ("htx dong hoa", 5),
    ("cn hung thinh", 6),
    ("chi nhánh hưng thịnh", 6),
    ("cty co phan van tai hoang long", 9),
    ("ctcp hoang long", 9),
    ("mot thanh vien co khi quang trung", 7),
    ("tnhh mtv hai ha", 8),
    ("dat viet", 27),
    ("đà nẵng", 13),
    ("dien tu dong a", 28),
])
def test_relevance(index, q, expected):
    assert top(index, q) == key_of(expected)


def test_distinctive_words_are_all_required_and_legal_forms_only_bonus(index):
    result = search.search(index, "cty minh phat")
    assert set(keys(result)) == {key_of(0), key_of(10), key_of(29)}
    assert not result.fuzzy


def test_a_named_legal_form_outranks_another_form_with_fewer_words(tmp_path):
    """'cong ty xay dung' must put companies first, though 'DNTN Xây dựng An' is shorter."""
    names = ["Doanh nghiệp tư nhân Xây dựng An", "Công ty TNHH MTV Xây dựng Bắc Hà", "Công ty Xây dựng Cường"]
    docs = [make_doc(0, key=tax_code(200 + i), tax_code=tax_code(200 + i), unit_code=f"TB{i:04d}Z", name=name)
            for i, name in enumerate(names)]
    search.build_index(tmp_path / "ix", docs)
    own = search.SearchIndex(tmp_path / "ix")  # not through open_index: its cache would close the module's index
    names_found = [hit.name for hit in own.search("cong ty xay dung").hits]
    assert names_found[2] == "Doanh nghiệp tư nhân Xây dựng An"
    assert [hit.name for hit in own.search("dntn xay dung").hits][0] == names[0]
    own.close()


def test_words_side_by_side_in_the_query_order_rank_first(tmp_path):
    """'duc truong' must put "Đức Trường" before names holding both words apart."""
    names = ["Công ty CP Môi trường Đức Phúc", "Trường Giáo dục Bình An", "Công ty TNHH Đầu tư Xây dựng Đức Trường"]
    docs = [make_doc(0, key=tax_code(300 + i), tax_code=tax_code(300 + i), unit_code=f"TC{i:04d}Z", name=name)
            for i, name in enumerate(names)]
    search.build_index(tmp_path / "ix", docs)
    own = search.SearchIndex(tmp_path / "ix")
    assert own.search("duc truong").hits[0].name == names[2]
    assert own.search("Đức Trường").hits[0].name == names[2]
    own.close()


def test_shorter_name_ranks_first_for_same_words(index):
    result = search.search(index, "minh phát")
    assert keys(result)[:2] == [key_of(0), key_of(29)]


def test_legal_forms_alone_list_every_employer_of_that_form(index):
    expected = {doc["key"] for doc in DOCS if "hợp tác xã" in doc["name"].lower()}
    assert set(keys(search.search(index, "htx"))) == expected


@pytest.mark.parametrize("q, expected", [
    ("hoang lomg", 9),
    ("truomg tho", 18),
    ("nguyen kin", 21),
    ("quyet thnag", 20),
])
def test_typos_fall_back_to_fuzzy_terms(index, q, expected):
    result = search.search(index, q)
    assert result.fuzzy
    assert result.hits[0].key == key_of(expected)


def test_no_fuzzy_retry_when_exact_terms_match(index):
    result = search.search(index, "hoang long")
    assert not result.fuzzy and keys(result) == [key_of(9)]


def test_a_pasted_paragraph_reads_only_its_rarest_words_postings(index, monkeypatch):
    """Words no name holds together end the match at the rarest ones: the long postings of the
    common words are never read, and a paragraph gets no fuzzy retry (FUZZY_MAX_WORDS)."""
    from congkhai.search.index import SearchIndex

    read = []
    original = SearchIndex.postings
    monkeypatch.setattr(SearchIndex, "postings",
                        lambda self, field, text: read.append(text) or original(self, field, text))
    index._matches.items.clear()
    result = search.search(index, "hoang long truong tho nguyen kim quyet thang cong ty")
    assert not result.hits and not result.fuzzy
    frequencies = {word: index.doc_frequency("name_fold", word) for word in set(read)}
    assert len(read) < 6 and max(frequencies.values()) < max(index.doc_frequency("name_fold", w) for w in ("hoang", "truong", "nguyen")), (read, frequencies)


@pytest.mark.parametrize("q, expected", [
    (tax_code(0), 0),
    (tax_code(0)[:4] + "-" + tax_code(0)[4:], 0),
    (" ".join(tax_code(3)[i:i + 3] for i in range(0, 10, 3)), 3),
    (tax_code(BRANCH, branch=1).replace("-", ""), BRANCH),
    (tax_code(BRANCH, branch=1), BRANCH),
    (HOUSEHOLD_UNIT.lower(), HOUSEHOLD),
    ("TA0007Z", 7),
])
def test_identifier_queries_redirect(index, q, expected):
    result = search.search(index, q)
    assert result.redirect == key_of(expected)
    assert keys(result) == [key_of(expected)]


def test_unknown_tax_code_finds_nothing(index):
    result = search.search(index, tax_code(999))
    assert result.identifier == tax_code(999) and result.total == 0 and result.redirect is None


def test_a_branch_code_does_not_find_its_parent_in_an_index_of_ten_digit_codes(tmp_path):
    """Identifiers are looked up in a byte-string column as wide as its longest value: a longer
    query must not match its prefix."""
    search.build_index(tmp_path / "ix", [make_doc(0), make_doc(1)])
    assert search.search(tmp_path / "ix", tax_code(0, branch=1)).total == 0
    assert search.search(tmp_path / "ix", tax_code(0)).redirect == tax_code(0)


# --- Filters, facets, sorting, paging ---------------------------------------------------------------

def expected_keys(predicate) -> set[str]:
    return {doc["key"] for doc in DOCS if predicate(doc)}


def test_empty_query_lists_everything_by_arrears(index):
    result = search.search(index, "", per_page=100)
    assert result.total == len(DOCS) and result.sort == "arrears"
    arrears = [hit.arrears_total for hit in result.hits]
    assert arrears == sorted(arrears, reverse=True)
    assert arrears[0] == 7 * BIG


@pytest.mark.parametrize("filters, predicate", [
    ({"status": "delinquent"}, lambda d: d["status"] == "delinquent"),
    ({"status": ["delinquent", "evading"], "province_code": "01"},
     lambda d: d["status"] in ("delinquent", "evading") and d["province_code"] == "01"),
    ({"province_code": ["79", "48"], "sector": "Xây dựng"},
     lambda d: d["province_code"] in ("79", "48") and d["sector"] == "Xây dựng"),
    ({"ownership_type": "Hợp tác xã"}, lambda d: d["ownership_type"] == "Hợp tác xã"),
    ({"arrears_min": BIG + 1}, lambda d: d["arrears_total"] >= BIG + 1),
    ({"arrears_min": str(2 * BIG), "arrears_max": 6 * BIG}, lambda d: 2 * BIG <= d["arrears_total"] <= 6 * BIG),
    ({"arrears_max": "1.000.000.000"}, lambda d: d["arrears_total"] <= 10 ** 9),
    ({"months_min": 3, "months_max": 12}, lambda d: 3 <= d["months_late"] <= 12),
    ({"status": "nonexistent"}, lambda d: False),
])
def test_filters(index, filters, predicate):
    result = search.search(index, "", filters, per_page=100)
    assert set(keys(result)) == expected_keys(predicate)
    assert result.total == len(expected_keys(predicate))


def test_filters_combine_with_words(index):
    result = search.search(index, "cong ty", {"status": "delinquent", "arrears_min": BIG}, per_page=100)
    assert set(keys(result)) == expected_keys(
        lambda d: d["name"].lower().startswith(("công ty", "chi nhánh công ty")) and d["status"] == "delinquent"
        and d["arrears_total"] >= BIG)


def test_bad_numbers_in_filters_are_ignored_and_reported(index):
    result = search.search(index, "", {"arrears_min": "lots", "months_max": "3"})
    assert result.ignored_filters == ["arrears_min"]
    assert result.total == len(expected_keys(lambda d: d["months_late"] <= 3))


def test_unknown_filter_name_is_a_programming_error(index):
    with pytest.raises(ValueError, match="unknown search filters: colour"):
        search.search(index, "", {"colour": "red"})


@pytest.mark.parametrize("sort, key", [
    ("arrears", lambda d: (-d["arrears_total"], -d["months_late"])),
    ("months", lambda d: (-d["months_late"], -d["arrears_total"])),
])
def test_field_sorts(index, sort, key):
    result = search.search(index, "", {"arrears_min": 1}, sort=sort, per_page=100)
    expected = sorted((doc for doc in DOCS if doc["arrears_total"] >= 1), key=key)
    assert [(h.arrears_total, h.months_late) for h in result.hits] == \
        [(d["arrears_total"], d["months_late"]) for d in expected]


def test_name_sort_ignores_legal_forms(index):
    result = search.search(index, "", {"province_code": "01"}, sort="name", per_page=100)
    distinctive = [" ".join(search.analyse(hit.name).folded) for hit in result.hits]
    assert distinctive == sorted(distinctive)
    assert distinctive[0] == "co khi quang trung"


def test_word_query_sorted_by_arrears(index):
    result = search.search(index, "cong ty tnhh", sort="arrears", per_page=100)
    arrears = [hit.arrears_total for hit in result.hits]
    assert arrears == sorted(arrears, reverse=True) and result.sort == "arrears"


def test_paging_covers_every_result_once(index):
    pages = [search.search(index, "", page=p, per_page=7, facets=False) for p in range(1, 6)]
    seen = [key for page in pages for key in keys(page)]
    assert len(seen) == len(set(seen)) == len(DOCS)
    assert pages[0].pages == 5 and pages[4].hits and not search.search(index, "", page=6, per_page=7).hits


@pytest.mark.parametrize("page, per_page", [(0, 20), (-3, 20), (10 ** 9, 20), (1, 0), (1, 10 ** 6)])
def test_absurd_paging_is_clamped(index, page, per_page):
    result = search.search(index, "", page=page, per_page=per_page)
    assert 1 <= result.per_page <= search.MAX_PER_PAGE and result.page >= 1
    assert result.total == len(DOCS)


def test_facet_counts(index):
    result = search.search(index, "", {"status": ["late", "delinquent"]})
    selected = [doc for doc in DOCS if doc["status"] in ("late", "delinquent")]
    assert dict(result.facets["province_code"]) == Counter(doc["province_code"] for doc in selected)
    assert dict(result.facets["sector"]) == Counter(doc["sector"] for doc in selected)
    # A facet ignores its own filter, so the other statuses stay visible with their counts.
    assert dict(result.facets["status"]) == Counter(doc["status"] for doc in DOCS)


def test_range_facet_buckets(index):
    result = search.search(index, "")
    buckets = result.facets["arrears_total"]
    assert sum(b.count for b in buckets) == len(DOCS)
    for bucket in buckets:
        filters = {"arrears_min": bucket.min} | ({} if bucket.max is None else {"arrears_max": bucket.max})
        assert bucket.count == search.search(index, "", filters, facets=False).total
    months = {(b.min, b.max): b.count for b in result.facets["months_late"]}
    assert months[(24, None)] == len(expected_keys(lambda d: d["months_late"] >= 24))


def test_hits_carry_what_a_result_line_shows(index):
    hit = search.search(index, "hoang long").hits[0]
    assert (hit.name, hit.province_code, hit.status, hit.arrears_total, hit.months_late, hit.tax_code,
            hit.sector, hit.ownership_type) == ("CTCP Vận tải Hoàng Long", "01", "evading", 7 * BIG, 30,
                                                tax_code(9), "Vận tải", "Công ty cổ phần")


def test_stored_names_are_nfc(index):
    hit = search.search(index, "anh duong").hits[0]
    assert hit.name == unicodedata.normalize("NFC", EMPLOYERS[11][0])


# --- Hostile queries --------------------------------------------------------------------------------

@pytest.mark.parametrize("q", [
    '"', '"minh phat', "name:minh", "minh AND OR NOT phat", "(((", "*", "?", "~2", "^3", "!!!...,,,;;",
    "\x00\x1f", "🙂", "minh" * 2500, "a " * 5000, NFD("Đức Thành ") * 500, "\u0301\u0303", "0" * 40,
    "SELECT * FROM employers; --", "<script>alert(1)</script>", "0100233488-999999", "\ud800",
])
def test_hostile_queries_never_raise(index, q):
    result = search.search(index, q)
    assert isinstance(result, search.SearchResult)
    assert len(result.query) <= search.MAX_QUERY_CHARS


@pytest.mark.parametrize("q", ["!!!", "...", "\u0301", "- / -"])
def test_query_without_words_finds_nothing(index, q):
    assert search.search(index, q).total == 0


def test_overlong_query_is_truncated(index):
    result = search.search(index, "Đức Thành " + "x" * 10_000)
    assert result.truncated and len(result.query) == search.MAX_QUERY_CHARS


def test_non_string_query_is_an_empty_query(index):
    assert search.search(index, None).total == len(DOCS)


# --- Personal numbers --------------------------------------------------------------------------------

def household_record() -> Record:
    return Record(source="01.csv", line=18, province_code="01", unit_code="HN0042K",
                  tax=TaxId(PERSONAL, PERSONAL_NUMBER), name=NFD("Hộ kinh doanh Bà Năm"), address="Hà Nội",
                  ownership_type="Hộ kinh doanh", sector="Bán lẻ", employees=3, arrears_bhxh=2_000_000,
                  arrears_bhyt=700_000, arrears_bhtn=300_000, months_late=1, evasion_decision=None,
                  evasion_decision_date=None, enforcement_stage=None, status="late")


def test_document_of_household_has_no_personal_number():
    doc = search.document(household_record())
    assert doc["key"] == HOUSEHOLD_UNIT and doc["tax_code"] is None and doc["unit_code"] == HOUSEHOLD_UNIT
    assert doc["name"] == "Hộ kinh doanh Bà Năm" and doc["arrears_total"] == 3_000_000
    assert PERSONAL_NUMBER not in repr(doc)


def test_a_total_only_employer_is_indexed_by_its_reported_total_and_no_fund(tmp_path):
    """The index holds the total the report gives (64-bit), never the funds: an unknown one cannot read 0."""
    from dataclasses import replace

    total_only = replace(household_record(), arrears_bhxh=None, arrears_bhyt=None, arrears_bhtn=None,
                         reported_total=5 * BIG, interest=BIG, status="delinquent", months_late=9)
    doc = search.document(total_only)
    assert doc["arrears_total"] == 5 * BIG and not {"arrears_bhxh", "interest"} & set(doc)
    search.build_index(tmp_path / "ix", [doc])
    result = search.search(search.open_index(tmp_path / "ix"), "Bà Năm", filters={"arrears_min": str(5 * BIG)})
    assert [(hit.key, hit.arrears_total) for hit in result.hits] == [(HOUSEHOLD_UNIT, 5 * BIG)]


def test_documents_with_a_personal_number_are_refused(tmp_path):
    with pytest.raises(ValueError, match="personal number"):
        search.build_index(tmp_path / "a", [make_doc(HOUSEHOLD, key=PERSONAL_NUMBER)])
    with pytest.raises(Exception, match="12 digits|tax code"):
        search.build_index(tmp_path / "b", [make_doc(HOUSEHOLD, tax_code=PERSONAL_NUMBER)])
    assert not list(tmp_path.iterdir())


def test_index_files_never_contain_the_personal_number(tmp_path):
    path = tmp_path / "ix"
    search.build_index(path, [search.document(household_record()), make_doc(0)])
    for file in path.iterdir():
        assert PERSONAL_NUMBER.encode() not in file.read_bytes()


# --- Building, updating, opening ---------------------------------------------------------------------

def test_build_refuses_existing_directory_and_duplicates(tmp_path, index_path):
    with pytest.raises(FileExistsError):
        search.build_index(index_path, DOCS)
    with pytest.raises(ValueError, match="appears twice"):
        search.build_index(tmp_path / "dup", [make_doc(0), make_doc(0)])
    assert not (tmp_path / "dup").exists()


def test_build_reports_progress_and_runs_in_subprocesses(tmp_path):
    seen = []
    assert search.build_index(tmp_path / "ix", DOCS, progress=seen.append, procs=2) == len(DOCS)
    assert seen[-1] == len(DOCS)
    assert search.search(tmp_path / "ix", "minh phát").hits[0].key == key_of(0)
    assert search.search(tmp_path / "ix", "", {"status": "evading"}).total == 3


def test_update_applies_upserts_and_deletes_and_leaves_previous_untouched(tmp_path, index_path):
    before = {f.name: f.read_bytes() for f in index_path.iterdir()}
    new = make_doc(0, key=tax_code(500), tax_code=tax_code(500), unit_code="YN0500B",
                   name="Công ty TNHH Phước Lộc Thọ", status="evading", arrears_total=9 * BIG, months_late=40)
    changed = make_doc(3, status="delinquent", arrears_total=BIG * 3 + 7, months_late=5,
                       name="Doanh nghiệp tư nhân Đức Thành Mới")
    nextday = tmp_path / "2026-11-26"
    assert search.update_index(index_path, nextday, [new, changed], [key_of(9)]) == 2

    updated = search.open_index(nextday)
    assert search.search(updated, "").total == len(DOCS)
    assert search.search(updated, "phuoc loc tho").hits[0].key == tax_code(500)
    assert search.search(updated, "hoang long").total == 0
    assert search.search(updated, tax_code(9)).total == 0
    hit = search.search(updated, "duc thanh moi").hits[0]
    assert (hit.key, hit.status, hit.arrears_total) == (key_of(3), "delinquent", BIG * 3 + 7)
    assert search.search(updated, "", {"status": "compliant"}).total == \
        len(expected_keys(lambda d: d["status"] == "compliant")) - 1
    top_arrears = search.search(updated, "", per_page=2).hits
    assert [h.key for h in top_arrears] == [tax_code(500), key_of(25)]

    assert {f.name: f.read_bytes() for f in index_path.iterdir()} == before
    previous = search.open_index(index_path)
    assert search.search(previous, "hoang long").hits[0].key == key_of(9)
    assert search.search(previous, "phuoc loc tho").total == 0


def test_successive_updates_keep_columns_aligned(tmp_path, index_path):
    day1, day2 = tmp_path / "d1", tmp_path / "d2"
    search.update_index(index_path, day1, [make_doc(i, status="evading") for i in (1, 2, 3)], [key_of(4)])
    search.update_index(day1, day2, [make_doc(i, arrears_total=BIG * 10 + i) for i in (2, 20)], [key_of(1)])
    index = search.open_index(day2)
    statuses = {hit.key: hit.status for hit in search.search(index, "", per_page=100).hits}
    assert len(statuses) == len(DOCS) - 2
    for hit in search.search(index, "", {"status": "evading"}, per_page=100).hits:
        assert statuses[hit.key] == "evading"
    assert [h.key for h in search.search(index, "", per_page=2).hits] == [key_of(20), key_of(2)]


def test_updates_delete_replaced_documents_from_whoosh_too(tmp_path, index_path):
    """Not only hidden by the live column: merges then drop them, so the index does not grow a day's
    changes bigger every day."""
    nextday = tmp_path / "next"
    search.update_index(index_path, nextday, [make_doc(i, months_late=9) for i in (1, 2)], [key_of(3)])
    assert whoosh_index.open_dir(str(nextday), readonly=True).doc_count() == len(DOCS) - 1
    assert search.updatable(nextday) and not search.updatable(tmp_path / "missing")


def test_update_refuses_existing_target(index_path):
    with pytest.raises(FileExistsError):
        search.update_index(index_path, index_path, [], [])


def test_threads_sharing_one_index_get_what_one_thread_gets(tmp_path, index_path):
    """Every thread of a worker reads through the index's one Whoosh searcher: concurrent searches
    (exact, fuzzy, identifiers; postings read afresh) over an index of several segments must answer
    exactly as the same searches one after another."""
    from concurrent.futures import ThreadPoolExecutor

    several = tmp_path / "several-segments"
    search.update_index(index_path, several, [make_doc(i, months_late=7) for i in (1, 2, 5)], [key_of(4)])
    queries = ["hoang lomg", "truomg tho", "quyet thnag", "hoang long", "duc thanh", "htx", "", tax_code(3),
               "cong ty", "nguyen kin", "Đức", "đức thành"] * 6

    def answer(index, q):
        result = search.search(index, q, per_page=50)
        return result.total, result.fuzzy, [(hit.key, hit.name, hit.status, hit.arrears_total) for hit in result.hits]

    alone = search.SearchIndex(several)
    expected = [answer(alone, q) for q in queries]
    shared = search.SearchIndex(several)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)   # threads switch every few bytecodes: races show up in a small test
    try:
        with ThreadPoolExecutor(8) as pool:
            for _ in range(5):
                shared.clear_caches()   # so that the threads read postings from Whoosh, not the cache
                assert list(pool.map(lambda q: answer(shared, q), queries)) == expected
    finally:
        sys.setswitchinterval(interval)
    assert any(total for total, _, _ in expected) and any(fuzzy for _, fuzzy, _ in expected)
    shared.close()
    alone.close()


def test_open_index_is_cached_per_path(index_path, tmp_path):
    assert search.open_index(index_path) is search.open_index(str(index_path))


def test_namesakes_count_once_among_the_phrase_candidates(tmp_path):
    """Regression (load benchmark at 1,000,000): for 'khu vuc nhon nhon' hundreds of namesakes
    '… An Nhơn' scored higher (a bare "An" matches the query's "an" exactly) and filled every
    candidate place of the phrase check, so the exact name was never read."""
    names = ["Ban Quản lý dự án khu vực An Nhơn"] * (search.PHRASE_CANDIDATES + 250) + \
        ["Ban Quản lý dự án khu vực Nhơn Nhơn"] * 3
    docs = [make_doc(0, key=tax_code(1000 + i), tax_code=tax_code(1000 + i), unit_code=f"TN{i:04d}Z", name=name)
            for i, name in enumerate(names)]
    search.build_index(tmp_path / "ix", docs)
    own = search.SearchIndex(tmp_path / "ix")
    first = [hit.name for hit in own.search("ban quan ly du an khu vuc nhon nhon", per_page=10).hits]
    own.close()
    assert first[:3] == [names[-1]] * 3 and first[3] == names[0]


def test_an_index_written_before_search_became_a_package_still_opens(tmp_path):
    """Whoosh pickles the schema with its field classes' module path: an index of a past release,
    written when the facade was one module (congkhai.search.AnalysedWords), must open and answer
    with today's code, and today's indexes must name the same path."""
    import pickle
    import shutil
    from pathlib import Path

    old = tmp_path / "ix"
    shutil.copytree(Path(__file__).with_name("data") / "index-written-before-the-package", old)
    found = search.open_index(old).search("cong ty minh phat", {}, "relevance", 1, 10)
    assert found.hits and found.hits[0].name == "Công ty TNHH Minh Phát"
    built = tmp_path / "new"
    search.build_index(built, DOCS[:2])
    toc = next(built.glob("_MAIN_*.toc")).read_bytes()
    assert b"congkhai.search\x94" in toc or b"congkhai.search\n" in toc
    assert pickle.loads(pickle.dumps(search.AnalysedWords())).__class__.__module__ == "congkhai.search"
