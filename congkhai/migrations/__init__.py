"""The database schema's history, as Alembic migrations shipped inside the package.

There is no alembic.ini: `alembic_config()` builds the configuration in code, so an installed
package (`pip install congkhai`) can upgrade a database with `congkhai db upgrade` and nothing else.
`upgrade()` also adopts a database created before migrations existed (tables made by `create_all`,
no `alembic_version`): it is stamped at the baseline, whose schema is exactly that one, then upgraded.

To add a migration, see "How to add a migration" in the README.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).resolve().parent
BASELINE = "0001"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an ini file; `connection` is the one env.py migrates."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision the database is at; None for a database without Alembic's table."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision`, in one transaction (PostgreSQL and SQLite both have
    transactional DDL), adopting a database that `create_all` made before migrations existed."""
    with engine.begin() as conn:
        tables = set(inspect(conn).get_table_names())
        if "alembic_version" not in tables and "releases" in tables:
            command.stamp(alembic_config(conn), BASELINE)
        command.upgrade(alembic_config(conn), revision)


def differences(engine: Engine, metadata=None) -> list:
    """What the database lacks or has too compared with the models, as Alembic's autogenerate sees
    it; empty when they agree. Each entry names the table, column or index that differs."""
    if metadata is None:
        from congkhai.models import db
        metadata = db.metadata
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return [diff for diff in compare_metadata(context, metadata)
                if not (diff[0] == "remove_table" and diff[1].name == "alembic_version")]
