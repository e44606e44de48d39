"""What a release computes once for its pages (issue 25): its figures, its honour roll as intervals,
and the list pages read along the open intervals' indexes. Each is checked against what the
history gives when computed at request time, the way the portal answered before."""
from __future__ import annotations

import hashlib
from datetime import date
from itertools import product

import pytest
from sqlalchemy import select

from congkhai.models import Commendation
from congkhai.register import Filters, Register
from congkhai.register.states import stored_total
from congkhai.statuses import EVADING, OFFENDER_STATUSES
from publisher.store import make_engine
from tests.registers import SHORT_HISTORY, build_register

DAYS = (date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25))
PROVINCES = ("01", "79", "48")


def varied(day: date) -> dict:
    """Rows whose arrears, months and sector vary by employer, many with equal arrears (the key must
    break the ties). The first three rows of each province change from one day to the next (paying
    up, falling behind); the others keep their state, as most employers do."""
    overrides = {}
    for code, i in product(PROVINCES + ("75", "92"), range(60)):
        seed = hashlib.sha256(f"{code}{i}{day.isoformat() if i < 3 else ''}".encode()).digest()
        months = (0, 0, 2, 3, 5, 14)[seed[0] % 6]
        overrides[(code, i)] = {"arrears_bhxh": f"{(seed[1] % 4 + 1) * 10_000_000}" if months else "",
                                "months_late": months, "sector": ("Xây dựng", "Thương mại", "Dệt may")[seed[2] % 3],
                                "evasion_decision": "Số 12/QĐ-TTr ngày 05/03/2026" if seed[3] % 5 == 0 and months
                                else "",
                                "enforcement_stage": ("", "", "Đã thanh tra", "Đã gửi thông báo đôn đốc")[seed[4] % 4]
                                if months else ""}
    return overrides


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    settings = build_register(tmp_path_factory.mktemp("figures"), DAYS, varied, policy=SHORT_HISTORY, files=False,
                              rows_per_province=6)
    engine = make_engine(settings["DATABASE_URL"])
    with engine.connect() as conn:
        yield Register(conn)
    engine.dispose()


def releases(register: Register):
    """The releases, oldest first, each with the figures it stored (`figures`)."""
    found = sorted(register.releases(), key=lambda release: release.as_of)
    for release in found:
        object.__setattr__(release, "figures", register.stored_figures(release.id))
    return found


def test_every_release_stores_the_figures_its_history_gives(register):
    for release in releases(register):
        assert release.figures is not None
        window = release.policy.commendation_window_months
        full = release.policy.commendation_requires_full_history
        stored = register.figures_on(release.as_of, window, full, release.figures)
        assert stored.to_dict() == register.figures_on(release.as_of, window, full).to_dict()
        assert stored.honour_roll > 0 and stored.offenders > 0


def normalised(figures: dict) -> dict:
    return {"tally": sorted(map(tuple, figures["tally"])), "honour_roll": dict(sorted(figures["honour_roll"].items())),
            "facets": {name: sorted(map(tuple, rows)) for name, rows in figures["facets"].items()},
            "stages": (figures["stages"]["months_min"], sorted(map(tuple, figures["stages"]["rows"]), key=str))}


def test_figures_carried_forward_through_the_changes_are_the_registers_counted_again(register):
    """The second and third releases carry their figures forward from the day before through that
    day's changes (publisher/store.py figures_for); the newest must equal counting the register
    again, facets and stages included (the employers' facts as kept are the newest release's)."""
    newest = releases(register)[-1]
    counted = register.release_figures(newest.as_of, newest.policy.inspection_min_months)
    assert normalised(newest.figures) == normalised(counted)


def test_figures_carried_forward_by_the_whole_publish_are_the_registers_counted_again(tmp_path):
    """Through `publish` itself, which lets go of the previous states before its database step (the
    regression: the figures then kept every employer that had left a status)."""
    settings = build_register(tmp_path, DAYS, varied, policy=SHORT_HISTORY, rows_per_province=6)
    engine = make_engine(settings["DATABASE_URL"])
    with engine.connect() as conn:
        register = Register(conn)
        newest = register.current_release()
        counted = register.release_figures(newest.as_of, newest.policy.inspection_min_months)
        assert normalised(register.stored_figures(newest.id)) == normalised(counted)
    engine.dispose()


def test_the_stored_honour_roll_is_the_commendation_rule_on_every_day(register):
    """The roll the publisher stored as intervals is, on each release's day and the days between,
    who the rule commends from the history (every employer reported every day here)."""
    for release in releases(register):
        for stored_roll in (True, False):
            filters = Filters(honour_roll=True, window_months=release.policy.commendation_window_months,
                              full_history=release.policy.commendation_requires_full_history, stored_roll=stored_roll)
            keys = [row["key"] for row in register.iter_states_on(release.as_of, filters, "name")]
            if stored_roll:
                from_intervals = keys
            else:
                assert keys == from_intervals


def test_a_rerun_of_the_same_day_leaves_one_honour_roll(tmp_path):
    for name in ("twice", "once"):
        (tmp_path / name).mkdir()
    """Publishing a day again first rewinds it (publisher/store.py rewind): the roll's intervals
    are those of one run, not two."""
    settings = build_register(tmp_path / "twice", (DAYS[0], DAYS[1], DAYS[1]), varied, policy=SHORT_HISTORY,
                              files=False, rows_per_province=6)
    once = build_register(tmp_path / "once", DAYS[:2], varied, policy=SHORT_HISTORY, files=False,
                          rows_per_province=6)
    rows = []
    for each in (settings, once):
        engine = make_engine(each["DATABASE_URL"])
        with engine.connect() as conn:
            rows.append(sorted(conn.execute(select(Commendation.employer_id, Commendation.valid_from,
                                                   Commendation.valid_to)).all()))
        engine.dispose()
    assert rows[0] == rows[1] and rows[0]


VIEWS = {
    "offenders": Filters(statuses=OFFENDER_STATUSES),
    "evading": Filters(statuses=(EVADING,)),
    "offenders in Hà Nội": Filters(statuses=OFFENDER_STATUSES, provinces=("01",)),
    "offenders in two provinces, one sector": Filters(statuses=OFFENDER_STATUSES, provinces=("01", "79"),
                                                      sectors=("Xây dựng",)),
    "over a million": Filters(statuses=OFFENDER_STATUSES, arrears_min=20_000_001),
    "everyone": Filters(),
    "planned inspections": Filters(statuses=("late", "delinquent"), months_min=3, stages=(None, "", "Đã gửi thông báo đôn đốc")),
    "honour roll": Filters(honour_roll=True, stored_roll=True),
    "honour roll in Đà Nẵng": Filters(honour_roll=True, stored_roll=True, provinces=("48",)),
}


def test_stored_totals_are_the_counts_of_their_views(register):
    """A total read from the stored figures (a sector alone, the planned-inspections view with its
    release's threshold and stages) is the count of the view, and the stages are the history's. The
    sample's employers change sector from day to day, so a past release's totals by sector or
    province are not taken from its figures."""
    for release in releases(register):
        months = release.policy.inspection_min_months
        texts = register.stage_texts_on(release.as_of, months)
        assert sorted(register.stage_texts_on(release.as_of, months, release.figures), key=str) == sorted(texts, key=str)
        assert {"Đã thanh tra", "Đã gửi thông báo đôn đốc"} <= set(texts)
        for filters in (Filters(statuses=OFFENDER_STATUSES, sectors=("Xây dựng",)),
                        Filters(ownership_types=("Công ty TNHH",)),
                        Filters(statuses=("late", "delinquent"), months_min=months, stages=tuple(texts)),
                        Filters(statuses=("delinquent",), provinces=("01",), months_min=months,
                                stages=tuple(t for t in texts if t != "Đã thanh tra"))):
            newest = release.as_of == DAYS[-1]
            if newest or not (filters.sectors or filters.ownership_types or filters.provinces):
                assert stored_total(filters, release.figures, newest) == register.count_on(release.as_of, filters) > 0
            else:  # an employer's sector may have changed since: counted from the history as it is kept
                assert stored_total(filters, release.figures, newest) is None


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("sort", ("arrears", "months", "since", "name"))
def test_a_page_read_along_the_order_is_that_page_of_the_sorted_view(register, view, sort):
    """Pages of every order, on the newest day and on past ones (read through the intervals closed
    since), are the slices of the whole view sorted at request time; the total is the view's length."""
    filters = VIEWS[view]
    for release in releases(register):
        whole = [row["key"] for row in register.iter_states_on(release.as_of, filters, sort)]
        for per_page in (1, 4, 25):
            for page in range(1, min(len(whole) // per_page + 2, 8)):
                result = register.states_on(release.as_of, filters, sort, page, per_page, release.figures)
                assert result.total == len(whole)
                assert [row["key"] for row in result.rows] == whole[(page - 1) * per_page: page * per_page]


def test_the_release_summary_stored_when_publishing_is_every_change_ranked_again(register):
    """A release's page reads the counts and the twenty largest of each list it stored
    (rules.changes.release_summary) and only those employers; ranking every change of its day gives
    the same, ties (equal arrears abound here) broken by key."""
    for release in releases(register)[1:]:
        assert release.figures["changes"]["counts"]["changes"] > 0
        stored_counts, stored = register.release_summary(release, release.figures)
        counts, ranked = register.release_summary(release, None)
        assert stored_counts == counts
        keys = {name: [event.source.key for event in events] for name, events in ranked.items()}
        assert {name: [event.source.key for event in events] for name, events in stored.items()} == keys
        assert keys["newly_listed"] and keys["resolved"]
        assert all(event.row["key"] == event.source.key for events in stored.values() for event in events)
