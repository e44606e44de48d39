from datetime import date

from congkhai.rules.changes import Change, State
from congkhai.rules.enforcement import (AFTER_VISIT, BEFORE_VISIT, INSPECTION, INVESTIGATION, REMINDER,
                                        on_inspection_list, stage_of)
from congkhai.rules.results import add, daily_results, recovery_rate, window


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
