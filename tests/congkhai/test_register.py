"""The changes a release brought, read from the status intervals (`congkhai.register`, Register.release_changes), on SQLite
and PostgreSQL; and the query plan that keeps /lists/changes fast on a national register."""
from datetime import timedelta

import sqlalchemy as sa

from congkhai.register import Register
from publisher.pipeline import publish
from tests.publisher.factory import AS_OF, write_all

DAY2 = AS_OF + timedelta(days=1)
LATE = dict(arrears_bhxh="3.000.000.000", months_late=4)


def two_releases(tmp_path, settings):
    """79/0 delinquent then paid; 01/1 compliant, then late (it enters its notice period first)."""
    for day, overrides in ((AS_OF, {("79", 0): LATE}), (DAY2, {("01", 1): LATE})):
        write_all(tmp_path / day.isoformat(), as_of=day, overrides=overrides)
        publish(tmp_path / day.isoformat(), day, settings)
    return sa.create_engine(settings["DATABASE_URL"])


def test_release_changes_pair_each_employers_closed_and_opened_interval(tmp_path, db_settings):
    engine = two_releases(tmp_path, db_settings)
    with engine.connect() as conn:
        changes = Register(conn).release_changes(DAY2, AS_OF)
        first = Register(conn).release_changes(DAY2, AS_OF, limit=1)
    engine.dispose()
    found = {c.key: (c.change.before.status, c.change.after.status) for c in changes}
    assert len(changes) == 2 and sorted(found.values()) == [("compliant", "notice"), ("delinquent", "compliant")]
    assert [c.key for c in changes] == sorted(found) and [c.key for c in first] == [changes[0].key]


def test_release_changes_look_each_employers_intervals_up_by_employer(tmp_path, settings):
    """Regression: the closing interval was joined on `valid_to` alone, and SQLite read every interval
    closed that day for each employer (100,000 employers x 2,000 changes: /lists/changes timed out
    after a release in the soak, and every gunicorn worker that served it was killed)."""
    engine = two_releases(tmp_path, settings)
    statements = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda conn, cursor, statement, parameters, context, many: statements.append((statement, parameters)))
    with engine.connect() as conn:
        Register(conn).release_changes(DAY2, AS_OF)
        statement, parameters = statements[-1]
        plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    engine.dispose()
    joins = [step for step in plan if step.startswith(("SEARCH opened", "SEARCH closed"))]
    assert len(joins) == 2 and all("ix_intervals_employer_from (employer_id=?" in step for step in joins), plan
