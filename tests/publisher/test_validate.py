import unicodedata
from datetime import date

import pytest

from publisher.read import Unreadable, read_report
from publisher.records import RawRow
from publisher.cells import CellError, parse_integer
from publisher.validate import RowCheck, default_check, validate_report, validate_row

from .factory import AS_OF, row, write_csv


@pytest.mark.parametrize("cell, expected", [
    ("1.234.567", 1234567), ("1,234,567", 1234567), ("1234567", 1234567), (1234567, 1234567),
    (1234567.0, 1234567), ("", 0), (None, 0), ("-", 0), (" 12 345 ", 12345), ("1.234.567,00", 1234567),
    ("3000000000", 3_000_000_000), ("-5", -5),
])
def test_parse_integer(cell, expected):
    assert parse_integer(cell) == expected


@pytest.mark.parametrize("cell", ["12,5", "1.5", "abc", 1.5, "1.23.4", True])
def test_parse_integer_rejects(cell):
    with pytest.raises(CellError):
        parse_integer(cell)


def check(cells: dict, line: int = 7):
    return validate_row(RawRow("79.csv", line, cells), "79", AS_OF, default_check())


def rejected(cells: dict) -> list[tuple[str, str]]:
    record, rejects = check(cells)
    assert record is None
    return [(r.field, r.reason) for r in rejects]


def test_valid_row_is_normalised():
    name = unicodedata.normalize("NFD", "Công  ty TNHH  Điện tử Đức Thành ")
    record, rejects = check(row(1, name=name, arrears_bhxh="1.234.567", arrears_bhyt=2_500_000_000.0,
                                months_late=" 4 ", unit_code="ta0001a", employees=""))
    assert rejects == []
    assert record.name == "Công ty TNHH Điện tử Đức Thành" and unicodedata.is_normalized("NFC", record.name)
    assert (record.arrears_bhxh, record.arrears_bhyt, record.arrears_bhtn) == (1234567, 2_500_000_000, 0)
    assert record.arrears_total == 2_501_234_567 and record.months_late == 4
    assert record.unit_code == "TA0001A" and record.employees is None
    assert (record.source, record.line) == ("79.csv", 7)


@pytest.mark.parametrize("cell, key", [
    (100233488, "0100233488"),            # numeric cell lost the leading zero
    ("100233488", "0100233488"),
    ("0100233488-001", "0100233488-001"),  # branch with dash
    ("0100233488001", "0100233488-001"),   # branch without dash
    (100233488001, "0100233488-001"),      # branch stored as a number
    (" 0100 233 488 ", "0100233488"),
])
def test_tax_code_forms(cell, key):
    record, rejects = check(row(1, tax_code=cell))
    assert rejects == [] and record.key == key


def test_bad_check_digit_is_rejected_by_field():
    assert rejected(row(1, tax_code="0100233487")) == [("Mã số thuế", "tax code '0100233487' fails its check digit")]


def test_branch_000_is_rejected():
    assert rejected(row(1, tax_code="0100233488-000"))[0][0] == "Mã số thuế"


def test_household_personal_number_is_masked_and_keyed_by_unit_code():
    record, rejects = check(row(1, tax_code="001085012345", ownership_type="Hộ kinh doanh",
                                name="Hộ kinh doanh Nguyễn Văn Đạt", unit_code="HK0001A"))
    assert rejects == []
    assert record.is_household and record.key == "HK0001A" and record.tax_code is None
    assert record.public_tax_id == "001*******45"


def test_household_number_that_lost_its_zero():
    record, _ = check(row(1, tax_code=79085012345.0, ownership_type="Hộ kinh doanh"))
    assert record.tax.value == "079085012345"


def test_a_citizen_id_under_a_company_is_masked_and_noted():
    """Issue 22: twelve digits shaped as a citizen identity number were read as a branch code for
    any row not written 'Hộ kinh doanh', and published in full when the check digit held."""
    record, notes = check(row(1, tax_code="001085012345"))
    assert record.tax_code is None and record.key == "TA0001A" and record.public_tax_id == "001*******45"
    assert [(n.field, n.value) for n in notes] == [("Mã số thuế", "001*******45")]
    assert "001085012345" not in notes[0].reason


@pytest.mark.parametrize("ownership, name", [
    ("Hộ kinh doanh", "Nguyễn Văn Đạt"), ("HKD", "Nguyễn Văn Đạt"), ("hkd", "Nguyễn Văn Đạt"),
    ("Hộ KD", "Nguyễn Văn Đạt"), ("hộ cá thể", "Nguyễn Văn Đạt"), ("Hộ kinh doanh cá thể", "Nguyễn Văn Đạt"),
    ("HO KINH DOANH", "Nguyễn Văn Đạt"), ("Ho ca the", "Nguyễn Văn Đạt"), ("", "HKD Nguyễn Văn Đạt"),
    ("", "Hộ KD Nguyễn Văn Đạt"), ("", "ho kinh doanh ca the Nguyen Van Dat"), ("Tư nhân", "Tạp hóa Bà Năm"),
])
def test_households_in_every_spelling_keep_their_owner_number_masked(ownership, name):
    """Issue 22: a household written 'HKD' had its owner's number that lost its zero (11 digits,
    a spreadsheet number) refused, or read as a branch code and published."""
    for number in ("001085012345", 79085012345, "123456789012"):
        record, notes = check(row(1, tax_code=number, ownership_type=ownership, name=name))
        assert record.is_household and record.tax_code is None and record.key == "TA0001A", (number, record)
        assert notes == []


def test_twelve_digits_beginning_1_to_9_under_a_legal_entity_are_a_branch():
    record, notes = check(row(1, tax_code="100233488001", name="Chi nhánh Công ty TNHH Minh Phát"))
    assert record.key == "0100233488-001" and not record.is_household and notes == []


def test_every_bad_field_is_named():
    rejects = rejected(row(1, arrears_bhxh="-5", months_late="abc", name="", unit_code="Ô"))
    assert sorted(f for f, _ in rejects) == ["Mã đơn vị", "Nợ BHXH", "Số tháng chậm đóng", "Tên đơn vị"]
    assert dict(rejects)["Nợ BHXH"] == "-5 is negative; the least accepted is 0"


def test_months_without_arrears_is_a_contradiction():
    assert rejected(row(1, months_late=3)) == [("Số tháng chậm đóng", "months in arrears without any arrears amount")]


def test_evasion_decision_parsed():
    record, _ = check(row(1, evasion_decision="Số 123/QĐ-TTr ngày 05/03/2026"))
    assert record.evasion_decision == "Số 123/QĐ-TTr ngày 05/03/2026"
    assert record.evasion_decision_date == date(2026, 3, 5)


@pytest.mark.parametrize("cell, reason", [
    ("Số 123/QĐ-TTr", "the decision's date (dd/mm/yyyy) is missing"),
    ("Số 1/QĐ ngày 01/12/2026", "decision dated 01/12/2026, after the report's date"),
    ("Số 1/QĐ ngày 31/02/2026", "'31/02/2026' is not a date"),
])
def test_bad_evasion_decision(cell, reason):
    assert rejected(row(1, evasion_decision=cell)) == [("Quyết định trốn đóng", reason)]


@pytest.mark.parametrize("cell, published", [
    ("Công ty \u202eABC\u202c Hà Nội", "Công ty ABC Hà Nội"),         # right-to-left override: shows "CBA"
    ("Công\u200b ty TNHH An\u200d Bình", "Công ty TNHH An Bình"),     # zero-width space and joiner
    ("\u2067Công ty\u2069 TNHH \ufeffMinh\u00ad Phát", "Công ty TNHH Minh Phát"),  # isolates, BOM, soft hyphen
    ("Công ty \u200e\u200f TNHH\x07 Sao Mai", "Công ty TNHH Sao Mai"),  # marks leave no double space; BEL
])
def test_invisible_characters_are_removed_so_no_name_can_pass_for_another(cell, published):
    record, rejects = check(row(1, name=cell, address=cell, sector=cell, enforcement_stage=cell,
                                evasion_decision="Số 1/QĐ\u200b ngày 05/03/2026", arrears_bhxh="5.000.000",
                                months_late=4))
    assert rejects == []
    assert record.name == record.address == record.sector == record.enforcement_stage == published
    assert record.evasion_decision == "Số 1/QĐ ngày 05/03/2026"


def test_a_name_of_only_invisible_characters_is_no_name():
    assert rejected(row(1, name="\u200b\u202e\u200b")) == [
        ("Tên đơn vị", "shows nothing: only characters that draw nothing ('\\u200b' U+200B ZERO WIDTH SPACE, "
                       "'\\u202e' U+202E RIGHT-TO-LEFT OVERRIDE)")]


@pytest.mark.parametrize("cell, named", [
    ("\u3164\u3164\u3164", "'\u3164' U+3164 HANGUL FILLER"),
    ("\u115f\u1160 \uffa0", "'\u115f' U+115F HANGUL CHOSEONG FILLER, '\u1160' U+1160 HANGUL JUNGSEONG FILLER, "
                             "' ' U+0020 SPACE, '\uffa0' U+FFA0 HALFWIDTH HANGUL FILLER"),
    ("\u2800\u200b\u2800", "'\u2800' U+2800 BRAILLE PATTERN BLANK, '\\u200b' U+200B ZERO WIDTH SPACE"),
    ("\u0301\u0323", "'\u0323' U+0323 COMBINING DOT BELOW, '\u0301' U+0301 COMBINING ACUTE ACCENT"),  # NFC order
])
def test_a_name_that_draws_nothing_is_rejected_naming_its_characters(cell, named):
    assert rejected(row(1, name=cell)) == [("Tên đơn vị", f"shows nothing: only characters that draw nothing ({named})")]


def test_an_address_that_draws_nothing_is_rejected_too():
    assert [field for field, _ in rejected(row(1, address="\u3164"))] == ["Địa chỉ"]


def test_a_name_of_ideographic_spaces_is_no_name():
    assert rejected(row(1, name="\u3000\u3000")) == [("Tên đơn vị", 'constraint "required" is "True"')]


def test_latin_mixed_with_cyrillic_or_greek_is_published_as_written_and_noted():
    name = "\u0421\u00f4ng ty TNHH \u0391n B\u00ecnh"  # Cyrillic Es, Greek Alpha
    record, notes = check(row(1, name=name))
    assert record.name == name
    assert [(n.line, n.field, n.value, n.reason) for n in notes] == [
        (7, "Tên đơn vị", name, "Greek or Cyrillic letters among Latin ones, which may look alike: "
                                "'С' U+0421 CYRILLIC CAPITAL LETTER ES, 'Α' U+0391 GREEK CAPITAL LETTER ALPHA; "
                                "published as written")]


def test_look_alikes_are_noted_in_the_free_texts_only():
    record, notes = check(row(1, address="S\u043e 5 Lê Lợi", sector="Xây d\u0443ng"))  # Cyrillic o and u
    assert [(n.field, n.reason) for n in notes] == [
        ("Địa chỉ", "Greek or Cyrillic letters among Latin ones, which may look alike: "
                    "'о' U+043E CYRILLIC SMALL LETTER O; published as written")]
    assert record.sector == "Xây d\u0443ng"


@pytest.mark.parametrize("form", ["NFC", "NFD"])
@pytest.mark.parametrize("name", ["Công ty Điện tử Đức Thành", "đường Ươm Tơ", "Cửa hàng Ăn uống Ẩm thực Ở Ỹ Ỵ",
                                  "ĐOÀN THỊ NGỌC ÁNH", "Ромашка ООО", "Hà Nội · Chi nhánh 2"])
def test_vietnamese_letters_are_latin_never_look_alikes(form, name):
    record, notes = check(row(1, name=unicodedata.normalize(form, name)))
    assert notes == [] and record.name == name


def test_a_five_thousand_character_name_is_quarantined_naming_the_field():
    assert rejected(row(1, name="Công ty " + "A" * 5000)) == [("Tên đơn vị", 'constraint "maxLength" is "500"')]
@pytest.mark.parametrize("cell, reason", [
    ("-1.000.000", "-1,000,000 is negative; the least accepted is 0"),
    ("một triệu", "'một triệu' is not a whole number"),
    ("1e20", "'1e20' is not a whole number"),
    (1e20, "100,000,000,000,000,000,000 is more than the most accepted, 1,000,000,000,000,000"),
    ("100000000000000000000", "100,000,000,000,000,000,000 is more than the most accepted, 1,000,000,000,000,000"),
    (1e300, "1e+300 is not an amount"),
    (float("inf"), "inf is not a whole number"),
    ("9" * 5000, "5,000 characters is not an amount"),
])
def test_absurd_amounts_are_rejected_with_a_reason(cell, reason):
    assert rejected(row(1, arrears_bhxh=cell, months_late=1)) == [("Nợ BHXH", reason)]


@pytest.mark.parametrize("cell, reason", [
    (999, "999 is more than the most accepted, 600"),
    ("-3", "-3 is negative; the least accepted is 0"),
    ("ba", "'ba' is not a whole number"),
])
def test_impossible_months_are_rejected(cell, reason):
    assert rejected(row(1, arrears_bhxh=5, months_late=cell)) == [("Số tháng chậm đóng", reason)]


@pytest.mark.parametrize("cell, reason", [
    ("Số 7/QĐ ngày 30/02/2026", "'30/02/2026' is not a date"),
    ("Số 7/QĐ ngày 05/13/2026", "'05/13/2026' is not a date"),
    ("Số 7/QĐ ngày 01/01/1900", "decision dated 01/01/1900, before Vietnam Social Security existed (1995)"),
])
def test_impossible_decision_dates(cell, reason):
    assert rejected(row(1, evasion_decision=cell)) == [("Quyết định trốn đóng", reason)]


def test_an_unreadable_cell_rejects_its_row_by_field():
    cells = row(1, arrears_bhyt=Unreadable("=A1*2", "formula without a computed value"), months_late=1,
                address=Unreadable("Số 5\\x00", "holds the control character U+0000 at character 5; remove it"))
    assert sorted(rejected(cells)) == [("Nợ BHYT", "formula without a computed value"),
                                       ("Địa chỉ", "holds the control character U+0000 at character 5; remove it")]
    _, rejects = check(cells)
    assert {(r.source, r.line, r.value) for r in rejects} == {("79.csv", 7, "=A1*2"), ("79.csv", 7, "Số 5\\x00")}


def test_an_unreadable_row_number_is_harmless():
    record, rejects = check(row(1, row_no=Unreadable("", "merged with cell A6")))
    assert record is not None and rejects == []


def test_mojibake_is_repaired_and_noted():
    record, notes = check(row(1, name="CÃ´ng ty TNHH Thá»\xad Nghiá»‡m", sector="XÃ¢y dá»±ng"))
    assert record.name == "Công ty TNHH Thử Nghiệm" and record.sector == "Xây dựng"
    assert [(n.source, n.line, n.field, n.value, n.reason) for n in notes] == [
        ("79.csv", 7, "Tên đơn vị", "CÃ´ng ty TNHH Thá»\xad Nghiá»‡m", "mojibake repaired: published as 'Công ty TNHH Thử Nghiệm'"),
        ("79.csv", 7, "Ngành nghề", "XÃ¢y dá»±ng", "mojibake repaired: published as 'Xây dựng'"),
    ]


def test_mojibake_is_rejected_when_the_policy_says_so():
    record, rejects = validate_row(RawRow("79.csv", 7, row(1, name="CÃ´ng ty TNHH Thá»\xad Nghiá»‡m")), "79", AS_OF,
                                   default_check("reject"))
    assert record is None
    assert [(r.field, r.reason) for r in rejects] == [
        ("Tên đơn vị", "mojibake (UTF-8 text read as Windows-1252): it reads 'Công ty TNHH Thử Nghiệm' once repaired; "
                       "send the report again saved as UTF-8")]


@pytest.mark.parametrize("name", ["Công ty TNHH Điện tử Đức Thành", "NGÃ TƯ SỞ – “Cửa hàng số 1”", "Hà Nội · Chi nhánh 2",
                                  "Công ty Ã Châu", "Cty ABC"])
def test_clean_vietnamese_is_not_taken_for_mojibake(name):
    record, notes = check(row(1, name=name))
    assert notes == [] and record.name == name


def test_unknown_mojibake_mode_is_refused():
    with pytest.raises(ValueError, match="mojibake must be one of repair, reject"):
        RowCheck.from_schema(mojibake="ignore")


def test_repairs_are_notes_not_rejected_rows(tmp_path):
    rows = [row(1, name="CÃ´ng ty TNHH Thá»\xad Nghiá»‡m"), row(2, tax_code="123")]
    validated = validate_report(read_report(write_csv(tmp_path, "01", rows), "01", AS_OF), AS_OF)
    assert [r.name for r in validated.records] == ["Công ty TNHH Thử Nghiệm"]
    assert validated.rejected_rows == 1 and [r.line for r in validated.rejects] == [3]
    assert [(n.line, n.field) for n in validated.notes] == [(2, "Tên đơn vị")]


def test_a_validated_report_crosses_a_process_boundary_intact(tmp_path):
    """Reading processes send their reports back pickled, records as plain values (see __getstate__)."""
    import pickle

    from .factory import tax_code

    rows = [row(1, name="Công ty Đức Thành", arrears_bhxh="1.234.567", months_late=3,
                evasion_decision="Số 12/QĐ-TTr ngày 05/03/2026", enforcement_stage="Khởi kiện"),
            row(2, tax_code=f"{tax_code(2)}-001", employees=""), row(3, tax_code="", unit_code="")]
    path = write_csv(tmp_path, "79", rows)
    validated = validate_report(read_report(path, "79", AS_OF), AS_OF)
    assert len(validated.records) == 2 and validated.rejected_rows == 1
    again = pickle.loads(pickle.dumps(validated))
    assert again == validated
    assert again.records[0].evasion_decision_date == date(2026, 3, 5) and again.records[1].key == f"{tax_code(2)}-001"
