"""Errors of a publishing run: the problems that refuse a report or the run (each names the file,
the row and the field it is about), a request that cannot be done (UsageError, exit status 2) and a
fault that stopped the run (RunFailed, with the sentence an operator can act on)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One reason the run cannot publish (or cannot publish a province)."""
    source: str          # file name, or '' for the whole run
    message: str
    line: int | None = None
    field: str | None = None
    province_code: str | None = None

    def __str__(self) -> str:
        where = self.source or "input"
        if self.line is not None:
            where += f", row {self.line}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.message}"


class ReportError(Exception):
    """A report file cannot be read at all (encoding, missing headers, wrong province...)."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


class VerificationError(Exception):
    """The run fails and publishes nothing; `problems` says exactly why."""

    def __init__(self, problems: list[Problem], reports: dict | None = None):
        self.problems = problems
        self.reports = reports or {}  # province -> what was read of its report, for `congkhai inspect`
        super().__init__("; ".join(str(p) for p in problems[:5]) + (
            f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""))


class UsageError(Exception):
    """The run was asked for something that cannot be done (exit status 2)."""


class RunFailed(Exception):
    """A fault stopped the run (full disk, lost database, an unexpected error): nothing new is
    published and the current release is unchanged. The message is for the operator, not a traceback."""

    def __init__(self, message: str, step: str | None = None):
        super().__init__(message)
        self.step = step


def describe_fault(error: BaseException, step: str | None) -> str:
    """What went wrong, in one sentence an operator can act on."""
    import errno

    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    where = f" in step '{step}'" if step else ""
    if isinstance(error, DBAPIError):
        detail = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
        if "disk is full" in detail:
            return f"the disk is full{where} (database: {detail}); free space and run again"
        if error.statement is None:
            return f"cannot connect to the database{where} ({detail}); nothing was written to it"
        if error.connection_invalidated:
            return (f"the connection to the database was lost{where} ({detail}); its transaction was not "
                    f"committed, so the database still serves the previous release; run again once it is back")
        return f"database error{where}: {detail}; its transaction was rolled back"
    if isinstance(error, SQLAlchemyError):
        return f"database error{where}: {error}"
    if isinstance(error, OSError):
        name = f" writing {error.filename}" if error.filename else ""
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"the disk is full{where}{name}; free space in the data directory and run again"
        return f"cannot read or write a file{where}{name}: {error.strerror or error}"
    return f"unexpected error{where}: {error.__class__.__name__}: {error}"

