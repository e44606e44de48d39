"""Each rule the database applies has a Python form and one SQL builder beside it; these properties
check on generated histories that the two give the same answers (the commendation rule, in the
portal's form and in the publisher's, the retention of completed obligations, a province's tally).
"""
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import create_engine, delete, insert, select

from congkhai import migrations
from congkhai.register import Register
from congkhai.models import Employer, StatusInterval
from congkhai.rules.commendation import commendable_sql, is_commendable, window_start
from congkhai.rules.intervals import covers, covers_branches_sql, covers_sql
from congkhai.rules.results import empty, tally, tally_sql
from congkhai.rules.retention import completed_on, completed_sql
from congkhai.statuses import DELINQUENT, EVADING, OFFENDER_STATUSES, STATUSES

PROPERTY = settings(max_examples=150, deadline=None, database=None)
BASE = date(2024, 1, 31)  # a month's last day: windows clamp to shorter months
E, I = Employer.__table__, StatusInterval.__table__

segments = st.lists(st.tuples(st.sampled_from(STATUSES), st.integers(1, 150), st.integers(0, 40),
                              st.integers(0, 5_000_000)), min_size=1, max_size=6)
histories = st.lists(st.tuples(st.integers(0, 300), segments, st.booleans(), st.sampled_from(["01", "79", "38"])),
                     min_size=1, max_size=6)
days = st.integers(0, 800).map(lambda n: BASE + timedelta(days=n))


def intervals_of(start: int, parts: list, open_end: bool) -> list[SimpleNamespace]:
    """Consecutive intervals, with a gap (days not reported) before some of them; the last one open
    or closed."""
    out, day = [], BASE + timedelta(days=start)
    for index, (status, length, gap, arrears) in enumerate(parts):
        day += timedelta(days=gap if index and gap > 20 else 0)
        end = day + timedelta(days=length)
        out.append(SimpleNamespace(valid_from=day, valid_to=end, status=status,
                                   arrears_total=0 if status == "compliant" else arrears,
                                   arrears_bhxh=None, arrears_bhyt=None, arrears_bhtn=None, arrears_bhtnld=None,
                                   interest=None))
        day = end
    if open_end:
        out[-1].valid_to = None
    return out


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('rules') / 'register.sqlite'}")
    migrations.upgrade(engine)
    yield engine
    engine.dispose()


def stored(engine, generated) -> dict[str, tuple[str, list]]:
    """Write the generated histories as the register; returns key -> (province, intervals)."""
    register = {}
    with engine.begin() as conn:
        conn.execute(delete(I))
        conn.execute(delete(E))
        for number, (start, parts, open_end, province) in enumerate(generated):
            key = f"01{number:08d}"
            employer_id = conn.execute(insert(E).values(key=key, tax_code=key, unit_code=f"U{number}", name=key,
                                                        province_code=province)).inserted_primary_key[0]
            intervals = intervals_of(start, parts, open_end)
            conn.execute(insert(I), [{"employer_id": employer_id, "valid_from": i.valid_from, "valid_to": i.valid_to,
                                      "status": i.status, "arrears_total": i.arrears_total, "months_late": 0}
                                     for i in intervals])
            register[key] = (province, intervals)
    return register


@PROPERTY
@given(histories, days, st.integers(1, 24), st.booleans())
def test_the_honour_roll_in_sql_is_the_commendation_rule(engine, generated, day, window_months, full_history):
    register = stored(engine, generated)
    query = (select(E.c.key).select_from(E.join(I, I.c.employer_id == E.c.id))
             .where(covers_sql(I, day), commendable_sql(I, day, window_months, full_history)))
    with engine.connect() as conn:
        in_sql = set(conn.execute(query).scalars())
    assert in_sql == {key for key, (_, intervals) in register.items()
                      if is_commendable(intervals, day, window_months, full_history)}


@PROPERTY
@given(histories, days)
def test_the_open_and_closed_branches_of_a_day_are_the_intervals_in_force(engine, generated, day):
    """The ordered list pages read a day as two branches (congkhai/register/states.py): they never
    share an interval, and together they are exactly the intervals in force."""
    register = stored(engine, generated)
    still_open, closed_after = covers_branches_sql(I, day)
    with engine.connect() as conn:
        first = list(conn.execute(select(I.c.id).where(still_open)).scalars())
        second = list(conn.execute(select(I.c.id).where(closed_after)).scalars())
        in_force = set(conn.execute(select(I.c.id).where(covers_sql(I, day))).scalars())
    assert not set(first) & set(second)
    assert set(first) | set(second) == in_force
    assert len(in_force) == sum(covers(i, day) for _, intervals in register.values() for i in intervals)


@PROPERTY
@given(histories, days, st.integers(1, 24))
def test_the_publishers_disqualified_and_followed_sets_are_the_commendation_rule(engine, generated, day,
                                                                                  window_months):
    """The publisher commends the day's compliant employers that are neither disqualified nor
    unfollowed in the history before the day (publisher/classify.py honour_roll)."""
    register = stored(engine, generated)
    start = window_start(day, window_months)
    with engine.connect() as conn:
        disqualified, followed = Register(conn).disqualified_keys(start, day), Register(conn).followed_since(start)
    publisher = {key for key, (_, intervals) in register.items()
                 if any(covers(i, day) and i.status == "compliant" for i in intervals)
                 and key not in disqualified and key in followed}
    assert publisher == {key for key, (_, intervals) in register.items()
                         if is_commendable(intervals, day, window_months, True)}


@PROPERTY
@given(histories, days, st.integers(0, 60), st.sampled_from([OFFENDER_STATUSES, (DELINQUENT,), (EVADING,)]))
def test_completed_obligations_in_sql_are_the_retention_rule(engine, generated, day, visible_days, statuses):
    register = stored(engine, generated)
    left, after = I.alias("left_list"), I.alias("after")
    query = (select(E.c.key, left.c.valid_to).select_from(E.join(left, left.c.employer_id == E.c.id)
                                                          .join(after, completed_sql(left, after, day, visible_days,
                                                                                     statuses))))
    with engine.connect() as conn:
        in_sql = dict(conn.execute(query).all())
    expected = {key: completed_on(intervals, day, visible_days, statuses) for key, (_, intervals) in register.items()}
    assert in_sql == {key: when for key, when in expected.items() if when is not None}


@PROPERTY
@given(histories, days)
def test_a_provinces_figures_in_sql_are_its_tally(engine, generated, day):
    register = stored(engine, generated)
    in_python: dict[str, dict] = {}
    for province, intervals in register.values():
        for interval in intervals:
            if covers(interval, day):
                tally(in_python.setdefault(province, {**empty(), **dict.fromkeys(STATUSES, 0)}), interval)
    in_sql: dict[str, dict] = {}
    with engine.connect() as conn:
        for province, status, count, arrears in conn.execute(tally_sql(day)):
            row = in_sql.setdefault(province, {"employers": 0, "arrears_total": 0, "arrears_offenders": 0,
                                               **dict.fromkeys(STATUSES, 0)})
            row["employers"] += count
            row[status] += count
            row["arrears_total"] += int(arrears or 0)
            row["arrears_offenders"] += int(arrears or 0) if status in OFFENDER_STATUSES else 0
    assert {province: {name: row[name] for name in in_sql.get(province, row)} for province, row in in_python.items()} \
        == in_sql
