"""Fixtures shared by every test package: settings pointing at a temporary data directory, and the
databases the storage tests run on (SQLite always; PostgreSQL where a server answers, and always in CI)."""
from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from congkhai.config import load_settings
from congkhai.signing import generate_key
from tests.registers import check_unchanged

POSTGRES_URL = os.environ.get("CONGKHAI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means "not here"
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {error.__class__.__name__}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    reason = _postgres_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _with_key(values: dict) -> dict:
    generate_key(values["CONGKHAI_SIGNING_KEY"])
    return values


@pytest.fixture
def settings(tmp_path):
    """Settings for a run whose database, releases and signing key all live under tmp_path (SQLite)."""
    return _with_key(load_settings(env={}, CONGKHAI_DATA_DIR=str(tmp_path / "data")))


@pytest.fixture
def db_settings(tmp_path, database_url):
    """Like `settings`, once per database engine."""
    return _with_key(load_settings(env={}, CONGKHAI_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=database_url))


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """fsync makes a release durable, not correct; in-process tests skip its cost (~5 ms a file).
    The crash test runs the publisher in a real subprocess, where fsync is untouched."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


# Registers built once a session and read by many tests (tests/portal/conftest.py).
SHARED_REGISTERS = ("published", "eligibility", "hostile")


@pytest.fixture(autouse=True)
def _shared_registers_stay_read_only(request):
    """Fail a test that changes a register other tests read (its database or files): it must take
    a copy (tests/registers.py writable_copy)."""
    values = [request.getfixturevalue(name) for name in SHARED_REGISTERS if name in request.fixturenames]
    registers = [value for value in values if isinstance(value, dict)]  # not a parameter of the same name
    yield
    for settings in registers:
        check_unchanged(settings)
