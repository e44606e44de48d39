"""`congkhai withdraw DATE --reason TEXT`: take back a release published by mistake without deleting
anything. What it published is corrected, in public, and the release before it serves again.

In one transaction: every employer whose state the release changed gets a correction (what it
published, what stands instead: the state before it, or nothing for an employer it added), recorded
as published by the withdrawal itself; the release's status intervals are rewound and the release
is marked `withdrawn`. Then `current` points at the release before, and releases/index.json says
the release was withdrawn, when and why. Its signed directory stays as it was, so anyone who
downloaded it can still verify what was published.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import update

from congkhai.config import Paths
from congkhai.corrections import C, record_correction
from congkhai.register import Register
from congkhai.register.tables import R
from congkhai.release_archive import ArchiveError

from .errors import UsageError
from .install import publisher_lock
from .store import rewind

WITHDRAWN = "withdrawn"
SOURCE = "withdrawal"


@dataclass
class Withdrawal:
    release_id: str
    back_to: str | None          # the release that serves again
    corrections: int             # employers whose entry the withdrawal corrects


def withdraw(as_of: date, reason: str, settings: dict, now: datetime | None = None) -> Withdrawal:
    """Withdraw the latest release (`as_of`); UsageError for any other or without a reason."""
    from .runlog import FAILED, PUBLISHED, RunRecord
    from .store import make_engine

    if not reason.strip():
        raise UsageError("--reason: say why the release is withdrawn; the reason is published")
    now = now or datetime.now(timezone.utc).replace(microsecond=0)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    run = RunRecord(paths.run_log, "withdraw", as_of.isoformat(), "")
    engine = make_engine(settings["DATABASE_URL"])
    try:
        with publisher_lock(paths, run):
            _make_whole_before(engine, paths, as_of)
            with engine.begin() as conn:  # the moment the release stops being served
                releases = Register(conn).complete_releases()
                if not releases or releases[-1]["as_of"] != as_of:
                    latest = releases[-1]["id"] if releases else "none"
                    raise UsageError(f"only the latest release can be withdrawn (it is {latest}); a past date is "
                                     f"corrected with `congkhai correct`")
                before = releases[-2]["as_of"] if len(releases) > 1 else None
                count = _correct_and_rewind(conn, as_of, before, reason.strip(), now)
            back_to = before.isoformat() if before else None
            _point_back(paths, as_of.isoformat(), back_to, reason.strip(), now)
    except UsageError as error:
        run.finish(FAILED, str(error))
        raise
    finally:
        engine.dispose()
    run.finish(PUBLISHED, withdrawn=as_of.isoformat(), back_to=back_to, corrections=count, reason=reason.strip())
    return Withdrawal(as_of.isoformat(), back_to, count)


def _make_whole_before(engine, paths: Paths, as_of: date) -> None:
    """The release that is to serve again, brought back from the archive first when it was moved
    there (a second withdrawal in a row): withdrawing never switches to files that are not there."""
    from .compact import make_whole

    with engine.connect() as conn:
        releases = Register(conn).complete_releases()
    if len(releases) > 1 and releases[-1]["as_of"] == as_of:
        try:
            make_whole(paths, releases[-2]["id"])
        except ArchiveError as error:
            raise UsageError(f"release {releases[-2]['id']} cannot serve again: {error}") from None


def _correct_and_rewind(conn, as_of: date, before: date | None, reason: str, now: datetime) -> int:
    """Corrections for what the release changed, then the history as it was before it."""
    changes = Register(conn).release_changes(as_of, before)
    why = f"release of {as_of.isoformat()} withdrawn: {reason}"
    for change in changes:
        record_correction(conn, change.key, as_of, None, change.change.before, why, SOURCE, now=now,
                          until_next_release=True)
    conn.execute(update(C).where(C.c.recorded_in_release.is_(None), C.c.source == SOURCE)
                 .values(recorded_in_release=as_of.isoformat()))  # published by the withdrawal itself
    rewind(conn, as_of)
    conn.execute(update(R).where(R.c.as_of == as_of).values(state=WITHDRAWN))
    return len(changes)


def _point_back(paths: Paths, release_id: str, back_to: str | None, reason: str, now: datetime) -> None:
    """`current` at the release that serves again (or none), and the index entry marked."""
    import json

    from .archive import INDEX, CURRENT, switch_current, write_atomic

    link = paths.releases / CURRENT
    if back_to is not None:
        switch_current(paths.releases, back_to)
    elif link.is_symlink():
        os.unlink(link)
    path = paths.releases / INDEX
    index = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {"releases": []}
    for entry in index["releases"]:
        if entry["id"] == release_id:
            entry["withdrawn"] = {"at": now.isoformat().replace("+00:00", "Z"), "reason": reason}
    index["current"] = back_to
    write_atomic(path, (json.dumps(index, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
