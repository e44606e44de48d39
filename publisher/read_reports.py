"""A day's reports read and validated, each province in one job: in worker processes when the input
is national-size, through the row memo of the last run, with the garbage collector held off while a
million records are built. The pipeline's first step; bench/read.py times it alone."""
from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from . import memo
from .errors import Problem, ReportError
from .read import read_report
from .validate import default_check, validate_report

# Below this many bytes of reports, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 4_000_000


def read_one(job: tuple[str, Path, date, str, Path | None]):
    """One province: its validated report, or the Problem that makes it unreadable. With a memo
    directory, rows the last run validated are recalled and this run's are remembered."""
    code, path, as_of, mojibake, memo_dir = job
    check = default_check(mojibake)
    province_memo = memo.load(memo_dir, code, check.schema_digest, mojibake)
    try:  # a streamed report's damaged row is met while validating
        validated = validate_report(read_report(path, code, as_of, stream=True), as_of, check, province_memo)
    except ReportError as error:
        problem = error.problem
        return Problem(problem.source, problem.message, problem.line, problem.field, code)
    if province_memo is not None:
        memo.save(memo_dir, code, check.schema_digest, mojibake, province_memo)
    return validated


def _read_one_apart(job):
    """read_one in a worker process: a fresh one per report, so each holds one province's rows."""
    with no_garbage_collection():
        return read_one(job)


def read_all(found: dict[str, Path], as_of: date, mojibake: str = "repair", memo_dir: Path | None = None):
    """Read and validate every report, on every core for a national-size input (largest first, so
    the big provinces do not finish last); results arrive as they complete. The workers start at
    once, before the first result is asked for (Reading: the publisher loads the register meanwhile).

    The workers are forked from a small server process, not from this one, and each reads one
    report and exits: a worker forked from the publisher would share, and count in its resident
    size, everything the publisher holds, and one that read report after report would keep the
    high-water mark of the largest (about 1.2 GB each at a million employers, instead of a few
    hundred MB)."""
    from multiprocessing import get_context

    jobs = sorted(((code, path, as_of, mojibake, memo_dir) for code, path in found.items()),
                  key=lambda j: -j[1].stat().st_size)
    workers = min(os.cpu_count() or 1, 4, len(jobs))
    if workers < 2 or sum(j[1].stat().st_size for j in jobs) < PARALLEL_MIN_BYTES:
        return map(read_one, jobs)
    context = get_context("forkserver")
    context.set_forkserver_preload([__name__])
    pool = context.Pool(workers, maxtasksperchild=1)
    return _until_done(pool, pool.imap_unordered(_read_one_apart, jobs))


def _until_done(pool, results):
    """The results, then the pool shut down (also when the reader stops early or is closed)."""
    try:
        yield from results
    finally:
        pool.terminate()
        pool.join()


class Reading:
    """A day's reports found and being read: `outcomes` yields each province's ValidatedReport or
    the Problem that makes it unreadable, `problems` are those of the directory itself. Made
    before the register is loaded, so that the workers read while the publisher loads it."""

    def __init__(self, input_dir: Path, as_of: date, mojibake: str = "repair", memo_dir: Path | None = None):
        from .read import discover_reports

        self.found, self.problems = discover_reports(input_dir)
        self.outcomes = read_all(self.found, as_of, mojibake, memo_dir)

    def close(self) -> None:
        """Stop the workers, if the run ends before every report was read."""
        close = getattr(self.outcomes, "close", None)
        if close is not None:
            close()


@contextmanager
def no_garbage_collection():
    """Building a million records makes no reference cycles, yet the collector would walk the
    growing heap again and again, in this process and in forked workers (copying every page it
    touches); it stays off while the reports are read and frozen objects are left alone. Inside
    frozen_heap() what the block built stays frozen when it ends."""
    import gc

    if not gc.isenabled():  # already inside such a block
        yield
        return
    outer = gc.get_freeze_count() > 0
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        # What the block built joins the frozen objects: left in the youngest generation, the
        # first collection after it walked them all (2 s at a million employers).
        gc.freeze()
        gc.enable()
        if not outer:
            gc.unfreeze()  # into the oldest generation, walked only by a full collection


@contextmanager
def frozen_heap():
    """Collections go on for new objects only until the block ends: what is alive when it starts,
    and what no_garbage_collection() blocks within it build, is left alone. The register before a
    release and the release's records are tens of millions of objects that are never garbage while
    it is published, yet the first full collection after they were built walked them all (2 s at a
    million employers, in whichever step came next)."""
    import gc

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
