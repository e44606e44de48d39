"""Daily results are written with the release, in its transaction, and follow a re-run of the date.
Runs on SQLite and on PostgreSQL (see tests/conftest.py)."""
import csv
from datetime import timedelta

import sqlalchemy as sa

from publisher.pipeline import publish

from .factory import AS_OF, write_all

DAY2 = AS_OF + timedelta(days=1)
LATE = {("79", 0): dict(arrears_bhxh="3.000.000.000", months_late=4, enforcement_stage="Đã gửi thông báo đôn đốc")}


def results(settings) -> dict:
    engine = sa.create_engine(settings["DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select release_id, province_code, delinquent, new_offenders, resolved_offenders, "
                                    "to_inspection, recovered, arrears_offenders from daily_results")).all()
    engine.dispose()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_results_of_each_release_and_province(tmp_path, db_settings):
    write_all(tmp_path / "d1", as_of=AS_OF, overrides=LATE)
    publish(tmp_path / "d1", AS_OF, db_settings)
    inspected = {("79", 0): dict(arrears_bhxh="1.000.000.000", months_late=4, enforcement_stage="Đã thanh tra")}
    write_all(tmp_path / "d2", as_of=DAY2, overrides=inspected)
    publish(tmp_path / "d2", DAY2, db_settings)
    rows = results(db_settings)
    assert len(rows) == 2 * 34
    assert rows[(AS_OF.isoformat(), "79")][:2] == (1, 0)           # listed, but the first release lists no one "new"
    delinquent, new, resolved, to_inspection, recovered, _ = rows[(DAY2.isoformat(), "79")]
    assert (delinquent, new, resolved, to_inspection, recovered) == (1, 0, 0, 1, 0)  # paid part, still listed

    paid = {("79", 0): dict()}
    write_all(tmp_path / "d2b", as_of=DAY2, overrides=paid)
    publish(tmp_path / "d2b", DAY2, db_settings)                    # corrected re-run of the latest date
    rows = results(db_settings)
    assert len(rows) == 2 * 34
    assert rows[(DAY2.isoformat(), "79")][:5] == (0, 0, 1, 0, 3_000_000_000)
    package = db_settings["CONGKHAI_DATA_DIR"] + f"/releases/{DAY2.isoformat()}/results.csv"
    with open(package, encoding="utf-8") as handle:
        published = {row["province_code"]: row for row in csv.DictReader(handle)}
    assert published["79"]["recovered"] == "3000000000" and len(published) == 34


def test_backfill_from_the_history_agrees_with_the_publisher(tmp_path, db_settings, monkeypatch):
    """Rows recomputed from the intervals equal those written at publication."""
    from publisher.cli import main

    write_all(tmp_path / "d1", as_of=AS_OF, overrides=LATE)
    publish(tmp_path / "d1", AS_OF, db_settings)
    write_all(tmp_path / "d2", as_of=DAY2, overrides={("79", 0): dict()})
    publish(tmp_path / "d2", DAY2, db_settings)
    written = results(db_settings)
    engine = sa.create_engine(db_settings["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(sa.text("delete from daily_results"))
    engine.dispose()
    monkeypatch.setenv("CONGKHAI_DATA_DIR", db_settings["CONGKHAI_DATA_DIR"])
    monkeypatch.setenv("DATABASE_URL", db_settings["DATABASE_URL"])
    assert main(["backfill-results"]) == 0
    assert main(["backfill-results"]) == 0        # nothing left to do: no duplicate rows
    assert results(db_settings) == written
