from datetime import date
from types import SimpleNamespace as Interval

import pytest

from congkhai.rules.commendation import is_commendable, window_start


@pytest.mark.parametrize("day, months, start", [
    (date(2026, 11, 25), 12, date(2025, 11, 25)),
    (date(2026, 5, 31), 3, date(2026, 2, 28)),
    (date(2028, 5, 31), 3, date(2028, 2, 29)),
    (date(2026, 1, 15), 1, date(2025, 12, 15)),
])
def test_window_start_counts_calendar_months(day, months, start):
    assert window_start(day, months) == start


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
