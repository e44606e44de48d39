"""The release as stored: history intervals, idempotent re-runs, date order, partial releases.
Runs on SQLite and on PostgreSQL (see tests/conftest.py).

These tests inspect the database, so their runs are the publisher's pure steps and its database
transaction only (tests/registers.py store_only); where a test is about what `publish` itself
decides (a re-run that changes nothing, a failed run), that run is the whole publish."""
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from congkhai.register import Register
from publisher.errors import VerificationError
from publisher.errors import UsageError
from publisher.pipeline import publish

from tests.registers import store_only

from .factory import AS_OF, moment_on, row, write_all

DAY2 = AS_OF + timedelta(days=1)
DAY3 = AS_OF + timedelta(days=2)
LATE_79 = {("79", 0): dict(arrears_bhxh="3.000.000.000", months_late=4)}


def key(code_index: int) -> str:
    return row(code_index)["Mã số thuế"]


def run(tmp_path, settings, day, name, **kwargs):
    """Reports for `day` written under tmp_path/name and stored (no release files)."""
    overrides = kwargs.pop("overrides", {})
    write_all(tmp_path / name, as_of=day, overrides=overrides, **kwargs)
    return store_only(tmp_path / name, day, settings, now=moment_on(day))


def table_count(settings, table):
    engine = sa.create_engine(settings["DATABASE_URL"])
    with engine.connect() as conn:
        number = conn.execute(sa.text(f"select count(*) from {table}")).scalar()
    engine.dispose()
    return number


@pytest.fixture
def conn(db_settings):
    def connect():
        engine = sa.create_engine(db_settings["DATABASE_URL"])
        return engine, engine.connect()
    handles = []

    def opener():
        handles.append(connect())
        return handles[-1][1]
    yield opener
    for engine, connection in handles:
        connection.close()
        engine.dispose()


def test_first_and_next_release_store_only_changes(tmp_path, db_settings, conn):
    first = run(tmp_path, db_settings, AS_OF, "d1", overrides=LATE_79)
    assert first.release.counts()["employers"] == 102
    assert table_count(db_settings, "status_intervals") == 102
    paid = {("79", 0): dict()}
    run(tmp_path, db_settings, DAY2, "d2", overrides=paid)
    assert table_count(db_settings, "status_intervals") == 103  # one closed, one opened
    c = conn()
    offender = c.execute(sa.text("select id from employers where province_code='79' order by key limit 1")).scalar()
    assert Register(c).state_of_employer_on(offender, AS_OF).status == "delinquent"
    assert Register(c).state_of_employer_on(offender, AS_OF).arrears_total == 3_000_000_000
    assert Register(c).state_of_employer_on(offender, DAY2).status == "compliant"
    assert Register(c).state_of_employer_on(offender, AS_OF - timedelta(days=1)) is None
    changes = Register(c).changes_between(AS_OF, DAY2)
    assert [(ch.kind, ch.resolved) for ch in changes] == [("status_changed", True)]


def test_rerun_with_same_inputs_is_a_no_op(tmp_path, db_settings):
    run(tmp_path, db_settings, AS_OF, "d1", overrides=LATE_79)
    again = publish(tmp_path / "d1", AS_OF, db_settings)
    assert again.unchanged
    assert table_count(db_settings, "status_intervals") == 102
    assert table_count(db_settings, "releases") == 1


def test_rerun_with_corrected_inputs_replaces_the_date(tmp_path, db_settings, conn):
    run(tmp_path, db_settings, AS_OF, "d1")
    run(tmp_path, db_settings, DAY2, "d2", overrides=LATE_79)
    write_all(tmp_path / "d2b", as_of=DAY2, overrides={("79", 0): dict(arrears_bhxh=7, months_late=1)})
    corrected = publish(tmp_path / "d2b", DAY2, db_settings, now=moment_on(DAY2))  # publish decides it is new
    assert not corrected.unchanged
    c = conn()
    assert table_count(db_settings, "status_intervals") == 103
    assert table_count(db_settings, "releases") == 2
    late = [k for k, s in Register(c).states_by_key(DAY2).items() if s.status != "compliant"]
    assert len(late) == 1 and Register(c).states_by_key(DAY2)[late[0]].status == "late"
    assert Register(c).latest_release()["counts"]["by_status"]["late"] == 1


def test_earlier_date_cannot_be_published_after_a_later_one(tmp_path, db_settings):
    run(tmp_path, db_settings, DAY2, "d2")
    with pytest.raises(UsageError, match="a release for 2026-11-26 already exists"):
        run(tmp_path, db_settings, AS_OF, "d1")


def test_failed_run_leaves_the_previous_release(tmp_path, db_settings, conn):
    run(tmp_path, db_settings, AS_OF, "d1", overrides=LATE_79)
    write_all(tmp_path / "d2", as_of=DAY2, skip=("48",))
    with pytest.raises(VerificationError, match="no report for province 48"):
        publish(tmp_path / "d2", DAY2, db_settings, now=moment_on(DAY2))
    c = conn()
    assert Register(c).latest_release()["id"] == AS_OF.isoformat()
    assert table_count(db_settings, "status_intervals") == 102


def test_partial_release_keeps_left_out_provinces_as_they_were(tmp_path, db_settings, conn):
    run(tmp_path, db_settings, AS_OF, "d1", overrides=LATE_79)
    write_all(tmp_path / "d2", as_of=DAY2, skip=("79",))
    result = store_only(tmp_path / "d2", DAY2, db_settings, allow_partial=True)
    assert result.release.partial and list(result.release.missing_provinces) == ["79"]
    assert result.release.changes == []
    c = conn()
    states = Register(c).states_by_key(DAY2, province_codes=["79"])
    assert sorted(s.status for s in states.values()) == ["compliant", "compliant", "delinquent"]
    release = Register(c).latest_release()
    assert release["partial"] is True and "79" not in release["provinces"]


def test_employer_dropped_from_the_reports_is_closed(tmp_path, db_settings, conn):
    run(tmp_path, db_settings, AS_OF, "d1", rows_per_province=3)
    result = run(tmp_path, db_settings, DAY2, "d2", keep=2)
    assert {c.kind for c in result.release.changes} == {"removed"}
    assert len(result.release.changes) == 34
    assert len(Register(conn()).states_by_key(DAY2)) == 68


def test_household_personal_number_is_never_stored(tmp_path, db_settings):
    personal = "079085012345"
    household = {("79", 1): dict(tax_code=personal, ownership_type="Hộ kinh doanh", arrears_bhyt=9, months_late=5)}
    run(tmp_path, db_settings, AS_OF, "d1", overrides=household)
    engine = sa.create_engine(db_settings["DATABASE_URL"])
    with engine.connect() as c:
        for table in ("employers", "status_intervals", "releases"):
            for values in c.execute(sa.text(f"select * from {table}")):
                assert personal not in " ".join(str(v) for v in values)
        masked = c.execute(sa.text("select personal_id_masked, key, tax_code from employers "
                                   "where personal_id_masked is not null")).one()
    engine.dispose()
    assert masked == ("079*******45", "TA0083A", None)


def test_commendation_needs_a_followed_and_clean_window(tmp_path, db_settings):
    run(tmp_path, db_settings, AS_OF, "d1", overrides=LATE_79)
    second = run(tmp_path, db_settings, DAY2, "d2")
    assert second.release.counts()["honour_roll"] == 0  # a day of history proves nothing of the last year
    third = run(tmp_path, db_settings, date(2027, 11, 26), "d3")
    assert third.release.counts()["honour_roll"] == 102


def test_commendation_without_the_full_history_rule(tmp_path, db_settings):
    policy = tmp_path / "policy.toml"
    policy.write_text(Path(db_settings["CONGKHAI_POLICY"]).read_text(encoding="utf-8")
                      .replace("requires_full_history = true", "requires_full_history = false"), encoding="utf-8")
    settings = {**db_settings, "CONGKHAI_POLICY": str(policy)}
    run(tmp_path, settings, AS_OF, "d1", overrides=LATE_79)
    second = run(tmp_path, settings, DAY2, "d2")
    assert second.release.counts()["honour_roll"] == 101  # the payer of yesterday's arrears must wait


def test_bulk_insert_keeps_every_value(database_url):
    """COPY's text format has its own escapes: tabs, newlines, backslashes, NULL and NFD must come back as written."""
    from congkhai.models import metadata
    from publisher.store import bulk_insert, init_db, make_engine

    engine = make_engine(database_url)
    init_db(engine)
    employers = metadata.tables["employers"]
    rows = [{"key": "0101234567", "tax_code": "0101234567", "unit_code": "TA0001", "name": "Công ty\tĐông Á\\N",
             "address": "Số 1\nHà Nội", "province_code": "01", "employees": None, "ownership_type": "", "sector": ""},
            {"key": "TA0002A", "tax_code": None, "unit_code": "TA0002A", "name": "Hộ kinh doanh Nguye\u0302\u0303n",
             "address": "", "province_code": "75", "employees": 0, "ownership_type": "Hộ kinh doanh", "sector": "\\"}]
    with engine.begin() as conn:
        bulk_insert(conn, employers, rows)
        bulk_insert(conn, employers, [])
    with engine.connect() as conn:
        stored = conn.execute(sa.select(*(employers.c[name] for name in rows[0])).order_by(employers.c.key)).mappings().all()
    engine.dispose()
    assert [dict(row) for row in stored] == rows


def test_closing_intervals_ends_only_the_open_ones_in_one_statement(database_url):
    """The next day closes thousands of intervals: on PostgreSQL one UPDATE joined to a COPY-filled
    table (row by row it took 439 s at 1,000,000 employers), on SQLite an executemany."""
    from congkhai.models import metadata
    from publisher.store import bulk_insert, close_intervals, init_db, make_engine

    engine = make_engine(database_url)
    init_db(engine)
    employers, intervals = metadata.tables["employers"], metadata.tables["status_intervals"]
    keys = [f"01000000{n:02d}" for n in range(30)]
    with engine.begin() as conn:
        bulk_insert(conn, employers, [{"key": k, "tax_code": k, "unit_code": "", "name": "Công ty Đ", "address": "",
                                       "province_code": "01", "employees": 1, "ownership_type": "", "sector": ""}
                                      for k in keys])
        ids = dict(conn.execute(sa.select(employers.c.key, employers.c.id)).all())
        state = dict(status="compliant", arrears_bhxh=0, arrears_bhyt=0, arrears_bhtn=0, arrears_total=0,
                     months_late=0)
        bulk_insert(conn, intervals, [{"employer_id": ids[k], "valid_from": AS_OF - timedelta(days=9),
                                       "valid_to": AS_OF - timedelta(days=5), **state} for k in keys])
        bulk_insert(conn, intervals, [{"employer_id": ids[k], "valid_from": AS_OF - timedelta(days=5),
                                       "valid_to": None, **state} for k in keys])
    updates = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda c, cursor, statement, *rest: updates.append(statement) if statement.startswith("UPDATE") else None)
    with engine.begin() as conn:
        close_intervals(conn, [ids[k] for k in keys[:20]], AS_OF)
        close_intervals(conn, [], AS_OF)
    with engine.connect() as conn:
        ends = conn.execute(sa.select(employers.c.key, intervals.c.valid_from, intervals.c.valid_to)
                            .join(employers, employers.c.id == intervals.c.employer_id)).all()
    engine.dispose()
    assert len(updates) == 1
    if engine.dialect.name == "postgresql":
        assert "FROM closing_employers" in updates[0]
    assert {(k, end) for k, start, end in ends if start == AS_OF - timedelta(days=9)} == \
        {(k, AS_OF - timedelta(days=5)) for k in keys}
    assert {k: end for k, start, end in ends if start == AS_OF - timedelta(days=5)} == \
        {**{k: AS_OF for k in keys[:20]}, **{k: None for k in keys[20:]}}


def test_a_large_release_leaves_the_planner_statistics_of_its_tables(tmp_path, db_settings, conn, monkeypatch):
    """Without them SQLite plans a province's honour roll over every compliant employer."""
    import publisher.store

    monkeypatch.setattr(publisher.store, "ANALYZE_AFTER", 50)
    run(tmp_path, db_settings, AS_OF, "d1")
    c = conn()
    if c.dialect.name == "sqlite":
        analysed = {name for (name,) in c.execute(sa.text("select distinct tbl from sqlite_stat1"))}
        assert {"employers", "status_intervals"} <= analysed
    else:
        rows = dict(c.execute(sa.text("select relname, reltuples from pg_class where relnamespace = "
                                      "current_schema()::regnamespace and relname in ('employers', 'status_intervals')")).all())
        assert rows["employers"] >= 100 and rows["status_intervals"] >= 100


def test_an_unknown_fund_is_stored_null_and_read_back_none(sample_register):
    """Intervals, the register the next run reads, the daily results and their backfill from the
    history all keep a fund the report did not split out as NULL, never 0, beside BHTNLĐ-BNN and
    interest."""
    from congkhai.models import DailyResult
    from congkhai.rules.results import REPORTED_APART
    from publisher.store import results_from_history

    from .release_sample import AS_OF as SAMPLE_DAY, COMBINED, TOTAL_ONLY, WITH_INTEREST

    engine, built = sample_register
    with engine.connect() as conn:
        stored = Register(conn).states_by_key(SAMPLE_DAY)
        assert Register(conn).employers_and_states(SAMPLE_DAY)[1] == stored == {record.key: record.state() for record in built.records}
        assert stored[TOTAL_ONLY][1:5] == (None, None, None, 1_500_000_000)
        assert (stored[COMBINED].arrears_bhxh, stored[COMBINED].arrears_bhyt) == (None, 2_000_000)
        assert (stored[WITH_INTEREST].arrears_bhtnld, stored[WITH_INTEREST].interest) == (1_000_000, 3_500_000)
        rows = {row["province_code"]: dict(row) for row in conn.execute(sa.select(DailyResult.__table__)).mappings()}
        assert [rows["31"][name] for name in REPORTED_APART] == [40_000_000, 9_000_000, 2_000_000, 1_000_000, 3_500_000]
        assert rows["31"]["employers_without_fund_split"] == 2
        assert rows["01"]["arrears_bhtnld"] is None and rows["04"]["arrears_bhxh"] is None
        assert results_from_history(conn, dict(Register(conn).latest_release()), None) == built.results
