"""The entries a release's feeds show, kept beside it so that the next release's feeds read no history.

Each static feed shows the newest CONGKHAI_FEED_MAX_ENTRIES entries of its window. Entries of
earlier releases keep their order from day to day and only leave at the window's old end, so every
earlier entry tomorrow's feeds can show is one that today's feeds show. The next release reads this
file (at most entries x feeds) instead of every change of the releases in the window: at a million
employers that meant walking the register two or three times (5 s of a 70 s publish), and a cap
on what was read that cut quiet feeds (newly evading) short of their window.

The file lives in the data directory, not in the release: it is not published. It is only an
accelerator: without it (deleted, written for other feed settings, or the release was published
by older code) the publisher reads the database as before.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
from datetime import date, datetime
from pathlib import Path

import orjson

from congkhai.feeds import FeedItem
from congkhai.rules.changes import Change
from congkhai.rules.corrections import state_from_json, state_to_json

log = logging.getLogger(__name__)

FORMAT = 1


def _settings(settings: dict) -> dict:
    return {"max_entries": int(settings["CONGKHAI_FEED_MAX_ENTRIES"]),
            "max_days": int(settings["CONGKHAI_FEED_MAX_DAYS"])}


def save(path: Path, items: list[FeedItem], settings: dict) -> None:
    """Write the entries the release's feeds show, atomically. Runs after the release is committed,
    so it never raises: a failure costs the next run time only."""
    rows = [[item.release_date, item.key, item.name, item.province_code, item.public_tax_id, item.sector,
             item.published_at, item.change.kind, state_to_json(item.change.before), state_to_json(item.change.after)]
            for item in items]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(orjson.dumps({"format": FORMAT, **_settings(settings), "items": rows}))
        os.replace(tmp, path)
    except OSError as error:
        log.warning("feed window %s not written (%s): the next release reads the database instead", path, error)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def load(path: Path, settings: dict) -> list[FeedItem] | None:
    """The entries saved with a release, or None when there is no usable file: missing, damaged, or
    saved for a smaller window than the feeds now hold (more entries or more days)."""
    try:
        # The json module, not orjson: in a publisher holding millions of objects, orjson's loads
        # took 2 s here with the collector on (the json module 0.03 s, orjson without it 0.02 s).
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        log.warning("feed window %s unreadable (%s): reading the database instead", path, error)
        return None
    wanted = _settings(settings)
    if not isinstance(data, dict) or data.get("format") != FORMAT or any(
            not isinstance(data.get(name), int) or data[name] < value for name, value in wanted.items()):
        return None
    try:
        return [FeedItem(date.fromisoformat(day), Change(key, kind, state_from_json(before), state_from_json(after)),
                         key, name, province_code, public_tax_id, sector,
                         datetime.fromisoformat(published) if published else None)
                for day, key, name, province_code, public_tax_id, sector, published, kind, before, after
                in data["items"]]
    except (KeyError, TypeError, ValueError) as error:
        log.warning("feed window %s unreadable (%s): reading the database instead", path, error)
        return None


def prune(directory: Path, keep: set[str]) -> None:
    """Delete the windows of releases other than `keep` (the new one and the one before it, which a
    withdrawal makes current again). Runs after the release is committed, so it never raises: a
    file left behind costs a few MB until the next run."""
    try:
        for entry in directory.iterdir() if directory.is_dir() else ():
            if entry.suffix == ".json" and entry.stem not in keep:
                entry.unlink(missing_ok=True)
    except OSError as error:
        log.warning("feed windows in %s not pruned (%s)", directory, error)
