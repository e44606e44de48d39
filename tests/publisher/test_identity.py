"""One employer whichever code a report names it by (publisher/identity.py)."""
import json
from datetime import timedelta

from congkhai.rules.changes import State
from congkhai.taxcode import ENTERPRISE, UNIT_ONLY, TaxId
from publisher.cli import main
from publisher.identity import match_identities
from publisher.records import Record

from .factory import AS_OF, row, tax_code, title_lines, write_all, write_table

DAY2 = AS_OF + timedelta(days=1)
LISTED = State("delinquent", 9, 1, 0, 10, 4, None, None, None)


def record(unit_code, tax, kind=ENTERPRISE):
    return Record("01.csv", 5, "01", unit_code, TaxId(kind, tax), "Công ty TNHH Bến Nghé", "", "", "", None,
                  None, None, None, 4, None, None, None, reported_total=10_000_000)


def test_a_unit_code_only_row_is_matched_to_the_employer_the_register_knows_by_its_tax_code():
    only_unit = record("TA0001A", "", UNIT_ONLY)
    notes = match_identities([only_unit], {tax_code(1): LISTED}, lambda codes: {"TA0001A": (tax_code(1), tax_code(1))})
    assert (only_unit.key, only_unit.tax_code) == (tax_code(1), tax_code(1))
    assert "matched to the employer registered with tax code" in notes[0].reason


def test_an_employer_registered_by_its_unit_code_keeps_that_key_once_reported_with_a_tax_code():
    with_tax = record("TA0002A", tax_code(2))
    notes = match_identities([with_tax], {"TA0002A": LISTED}, lambda codes: {})
    assert (with_tax.key, with_tax.tax_code) == ("TA0002A", tax_code(2)) and len(notes) == 1


def test_an_unknown_unit_code_stays_its_own_key_and_nothing_is_looked_up_without_a_register():
    only_unit = record("TA0003A", "", UNIT_ONLY)
    assert match_identities([only_unit], {}, lambda codes: {}) == [] and only_unit.key == "TA0003A"
    assert match_identities([only_unit], {}, None) == []


def test_a_province_switching_to_a_unit_code_list_keeps_its_employers(env, capsys):
    """Day 1 names Hà Nội's employers by both codes; day 2 Hà Nội sends a list of unit codes only:
    the same employers, none removed, none new, the offender still listed under its tax code."""
    listed = {"arrears_bhxh": 9_000_000, "arrears_bhyt": 1_000_000, "months_late": 4}
    written = write_all(env / "d1", overrides={("01", 0): listed})
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    write_all(env / "d2", as_of=DAY2, overrides={("01", 0): listed}, skip=("01",))
    rows = [row(n + 1, **({**listed} if n == 0 else {})) for n in range(3)]
    assert [r["Mã đơn vị"] for r in rows] == [r["Mã đơn vị"] for r in written["01"]]
    header = ["STT", "Mã đơn vị", "Tên đơn vị", "Số tháng chậm đóng", "Nợ BHXH", "Nợ BHYT", "Nợ BHTN"]
    table = [[line] for line in title_lines("01", DAY2)] + [header] + [
        [r[h] for h in header] for r in rows] + [["Tổng cộng", "", "", "", 9_000_000, 1_000_000, ""]]
    write_table(env / "d2", "01", table, "csv")
    assert main(["publish", "--input", str(env / "d2"), "--as-of", DAY2.isoformat(), "--quiet"]) == 0
    changes = (env / "data" / "releases" / DAY2.isoformat() / "changes.csv").read_text(encoding="utf-8")
    assert "removed" not in changes and ",new," not in changes
    capsys.readouterr()
    assert main(["inspect", "--input", str(env / "d2"), "--as-of", DAY2.isoformat(), "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["provinces"]["01"]["identifiers"]["by_tax_code"] == 3


def test_new_employers_of_two_tax_code_only_lists_are_not_taken_for_each_other(env):
    """Regression: an employer new to the register, in a list without unit codes, was looked up by
    its empty unit code, found in another province's tax-code-only list, and its province failed."""
    header = ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng chậm đóng", "Nợ BHXH", "Nợ BHYT", "Nợ BHTN"]

    def day(directory, as_of, tax_only, extra=0):
        written = write_all(directory, as_of=as_of, skip=tax_only)
        for code in tax_only:
            rows = written[code] + [row(900 + n) for n in range(extra if code == "79" else 0)]
            table = [[line] for line in title_lines(code, as_of)] + [header] + [
                [r[h] for h in header] for r in rows] + [["Tổng cộng", "", "", "", 0, 0, 0]]
            write_table(directory, code, table, "csv")

    day(env / "d1", AS_OF, ("01",))
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    day(env / "d2", DAY2, ("01", "79"), extra=1)
    assert main(["publish", "--input", str(env / "d2"), "--as-of", DAY2.isoformat(), "--quiet"]) == 0
