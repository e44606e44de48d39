"""The migrations are the schema: `upgrade head` from nothing equals the models, on SQLite and
PostgreSQL, and databases made before (by `create_all`, or at an older revision) keep their rows."""
from datetime import date, datetime, timezone

import sqlalchemy as sa

from congkhai import migrations
from congkhai.models import metadata as models_metadata
from publisher.cli import main
from publisher.store import init_db, make_engine

RELEASE = {"id": "2026-11-25", "as_of": date(2026, 11, 25), "created_at": datetime(2026, 11, 25, 11, tzinfo=timezone.utc),
           "state": "complete", "partial": False, "provinces": ["01"], "missing_provinces": {}, "policy": {},
           "counts": {"employers": 1}, "input_digest": "0" * 64}
EMPLOYER = {"key": "0101234567", "tax_code": "0101234567", "unit_code": "TA0001", "name": "Công ty Đông Á",
            "address": "Hà Nội", "ownership_type": "", "sector": "", "employees": 12, "province_code": "01"}


def assert_matches_models(engine):
    differences = migrations.differences(engine)
    assert differences == [], "the migrated schema differs from congkhai/models.py:\n" + "\n".join(
        f"  {d}" for d in differences) + "\nadd a migration (README: How to add a migration)"


def add_rows(engine):
    tables = models_metadata.tables
    with engine.begin() as conn:
        conn.execute(sa.insert(tables["releases"]), RELEASE)
        employer_id = conn.execute(sa.insert(tables["employers"]).returning(tables["employers"].c.id), EMPLOYER).scalar()
        conn.execute(sa.insert(tables["status_intervals"]), {
            "employer_id": employer_id, "valid_from": RELEASE["as_of"], "status": "delinquent", "arrears_bhxh": 5,
            "arrears_bhyt": 0, "arrears_bhtn": 0, "arrears_total": 5, "months_late": 3})


def assert_rows_kept(engine):
    tables = models_metadata.tables
    with engine.connect() as conn:
        assert conn.execute(sa.select(tables["employers"].c.name)).scalars().all() == ["Công ty Đông Á"]
        assert conn.execute(sa.select(tables["releases"].c.id)).scalars().all() == ["2026-11-25"]
        assert conn.execute(sa.select(tables["status_intervals"].c.arrears_total)).scalars().all() == [5]


def test_upgrade_head_from_empty_equals_the_models(database_url):
    engine = make_engine(database_url)
    assert migrations.current(engine) is None
    init_db(engine)
    assert migrations.current(engine) == migrations.head()
    assert_matches_models(engine)
    init_db(engine)  # every publish runs it: a current database is left as it is
    assert migrations.current(engine) == migrations.head()
    engine.dispose()


def test_differences_name_what_the_migrations_lack(database_url):
    engine = make_engine(database_url)
    init_db(engine)
    metadata = sa.MetaData()
    for table in models_metadata.tables.values():
        table.to_metadata(metadata)
    sa.Table("notes", metadata, sa.Column("id", sa.Integer, primary_key=True))
    metadata.tables["employers"].append_column(sa.Column("website", sa.Text))
    found = {(d[0], d[1].name if d[0] == "add_table" else f"{d[2]}.{d[3].name}")
             for d in migrations.differences(engine, metadata)}
    assert found == {("add_table", "notes"), ("add_column", "employers.website")}
    engine.dispose()


def test_a_database_made_by_create_all_is_adopted_with_its_rows(database_url):
    """Databases published before migrations existed have the baseline's tables and no version."""
    engine = make_engine(database_url)
    models_metadata.create_all(engine)
    add_rows(engine)
    init_db(engine)
    assert migrations.current(engine) == migrations.head()
    assert_rows_kept(engine)
    assert_matches_models(engine)
    engine.dispose()


def test_upgrade_from_the_baseline_keeps_rows(database_url):
    engine = make_engine(database_url)
    migrations.upgrade(engine, migrations.BASELINE)
    assert migrations.current(engine) == migrations.BASELINE
    add_rows(engine)
    migrations.upgrade(engine)
    assert migrations.current(engine) == migrations.head()
    assert_rows_kept(engine)
    engine.dispose()


def test_db_commands(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONGKHAI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["db", "current"]) == 0
    assert "at revision none (empty database); the newest is" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"at revision {migrations.head()}" in out and "run `congkhai db upgrade`" not in out


def test_new_revision_is_numbered_after_head_and_holds_the_models_change():
    latest = migrations.head()
    following = f"{int(latest) + 1:04d}"
    table = models_metadata.tables["employers"]
    table.append_column(column := sa.Column("website_for_test", sa.Text))
    try:
        path = migrations.new_revision("employers website")
    finally:
        table._columns.remove(column)
    try:
        text = path.read_text(encoding="utf-8")
        assert path.name.startswith(following + "_") and f"revision = '{following}'" in text
        assert f"down_revision = '{latest}'" in text
        assert "add_column(sa.Column('website_for_test'" in text
    finally:
        path.unlink()


def test_partial_amounts_stay_null_and_a_downgrade_can_only_say_0(database_url):
    """0005 and 0006: a fund the report did not split out is NULL, never 0, in the intervals and the
    daily results, beside BHTNLĐ-BNN and interest. Going back to 0004 drops those columns and gives
    the unknown funds the only value its NOT NULL columns can hold; upgrading again matches the models."""
    engine = make_engine(database_url)
    migrations.upgrade(engine, "0004")
    add_rows(engine)
    with engine.begin() as conn:
        results = sa.Table("daily_results", sa.MetaData(), autoload_with=conn)  # as 0004 made it
        conn.execute(sa.insert(results), {**dict.fromkeys([c.name for c in results.c], 0), "release_id": RELEASE["id"],
                                          "province_code": "01", "as_of": RELEASE["as_of"], "arrears_bhxh": 5})
    migrations.upgrade(engine)
    tables = models_metadata.tables
    intervals, results = tables["status_intervals"], tables["daily_results"]
    with engine.begin() as conn:
        assert conn.execute(sa.select(results.c.employers_without_fund_split)).scalar() == 0  # rows from before
        conn.execute(sa.update(intervals).values(arrears_bhxh=None, arrears_bhtn=None, arrears_total=900,
                                                 arrears_bhtnld=20, interest=7))
        conn.execute(sa.update(results).values(arrears_bhxh=None, arrears_bhtn=None, arrears_bhtnld=20, interest=7,
                                               employers_without_fund_split=1))
    with engine.connect() as conn:
        assert conn.execute(sa.select(intervals.c.arrears_bhxh, intervals.c.arrears_bhyt, intervals.c.arrears_bhtn,
                                      intervals.c.arrears_total, intervals.c.arrears_bhtnld,
                                      intervals.c.interest)).one() == (None, 0, None, 900, 20, 7)
        assert conn.execute(sa.select(results.c.arrears_bhxh, results.c.arrears_bhtnld)).one() == (None, 20)
    migrations.downgrade(engine, "0004")
    assert migrations.current(engine) == "0004"
    columns = sa.inspect(engine)
    assert {"arrears_bhtnld", "interest"}.isdisjoint(c["name"] for c in columns.get_columns("status_intervals"))
    assert "employers_without_fund_split" not in {c["name"] for c in columns.get_columns("daily_results")}
    with engine.connect() as conn:
        funds = sa.text("SELECT arrears_bhxh, arrears_bhtn, arrears_total FROM status_intervals")
        assert conn.execute(funds).one() == (0, 0, 900)
        assert conn.execute(sa.text("SELECT arrears_bhxh, arrears_bhtn FROM daily_results")).one() == (0, 0)
    migrations.upgrade(engine)
    assert_matches_models(engine)
    engine.dispose()
