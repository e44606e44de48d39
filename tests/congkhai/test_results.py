from datetime import date

from congkhai.rules.changes import Change, State
from congkhai.rules.enforcement import (AFTER_VISIT, BEFORE_VISIT, INSPECTION, INVESTIGATION, REMINDER,
                                        on_inspection_list, stage_of)
from congkhai.rules.results import FUNDS, REPORTED_APART, add, daily_results, recovery_rate, window


def state(status, total, months=0, stage=None):
    return State(status, total, 0, 0, total, months, None, None, stage)


def test_stages_are_read_with_or_without_diacritics():
    assert stage_of("Đã gửi thông báo đôn đốc") == REMINDER
    assert stage_of("Da thanh tra") == INSPECTION
    assert stage_of("Đã thanh tra, chuyển cơ quan điều tra") == INVESTIGATION
    assert stage_of("Đã kiến nghị khởi tố") == INVESTIGATION
    assert stage_of("") is None and stage_of("Khác") is None


def test_inspection_list_follows_the_months_and_the_policy_s_timing():
    assert on_inspection_list(3, "Đã gửi thông báo đôn đốc", "delinquent", 3, BEFORE_VISIT)
    assert not on_inspection_list(2, "", "late", 3, BEFORE_VISIT)
    assert not on_inspection_list(5, "Đã thanh tra", "delinquent", 3, BEFORE_VISIT)
    assert not on_inspection_list(5, "", "evading", 3, BEFORE_VISIT)     # an evasion decision follows an inspection
    assert on_inspection_list(5, "Đã thanh tra", "delinquent", 3, AFTER_VISIT)
    assert not on_inspection_list(5, "", "delinquent", 3, AFTER_VISIT)


def test_recovered_counts_only_debt_leaving_the_list_by_payment():
    paid = Change("a", "status_changed", state("delinquent", 100, 4), state("compliant", 0))
    partly = Change("b", "status_changed", state("delinquent", 100, 4), state("late", 30, 1))
    gone = Change("c", "removed", state("delinquent", 500, 4), None)
    listed = Change("d", "status_changed", state("late", 10, 2), state("delinquent", 20, 3, "Đã thanh tra"))
    rows = daily_results([("01", state("delinquent", 20, 3)), ("01", state("late", 30, 1))],
                         [("01", paid), ("01", partly), ("01", gone), ("01", listed)], ["01", "79"])
    assert rows["79"]["employers"] == 0
    one = rows["01"]
    assert (one["recovered"], one["resolved_offenders"], one["new_offenders"], one["to_inspection"]) == (170, 3, 1, 1)
    assert (one["arrears_total"], one["arrears_offenders"], one["delinquent"]) == (50, 20, 1)
    assert add(rows.values())["recovered"] == 170


def test_window_starts_at_the_last_release_before_it():
    days = [date(2026, 11, d) for d in (1, 2, 5, 9, 10)]
    span = window(days, date(2026, 11, 10), 7)
    assert span.start == date(2026, 11, 2) and span.releases == (date(2026, 11, 5), date(2026, 11, 9), date(2026, 11, 10))
    young = window(days, date(2026, 11, 10), 30)
    assert young.start == date(2026, 11, 1) and len(young.releases) == 4
    assert window(days[:1], date(2026, 11, 1), 7) is None
    assert recovery_rate(25, 100) == 0.25 and recovery_rate(5, 0) is None


def reported(status, total, funds=(None, None, None), months=4, bhtnld=None, interest=None):
    """A state as a report that does not split its total by every fund gives it."""
    return State(status, *funds, total, months, None, None, None, arrears_bhtnld=bhtnld, interest=interest)


def test_fund_sums_count_only_the_employers_whose_report_splits_them():
    rows = daily_results([("01", reported("delinquent", 900)),                            # a total only
                          ("01", reported("late", 50, (None, 10, None), months=1)),       # BHXH and BHTN together
                          ("01", reported("delinquent", 130, (60, 30, 20), bhtnld=20, interest=7)),
                          ("79", reported("delinquent", 400)),
                          ("48", state("late", 5, 1))], [], ["01", "79", "48", "92"])
    hanoi = rows["01"]
    assert [hanoi[name] for name in (*FUNDS, "arrears_bhtnld")] == [60, 40, 20, 20]
    assert hanoi["arrears_total"] == 1080 and hanoi["interest"] == 7                  # interest never in the total
    assert hanoi["employers_without_fund_split"] == 2 and hanoi["arrears_offenders"] == 1030
    only_totals = rows["79"]
    assert [only_totals[name] for name in REPORTED_APART] == [None] * 5               # unknown, not 0
    assert only_totals["arrears_total"] == 400 and only_totals["employers_without_fund_split"] == 1
    assert rows["48"]["arrears_bhyt"] == 0 and rows["48"]["interest"] is None         # split, no interest stated
    assert rows["92"]["arrears_bhxh"] is None and rows["92"]["employers"] == 0
    country = add(rows.values())
    assert (country["arrears_bhxh"], country["arrears_total"], country["interest"]) == (65, 1485, 7)
    assert country["employers_without_fund_split"] == 3
    assert add([rows["79"], rows["92"]])["arrears_bhtn"] is None


def test_recovered_is_the_arrears_paid_never_the_interest():
    before = reported("delinquent", 100, interest=30)
    paid = Change("a", "status_changed", before, reported("compliant", 0, interest=30, months=0))
    assert daily_results([], [("01", paid)], ["01"])["01"]["recovered"] == 100
