"""Errors of a publishing run. Each names the file, the row and the field it is about."""
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
