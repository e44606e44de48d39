import pytest

from congkhai.taxcode import (BRANCH, ENTERPRISE, PERSONAL, InvalidTaxCode, looks_like_tax_code, mask_personal_id,
                              parse_tax_code, personal_id_hash)


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


def test_personal_number_only_for_households():
    tax = parse_tax_code("001085012345", household=True)
    assert tax.kind == PERSONAL and tax.public is None
    with pytest.raises(InvalidTaxCode):
        parse_tax_code("001085012345")


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
    for twelve in ("001234567823", "010010910600"):  # a personal number, or a branch code missing its zero
        try:
            parse_tax_code(twelve)
        except InvalidTaxCode:
            pass
    assert taxcode._stdnum_problem.cache_info().currsize == before
