"""Step 1: read the provincial reports (CSV or XLSX) into raw rows, as the agency's staff export them.

Reading is forgiving about layout (title lines above the header, a totals row, signature lines
below it, BOM, column order) and strict about identity: the file name's province code, the title's
province and date, and the exact column headers.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date, datetime
from pathlib import Path

from congkhai.provinces import by_code, find_province
from congkhai.text import clean, fold

from .errors import Problem, ReportError
from .records import HEADERS, RawRow, Report

REPORT_SUFFIXES = (".csv", ".xlsx")
HEADER_SEARCH_ROWS = 30
_CODE = re.compile(r"^(\d{2})(?:[-_ .].*)?$")
_TOTALS_LABEL = re.compile(r"tong cong\s*:?")
_TITLE_DATE = re.compile(r"ng[aà]y\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})", re.IGNORECASE)


def discover_reports(input_dir: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Map province code -> report file; problems for unknown codes, duplicates and stray files."""
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        return {}, [Problem(str(input_dir), "input directory not found")]
    found: dict[str, Path] = {}
    problems = []
    for path in sorted(input_dir.iterdir()):
        if path.name.startswith((".", "~$")) or not path.is_file():
            continue
        if path.suffix.lower() not in REPORT_SUFFIXES:
            problems.append(Problem(path.name, "not a report: expected a .csv or .xlsx file"))
            continue
        code = report_province(path.name)
        if code is None:
            problems.append(Problem(path.name, "file name must start with a province code of datasets/provinces.csv, e.g. 01.xlsx or 79-ho-chi-minh.csv"))
            continue
        if code in found:
            problems.append(Problem(path.name, f"second report for province {code} (first: {found[code].name})"))
            continue
        found[code] = path
    return found, problems


def report_province(name: str) -> str | None:
    """The province code a report's file name starts with (`79-ho-chi-minh.csv` -> '79'), if it is one."""
    match = _CODE.match(Path(name).stem)
    return match.group(1) if match and match.group(1) in by_code() else None


def read_report(path: Path, province_code: str, as_of: date | None = None) -> Report:
    """Read one report; raises ReportError naming the file (and row) when it cannot be used."""
    path = Path(path)
    data = path.read_bytes()
    if path.suffix.lower() == ".xlsx":
        rows, fmt = _xlsx_rows(path, data), "xlsx"
    else:
        rows, fmt = _csv_rows(path, data), "csv"
    report = _layout(path.name, rows, province_code, fmt, as_of)
    report.sha256 = hashlib.sha256(data).hexdigest()
    return report


def _csv_rows(path: Path, data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ReportError(Problem(path.name, f"not UTF-8 text (byte {error.start}); save the report as CSV UTF-8",
                                  line=line)) from None
    return csv.reader(io.StringIO(text, newline=""))


def _xlsx_rows(path: Path, data: bytes):
    """The first worksheet's rows, read with calamine (Rust): ten times openpyxl's speed, which is
    about 40 s saved on a national run. Empty cells come back as ''."""
    from python_calamine import CalamineWorkbook

    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as error:  # calamine raises its own types for a damaged or foreign file
        raise ReportError(Problem(path.name, f"not a readable XLSX workbook ({error.__class__.__name__}: {error})")) from None
    yield from rows


def _is_empty(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _is_totals(cells: dict) -> bool:
    """The "Tổng cộng" row: that label alone in a cell and no tax code. A name such as
    "Tổng công ty Sông Đà" folds to the same letters and must stay a data row."""
    if cells.get("Mã số thuế") not in (None, ""):
        return False
    for header in ("STT", "Tên đơn vị", "Mã đơn vị"):
        value = cells.get(header)
        if isinstance(value, str) and _TOTALS_LABEL.fullmatch(fold(clean(value))):
            return True
    return False


def _layout(source: str, rows, province_code: str, fmt: str, as_of: date | None) -> Report:
    titles: list[tuple[int, str]] = []  # (row, text) of each line above the header
    columns: dict[str, int] | None = None
    report = Report(source=source, province_code=province_code, format=fmt, rows=[])
    for line, values in enumerate(rows, start=1):
        if columns is None:
            names = [clean(v) if v is not None else "" for v in values]
            if "Mã số thuế" in names and "Tên đơn vị" in names:
                columns = _columns(source, line, names)
                _check_title(source, titles, province_code, fmt, as_of)
                report.title_lines = [text for _, text in titles]
            elif line > HEADER_SEARCH_ROWS:
                break
            elif not _is_empty(values):
                titles.append((line, " ".join(n for n in names if n)))
            continue
        if _is_empty(values):
            continue
        cells = {header: (values[index] if index < len(values) else None) for header, index in columns.items()}
        if _is_totals(cells):
            report.totals = cells
            report.totals_line = line
            break  # below the totals stand signatures and notes, not data
        report.rows.append(RawRow(source, line, cells))
    if columns is None:
        raise ReportError(Problem(source, f"no header row found in the first {HEADER_SEARCH_ROWS} rows "
                                          f"(expected the columns {', '.join(HEADERS)})"))
    return report


def _columns(source: str, line: int, names: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in columns:
            raise ReportError(Problem(source, f"column '{name}' appears twice in the header", line=line, field=name))
        if name in HEADERS:
            columns[name] = index
    missing = [h for h in HEADERS if h not in columns]
    if missing:
        raise ReportError(Problem(source, f"header row lacks the column(s) {', '.join(repr(m) for m in missing)}",
                                  line=line))
    return columns


def _check_title(source: str, titles: list[tuple[int, str]], province_code: str, fmt: str,
                 as_of: date | None) -> None:
    """The province and the date named above the header must be the file's; errors give their row."""
    expected = by_code()[province_code]
    named = next(((row, found) for row, text in titles if (found := find_province(text))), None)
    if named is not None and named[1].code != province_code:
        raise ReportError(Problem(source, f"title names {named[1].name} but the file name says province "
                                          f"{province_code} ({expected.name})", line=named[0]))
    if named is None and fmt == "xlsx":
        raise ReportError(Problem(source, f"title lines do not name the province ({expected.name})",
                                  line=titles[0][0] if titles else 1))
    dated = next(((row, m) for row, text in titles if (m := _TITLE_DATE.search(fold(text)))), None)
    if dated and as_of is not None:
        row, match = dated
        day, month, year = (int(g) for g in match.groups())
        try:
            stated = date(year, month, day)
        except ValueError:
            raise ReportError(Problem(source, f"title date {match.group(0)!r} is not a date", line=row)) from None
        if stated != as_of:
            raise ReportError(Problem(source, f"report is as of {stated:%d/%m/%Y}, not the run's date {as_of:%d/%m/%Y}",
                                      line=row))


def cell_text(value) -> str:
    """A cell as text, the way a person reads it (dates dd/mm/yyyy, integral floats without '.0')."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean(value)
