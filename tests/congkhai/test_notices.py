"""The notice period before listing: crossing, paying in time, paying late, re-offending."""
from dataclasses import replace
from datetime import date, timedelta

import pytest

from congkhai.models import COMPLIANT, DELINQUENT, EVADING, LATE, NOTICE
from congkhai.policy import load_policy
from congkhai.rules.notices import Listing, advance_notice

POLICY = replace(load_policy(), notice_days=15, evasion_skips_notice=True, first_release_lists=True)
DAY = date(2026, 11, 1)


def run(days: list[tuple[date, str]], policy=POLICY, first_release: bool = False) -> list[Listing]:
    """Publish a sequence of (as_of, classified status), feeding each result into the next."""
    out, previous = [], None
    for i, (day, classified) in enumerate(days):
        listing = advance_notice(classified, previous and previous.status, previous and previous.notice_from,
                                 previous and previous.listing_on, day, policy, first_release and i == 0)
        out.append(listing)
        previous = listing
    return out


def test_crossing_starts_a_notice_and_lists_when_it_runs_out():
    listings = run([(DAY, LATE), (DAY + timedelta(1), DELINQUENT), (DAY + timedelta(10), DELINQUENT),
                    (DAY + timedelta(16), DELINQUENT), (DAY + timedelta(17), DELINQUENT)])
    assert [l.status for l in listings] == [LATE, NOTICE, NOTICE, DELINQUENT, DELINQUENT]
    assert listings[1] == listings[2] == Listing(NOTICE, DAY + timedelta(1), DAY + timedelta(16))


def test_paying_during_the_notice_ends_it_without_listing():
    listings = run([(DAY, DELINQUENT), (DAY + timedelta(5), COMPLIANT), (DAY + timedelta(20), COMPLIANT)])
    assert [l.status for l in listings] == [NOTICE, COMPLIANT, COMPLIANT]
    assert listings[1] == Listing(COMPLIANT)


def test_paying_after_the_listing_date_leaves_the_list():
    listings = run([(DAY, DELINQUENT), (DAY + timedelta(15), DELINQUENT), (DAY + timedelta(30), COMPLIANT)])
    assert [l.status for l in listings] == [NOTICE, DELINQUENT, COMPLIANT]


def test_reoffending_after_paying_starts_a_new_notice():
    listings = run([(DAY, DELINQUENT), (DAY + timedelta(15), DELINQUENT), (DAY + timedelta(20), COMPLIANT),
                    (DAY + timedelta(40), DELINQUENT)])
    assert listings[-1] == Listing(NOTICE, DAY + timedelta(40), DAY + timedelta(55))


def test_a_listed_employer_that_still_owes_stays_listed_until_it_owes_nothing():
    """Fewer months in arrears (late) is not paying: only a report that says it owes nothing ends a listing."""
    listings = run([(DAY, DELINQUENT), (DAY + timedelta(15), DELINQUENT), (DAY + timedelta(20), LATE),
                    (DAY + timedelta(21), LATE), (DAY + timedelta(22), COMPLIANT), (DAY + timedelta(23), LATE)])
    assert [l.status for l in listings] == [NOTICE, DELINQUENT, DELINQUENT, DELINQUENT, COMPLIANT, LATE]
    evading = run([(DAY, EVADING), (DAY + timedelta(1), LATE)])
    assert [l.status for l in evading] == [EVADING, DELINQUENT]


def test_listed_employers_moving_between_delinquent_and_evading_need_no_new_notice():
    listings = run([(DAY, DELINQUENT), (DAY + timedelta(15), DELINQUENT), (DAY + timedelta(16), EVADING)],
                   policy=replace(POLICY, evasion_skips_notice=False))
    assert listings[-1] == Listing(EVADING)


@pytest.mark.parametrize("skips, expected", [(True, EVADING), (False, NOTICE)])
def test_the_policy_says_whether_an_evasion_decision_skips_the_notice(skips, expected):
    listing = run([(DAY, COMPLIANT), (DAY + timedelta(1), EVADING)], policy=replace(POLICY, evasion_skips_notice=skips))
    assert listing[-1].status == expected


def test_the_first_release_takes_over_the_existing_list_unless_the_policy_says_otherwise():
    assert run([(DAY, DELINQUENT)], first_release=True)[0] == Listing(DELINQUENT)
    policy = replace(POLICY, first_release_lists=False)
    assert run([(DAY, DELINQUENT)], policy=policy, first_release=True)[0].status == NOTICE


def test_no_notice_days_lists_at_once():
    assert run([(DAY, DELINQUENT)], policy=replace(POLICY, notice_days=0))[0] == Listing(DELINQUENT)


def test_a_notice_keeps_the_listing_date_it_was_given_when_the_policy_changes():
    first = run([(DAY, DELINQUENT)])[0]
    later = advance_notice(DELINQUENT, first.status, first.notice_from, first.listing_on, DAY + timedelta(10),
                           replace(POLICY, notice_days=30))
    assert later == first
