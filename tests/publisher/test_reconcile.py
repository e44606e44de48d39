import pytest

from congkhai.policy import load_policy
from publisher.errors import VerificationError
from publisher.read import read_report
from publisher.reconcile import reconcile
from publisher.validate import validate_report

from .factory import AS_OF, row, totals, write_csv, write_xlsx

POLICY = load_policy()


def validated(path, code):
    return validate_report(read_report(path, code, AS_OF), AS_OF)


def problems(error: VerificationError) -> list[str]:
    return [str(p) for p in error.problems]


def test_control_total_mismatch_names_file_row_and_column(tmp_path):
    rows = [row(1, arrears_bhxh="1.000.000", months_late=1), row(2)]
    wrong = totals(rows) | {"Nợ BHXH": "1.000.001"}
    report = validated(write_xlsx(tmp_path, "01", rows, totals_row=wrong), "01")
    with pytest.raises(VerificationError) as caught:
        reconcile([report], [], POLICY, expected=["01"])
    assert problems(caught.value) == [
        "01.xlsx, row 9, field 'Nợ BHXH': control total 1,000,001 does not match the sum of the rows 1,000,000"]


def test_control_totals_count_rejected_rows_too(tmp_path):
    rows = [row(n) for n in range(1, 41)] + [row(41, tax_code="0100233487", arrears_bhxh=500, months_late=1)]
    report = validated(write_csv(tmp_path, "01", rows), "01")
    result = reconcile([report], [], POLICY, expected=["01"])
    assert len(result.records) == 40 and len(result.rejects) == 1


def test_missing_province(tmp_path):
    report = validated(write_csv(tmp_path, "01", [row(1)]), "01")
    with pytest.raises(VerificationError) as caught:
        reconcile([report], [], POLICY, expected=["01", "79"])
    assert problems(caught.value) == ["input: no report for province 79 (Thành phố Hồ Chí Minh)"]


def test_too_many_rejected_rows(tmp_path):
    rows = [row(1), row(2, tax_code="123")]
    report = validated(write_csv(tmp_path, "01", rows), "01")
    with pytest.raises(VerificationError, match=r"01-bao-cao.csv: 1 of 2 rows rejected \(50.0%\), more than the "
                                                r"policy's limit of 5.0%; the first: row 3, field 'Mã số thuế': "
                                                r"tax code '123' has 3 digits"):
        reconcile([report], [], POLICY, expected=["01"])


def test_identical_duplicate_in_one_report_is_published_once(tmp_path):
    a = validated(write_csv(tmp_path, "01", [row(1), row(1)]), "01")
    result = reconcile([a], [], POLICY, expected=["01"])
    assert len(result.records) == 1
    assert result.rejects[0].reason == "identical duplicate of 01-bao-cao.csv row 2; published once"


def test_an_identical_employer_in_two_provinces_reports_is_a_conflict_not_a_merge(tmp_path):
    """Regression: the second province's row was dropped as an identical duplicate of the first's."""
    a = validated(write_csv(tmp_path, "01", [row(1)]), "01")
    b = validated(write_csv(tmp_path, "79", [row(1)]), "79")
    with pytest.raises(VerificationError) as caught:
        reconcile([a, b], [], POLICY, expected=["01", "79"])
    assert [(p.province_code, p.line) for p in caught.value.problems] == [("79", 2), ("01", 2)]
    assert "is also in the report of province 01 (01-bao-cao.csv row 2)" in str(caught.value.problems[0])


def test_conflicting_duplicate_fails_naming_both_rows(tmp_path):
    a = validated(write_csv(tmp_path, "01", [row(1), row(1, arrears_bhxh=10, months_late=1)]), "01")
    with pytest.raises(VerificationError) as caught:
        reconcile([a], [], POLICY, expected=["01"])
    assert problems(caught.value) == [
        f"01-bao-cao.csv, row 3, field 'Mã số thuế': employer {row(1)['Mã số thuế']} also at 01-bao-cao.csv row 2 "
        "with different data (Nợ BHXH, Số tháng chậm đóng)",
        f"01-bao-cao.csv, row 2, field 'Mã số thuế': employer {row(1)['Mã số thuế']} also at 01-bao-cao.csv row 3 "
        "with different data (Nợ BHXH, Số tháng chậm đóng)",
    ]


def test_unit_code_shared_by_two_employers(tmp_path):
    report = validated(write_csv(tmp_path, "01", [row(1), row(2, unit_code="TA0001A")]), "01")
    with pytest.raises(VerificationError, match="unit code TA0001A also used by"):
        reconcile([report], [], POLICY, expected=["01"])


def test_allow_partial_leaves_failed_provinces_out(tmp_path):
    good = validated(write_csv(tmp_path, "01", [row(1)]), "01")
    rows = [row(2, arrears_bhxh=5, months_late=1)]
    bad = validated(write_csv(tmp_path, "79", rows, totals_row=totals(rows) | {"Nợ BHXH": 6}), "79")
    result = reconcile([good, bad], [], POLICY, allow_partial=True, expected=["01", "79", "48"])
    assert result.provinces == ["01"]
    assert [r.key for r in result.records] == [row(1)["Mã số thuế"]]
    assert set(result.missing_provinces) == {"48", "79"}
    assert "control total 6 does not match" in result.missing_provinces["79"]


def test_a_control_total_written_as_a_formula_without_its_value_fails_naming_it(tmp_path):
    rows = [row(1, arrears_bhxh=1000, months_late=1), row(2)]
    path = write_xlsx(tmp_path, "01", rows, totals_row=totals(rows) | {"Nợ BHXH": "=SUM(I7:I8)"})
    with pytest.raises(VerificationError) as caught:
        reconcile([validated(path, "01")], [], POLICY, expected=["01"])
    assert problems(caught.value) == [
        "01.xlsx, row 9, field 'Nợ BHXH': control total is unreadable: formula without a computed value: open the "
        "workbook in a spreadsheet program and save it, so each value is stored"]


def test_a_report_without_a_grand_total_fails_its_province(tmp_path):
    """Regression: without a totals row nothing was checked, so a report cut to a tenth published."""
    report = validated(write_csv(tmp_path, "01", [row(1)], with_totals=False), "01")
    with pytest.raises(VerificationError, match=r"01-bao-cao.csv: no 'Tổng cộng' row"):
        reconcile([report], [], POLICY, expected=["01"])


def test_a_totals_row_stating_no_figure_is_no_control_total(tmp_path):
    report = validated(write_csv(tmp_path, "01", [row(1)], totals_row={"STT": "Tổng cộng"}), "01")
    with pytest.raises(VerificationError, match=r"row 3: its 'Tổng cộng' row states no figure"):
        reconcile([report], [], POLICY, expected=["01"])


def test_the_policy_may_let_a_province_report_without_a_grand_total(tmp_path):
    from dataclasses import replace

    report = validated(write_csv(tmp_path, "01", [row(1)], with_totals=False), "01")
    result = reconcile([report], [], replace(POLICY, totals_optional=["01"]), expected=["01"])
    assert len(result.records) == 1


def test_an_error_value_in_the_totals_row_fails_the_control_check(tmp_path):
    rows = [row(1, arrears_bhxh="1.000.000", months_late=4)]
    report = validated(write_csv(tmp_path, "01", rows, totals_row=totals(rows) | {"Nợ BHXH": "#REF!"}), "01")
    with pytest.raises(VerificationError, match=r"field 'Nợ BHXH': control total is unreadable: spreadsheet error "
                                                r"value #REF!"):
        reconcile([report], [], POLICY, expected=["01"])


def test_an_error_value_in_an_amount_rejects_the_row_naming_the_cell(tmp_path):
    rows = [row(n) for n in range(1, 30)] + [row(30, arrears_bhxh="#VALUE!", months_late=4)]
    report = validated(write_csv(tmp_path, "01", rows, totals_row=totals(rows[:-1])), "01")
    assert [(r.line, r.field, r.value) for r in report.rejects] == [(31, "Nợ BHXH", "#VALUE!")]


@pytest.mark.parametrize("field", ["reported_total", "arrears_bhtnld", "interest"])
def test_two_rows_of_one_employer_differing_only_in_total_bhtnld_or_interest_conflict(field):
    """Regression: the comparison of repeated rows looked at the three funds only, so a second row
    with another total, BHTNLĐ-BNN or interest was dropped as an identical duplicate."""
    from dataclasses import replace

    from publisher.reconcile import find_duplicates
    from publisher.validate import HEADER_OF

    from .release_sample import WITH_INTEREST, records

    first = next(record for record in records() if record.key == WITH_INTEREST)
    second = replace(first, line=first.line + 1, **{field: 1})
    kept, notes, found = find_duplicates([first, second])
    assert notes == [] and len(found) == 2 and f"with different data ({HEADER_OF[field]})" in str(found[0])
