"""Property-based tests of the cell parsers: whatever a report holds, each parser returns a value or
raises its own error (CellError, InvalidTaxCode), which the rejects report names; never another
exception, which would end the run in a traceback."""
from datetime import date, datetime, timedelta

from hypothesis import example, given, settings, strategies as st
from stdnum.vn import mst

from congkhai.taxcode import BRANCH, ENTERPRISE, PERSONAL, InvalidTaxCode, parse_tax_code
from publisher.cells import EARLIEST_DECISION, CellError, parse_decision, parse_integer

from .factory import AS_OF

# Per test, not a global profile, which would also change the portal's schemathesis runs.
PROPERTY = settings(max_examples=200, deadline=None, database=None)

# What a cell may hold once read: calamine gives str, int, float, bool, datetime/date or None.
cells = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(), st.text(alphabet="0123456789.,- \u00a0"), st.dates(), st.datetimes())


def vn_grouped(n: int) -> str:
    return f"{n:,}".replace(",", ".")


@PROPERTY
@given(st.integers(min_value=0, max_value=10**15))
def test_every_written_form_of_an_amount_reads_back(n):
    for form in (str(n), vn_grouped(n), f"{n:,}", n, float(n) if n < 2**53 else n, f" {n} ", f"{vn_grouped(n)},00"):
        assert parse_integer(form) == n


@PROPERTY
@given(st.integers(min_value=1, max_value=10**15))
def test_a_negative_amount_reads_as_negative_for_the_schema_to_refuse(n):
    assert parse_integer(f"-{vn_grouped(n)}") == -n


@PROPERTY
@given(cells)
@example("²")
@example("١٢٣")
@example("9" * 5000)
@example(float("inf"))
@example(1e308)
def test_parse_integer_returns_an_int_or_raises_cellerror(cell):
    try:
        value = parse_integer(cell)
    except CellError:
        return
    assert isinstance(value, int) and (abs(value) < 10**48 or value == cell)  # the schema then bounds it


@PROPERTY
@given(st.dates(min_value=EARLIEST_DECISION, max_value=AS_OF), st.integers(min_value=1, max_value=9999),
       st.sampled_from(["/", ".", "-"]))
def test_a_decision_reads_back_its_date(day, number, separator):
    text = f"Số {number}/QĐ-TTr ngày {day.day:02d}{separator}{day.month:02d}{separator}{day.year}"
    assert parse_decision(text, AS_OF) == (text, day)


@PROPERTY
@given(st.dates(min_value=AS_OF + timedelta(days=1)))
def test_a_decision_after_the_report_is_refused(day):
    try:
        parse_decision(f"Số 1/QĐ ngày {day:%d/%m/%Y}", AS_OF)
    except CellError as error:
        assert "after the report's date" in str(error)
    else:
        raise AssertionError("a future decision was accepted")


@PROPERTY
@given(st.integers(min_value=1, max_value=99), st.integers(min_value=1, max_value=99), st.integers(1000, 9999))
def test_impossible_dates_are_refused_not_raised(day, month, year):
    try:
        text, decided = parse_decision(f"Số 1/QĐ ngày {day}/{month}/{year}", AS_OF)
    except CellError:
        return
    assert decided == date(year, month, day)


@PROPERTY
@given(cells)
def test_parse_decision_returns_or_raises_cellerror(cell):
    try:
        text, decided = parse_decision(cell, AS_OF)
    except CellError:
        return
    assert (text, decided) == (None, None) or EARLIEST_DECISION <= decided <= AS_OF


def valid_enterprise(base: int) -> str | None:
    """The tax code of a 9-digit base, or None where none exists (check digit 10, or digits 3-9 all zero)."""
    check = mst.calc_check_digit(f"{base:09d}")
    return f"{base:09d}{check}" if len(check) == 1 and f"{base:09d}"[2:] != "0000000" else None


@PROPERTY
@given(st.integers(min_value=10_000_000, max_value=999_999_999), st.integers(min_value=1, max_value=999))
def test_every_written_form_of_a_tax_code_reads_back(base, branch):
    code = valid_enterprise(base)
    if code is None:
        return
    assert parse_tax_code(code) == parse_tax_code(int(code)) == parse_tax_code(float(int(code)))
    assert parse_tax_code(code).kind == ENTERPRISE and parse_tax_code(code).value == code
    assert parse_tax_code(f" {code[:4]} {code[4:7]} {code[7:]} ").value == code
    for form in (f"{code}-{branch:03d}", f"{code}{branch:03d}", int(f"{code}{branch:03d}")):
        assert parse_tax_code(form) == parse_tax_code(f"{code}-{branch:03d}")
        assert parse_tax_code(form).kind == BRANCH and parse_tax_code(form).value == f"{code}-{branch:03d}"


@PROPERTY
@given(st.integers(min_value=10_000_000, max_value=999_999_999))
def test_a_wrong_check_digit_is_refused(base):
    code = valid_enterprise(base)
    if code is None:
        return
    wrong = code[:9] + str((int(code[9]) + 1) % 10)
    try:
        parse_tax_code(wrong)
    except InvalidTaxCode as error:
        assert "check digit" in str(error)
    else:
        raise AssertionError(f"{wrong} was accepted")


@PROPERTY
@given(st.from_regex(r"\A[0-9]{12}\Z"))
def test_a_household_number_is_kept_whole(number):
    parsed = parse_tax_code(number, household=True)
    assert parsed.kind == PERSONAL and parsed.value == number


@PROPERTY
@given(cells, st.booleans())
@example(float("inf"), False)
@example("²" * 10, False)
@example(datetime(2026, 1, 1), False)
def test_parse_tax_code_returns_or_raises_invalidtaxcode(cell, household):
    try:
        parsed = parse_tax_code(cell, household=household)
    except InvalidTaxCode:
        return
    assert parsed.value.replace("-", "").isascii() and parsed.value.replace("-", "").isdigit()
