"""Step 2: turn raw cells into typed, normalised values and check every row against the Table Schema.

Messy-but-meaningful forms are normalised first (Vietnamese thousands dots, numeric cells, tax codes
that lost their leading zero, NFD text); the schema in datasets/ then decides what is valid. A row
that fails is quarantined as one Reject per offending field, never published.

Invisible characters are removed from every text field (`visible_text`): a right-to-left override
(U+202E) or another bidirectional control would make a name display as a different name than it
is, and a zero-width space or joiner would make two names that look the same differ (or hide a
name from search). No Vietnamese text needs them, so they are stripped rather than rejected.
"""
from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from frictionless import Schema

from congkhai.config import DATASETS_DIR
from congkhai.taxcode import InvalidTaxCode, parse_tax_code
from congkhai.text import clean, fold

from .read import cell_text
from .records import AMOUNT_FIELDS, COLUMNS, TOTALLED_FIELDS, RawRow, Record, Reject, Report

REPORT_SCHEMA = DATASETS_DIR / "schemas" / "report.schema.json"
HEADER_OF = {name: header for header, name in COLUMNS.items()}
HEADER_OF["evasion_decision_date"] = "Quyết định trốn đóng"

_VN_GROUPED = re.compile(r"^\d{1,3}(\.\d{3})+$")
_EN_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+$")
_ZERO_DECIMALS = re.compile(r"^(.*\d)[,.]0{1,2}$")
_DATE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_EMPTY_MARKS = {"", "-", "–", "—"}
_INVISIBLE = {"Cf", "Cc"}  # format characters (bidi controls, zero-width, soft hyphen) and control characters


class CellError(ValueError):
    pass


@dataclass(frozen=True)
class RowCheck:
    """The schema's per-field cell readers, compiled once per run."""
    readers: dict

    @classmethod
    def from_schema(cls, path: Path = REPORT_SCHEMA) -> "RowCheck":
        schema = Schema.from_descriptor(str(path))
        return cls({field.name: field.create_cell_reader() for field in schema.fields})


@lru_cache(maxsize=4)
def default_check() -> RowCheck:
    return RowCheck.from_schema()


def visible_text(value) -> str:
    """A text cell as `cell_text` reads it, without the invisible characters that could spoof a name."""
    text = cell_text(value)
    if text.isprintable():  # the usual case, checked in C
        return text
    return clean("".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE))


def parse_integer(value, empty=0):
    """'1.234.567', '1,234,567', 1234567, 1234567.0, '' -> int; anything else raises CellError."""
    if value is None:
        return empty
    if isinstance(value, bool):
        raise CellError("not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or not value.is_integer():
            raise CellError(f"{value!r} is not a whole number")
        return int(value)
    if isinstance(value, (date, datetime)):
        raise CellError("a date where a number was expected")
    text = clean(value).replace(" ", "")
    if text in _EMPTY_MARKS:
        return empty
    decimals = _ZERO_DECIMALS.match(text)
    if decimals and not _VN_GROUPED.match(text) and not _EN_GROUPED.match(text):
        text = decimals.group(1)
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if _VN_GROUPED.match(digits):
        digits = digits.replace(".", "")
    elif _EN_GROUPED.match(digits):
        digits = digits.replace(",", "")
    if not digits.isdigit():
        raise CellError(f"{clean(value)!r} is not a whole number")
    return -int(digits) if negative else int(digits)


def parse_decision(value, as_of: date) -> tuple[str | None, date | None]:
    """'Số 123/QĐ-TTr ngày 05/03/2026' -> (text, date); a decision must carry its date."""
    if isinstance(value, (datetime, date)):
        raise CellError("only a date: the decision's number is missing")
    text = visible_text(value)
    if text in _EMPTY_MARKS:
        return None, None
    match = _DATE.search(text)
    if not match:
        raise CellError("the decision's date (dd/mm/yyyy) is missing")
    day, month, year = (int(g) for g in match.groups())
    try:
        decided = date(year, month, day)
    except ValueError:
        raise CellError(f"{match.group(0)!r} is not a date") from None
    if decided > as_of:
        raise CellError(f"decision dated {decided:%d/%m/%Y}, after the report's date")
    return text, decided


@lru_cache(maxsize=1024)
def _names_a_household(ownership_type: str) -> bool:
    return "ho kinh doanh" in fold(ownership_type)


def is_household(ownership_type: str, name: str) -> bool:
    """'Hộ kinh doanh' as the ownership type or at the start of the name. Only a name's first words
    are folded, and the few ownership types are folded once each: this runs for every row."""
    return _names_a_household(ownership_type) or fold(name[:20]).startswith("ho kinh doanh")


def validate_row(row: RawRow, province_code: str, as_of: date, check: RowCheck) -> tuple[Record | None, list[Reject]]:
    """One raw row -> a Record, or the Rejects that say which fields are wrong and why."""
    cells = row.cells
    values: dict = {}
    errors: list[tuple[str, str, str]] = []  # field name, raw value, reason

    def take(name, parse):
        raw = cells.get(HEADER_OF[name])
        try:
            values[name] = parse(raw)
        except (CellError, InvalidTaxCode) as error:
            errors.append((name, cell_text(raw), str(error)))

    for name in ("name", "address"):
        values[name] = visible_text(cells.get(HEADER_OF[name]))
    for name in ("ownership_type", "sector", "enforcement_stage"):
        # A few dozen distinct values over a million rows: one shared string each saves ~100 MB a field.
        values[name] = sys.intern(visible_text(cells.get(HEADER_OF[name])))
    take("unit_code", lambda raw: cell_text(raw).upper().replace(" ", ""))
    household = is_household(values["ownership_type"], values["name"])
    take("tax_code", lambda raw: parse_tax_code(raw, household=household))
    take("employees", lambda raw: parse_integer(raw, empty=None))
    for name in AMOUNT_FIELDS + ("months_late",):
        take(name, parse_integer)
    raw_decision = cells.get(HEADER_OF["evasion_decision"])
    try:
        values["evasion_decision"], values["evasion_decision_date"] = parse_decision(raw_decision, as_of)
    except CellError as error:
        errors.append(("evasion_decision", cell_text(raw_decision), str(error)))

    failed = {name for name, _, _ in errors}
    for name, reader in check.readers.items():
        if name in failed:
            continue
        value = values.get(name)
        if name == "tax_code":
            value = value.value
        cell = "" if value is None else value
        _, notes = reader(cell)
        if notes:
            errors.append((name, cell_text(cells.get(HEADER_OF[name])) if name != "evasion_decision_date" else str(value),
                           "; ".join(notes.values())))
    if not errors and values["months_late"] > 0 and sum(values[n] for n in AMOUNT_FIELDS) == 0:
        errors.append(("months_late", str(values["months_late"]), "months in arrears without any arrears amount"))
    if errors:
        return None, [Reject(row.source, row.line, HEADER_OF[name], raw, reason, province_code)
                      for name, raw, reason in errors]
    record = Record(
        source=row.source, line=row.line, province_code=province_code,
        unit_code=values["unit_code"], tax=values["tax_code"], name=values["name"], address=values["address"],
        ownership_type=values["ownership_type"], sector=values["sector"], employees=values["employees"],
        arrears_bhxh=values["arrears_bhxh"], arrears_bhyt=values["arrears_bhyt"], arrears_bhtn=values["arrears_bhtn"],
        months_late=values["months_late"], evasion_decision=values["evasion_decision"],
        evasion_decision_date=values["evasion_decision_date"], enforcement_stage=values["enforcement_stage"] or None,
    )
    return record, []


@dataclass
class ValidatedReport:
    report: Report
    records: list[Record]
    rejects: list[Reject]
    rows_read: int
    rejected_rows: int
    column_sums: dict            # field -> sum over every row whose cell could be read
    unreadable: dict             # field -> rows whose cell could not be read as a number


def validate_report(report: Report, as_of: date, check: RowCheck | None = None) -> ValidatedReport:
    check = check or default_check()
    records, rejects = [], []
    rows_read, rejected_rows = len(report.rows), 0
    sums = {name: 0 for name in TOTALLED_FIELDS}
    unreadable = {name: 0 for name in TOTALLED_FIELDS}
    for row in report.rows:
        record, row_rejects = validate_row(row, report.province_code, as_of, check)
        if record is not None:
            records.append(record)
            for name in TOTALLED_FIELDS:
                sums[name] += getattr(record, name) or 0
        else:
            rejects.extend(row_rejects)
            rejected_rows += 1
            for name in TOTALLED_FIELDS:
                try:
                    sums[name] += parse_integer(row.cells.get(HEADER_OF[name])) or 0
                except CellError:
                    unreadable[name] += 1
    report.rows = []  # raw cells are no longer needed; free them before the next province is read
    return ValidatedReport(report, records, rejects, rows_read, rejected_rows, sums, unreadable)
