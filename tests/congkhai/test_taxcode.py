import pytest

from congkhai.taxcode import (BRANCH, CITIZEN_ID_PROVINCES, ENTERPRISE, PERSONAL, InvalidTaxCode, compact,
                              has_citizen_id_structure, has_foreign_digits, is_personal_number, looks_like_tax_code,
                              mask_personal_id, normalise_unit_code, parse_tax_code, personal_id_hash)


@pytest.mark.parametrize("raw, kind, value", [
    ("0100233488", ENTERPRISE, "0100233488"),
    (100233488, ENTERPRISE, "0100233488"),
    (100233488.0, ENTERPRISE, "0100233488"),
    ("0100233488-001", BRANCH, "0100233488-001"),
    ("0100233488 001", BRANCH, "0100233488-001"),
    ("0100233488001", BRANCH, "0100233488-001"),
    ("100233488001", BRANCH, "0100233488-001"),
])
def test_parse(raw, kind, value):
    tax = parse_tax_code(raw)
    assert (tax.kind, tax.value) == (kind, value)
    assert tax.public == value


@pytest.mark.parametrize("raw, message", [
    ("", "empty"), ("01002334AB", "characters other than digits"), ("12345", "has 5 digits"),
    ("0100233487", "fails its check digit"), ("0100233488-000", "branch number 000"),
])
def test_invalid(raw, message):
    with pytest.raises(InvalidTaxCode, match=message):
        parse_tax_code(raw)


def test_personal_number_for_households():
    tax = parse_tax_code("001085012345", household=True)
    assert tax.kind == PERSONAL and tax.public is None
    assert parse_tax_code("79085012345", household=True).value == "079085012345"


@pytest.mark.parametrize("number", ["001085012345", "079185000001", "096299123456", "048000000000"])
def test_a_citizen_id_is_personal_whatever_the_row_says(number):
    tax = parse_tax_code(number)
    assert tax.kind == PERSONAL and tax.public is None


def test_every_citizen_id_province_code_and_no_other():
    assert len(CITIZEN_ID_PROVINCES) == 63
    for code in (f"{n:03d}" for n in range(1000)):
        assert has_citizen_id_structure(code + "185012345") is (code in CITIZEN_ID_PROVINCES)


@pytest.mark.parametrize("number", ["000123456789", "003085012345", "097085012345", "099123456789"])
def test_twelve_digits_beginning_with_0_but_no_citizen_id_are_refused_without_repeating_them(number):
    with pytest.raises(InvalidTaxCode, match="neither a branch code") as refused:
        parse_tax_code(number)
    assert number not in str(refused.value)


def test_twelve_digits_beginning_1_to_9_are_a_branch_that_lost_its_zero_if_the_check_digit_holds():
    assert parse_tax_code("100233488001").value == "0100233488-001"
    with pytest.raises(InvalidTaxCode, match="check digit"):
        parse_tax_code("100233487001")


@pytest.mark.parametrize("typed", ["０１００２３３４８８", "𝟎𝟏𝟎𝟎𝟐𝟑𝟑𝟒𝟖𝟖", "𝟘𝟙𝟘𝟘𝟚𝟛𝟛𝟜𝟠𝟠", "０１００２３３４８８－００１"])
def test_look_alike_digits_are_read_as_digits(typed):
    assert compact(typed) in ("0100233488", "0100233488001")
    assert parse_tax_code(typed).value.startswith("0100233488")


@pytest.mark.parametrize("typed", ["٠١٠٠٢٣٣٤٨٨", "۰۱۰۰۲۳۳۴۸۸", "०१००२३३४८८"])
def test_digits_other_than_0_to_9_are_refused_not_looked_up(typed):
    assert has_foreign_digits(typed)
    with pytest.raises(InvalidTaxCode, match="digits other than 0-9"):
        parse_tax_code(typed)
    assert not looks_like_tax_code(typed) and not is_personal_number(typed + "٠٠")


@pytest.mark.parametrize("typed", ["TA0001A", "ta0001a", " ta 0001 a ", "ＴＡ０００１Ａ", "ta\u00a00001a"])
def test_unit_codes_are_normalised_one_way(typed):
    assert normalise_unit_code(typed) == "TA0001A"


def test_unit_codes_keep_their_own_punctuation():
    assert normalise_unit_code("yn-0123.a") == "YN-0123.A"


def test_masking_and_hashing_personal_numbers():
    assert mask_personal_id("001085012345") == "001*******45"
    assert mask_personal_id(1085012345) == "001*******45"
    assert personal_id_hash("001085012345") == personal_id_hash("001 085 012 345")
    assert "001085012345" not in personal_id_hash("001085012345")


@pytest.mark.parametrize("text, expected", [
    ("0100233488", True), ("0100233488-001", True), ("0100 233 488", True), ("công ty", False), ("12345", False),
])
def test_looks_like_tax_code(text, expected):
    assert looks_like_tax_code(text) is expected


def test_check_digit_verdicts_are_remembered_but_never_for_twelve_typed_digits():
    from congkhai import taxcode

    taxcode._stdnum_problem.cache_clear()
    for _ in range(3):
        assert parse_tax_code("0100109106").value == "0100109106"
        with pytest.raises(InvalidTaxCode, match="check digit"):
            parse_tax_code("0100109107")
    assert taxcode._stdnum_problem.cache_info().hits == 4  # the same answers, the second time from memory
    before = taxcode._stdnum_problem.cache_info().currsize
    for twelve in ("001234567823", "100109106001"):  # a personal number, or a branch code missing its zero
        try:
            parse_tax_code(twelve)
        except InvalidTaxCode:
            pass
    assert taxcode._stdnum_problem.cache_info().currsize == before
