"""Alembic's environment: migrate the connection the caller handed over (see congkhai.migrations)."""
from alembic import context

from congkhai.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through congkhai.migrations.upgrade() or `congkhai db upgrade`")
context.configure(connection=connection, target_metadata=metadata, compare_type=True,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
