"""The side effects of a publication on disk, in the order that keeps the previous release serving:
the rejects report, the release directory and the search index written aside and swapped in (or taken
back when a later step fails), then `current` and releases/index.json; and the lock that keeps one
publisher at a time on a data directory."""
from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from congkhai.logs import event
from congkhai.text import neutralise

from .errors import UsageError
from .records import BuiltRelease

if TYPE_CHECKING:
    from .pipeline import Progress

log = logging.getLogger("congkhai.publisher")

FAILED_REJECTS = "failed-run-rejects"


def write_rejects(directory: Path, rejects, as_of: date, name: str = "rejects") -> tuple[Path, Path]:
    """<name>.csv and <name>.json for the date: file, row, field, value, reason. A run that fails
    writes FAILED_REJECTS instead, so the report of the release already published stays its own."""
    import csv

    directory.mkdir(parents=True, exist_ok=True)
    fields = ["source", "line", "field", "value", "reason", "province_code"]
    rows = [{f: getattr(r, f) for f in fields} for r in rejects]
    csv_path, json_path = directory / f"{name}.csv", directory / f"{name}.json"
    tmp = csv_path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: neutralise(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows)
    tmp.replace(csv_path)
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"as_of": as_of.isoformat(), "count": len(rows), "rejects": rows},
                              ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(json_path)
    return csv_path, json_path


@contextmanager
def publisher_lock(paths, run):
    """One publisher at a time per data directory; what a crashed run left behind is swept here,
    and its unfinished entry in the run log is closed."""
    import fcntl

    from .archive import remove_stale_temporaries
    from .runlog import record_interrupted

    paths.data_dir.mkdir(parents=True, exist_ok=True)
    with open(paths.data_dir / ".publish.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"another `congkhai publish` is running on {paths.data_dir}") from None
        for directory in (paths.releases, paths.indexes):
            if directory.is_dir():
                remove_stale_temporaries(directory)
        record_interrupted(paths.run_log)
        run.start()
        yield


def point_at(paths, progress: Progress, entry: dict) -> None:
    """The last step: `current` and releases/index.json follow the database."""
    from .archive import switch_current, update_release_index

    progress.step("current")
    switch_current(paths.releases, entry["id"])
    update_release_index(paths.releases, entry)
    progress.done("current")


def take_back(installed: list[tuple[Path, Path | None]], committed: bool = False) -> None:
    """After the database step: delete the directories the new ones replaced (committed), or undo
    this run's installations (failed), so the files stay those of the release the database serves."""
    import shutil

    from .archive import install_release_dir

    for final, replaced in reversed(installed):
        try:
            if committed:
                if replaced is not None:
                    shutil.rmtree(replaced)
            elif replaced is not None:
                install_release_dir(replaced, final)  # swap the replaced one back; the failed one is deleted
            else:
                shutil.rmtree(final)
        except OSError as error:
            event(log, f"could not clean up {final} after the run: {error}; the next run sweeps it", logging.WARNING)


# Changes of earlier releases loaded for the feeds' window when the release before left no feed
# window (publisher/feed_window.py). One busy day of a national register brings ~20,000 changes, so
# this keeps the latest day or two whole; quieter feeds (newly evading) may then reach back less
# than the window's 90 days.
FEED_HISTORY_LIMIT = 50_000


def signer_of(settings: dict):
    from congkhai.signing import SigningKeyError, load_signer

    try:
        return load_signer(settings["CONGKHAI_SIGNING_KEY"])
    except (SigningKeyError, FileNotFoundError) as error:
        raise UsageError(f"no usable signing key at {settings['CONGKHAI_SIGNING_KEY']} ({error}); create one with "
                         f"`congkhai keygen` or set CONGKHAI_SIGNING_KEY") from None


def write_files(built: BuiltRelease, previous, settings: dict, signer, paths, engine, progress: Progress,
                 installed: list) -> dict:
    """The release directory, written aside and swapped in whole; (final, replaced) goes to `installed`."""
    import shutil
    from datetime import timedelta

    from congkhai.disputes import disputed_since_by_key
    from congkhai.register import Register

    from . import feed_window, store
    from .archive import install_release_dir, make_temp_release_dir
    from .package import write_release_files

    progress.step("files")
    earlier = []
    with engine.connect() as conn:
        if previous.release is not None:
            earlier = feed_window.load(paths.feed_window(previous.release["id"]), settings)
            if earlier is None:
                since = built.as_of - timedelta(days=int(settings["CONGKHAI_FEED_MAX_DAYS"]))
                earlier = Register(conn).recent_changes(previous.release["as_of"], since, FEED_HISTORY_LIMIT)
        removed = store.employer_refs(conn, [c.key for c in built.changes if c.after is None])
        disputed = disputed_since_by_key(conn)
    tmp = make_temp_release_dir(paths.releases, built.id)
    try:
        files = write_release_files(built, tmp, settings, signer, previous.release["id"] if previous.release else None,
                                    feed_items=earlier, removed=removed, disputed=disputed)
        installed.append((paths.release(built.id), install_release_dir(tmp, paths.release(built.id),
                                                                       keep_replaced=True)))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    progress.done("files")
    return files


# From this many employers on, the day's index update runs in a process of its own while the files
# are written; below it, starting a process costs more than it saves.
PARALLEL_INDEX_MIN = 50_000


class IndexWrite:
    """The release's search index written aside (staged), then installed by `finish`: yesterday's
    plus today's changes, in a process of its own for a large register while this one writes the
    files (4 s of a million's next day), or built whole the first time (and for a re-run of a date,
    when `employer_changes` is None, or when yesterday's index is in an older format), for a large
    register in a process of its own from `start()` on, while the database step runs."""

    def __init__(self, built: BuiltRelease, previous, paths, employer_changes: tuple[list[str], list[str]] | None):
        import shutil

        from congkhai import search

        from .compact import index_from_release

        self.target = paths.search_index(built.id)
        self.staging = self.target.with_name(f".{built.id}.tmp-{os.getpid()}")
        shutil.rmtree(self.staging, ignore_errors=True)
        self.process = self.later = None
        base = paths.search_index(previous.release["id"]) if previous.release else None
        if base is not None and search.updatable(paths.search_base(previous.release["id"])):
            base = paths.search_base(previous.release["id"])  # the same documents without dead rows (compact.py)
        if base is not None and employer_changes is not None and search.updatable(base):
            changed_keys = employer_changes[1]
            touched = {c.key for c in built.changes if c.after is not None} | set(changed_keys)  # new ones are changes
            upserts = [search.document(r) for r in built.records if r.key in touched]
            deletes = [c.key for c in built.changes if c.after is None]
            self.documents = len(upserts)
            if len(built.records) >= PARALLEL_INDEX_MIN:
                self.process = self._start(search.update_index, base, self.staging, upserts, deletes)
            else:
                self.write = lambda: search.update_index(base, self.staging, upserts, deletes, progress=lambda n: None)
        else:
            self.documents = len(built.records)
            if len(built.records) >= PARALLEL_INDEX_MIN:  # from the employers.jsonl installed, as compact does
                self.later = (index_from_release, paths, built.id, self.staging)
            else:
                self.write = lambda: search.build_index(self.staging, (search.document(r) for r in built.records),
                                                        procs=2)

    @staticmethod
    def _start(target, *args):
        """`target(*args)` in a process forked from multiprocessing's small server: a fork of this
        process would share, and count in its resident size, the heap of the release's records
        (the first release's index, built with two processes forked from here: 4.9 GB in all)."""
        import multiprocessing

        process = multiprocessing.get_context("forkserver").Process(target=target, args=args)
        process.start()
        return process

    def start(self) -> None:
        """Once the release's files are installed: a whole index of a large register starts building
        from its employers.jsonl, on the other core while the database step runs."""
        if self.later is not None:
            self.process, self.later = self._start(*self.later), None

    def _wait(self) -> None:
        self.process.join()
        if self.process.exitcode != 0:
            raise RuntimeError(f"the search index writer failed (exit status {self.process.exitcode}); "
                               f"see its error above")

    def finish(self, progress: Progress, installed: list) -> None:
        """Wait for the index (or write it now) and install it; (final, replaced) goes to `installed`."""
        import shutil

        from .archive import install_release_dir

        self.start()
        tick = progress.step("index", self.documents)
        if self.process is not None:
            self._wait()
        else:
            self.write()
        tick(self.documents)
        try:
            installed.append((self.target, install_release_dir(self.staging, self.target, keep_replaced=True)))
        except BaseException:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise
        progress.done("index")

    def cancel(self) -> None:
        """The run failed before the index was installed: stop its writer and delete what it staged."""
        import shutil

        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join()
        shutil.rmtree(self.staging, ignore_errors=True)
