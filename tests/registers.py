"""Registers for tests, built one way: write each day's reports (tests/publisher/factory.py), then
publish them into a data directory and its database.

- `build_register(root, days, scenario, ...)` runs the real publisher (files, signatures, search
  index, database) or, with `files=False`, only what the database holds (`store_only`).
- `store_only(...)` is the publisher's pure steps (publisher/pipeline.py `build_release`) and its
  database transaction (publisher/store.py `write_release`), without release files, XLSX,
  signatures, search index or run log: for tests that inspect only the database.
- A register shared by a session is read-only: `shared(settings)` records its fingerprint, and
  tests/conftest.py fails the test that changed it. A test that writes (receipts, disputes,
  corrections...) takes `writable_copy(settings, tmp_path)`: the data directory and its SQLite
  database copied, cheap at this size.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from congkhai.config import load_settings
from congkhai.policy import DEFAULT_POLICY_PATH
from congkhai.signing import generate_key
from publisher.records import BuiltRelease
from tests.publisher.factory import moment_on, write_all


@dataclass
class Stored:
    """What `store_only` wrote, shaped as publisher.pipeline.PublishResult's `release`."""
    release: BuiltRelease


def write_built(engine, built: BuiltRelease, previous=None) -> None:
    """The publisher's database step (store.store_release); `previous` is store.load_previous's
    answer (loaded here when not given)."""
    from publisher.store import load_previous, store_release

    if previous is None:
        with engine.connect() as conn:
            previous = load_previous(conn, built.as_of, built.as_of - timedelta(days=365))
    store_release(engine, built, previous, None)


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


def policy_file(root: Path, replacements: dict[str, str]) -> Path:
    """The default policy with each text `old` replaced by `new`, written under root."""
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"the default policy no longer says {old!r}"
        text = text.replace(old, new)
    path = root / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


# Policies of the portal's registers: two days of history cannot show a year of clean payments, and
# an employer must be listed on DAY_2 at once, without the notice period.
SHORT_HISTORY = {"requires_full_history = true": "requires_full_history = false", "\ndays = 15\n": "\ndays = 0\n"}


def build_register(root: Path, days, scenario, *, policy: dict[str, str] | None = None, classify=None,
                   files: bool = True, rows_per_province: int = 3, **settings) -> dict:
    """Settings of a data directory under `root` holding one release for each of `days`, published
    from reports written by factory.write_all with `scenario(day)`'s overrides.

    `policy`: replacements in the default policy; `classify(classify_records, day)`: the classify
    step to publish `day` with; `files=False`: the database only (store_only); `rows_per_province`:
    each report's employers; further keywords are settings."""
    from publisher import pipeline

    if policy:
        settings["CONGKHAI_POLICY"] = str(policy_file(root, policy))
    settings = load_settings(env={}, CONGKHAI_DATA_DIR=str(root / "data"), **settings)
    generate_key(settings["CONGKHAI_SIGNING_KEY"])
    step = pipeline.publish if files else store_only
    for day in days:
        reports = root / f"reports-{day.isoformat()}"
        write_all(reports, as_of=day, rows_per_province=rows_per_province, overrides=scenario(day))
        with pytest.MonkeyPatch.context() as patch:
            if classify is not None:
                patch.setattr(pipeline, "classify_records", classify(pipeline.classify_records, day))
            step(reports, day, settings)
    return settings


def writable_copy(settings: dict, target: Path) -> dict:
    """Settings of a copy of the register under `target` (data directory, SQLite database, key),
    for a test that writes into it."""
    source = settings["CONGKHAI_DATA_DIR"]
    data_dir = Path(target) / "data"
    shutil.copytree(source, data_dir, symlinks=True, ignore=shutil.ignore_patterns("*-shm", "*-wal"))
    return {name: value.replace(source, str(data_dir)) if isinstance(value, str) else value
            for name, value in settings.items()}


_FINGERPRINTS: dict[str, str] = {}


def fingerprint(settings: dict) -> str:
    """A digest of the register: every file's name, size and modification time (a write to the
    database changes its write-ahead log's or its own; reading their bytes cost a second a test)."""
    digest = hashlib.sha256()
    for folder, subfolders, names in os.walk(settings["CONGKHAI_DATA_DIR"]):
        subfolders.sort()
        for name in sorted(names):
            path = Path(folder, name)
            if name.endswith("-shm") or (name.endswith("-wal") and path.stat().st_size == 0):
                continue  # SQLite's shared memory, and the empty log a reader opens
            stat = path.lstat()
            digest.update(f"{path}\0{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def shared(settings: dict) -> dict:
    """Mark the register read-only for the session (tests/conftest.py checks it around each test)."""
    _FINGERPRINTS[settings["CONGKHAI_DATA_DIR"]] = fingerprint(settings)
    return settings


def check_unchanged(settings: dict) -> None:
    expected, found = _FINGERPRINTS.get(settings["CONGKHAI_DATA_DIR"]), fingerprint(settings)
    if expected is not None and found != expected:
        _FINGERPRINTS[settings["CONGKHAI_DATA_DIR"]] = found  # each writer is reported, once
        pytest.fail(f"this test wrote into the shared register {settings['CONGKHAI_DATA_DIR']}, which other "
                    f"tests read: give it a copy (tests/registers.py writable_copy)", pytrace=False)
