"""The run log: every publishing attempt leaves JSON lines in <data dir>/runs.jsonl.

A file and not a table, so that a run failing because the database is down is still recorded.
Each line is appended by one write() on a descriptor opened with O_APPEND (concurrent writers never
interleave) and a line cut short by a full disk is truncated away, so every line parses.

Events: `start` (written under the publisher's lock), `step` (each pipeline step as it begins) and
`end` (outcome, reason, release id, counts, duration). A start with no end is a run that was killed
or lost its machine; the next run, once it holds the lock, records it as `interrupted`.
"""
from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from congkhai.logs import event

log = logging.getLogger("congkhai.publisher")

# What `congkhai status` reads of the log: its tail, not years of runs.
TAIL_BYTES = 1 << 20

PUBLISHED, UNCHANGED, WAITING, FAILED, INTERRUPTED = "published", "unchanged", "waiting", "failed", "interrupted"
ARCHIVED = "archived"  # `congkhai compact`: past releases moved into the archive


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def append(path: Path, entry: dict) -> None:
    """Append one line; raises OSError (the file is left as it was) when it cannot."""
    line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(descriptor).st_size
        try:
            if os.write(descriptor, line) != len(line):
                raise OSError(28, "No space left on device", os.fspath(path))
            os.fsync(descriptor)
        except OSError:
            os.ftruncate(descriptor, size)
            raise
    finally:
        os.close(descriptor)


def read(path: Path, tail_bytes: int = TAIL_BYTES) -> list[dict]:
    """The entries at the end of the log, oldest first (a partial first line of the tail is skipped)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            start = max(0, handle.tell() - tail_bytes)
            handle.seek(start)
            data = handle.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    if start:
        lines = lines[1:]
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries


def runs(entries: list[dict]) -> list[dict]:
    """One dict per run (its start merged with its end and last step), oldest first."""
    by_id: dict[str, dict] = {}
    for entry in entries:
        run = by_id.setdefault(entry.get("run_id", ""), {})
        if entry.get("event") == "step":
            run["step"] = entry.get("step")
        else:
            run.update({k: v for k, v in entry.items() if k != "event"})
        run.setdefault("ended_at", None)
    return list(by_id.values())


def last_failure(entries: list[dict]) -> dict | None:
    failed = [run for run in runs(entries) if run.get("outcome") in (FAILED, INTERRUPTED)]
    return failed[-1] if failed else None


def record_interrupted(path: Path) -> list[dict]:
    """End every run that started and never ended: call it only while holding the publisher's lock
    (then no other run is in progress)."""
    ended = []
    for run in runs(read(path)):
        if run.get("started_at") and not run.get("ended_at") and run.get("outcome") is None:
            step = run.get("step")
            entry = {"event": "end", "run_id": run["run_id"], "ended_at": None, "outcome": INTERRUPTED,
                     "reason": "the run stopped without recording its end (killed, or the machine stopped)"
                               + (f" during step '{step}'" if step else "")
                               + "; what it left behind was swept by the next run",
                     "step": step, "recorded_at": _now().isoformat()}
            try:
                append(path, entry)
            except OSError as error:
                event(log, f"run log {path}: cannot record the interrupted run {run['run_id']}: {error}",
                      logging.WARNING, run_id=run["run_id"])
                continue
            ended.append({**run, **entry})
    return ended


@dataclass
class RunRecord:
    """One publishing attempt as the log records it. Writing the log never fails the run: a log
    that cannot be written (full disk) is a warning on stderr, the run's own outcome stands."""
    path: Path
    command: str
    as_of: str
    input_dir: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_at: datetime = field(default_factory=_now)
    started: float = field(default_factory=time.monotonic)
    step: str | None = None
    accept_removals: list = field(default_factory=list)  # provinces whose removals the operator confirmed

    def _write(self, entry: dict) -> None:
        try:
            append(self.path, {"run_id": self.run_id, **entry})
        except OSError as error:
            event(log, f"run log {self.path}: cannot record this run's {entry['event']} ({error})", logging.WARNING,
                  run_id=self.run_id)

    def start(self) -> None:
        self._write({"event": "start", "command": self.command, "as_of": self.as_of, "input": self.input_dir,
                     "started_at": self.started_at.isoformat(), "pid": os.getpid(),
                     "accept_removals": self.accept_removals})
        event(log, f"run {self.run_id} started: {self.command} {self.as_of}", event="run_start",
              run_id=self.run_id, command=self.command, as_of=self.as_of, input=self.input_dir,
              release_id=self.as_of)  # a release is named by its date

    def begin_step(self, name: str) -> None:
        self.step = name
        self._write({"event": "step", "step": name, "at": _now().isoformat()})

    def finish(self, outcome: str, reason: str | None = None, release=None, missing: dict | None = None,
               **extra) -> dict:
        """Write the end of the run; `release` is the BuiltRelease when there is one."""
        ended = _now()
        entry = {"event": "end", "command": self.command, "as_of": self.as_of, "input": self.input_dir,
                 "started_at": self.started_at.isoformat(), "ended_at": ended.isoformat(),
                 "duration_s": round(time.monotonic() - self.started, 3), "outcome": outcome, "reason": reason,
                 "step": self.step if outcome == FAILED else None,
                 "release_id": release.id if release is not None else None,
                 "partial": release.partial if release is not None else None,
                 "missing_provinces": release.missing_provinces if release is not None else (missing or {}),
                 "counts": _counts(release), "accept_removals": self.accept_removals, **extra}
        self._write(entry)
        level = logging.ERROR if outcome == FAILED else logging.INFO
        event(log, f"run {self.run_id} {outcome}" + (f": {reason}" if reason else ""), level, event="run_end",
              run_id=self.run_id, **{k: v for k, v in entry.items() if k != "event"})
        return entry


def _counts(release) -> dict | None:
    if release is None:
        return None
    counts = release.counts()
    return {key: counts[key] for key in ("rows_read", "rows_rejected", "employers", "changes", "by_status")
            if key in counts}
