"""Two consecutive days with the provinces' own layouts (issue 23): a day-2 report in another layout
is published right, and a damaged one (a unit line lost, a group cut out under its subtotal) is
refused with its reason while yesterday's list stands: nobody leaves the list without paying."""
from datetime import timedelta

import pytest

from publisher.cli import main

from .factory import AS_OF, row, tax_code, title_lines, write_all, write_table

DAY2 = AS_OF + timedelta(days=1)
OWED = {"arrears_bhxh": 9_000_000, "arrears_bhyt": 1_000_000, "months_late": 14}
HEADER = ["STT", "Mã số thuế", "Tên đơn vị", "Số tháng nợ", "Số tiền chậm đóng", "", "", ""]
UNDER = ["", "", "", "", "Tổng số", "BHXH", "BHYT", "BHTN"]


ROWS = 6  # enough employers in arrears for the amount checks to judge (policy: amount_check_min_rows)


def grouped(unit: str, scale: int, drop_second=False, subtotal=None):
    """Hà Nội's day-2 report, grouped, in `unit`: its six listed offenders, as on day 1."""
    rows = [row(n + 1) for n in range(ROWS)]
    amounts = (10_000_000, 9_000_000, 1_000_000, 0)
    body = [["A", "", "Doanh nghiệp", "", "", "", "", ""]]
    for i in range(ROWS):
        if not (drop_second and i == 1):
            body.append([i + 1, rows[i]["Mã số thuế"], rows[i]["Tên đơn vị"], 14] + [a // scale for a in amounts])
    sums = [ROWS * a // scale for a in amounts]
    body.append(["", "", "Cộng A", ""] + (subtotal or sums))
    body.append(["", "", "Tổng cộng", ""] + (subtotal or sums))
    titles = [[line] for line in title_lines("01", DAY2)] + ([[unit]] if unit else [])
    return titles + [HEADER, UNDER] + body


def listed(env, day):
    text = (env / "data" / "releases" / day.isoformat() / "delinquent.csv").read_text(encoding="utf-8")
    return tax_code(1) in text


@pytest.fixture
def first_day(env):
    write_all(env / "d1", rows_per_province=ROWS, overrides={("01", i): OWED for i in range(ROWS)})
    assert main(["publish", "--input", str(env / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    assert listed(env, AS_OF)
    write_all(env / "d2", as_of=DAY2, rows_per_province=ROWS, overrides={("01", i): OWED for i in range(ROWS)},
              skip=("01",))
    return env


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_report_in_another_layout_and_in_thousands_is_published_right(first_day, fmt):
    write_table(first_day / "d2", "01", grouped("Đơn vị tính: nghìn đồng", 1000), fmt)
    assert main(["publish", "--input", str(first_day / "d2"), "--as-of", DAY2.isoformat(), "--quiet"]) == 0
    assert listed(first_day, DAY2)
    changes = (first_day / "data" / "releases" / DAY2.isoformat() / "changes.csv").read_text(encoding="utf-8")
    assert tax_code(1) not in changes  # the same arrears, read from thousands: nothing changed


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("damage, reason", [
    (dict(unit="", scale=1000), "the amounts look like thousands of đồng"),
    (dict(unit="Đơn vị tính: nghìn đồng", scale=1000, drop_second=True, subtotal=[60_000, 54_000, 6_000, 0]),
     "subtotal 'cộng a' does not add up"),
])
def test_a_damaged_report_is_refused_and_yesterdays_list_stands(first_day, capsys, fmt, damage, reason):
    write_table(first_day / "d2", "01", grouped(**damage), fmt)
    capsys.readouterr()
    assert main(["publish", "--input", str(first_day / "d2"), "--as-of", DAY2.isoformat(), "--quiet"]) == 1
    assert reason in capsys.readouterr().err
    assert not (first_day / "data" / "releases" / DAY2.isoformat()).exists()
    assert listed(first_day, AS_OF)
