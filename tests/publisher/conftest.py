"""Fixtures of the publisher's tests: the command line's environment, and a database holding the
hand-built sample release (release_sample.py)."""
import pytest

from congkhai.provinces import all_provinces
from congkhai.rules.changes import diff_states
from congkhai.rules.results import daily_results
from publisher.cli import main
from publisher.store import init_db, make_engine
from tests.registers import write_built

from .release_sample import built_release, records


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The `congkhai` command's environment: a data and an incoming directory under tmp_path, the
    SQLite default, and a fresh signing key; returns tmp_path."""
    monkeypatch.setenv("CONGKHAI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CONGKHAI_INCOMING_DIR", str(tmp_path / "incoming"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CONGKHAI_SIGNING_KEY", raising=False)
    assert main(["keygen"]) == 0
    return tmp_path


@pytest.fixture
def sample_register(database_url):
    """A fresh database (SQLite, then PostgreSQL) holding the sample release as a first release, with
    its daily results: its total-only, BHXH+BHTN-combined and interest employers included. Yields
    (engine, the BuiltRelease written)."""
    current = records()
    states = {record.key: record.state() for record in current}
    provinces = [province.code for province in all_provinces()]
    built = built_release(records=current, changes=diff_states({}, states), previous_as_of=None,
                          results=daily_results(((r.province_code, states[r.key]) for r in current), [], provinces))
    engine = make_engine(database_url)
    init_db(engine)
    write_built(engine, built)
    yield engine, built
    engine.dispose()
