"""What we now know about a past day: the published state, overridden by corrections by when
they were published."""
from datetime import date

from congkhai.rules.changes import State
from congkhai.rules.corrections import CorrectionView, known_state, state_from_json, state_to_json

LISTED = State("delinquent", 9, 1, 0, 10, 4, None, None, "Đã thanh tra")
PAID = State("compliant", 0, 0, 0, 0, 0, None, None, None)
MARCH_3, MARCH_4, MARCH_10 = date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 10)


def test_a_day_no_correction_touches_is_answered_as_published():
    fix = CorrectionView(1, MARCH_4, MARCH_10, PAID, MARCH_10)
    assert known_state(LISTED, [fix], MARCH_3) == (LISTED, None)


def test_the_list_said_one_thing_and_we_now_know_another():
    fix = CorrectionView(1, MARCH_3, MARCH_4, PAID, MARCH_4)
    assert known_state(LISTED, [fix], MARCH_3) == (PAID, fix)                    # known now
    assert known_state(LISTED, [fix], MARCH_3, known_at=MARCH_3) == (LISTED, None)  # known on 3 March


def test_a_pending_correction_is_not_known_yet():
    assert known_state(LISTED, [CorrectionView(1, MARCH_3, None, PAID, None)], MARCH_3) == (LISTED, None)


def test_the_latest_published_correction_wins_and_removal_is_none():
    first = CorrectionView(1, MARCH_3, None, PAID, MARCH_4)
    removal = CorrectionView(2, MARCH_3, MARCH_10, None, MARCH_10)
    assert known_state(LISTED, [removal, first], MARCH_4) == (None, removal)
    assert known_state(LISTED, [removal, first], MARCH_4, known_at=MARCH_4) == (PAID, first)


def test_states_travel_through_json_with_their_dates():
    state = State("notice", 1, 0, 0, 1, 3, "Số 1/QĐ", date(2026, 1, 2), None, MARCH_3, MARCH_10)
    assert state_from_json(state_to_json(state)) == state
    assert state_from_json(None) is None


def test_an_unknown_split_bhtnld_and_interest_travel_through_json_as_they_are():
    total_only = State("delinquent", None, None, None, 900_000_000, 9, None, None, None,
                       arrears_bhtnld=None, interest=3_456_789_012)
    data = state_to_json(total_only)
    assert (data["arrears_bhxh"], data["arrears_bhtnld"], data["interest"]) == (None, None, 3_456_789_012)
    assert state_from_json(data) == total_only


def test_a_correction_stored_before_bhtnld_and_interest_existed_still_loads():
    stored = {"status": "delinquent", "arrears_bhxh": 9, "arrears_bhyt": 1, "arrears_bhtn": 0, "arrears_total": 10,
              "months_late": 4, "evasion_decision": None, "evasion_decision_date": None,
              "enforcement_stage": "Đã thanh tra", "notice_from": None, "listing_on": None,
              "not_reported_since": None}
    assert state_from_json(stored) == LISTED
