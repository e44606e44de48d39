"""A statement timeout bounds every request (CONGKHAI_STATEMENT_TIMEOUT_MS): a statement that runs
past it is stopped by the database (PostgreSQL's statement_timeout, a progress handler on SQLite)
and the request is answered 503 with Retry-After, well before gunicorn would kill the worker; a
streamed download is exempt, and the next request is served as usual."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from congkhai.register import Register
from portal import create_app
from portal.database import db
from portal.guards import statement_timed_out
from tests.conftest import POSTGRES_URL, _postgres_available

# About a second of SQLite's work on this machine, and a single row: the time is spent in one step.
SLOW_SQLITE = text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000) "
                   "SELECT count(*) FROM c")


def bounded_app(published, milliseconds: int, **config):
    return create_app({"TESTING": True, "CONGKHAI_DATA_DIR": published["CONGKHAI_DATA_DIR"], "REDIS_URL": None,
                       "CONGKHAI_STATEMENT_TIMEOUT_MS": milliseconds, **config})


def test_a_page_whose_statement_runs_too_long_is_a_503_and_the_next_is_served(published, monkeypatch):
    app = bounded_app(published, 100)
    original = Register.figures_on

    def slow_figures(self, *args, **kwargs):
        self.session.execute(SLOW_SQLITE).scalar()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Register, "figures_on", slow_figures)
    client = app.test_client()
    response = client.get("/")
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 30
    assert response.headers["Cache-Control"] == "no-store"
    assert "quá lâu" in response.get_data(as_text=True)
    api = client.get("/api/v1/releases")
    assert api.status_code == 200  # the pool was kept: the database is up
    monkeypatch.setattr(Register, "figures_on", original)
    assert client.get("/").status_code == 200


def test_a_streamed_read_is_not_stopped(published):
    app = bounded_app(published, 100)
    with app.app_context():
        with pytest.raises(OperationalError) as stopped:
            db.session.execute(SLOW_SQLITE).scalar()
        assert statement_timed_out(stopped.value)
        db.session.rollback()
        assert db.session.execute(SLOW_SQLITE.execution_options(stream_results=True)).scalar() == 4_000_000


def test_without_a_limit_nothing_is_stopped(published):
    app = bounded_app(published, 0)
    with app.app_context():
        assert db.session.execute(SLOW_SQLITE).scalar() == 4_000_000


@pytest.mark.postgres
def test_postgresql_stops_the_statement_itself(published):
    reason = _postgres_available()
    if reason:
        pytest.skip(reason)
    app = bounded_app(published, 100, DATABASE_URL=POSTGRES_URL + "?options=-csearch_path%3Dpublic")
    with app.app_context():
        assert db.session.execute(text("SHOW search_path")).scalar() == "public"  # the URL's options kept
        with pytest.raises(OperationalError) as stopped:
            db.session.execute(text("SELECT pg_sleep(2)"))
        assert statement_timed_out(stopped.value)
        db.session.rollback()
        assert db.session.execute(text("SELECT 1")).scalar() == 1
