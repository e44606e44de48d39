"""Step 5 (database): write a release into the shared database in one transaction.

Only what changed is written: new employers, changed attributes, and for each change one interval
closed and one opened. A re-run of the latest date first undoes that date's release inside the same
transaction, so the result is the same as if it had run once.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from datetime import date

from sqlalchemy import bindparam, create_engine, delete, event, insert, select, update
from sqlalchemy.engine import Engine

from congkhai.register import Register
from congkhai.register.figures import figures_after
from congkhai.register.employers import ATTRIBUTES, attributes_digest
from congkhai.register.tables import E, I, R
from congkhai import migrations
from congkhai.models import Commendation, DailyResult
from congkhai.rules.changes import State, release_summary
from congkhai.taxcode import mask_personal_id, personal_id_hash

from .records import BuiltRelease, Record

D = DailyResult.__table__
CM = Commendation.__table__
BATCH = 20_000
ANALYZE_AFTER = 10_000  # rows a release adds before the planner's statistics are refreshed


def make_engine(url: str) -> Engine:
    """Engine with the settings a batch writer and many readers need (WAL on SQLite)."""
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        if engine.url.database and engine.url.database != ":memory:":
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record):
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    return engine


def init_db(engine: Engine) -> None:
    """Create or upgrade the schema through the migrations (never `create_all`), on every engine, so
    the one path production takes is the one every test database takes."""
    migrations.upgrade(engine)


@dataclass
class Previous:
    """The register as the new release finds it."""
    release: dict | None              # the latest complete release before the new date
    same_date: dict | None            # an earlier run of the same date, if any
    later: dict | None                # a release after the new date (publishing would rewrite history)
    states: dict[str, State]          # key -> state in the previous release
    employers: dict[str, tuple]       # key -> (id, province_code, digest of the attributes)
    disqualified: set[str]            # keys in arrears within the commendation window
    followed: set[str]                # keys the register has followed since the window began


def load_previous(conn, as_of: date, window_start: date) -> Previous:
    register = Register(conn)
    same, later, before = register.releases_around(as_of)  # a withdrawn later release is no obstacle
    employers, states = register.employers_and_states(before["as_of"] if before is not None else None)
    return Previous(dict(before) if before else None, dict(same) if same else None, dict(later) if later else None,
                    states, employers, register.disqualified_keys(window_start, as_of),
                    register.followed_since(window_start))


def reader(engine: Engine, name: str):
    """A Register read for the build, on a connection of its own per call: the build asks a few of
    them (PreviousView.recall: `last_known`, `unit_owners`, `unit_keys`) at most a few times a run."""
    def read(*args):
        with engine.connect() as conn:
            return getattr(Register(conn), name)(*args)
    return read


def rewind(conn, as_of: date) -> None:
    """The history as it was before the release of `as_of` (the latest): its daily results, the
    status and honour-roll intervals it opened removed, those it closed open again."""
    conn.execute(delete(D).where(D.c.as_of == as_of))
    for table in (I, CM):
        conn.execute(delete(table).where(table.c.valid_from == as_of))
        conn.execute(update(table).where(table.c.valid_to == as_of).values(valid_to=None))


def undo_release(conn, as_of: date) -> None:
    """Remove the release of `as_of` (the latest) and reopen what it closed."""
    rewind(conn, as_of)
    from congkhai.corrections import C  # what this release published waits for its re-run
    orphans = select(E.c.id).where(~select(I.c.id).where(I.c.employer_id == E.c.id).exists(),
                                   ~select(C.c.id).where(C.c.employer_id == E.c.id).exists())  # corrections name it
    conn.execute(delete(E).where(E.c.id.in_(orphans)))
    conn.execute(update(C).where(C.c.recorded_in_release == as_of.isoformat()).values(recorded_in_release=None))
    conn.execute(delete(R).where(R.c.as_of == as_of))


def _employer_row(record: Record) -> dict:
    household = record.is_household
    return {
        "key": record.key, "tax_code": record.tax_code, "unit_code": record.unit_code,
        "personal_id_hash": personal_id_hash(record.tax.value) if household else None,
        "personal_id_masked": mask_personal_id(record.tax.value) if household else None,
        "name": record.name, "address": record.address, "ownership_type": record.ownership_type,
        "sector": record.sector, "employees": record.employees, "province_code": record.province_code,
    }


def _interval_row(employer_id: int, as_of: date, state: State) -> dict:
    return {"employer_id": employer_id, "valid_from": as_of, "valid_to": None, **state._asdict()}


def _batches(rows: list):
    for start in range(0, len(rows), BATCH):
        yield rows[start:start + BATCH]


def bulk_insert(conn, table, rows: list[dict]) -> None:
    """Insert many rows: PostgreSQL's COPY (measured 1.0 s instead of 2.4 s for 50,000 employers with
    SQLAlchemy's batched INSERT), one executemany elsewhere. All rows have the same keys; the
    caller's transaction covers both."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[name] for name in names])
    finally:
        cursor.close()


def close_intervals(conn, employer_ids: list[int], as_of: date, progress=None, table=I) -> None:
    """End the open interval of each employer that changed (in `table`, the status intervals or the
    honour roll's). On PostgreSQL in one set-based UPDATE
    joined to a temporary table filled by COPY: row by row, after a first release had loaded a million
    intervals that nothing had analysed yet, each UPDATE chose a bitmap scan over every open interval
    and the next-day release spent 439 s here (BENCHMARKS.md)."""
    if conn.dialect.name != "postgresql":
        for batch in _batches(employer_ids):
            conn.execute(update(table).where(table.c.employer_id == bindparam("b_employer"), table.c.valid_to.is_(None))
                         .values(valid_to=as_of), [{"b_employer": employer_id} for employer_id in batch])
            if progress:
                progress(len(batch))
        return
    if not employer_ids:
        return
    conn.exec_driver_sql("CREATE TEMPORARY TABLE closing_employers (employer_id bigint PRIMARY KEY) ON COMMIT DROP")
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy("COPY closing_employers (employer_id) FROM STDIN") as copy:
            for employer_id in employer_ids:
                copy.write_row((employer_id,))
    finally:
        cursor.close()
    conn.exec_driver_sql("ANALYZE closing_employers")
    intervals = conn.dialect.identifier_preparer.quote(table.name)
    conn.exec_driver_sql(f"UPDATE {intervals} AS i SET valid_to = %(as_of)s FROM closing_employers AS c "
                         "WHERE i.employer_id = c.employer_id AND i.valid_to IS NULL", {"as_of": as_of})
    conn.exec_driver_sql("DROP TABLE closing_employers")
    if progress:
        progress(len(employer_ids))


def previous_facts(conn, previous: Previous, built: BuiltRelease, changed_keys: list[str]) -> dict | None:
    """Key -> (province, sector, ownership type) before this release, of every known employer whose
    state or facts it changes: what `figures_for` takes out of the previous release's figures.
    None when those figures cannot be carried forward (see `figures_for`), or a release after them
    was withdrawn."""
    figures = (previous.release or {}).get("figures")
    if previous.same_date is not None or not figures \
            or figures["stages"]["months_min"] != built.policy.inspection_min_months:
        return None
    withdrawn_since = select(R.c.id).where(R.c.state != "complete", R.c.as_of > previous.release["as_of"])
    if conn.execute(withdrawn_since.limit(1)).first() is not None:
        return None  # a withdrawn release rewound the history but not the employers' facts it changed
    keys = sorted(({c.key for c in built.changes} | set(changed_keys)) & previous.employers.keys())
    found = {}
    for batch in _batches(keys):
        query = select(E.c.key, E.c.province_code, E.c.sector, E.c.ownership_type).where(E.c.key.in_(batch))
        found.update((key, (province, sector, ownership)) for key, province, sector, ownership in conn.execute(query))
    return found


def figures_for(conn, built: BuiltRelease, previous: Previous, records: dict, known_before: dict | None) -> dict:
    """The figures the release's pages read (FigureReads.release_figures): the previous release's
    carried forward through the day's changes when they can be (`figures_after`), else counted
    from the register (the first release, a re-run, a release after one published before figures
    were kept or after a withdrawal, or a changed inspection threshold)."""
    if known_before is None:
        return Register(conn).release_figures(built.as_of, built.policy.inspection_min_months)
    # By the database step the build has let go of the previous states (a million of them): the
    # changes carry what was before, and an employer whose facts alone changed kept its state.
    changes = {c.key: c for c in built.changes}
    leaving, arriving = [], []
    for key in changes.keys() | known_before.keys():
        change, record = changes.get(key), records.get(key)
        before, after = (change.before, change.after) if change else ((record.state(),) * 2 if record else (None,) * 2)
        if before is not None and key in known_before:
            leaving.append((*known_before[key], before))
        if after is not None:
            facts = (record.province_code, record.sector, record.ownership_type) if record else known_before[key]
            arriving.append((*facts, after))
    roll = Counter(records[key].province_code for key in built.commendable)
    return figures_after(previous.release["figures"], leaving, arriving, dict(roll))


def write_honour_roll(conn, members: set[int], as_of: date) -> None:
    """The release's honour roll, the set its files publish, as intervals: those who left it closed,
    those who joined opened, so a day's roll is read, never recomputed over every history."""
    on_roll = set(conn.execute(select(CM.c.employer_id).where(CM.c.valid_to.is_(None))
                               .execution_options(yield_per=BATCH)).scalars())
    close_intervals(conn, sorted(on_roll - members), as_of, table=CM)
    for batch in _batches(sorted(members - on_roll)):
        bulk_insert(conn, CM, [{"employer_id": employer_id, "valid_from": as_of, "valid_to": None}
                               for employer_id in batch])


def analyze(conn) -> None:
    """Refresh the planner's statistics of the tables a release loads in bulk, inside the release's
    transaction. PostgreSQL's autovacuum would analyse them only later, and until then the planner
    plans the next release's and the portal's queries for the empty tables it last saw. SQLite has
    none unless asked: without them it counted a province's honour roll by walking every compliant
    employer of the country (0.74 s at a million employers; 0.2 s for Hà Nội and 3 ms for a small
    province with them, which ANALYZE gathers in about half a second)."""
    quote = conn.dialect.identifier_preparer.quote
    for table in (E, I, CM):
        conn.exec_driver_sql(f"ANALYZE {quote(table.name)}")


def attribute_changes(known: dict[str, tuple], records: list[Record]) -> tuple[list[str], list[str]]:
    """Keys of employers not known before, and of known ones whose name, address... changed."""
    new, changed = [], []
    for record in records:
        row = known.get(record.key)
        if row is None:
            new.append(record.key)
        elif row[2] != attributes_digest(tuple(getattr(record, a) for a in ATTRIBUTES)):
            changed.append(record.key)
    return new, changed


def employer_refs(conn, keys: list[str]) -> dict:
    """What files and feeds may say of employers that a release no longer reports."""
    from congkhai.feeds import EmployerRef

    refs = {}
    for batch in _batches(keys):
        query = select(E.c.key, E.c.name, E.c.province_code, E.c.tax_code, E.c.personal_id_masked, E.c.sector)
        for row in conn.execute(query.where(E.c.key.in_(batch))).mappings():
            refs[row["key"]] = EmployerRef(row["key"], row["name"], row["province_code"],
                                           row["tax_code"] or row["personal_id_masked"] or "", row["sector"])
    return refs


def write_release(conn, built: BuiltRelease, previous: Previous, datapackage_sha256: str | None,
                  progress=None, employer_changes: tuple[list[str], list[str]] | None = None) -> None:
    """Write the release; the caller owns the transaction (commit makes it current, all at once).

    `employer_changes` is attribute_changes() when the caller already has it."""
    as_of = built.as_of
    if previous.same_date is not None:
        undo_release(conn, as_of)
        previous.employers = Register(conn).employers_and_states(None)[0]
        employer_changes = None
    new_keys, changed_keys = employer_changes or attribute_changes(previous.employers, built.records)
    known_before = previous_facts(conn, previous, built, changed_keys)
    # Only the records this step reads, not a second index of a million (the step's peak memory).
    wanted = {*new_keys, *changed_keys, *(c.key for c in built.changes), *(known_before or ()), *built.commendable}
    records = {r.key: r for r in built.records if r.key in wanted}
    # Rows are made batch by batch: a million dicts at once would double the run's peak memory.
    for batch in _batches(new_keys):
        bulk_insert(conn, E, [_employer_row(records[key]) for key in batch])
        if progress:
            progress(len(batch))
    for batch in _batches(changed_keys):
        conn.execute(update(E).where(E.c.id == bindparam("b_id")).values({a: bindparam(a) for a in ATTRIBUTES}),
                     [{"b_id": previous.employers[key][0], **{a: getattr(records[key], a) for a in ATTRIBUTES}}
                      for key in batch])
    new_ids: dict[str, int] = {}
    for batch in _batches(new_keys):
        new_ids.update(conn.execute(select(E.c.key, E.c.id).where(E.c.key.in_(batch))).all())

    def id_of(key: str) -> int:  # looked up, not copied from previous.employers into a dict of a million
        found = new_ids.get(key)
        return previous.employers[key][0] if found is None else found

    closing = [c for c in built.changes if c.before is not None]
    opening = [c for c in built.changes if c.after is not None]
    close_intervals(conn, [id_of(c.key) for c in closing], as_of, progress)
    for batch in _batches(opening):
        bulk_insert(conn, I, [_interval_row(id_of(c.key), as_of, c.after) for c in batch])
        if progress:
            progress(len(batch))
    write_honour_roll(conn, {id_of(key) for key in built.commendable}, as_of)
    if len(new_keys) + len(opening) >= ANALYZE_AFTER:
        analyze(conn)
    figures = {**figures_for(conn, built, previous, records, known_before), "changes": release_summary(built.changes)}
    conn.execute(insert(R).values(
        id=built.id, as_of=as_of, created_at=built.created_at, state="complete", partial=built.partial,
        provinces=built.provinces, missing_provinces=built.missing_provinces, policy=built.policy.to_dict(),
        counts=built.counts(), input_digest=built.input_digest, datapackage_sha256=datapackage_sha256,
        verification=built.verification, figures=figures))
    if built.results:
        conn.execute(insert(D), [{"release_id": built.id, "province_code": code, "as_of": as_of, **row}
                                 for code, row in sorted(built.results.items())])


def store_release(engine: Engine, built: BuiltRelease, previous: Previous, datapackage_sha256: str | None,
                  progress=None, employer_changes=None, before_commit=None) -> None:
    """The database step: the release and the corrections it publishes, in one transaction, the
    moment the release becomes current for the portal. `before_commit()` runs last inside it (the
    search index installed): if it fails, nothing is committed."""
    from congkhai.corrections import publish_pending

    with engine.begin() as conn:
        write_release(conn, built, previous, datapackage_sha256, progress=progress, employer_changes=employer_changes)
        publish_pending(conn, built.id)
        if before_commit is not None:
            before_commit()


def results_from_history(conn, release: dict, previous_day: date | None) -> dict[str, dict]:
    """A release's daily results recomputed from the status history (for releases published before
    the publisher wrote them): the same `daily_results` over the same states and changes."""
    from congkhai.rules.results import daily_results

    register = Register(conn)
    day = release["as_of"]
    states = register.province_states(day, release["provinces"] if release["partial"] else None)
    changes = ((c.province_code, c.change) for c in register.release_changes(day, previous_day)
               if c.province_code in release["provinces"]) if previous_day else ()
    return daily_results(states, changes, release["provinces"])


def backfill_results(conn, progress=None) -> list[str]:
    """Write the daily results of every complete release that has none; returns their ids."""
    have = set(conn.execute(select(D.c.release_id).distinct()).scalars())
    written, previous = [], None
    for release in Register(conn).complete_releases():
        if release["id"] not in have:
            rows = results_from_history(conn, release, previous)
            conn.execute(insert(D), [{"release_id": release["id"], "province_code": code, "as_of": release["as_of"],
                                      **row} for code, row in sorted(rows.items())])
            written.append(release["id"])
            if progress:
                progress(1)
        previous = release["as_of"]
    return written


__all__ = ["Previous", "bulk_insert", "init_db", "load_previous", "make_engine", "store_release", "undo_release", "write_release"]
