"""Registers for tests, built one way: write each day's reports (tests/publisher/factory.py), then
publish them into a data directory and its database.

- `store_only(...)` is the publisher's pure steps (publisher/pipeline.py `build_release`) and its
  database transaction (publisher/store.py `write_release`), without release files, XLSX,
  signatures, search index or run log: for tests that inspect only the database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from publisher.records import BuiltRelease
from tests.publisher.factory import moment_on


@dataclass
class Stored:
    """What `store_only` wrote, shaped as publisher.pipeline.PublishResult's `release`."""
    release: BuiltRelease


def write_built(engine, built: BuiltRelease, previous=None) -> None:
    """One transaction, as the publisher's database step: the release, and the corrections it
    publishes. `previous` is store.load_previous's answer (loaded here when not given)."""
    from congkhai.corrections import publish_pending
    from publisher.store import load_previous, write_release

    with engine.begin() as conn:
        if previous is None:
            previous = load_previous(conn, built.as_of, built.as_of - timedelta(days=365))
        write_release(conn, built, previous, None)
        publish_pending(conn, built.id)


def store_only(input_dir: Path, as_of: date, settings: dict, now: datetime | None = None,
               allow_partial: bool = False, accept_removals=()) -> Stored:
    """The reports of `input_dir` read, checked, classified and written into the database of
    `settings`, as `publish` would, with no release directory, index or run log (the release's
    datapackage_sha256 stays NULL). Raises what build_release raises (VerificationError...) and
    UsageError for a date before the latest release."""
    from congkhai.policy import load_policy
    from publisher.pipeline import build_release, load_previous_view
    from publisher.store import init_db, make_engine

    policy = load_policy(settings["CONGKHAI_POLICY"])
    engine = make_engine(settings["DATABASE_URL"])
    try:
        init_db(engine)
        previous, view = load_previous_view(engine, as_of, policy)
        built = build_release(Path(input_dir), as_of, policy, now or moment_on(as_of), view, allow_partial,
                              accept_removals=frozenset(accept_removals))
        write_built(engine, built, previous)
    finally:
        engine.dispose()
    return Stored(built)
