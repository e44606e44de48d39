"""The register's database as a `congkhai` command opens it: one engine made from the settings, the
schema brought up to date through the migrations, one connection (or transaction), and the engine
disposed of however the command ends. Every command that touches the database goes through here."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.engine import Connection, Engine

from ..store import init_db, make_engine


@contextmanager
def register_engine(settings: dict) -> Iterator[Engine]:
    """The engine of `DATABASE_URL`, disposed of on the way out."""
    engine = make_engine(settings["DATABASE_URL"])
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def register_connection(settings: dict, write: bool = False, migrate: bool = True) -> Iterator[Connection]:
    """A connection to the register: in one transaction committed on success when `write`, after
    upgrading the schema when `migrate` (a read-only look, as `diff`, leaves the schema alone)."""
    with register_engine(settings) as engine:
        if migrate:
            init_db(engine)
        with engine.begin() if write else engine.connect() as conn:
            yield conn
