from datetime import date, timedelta
from types import SimpleNamespace as Interval

import pytest

from congkhai.rules.commendation import first_possible_day, is_commendable, window_start


@pytest.mark.parametrize("day, months, start", [
    (date(2026, 11, 25), 12, date(2025, 11, 25)),
    (date(2026, 5, 31), 3, date(2026, 2, 28)),
    (date(2028, 5, 31), 3, date(2028, 2, 29)),
    (date(2026, 1, 15), 1, date(2025, 12, 15)),
])
def test_window_start_counts_calendar_months(day, months, start):
    assert window_start(day, months) == start


@pytest.mark.parametrize("began, months, first", [
    (date(2026, 11, 24), 12, date(2027, 11, 24)),
    (date(2026, 1, 31), 1, date(2026, 3, 1)),    # 28 Feb's window starts on 28 Jan, before the register
    (date(2027, 8, 31), 6, date(2028, 3, 1)),    # leap year: 29 Feb's window starts on 29 Aug
    (date(2026, 12, 15), 3, date(2027, 3, 15)),
])
def test_first_possible_day_of_a_full_window(began, months, first):
    assert first_possible_day(began, months) == first


def test_first_possible_day_is_the_first_day_whose_window_starts_in_the_register():
    for began in (date(2026, 1, 1) + timedelta(days=n) for n in range(0, 800, 7)):
        for months in (1, 3, 6, 12, 24):
            first = first_possible_day(began, months)
            assert window_start(first, months) >= began > window_start(first - timedelta(days=1), months)


def history(*spans):
    return [Interval(valid_from=a, valid_to=b, status=s) for a, b, s in spans]


def test_compliant_for_the_whole_window_qualifies():
    assert is_commendable(history((date(2025, 1, 1), None, "compliant")), date(2026, 11, 25), 12)


def test_late_month_inside_the_window_disqualifies():
    spans = history((date(2025, 1, 1), date(2026, 3, 1), "compliant"),
                    (date(2026, 3, 1), date(2026, 4, 1), "late"),
                    (date(2026, 4, 1), None, "compliant"))
    assert not is_commendable(spans, date(2026, 11, 25), 12)
    assert is_commendable(spans, date(2027, 4, 1), 12)


def test_interval_ending_on_the_window_start_is_outside_it():
    spans = history((date(2025, 1, 1), date(2025, 11, 25), "delinquent"),
                    (date(2025, 11, 25), None, "compliant"))
    assert is_commendable(spans, date(2026, 11, 25), 12)
    assert not is_commendable(spans, date(2026, 11, 24), 12)


def test_not_compliant_or_not_reported_on_the_day_does_not_qualify():
    assert not is_commendable(history((date(2026, 1, 1), None, "late")), date(2026, 11, 25), 12)
    assert not is_commendable(history((date(2026, 1, 1), date(2026, 6, 1), "compliant")), date(2026, 11, 25), 12)
    assert not is_commendable([], date(2026, 11, 25), 12)


def test_a_history_shorter_than_the_window_does_not_qualify_unless_the_policy_waives_it():
    recent = history((date(2026, 11, 24), None, "compliant"))
    assert not is_commendable(recent, date(2026, 11, 25), 12)
    assert is_commendable(recent, date(2026, 11, 25), 12, requires_full_history=False)
    assert is_commendable(history((date(2025, 11, 25), None, "compliant")), date(2026, 11, 25), 12)
