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


def read_all(found: dict[str, Path], as_of: date, mojibake: str = "repair", memo_dir: Path | None = None):
    """Read and validate every report, on every core for a national-size input (largest first, so
    the big provinces do not finish last); results arrive as they complete."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    jobs = sorted(((code, path, as_of, mojibake, memo_dir) for code, path in found.items()),
                  key=lambda j: -j[1].stat().st_size)
    workers = min(os.cpu_count() or 1, 4, len(jobs))
    if workers < 2 or sum(j[1].stat().st_size for j in jobs) < PARALLEL_MIN_BYTES:
        yield from map(read_one, jobs)
        return
    with no_garbage_collection(), ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        for future in as_completed([pool.submit(read_one, job) for job in jobs]):
            yield future.result()


@contextmanager
def no_garbage_collection():
    """Building a million records makes no reference cycles, yet the collector would walk the
    growing heap again and again, in this process and in forked workers (copying every page it
    touches); it stays off while the reports are read and frozen objects are left alone."""
    import gc

    if not gc.isenabled():  # already inside such a block
        yield
        return
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()

