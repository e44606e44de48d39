"""A new release is served by a process only once it is warm: its search index open, and the pages
read most right after a release rendered into the cache. Until then, for at most WARM_MAX_SECONDS,
the process answers from the release before, which is still whole (`current.release` asks here).

The day's first readers come within minutes of 18:30 and ask for the same few pages; without this
each worker paid for its first search (a second at a million employers: the index's columns are
read) and the first reader of each page paid for rendering it while the others queued behind.
With Redis, the pages rendered by one worker serve every worker and node.
"""
from __future__ import annotations

import threading
import time

from flask import Flask

from congkhai import search as engine
from congkhai.config import Paths
from congkhai.provinces import all_provinces
from congkhai.register import ReleaseInfo

WARMING = "congkhai.warming"    # WSGI environ key: the release a warm-up request renders (never from a client)
WARM_MAX_SECONDS = 60           # a warm-up slower than this no longer holds the new release back
LANGUAGES = ("vi", "en")
_STARTING = threading.Lock()
LISTS = ("/", "/lists/offenders", "/lists/evading", "/lists/honour-roll", "/lists/changes", "/provinces",
         "/results", "/inspections", "/corrections", "/data")


def most_read(release: ReleaseInfo) -> list[str]:
    """The paths read most right after a release: the home page, the lists, the province pages and
    the release's own page (searches and employer pages are too many to guess)."""
    return [*LISTS, *(f"/provinces/{p.slug}" for p in all_provinces()), f"/releases/{release.id}"]


def warm(app: Flask, release: ReleaseInfo) -> dict:
    """Open `release`'s search index in this process and render its most-read pages in both
    languages into the cache, as answering that release; returns how the pages answered."""
    answered: dict[int, int] = {}
    started = time.perf_counter()
    path = Paths(app.config["CONGKHAI_DATA_DIR"]).search_index(release.id)
    if path.is_dir():
        engine.open_index(path)
    client = app.test_client(use_cookies=False)
    for language in LANGUAGES:
        for url in most_read(release):
            response = client.get(url, environ_base={WARMING: release, "REMOTE_ADDR": "127.0.0.1"},
                                  headers={"Cookie": f"lang={language}"})
            answered[response.status_code] = answered.get(response.status_code, 0) + 1
            response.close()
    app.logger.info("release %s warmed in %.1f s: %s", release.id, time.perf_counter() - started, answered)
    return answered


def serving(app: Flask, previous: ReleaseInfo | None, latest: ReleaseInfo | None) -> ReleaseInfo | None:
    """The release this process should serve now: a newer `latest` once it is warm, the `previous`
    one while a warm-up of `latest` runs (started here in a thread of its own on first sight). A
    withdrawal, which goes back to an older release, is served at once."""
    if (latest is None or previous is None or latest.as_of <= previous.as_of
            or not app.config.get("CONGKHAI_WARM_ON_SWITCH")):
        return latest  # the first sight, a re-run of the date or a withdrawal: at once
    jobs = app.extensions.setdefault("congkhai.warming", {})
    with _STARTING:  # one warm-up per release and process, whichever request thread sees it first
        job = jobs.get(latest.id)
        if job is None:
            thread = threading.Thread(target=_warm_quietly, args=(app, latest), name=f"warm-{latest.id}", daemon=True)
            job = jobs[latest.id] = (time.monotonic(), thread)
            thread.start()
    started, thread = job
    warming = thread.is_alive() and time.monotonic() - started < WARM_MAX_SECONDS
    return previous if warming else latest


def _warm_quietly(app: Flask, release: ReleaseInfo) -> None:
    """A failed warm-up only means the first readers render the pages themselves."""
    try:
        warm(app, release)
    except Exception:  # noqa: BLE001 - logged with its traceback; serving goes on
        app.logger.exception("warming release %s failed", release.id)
