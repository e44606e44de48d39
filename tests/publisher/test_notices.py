"""Notice before listing, end to end: a crossing employer is in the operator's notices and its own
row of employers.csv, not in the offender list or counts, until its listing date."""
import csv
from datetime import timedelta

import sqlalchemy as sa

from congkhai.config import Paths
from congkhai.register import Register
from publisher.cli import main
from publisher.pipeline import publish

from .factory import AS_OF, moment_on, tax_code, write_all

DELINQUENT_ROW = dict(arrears_bhxh=9_000_000, arrears_bhyt=1_000_000, months_late=4)


def rows(path):
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_crossing_paying_in_time_and_listing_on_the_planned_date(tmp_path, db_settings, monkeypatch):
    paths = Paths(db_settings["CONGKHAI_DATA_DIR"])
    days = [AS_OF, AS_OF + timedelta(1), AS_OF + timedelta(16)]
    plans = [
        {},                                                              # first release: nobody in arrears
        {("01", 0): DELINQUENT_ROW, ("79", 0): DELINQUENT_ROW},          # both cross: notice
        {("01", 0): DELINQUENT_ROW},                                     # 79's paid in time; 01's is listed
    ]
    for day, overrides in zip(days, plans):
        write_all(tmp_path / day.isoformat(), as_of=day, rows_per_province=2, overrides=overrides)
        publish(tmp_path / day.isoformat(), day, db_settings, now=moment_on(day))
    hanoi, hcmc = tax_code(1), next(r["key"] for r in rows(paths.release(days[0].isoformat()) / "employers.csv")
                                    if r["province_code"] == "79")

    crossing = paths.release(days[1].isoformat())
    listed = {r["key"]: r for r in rows(crossing / "employers.csv")}
    assert listed[hanoi]["status"] == "notice"
    assert (listed[hanoi]["notice_from"], listed[hanoi]["listing_on"]) == (days[1].isoformat(), days[2].isoformat())
    assert rows(crossing / "delinquent.csv") == []
    provinces = {r["province_code"]: r for r in rows(crossing / "provinces.csv")}
    assert (provinces["01"]["notice"], provinces["01"]["offenders"]) == ("1", "0")
    notices = rows(paths.rejects(days[1].isoformat()) / "notices.csv")
    assert {n["key"] for n in notices} == {hanoi, hcmc}
    assert notices[0]["address"] and int(notices[0]["arrears_total"]) == 10_000_000
    assert not any(p.name == "notices.csv" for p in crossing.rglob("*"))  # never in the public release

    final = paths.release(days[2].isoformat())
    assert [r["key"] for r in rows(final / "delinquent.csv")] == [hanoi]
    assert {r["key"]: r["status"] for r in rows(final / "employers.csv")}[hcmc] == "compliant"
    assert rows(paths.rejects(days[2].isoformat()) / "notices.csv") == []

    engine = sa.create_engine(db_settings["DATABASE_URL"])
    with engine.connect() as conn:
        assert [n["key"] for n in Register(conn).notices_on(days[1] + timedelta(5))] == sorted([hanoi, hcmc])
    engine.dispose()

    out = tmp_path / "to-send.csv"
    for name, value in db_settings.items():
        monkeypatch.setenv(name, str(value))
    assert main(["notices", "--as-of", days[1].isoformat(), "--out", str(out)]) == 0
    assert {n["key"] for n in rows(out)} == {hanoi, hcmc}
    assert main(["notices", "--as-of", "2020-01-01"]) == 2


def test_a_notice_leaves_a_fund_the_report_did_not_split_out_empty(sample_register, tmp_path):
    """The operator's letter says what the report says: no 0 for an unknown fund, interest apart."""
    from publisher.notices import write_notices

    from .release_sample import AS_OF as SAMPLE_DAY, COMBINED, WITH_INTEREST

    engine, _ = sample_register
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE status_intervals SET status = 'notice' WHERE employer_id IN "
                             "(SELECT id FROM employers WHERE key IN (:a, :b))"), {"a": COMBINED, "b": WITH_INTEREST})
    with engine.connect() as conn:
        assert write_notices(conn, SAMPLE_DAY, tmp_path / "notices.csv") == 2
    letters = {row["key"]: row for row in rows(tmp_path / "notices.csv")}
    combined = letters[COMBINED]
    assert (combined["arrears_bhxh"], combined["arrears_bhyt"], combined["arrears_bhtn"]) == ("", "2000000", "")
    assert combined["arrears_total"] == "12000000" and combined["interest"] == ""
    interest = letters[WITH_INTEREST]
    assert [interest[name] for name in ("arrears_bhtnld", "arrears_total", "interest")] == [
        "1000000", "50000000", "3500000"]
