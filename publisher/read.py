"""Step 1: read the provincial reports (CSV or XLSX) into raw rows, as the agency's staff export them.

Reading is forgiving about layout (title lines above the header, a totals row, signature lines
below it, BOM, column order) and strict about identity: the file name's province code, the title's
province and date, and the exact column headers. The title lines' province and dates are checked
by publisher.titles.
"""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from pathlib import Path

from congkhai.provinces import by_code
from congkhai.text import clean

from . import layout
from .errors import Problem, ReportError
from .layout import GRAND_TOTAL, GROUP, SUBTOTAL, HeaderProblem
from .records import CANONICAL_HEADER, Marker, RawRow, Report
from .titles import check_title
from .xlsx import COLUMNS, SheetSize, WorkbookRefused, inspect_workbook

REPORT_SUFFIXES = (".csv", ".xlsx")
HEADER_SEARCH_ROWS = 30
_CODE = re.compile(r"^(\d{2})(?:[-_ .].*)?$")
# A unit code as written in its cell; a label ('Cộng', 'Tổng cộng') in that column is not one.
_UNIT_CODE_CELL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{1,31}$")


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


def read_report(path: Path, province_code: str, as_of: date | None = None, stream: bool = False) -> Report:
    """Read one report; raises ReportError naming the file (and row) when it cannot be used.

    With `stream`, a CSV report's `rows` is an iterator read from the file as it is consumed
    (once), so a large report never sits in memory as raw rows; its totals are known when the
    rows are exhausted, and a damaged row raises ReportError from the iteration."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        data = path.read_bytes()
        rows, issues, merged, sheet = _xlsx_rows(path, data)
        report = _layout(path.name, iter(rows), province_code, "xlsx", as_of, issues, merged)
        report.sha256 = hashlib.sha256(data).hexdigest()
        report.sheet = sheet
        return report
    with path.open("rb") as handle:
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    report = _layout(path.name, _csv_rows(path), province_code, "csv", as_of, stream=stream)
    report.sha256 = sha256
    return report


@dataclass(frozen=True)
class Unreadable:
    """A cell that cannot be taken at face value (a formula without its value, a merged cell, a
    NUL character, a damaged export's giant field). Validation rejects its row with `reason`;
    `text` is what the rejects report shows of it."""
    text: str
    reason: str

    def __str__(self) -> str:
        return self.text


# A field this long is a quote left open (the rest of the file read as one cell), not a value.
MAX_FIELD_CHARS = 1 << 20
# Longer cells are rejected (the schema allows 1,000 characters at most); the rejects report
# shows their first characters only.
MAX_CELL_CHARS = 10_000
_SHOWN_CHARS = 60
_DELIMITERS = (",", ";", "\t")


# A carriage return that does not start a CRLF: the line end of an old Mac export, or a line
# break typed inside a cell.
_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")


def _physical_lines(handle):
    """The file's lines ended by LF, CRLF or a lone CR, each with its end, as Python splits a file
    opened with newline='' (what the csv module asks for): csv.reader reads a quoted cell's line
    breaks back into the cell. Splitting the bytes is safe in UTF-8, where no multi-byte character
    holds the byte 0D; a line whose only CR is its CRLF (the usual case) is passed on as it is."""
    for raw in handle:
        cr = raw.find(b"\r")
        if cr < 0 or (cr == len(raw) - 2 and raw[-1:] == b"\n"):
            yield raw
        else:
            yield from filter(None, _LONE_CR.split(raw))


def _decoded_lines(source: str, handle):
    """The file's lines as text, decoded one by one so a bad byte is reported at its row."""
    offset = 0
    for number, raw in enumerate(_physical_lines(handle), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ReportError(Problem(source, f"not UTF-8 text (byte {offset + error.start}); save the report as "
                                              f"CSV UTF-8", line=number)) from None
        if number == 1 and line.startswith("\ufeff"):
            line = line[1:]
        offset += len(raw)
        yield line


def _delimiter(head: list[str]) -> str:
    """Comma, semicolon (Excel's CSV where the decimal mark is a comma) or tab: the one that splits
    a line of the first rows into the report's header."""
    for delimiter in _DELIMITERS:
        if any(_is_header(values) for values in csv.reader(head, delimiter=delimiter)):
            return delimiter
    return ","


def _csv_rows(path: Path):
    """The rows of a CSV report, read line by line from the file (closed when they are exhausted)."""
    with path.open("rb") as handle:
        lines = _decoded_lines(path.name, handle)
        head = list(itertools.islice(lines, HEADER_SEARCH_ROWS))
        csv.field_size_limit(MAX_FIELD_CHARS)
        reader = None
        try:  # the head is parsed first, to find the delimiter: its errors are the file's too
            reader = csv.reader(itertools.chain(head, lines), delimiter=_delimiter(head))
            yield from reader
        except csv.Error as error:
            raise ReportError(Problem(path.name, f"unreadable CSV ({error}): a field longer than {MAX_FIELD_CHARS:,} "
                                                 f"characters usually means a quote (\") is not closed",
                                      line=reader.line_num if reader else None)) from None


def _xlsx_rows(path: Path, data: bytes) -> tuple[list, dict, dict, str]:
    """The rows of the first visible worksheet that carries the report's header, read with
    calamine (Rust): ten times openpyxl's speed, which is about 40 s saved on a national run. Empty
    cells come back as ''. The workbook is sized first (publisher.xlsx.inspect_workbook), and the
    cells calamine cannot show as they are, formulas without a value, error values (which calamine
    reads as empty) and merged cells, are returned as two maps of (row, column index) -> Unreadable,
    with the sheet's name."""
    from python_calamine import CalamineWorkbook

    try:
        sizes = inspect_workbook(data)
    except WorkbookRefused as error:
        raise ReportError(Problem(path.name, str(error))) from None
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        chosen, sheet = _report_sheet(path.name, book, sizes)
        rows = sheet.to_python(skip_empty_area=False)
        merged = sheet.merged_cell_ranges or []
    except ReportError:
        raise
    except Exception as error:  # calamine raises its own types for a damaged or foreign file
        raise ReportError(Problem(path.name, f"not a readable XLSX workbook ({error.__class__.__name__}: {error})")) from None
    covered: dict[int, list] = {}  # row -> (first, last column index, issue): one entry a row, not a cell
    for (top, left), (bottom, right) in merged:
        issue = Unreadable("", f"merged with cell {COLUMNS[left]}{top + 1}: every row must carry its own values; "
                               f"unmerge the cells and fill them in")
        for line in range(top + 1, bottom + 2):
            covered.setdefault(line, []).append((left + 1 if line == top + 1 else left, right, issue))
    issues = {key: Unreadable(f"={formula}", "formula without a computed value: open the workbook in a spreadsheet "
                                             "program and save it, so each value is stored")
              for key, formula in chosen.uncomputed.items()}
    issues.update((key, error_value(text)) for key, text in chosen.errors.items())
    return rows, issues, covered, chosen.name


def _report_sheet(source: str, book, sizes: list[SheetSize]):
    """(size, sheet) of the first visible sheet with the header: a hidden sheet is last month's copy
    or a working sheet, never the report, and two visible sheets with the header are two reports in
    one file. Hidden sheets are opened only to explain a workbook without a visible report."""
    def carrying(candidates):
        found = []
        for size in candidates:
            sheet = book.get_sheet_by_name(size.name)
            if any(_is_header(values) for values in sheet.to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS)):
                found.append((size, sheet if not found else None))
        return found

    worksheets = [s for s in sizes if s.member is not None]
    visible = carrying([s for s in worksheets if s.visible])
    if len(visible) > 1:
        raise ReportError(Problem(source, f"visible sheets {', '.join(repr(s.name) for s, _ in visible)} all carry "
                                          f"the report's header: leave the report on one visible sheet"))
    if visible:
        return visible[0]
    hidden = carrying([s for s in worksheets if not s.visible])
    if hidden:
        raise ReportError(Problem(source, f"the report's header is only on hidden sheet(s) "
                                          f"{', '.join(repr(s.name) for s, _ in hidden)}: a hidden sheet is not read"))
    shown = [s for s in worksheets if s.visible]
    if not shown:
        raise ReportError(Problem(source, "the workbook has no visible worksheet"))
    return shown[0], book.get_sheet_by_name(shown[0].name)


def _is_empty(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _is_header(values, province_code: str | None = None) -> bool:
    return layout.is_header_row(values, layout.conventions(), province_code)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _kind(cells: dict) -> str:
    """What a row below the header is: an employer's (layout.DATA) whenever it carries a tax code or
    a unit code, else what its label says (a group, a subtotal, the grand total). A row without
    codes whose label is none of those stays data, for validation to reject: an employer's row
    is never skipped as a heading. "Tổng công ty Sông Đà" is a name, "Tổng cộng" a total."""
    tax = cells.get("Mã số thuế")
    if tax.__class__ is str and tax and not tax.isspace() or tax is not None and tax.__class__ is not str:
        return layout.DATA
    unit = cells.get("Mã đơn vị")
    if not _blank(unit) and _UNIT_CODE_CELL.match(clean(unit) if isinstance(unit, str) else str(unit)):
        return layout.DATA
    label = layout.row_label(cells.get("STT"), cells.get("Tên đơn vị"), unit if isinstance(unit, str) else None)
    return layout.row_kind(label, layout.conventions())


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


# What Excel, LibreOffice and Google Sheets show, and write into a CSV, for a formula that failed.
_SPREADSHEET_ERROR = re.compile(r"\s*(#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A|GETTING_DATA|SPILL!|CALC!|FIELD!|"
                                r"BLOCKED!|CONNECT!|BUSY!|UNKNOWN!|EXTERNAL!|PYTHON!|ERROR!)|Err:\d{3})\s*",
                                re.IGNORECASE)


def error_value(text: str) -> Unreadable:
    """A spreadsheet's error value (#REF!, #N/A...): no amount, no name, never an empty cell."""
    return Unreadable(text, f"spreadsheet error value {text} (a formula that failed) where a value belongs: "
                            f"correct the formula or type the value, and save the report again")


def cell_issue(value):
    """An Unreadable for a text cell that is too long, holds a NUL or is a spreadsheet's error
    value, else None. A NUL ends a string in PostgreSQL and in C libraries, and many of them mean a
    UTF-16 file or a damaged export; other invisible characters are validation's to strip."""
    if not isinstance(value, str):
        return None
    if ("#" in value or "Err:" in value) and (error := _SPREADSHEET_ERROR.fullmatch(value)):
        return error_value(error.group(1).upper())
    if value.isprintable() and len(value) <= MAX_CELL_CHARS:
        return None
    if len(value) > MAX_CELL_CHARS:
        return Unreadable(_shown(value), f"a cell of {len(value):,} characters, more than the {MAX_CELL_CHARS:,} "
                                         f"a report's cell may hold (a damaged export?)")
    nul = value.find("\x00")
    if nul < 0:
        return None
    return Unreadable(_shown(value.replace("\x00", "\\x00")),
                      f"holds a NUL character (U+0000) at character {nul + 1}: remove it (a file saved as UTF-16, "
                      f"or damaged, is full of them)")


def _layout(source: str, rows, province_code: str, fmt: str, as_of: date | None,
            issues: dict | None = None, merged: dict | None = None, stream: bool = False) -> Report:
    """Titles and header, read now (their errors are the file's); the data rows and totals after
    them as a list, or with `stream` as an iterator over `rows` (an iterator). `issues` maps
    (row, column index), and `merged` maps a row to spans of column indexes, to the Unreadable
    that replaces those cells."""
    conv = layout.conventions()
    titles: list[tuple[int, str]] = []  # (row, text) of each line above the header
    seen: list[tuple[int, list]] = []
    report = Report(source=source, province_code=province_code, format=fmt, rows=[], layout_version=conv.version)
    for line, values in enumerate(rows, start=1):
        if layout.is_header_row(values, conv, province_code):
            below = next(rows, None)
            try:
                header = layout.read_header(values, below, line, conv, province_code)
            except HeaderProblem as error:
                raise ReportError(Problem(source, str(error), line=error.line)) from None
            if below is not None and len(header.rows) == 1:
                rows = itertools.chain([below], rows)
            check_title(report, titles, province_code, fmt, as_of)
            report.title_lines = [text for _, text in titles]
            report.header = header
            report.scale, report.unit = _unit(source, titles, header, conv)
            data = _data_rows(report, rows, header.rows[-1], header, issues or {}, merged or {})
            report.rows = data if stream else list(data)
            return report
        if line >= HEADER_SEARCH_ROWS:
            break
        if not _is_empty(values):
            seen.append((line, values))
            titles.append((line, " ".join(n for v in values if v is not None and (n := cell_text(v)))))
    raise ReportError(_no_header(source, seen, conv, province_code))


def _no_header(source: str, seen: list[tuple[int, list]], conv, province_code: str) -> Problem:
    """Which row looked most like the header, what it held, what is missing and the closest words."""
    if not seen:
        return Problem(source, f"no header row found in the first {HEADER_SEARCH_ROWS} rows: they are empty")
    line, values = layout.best_header_guess(seen, conv, province_code)
    columns = layout.header_columns_for_hint(values, conv, province_code)
    found = {c.field for c in columns}
    missing = [group for group in layout.REQUIRED if not found & set(group)]
    text = layout.describe_missing(columns, missing, conv, conv.labels(province_code))
    return Problem(source, f"no header row found in the first {HEADER_SEARCH_ROWS} rows; the likeliest, row {line}: "
                           f"{text}", line=line)


def _unit(source: str, titles: list[tuple[int, str]], header, conv) -> tuple[int, str]:
    """(scale, words) of the unit the amounts are written in: the title's 'Đơn vị tính', or the
    amount headers' '(nghìn đồng)'; đồng when neither says. Two units that disagree refuse the report."""
    declared = layout.declared_unit(titles, conv)
    in_headers = {c.scale for c in header.columns if c.scale is not None and c.field in layout.AMOUNT_FIELDS}
    if len(in_headers) > 1:
        raise ReportError(Problem(source, "the amount columns' headers name different units: write every amount in "
                                          "one unit", line=header.rows[0]))
    if declared and in_headers and in_headers != {declared[2]}:
        raise ReportError(Problem(source, f"the title says amounts are in {declared[1]} but the headers name another "
                                          f"unit: correct one of them", line=declared[0]))
    if declared:
        return declared[2], declared[1]
    if in_headers:
        scale = in_headers.pop()
        return scale, next(w for w, s in conv.scales.items() if s == scale)
    return 1, ""


def _data_rows(report: Report, rows, header_line: int, header, issues: dict, merged: dict):
    """RawRows below the header down to the grand total, which is kept on the report, with a Marker
    for each group and subtotal row; what stands below the grand total is checked to be no data.
    A row numbering the columns right under the header is skipped. Merged cells are let alone in
    total, subtotal and group rows, whose labels are usually merged across their first cells."""
    source = report.source
    # A row's cells hold the report's columns only, by their canonical headers: a column the report
    # lacks is absent (every reader asks with .get), so the standard layout's rows cost what they did.
    present = {CANONICAL_HEADER[name]: index for name, index in header.fields.items()}
    headers = tuple(present)
    width = max(present.values()) + 1
    pick = itemgetter(*present.values())
    first = True
    for line, values in enumerate(rows, start=header_line + 1):
        if _is_empty(values):
            continue
        if first:
            first = False
            if layout.is_column_numbers(values, layout.conventions()):
                report.column_numbers_line = line
                continue
        if len(values) >= width:
            cells = dict(zip(headers, pick(values)))
        else:  # a short row (trailing empty cells left out)
            cells = {h: (values[index] if index < len(values) else None) for h, index in present.items()}
        if report.totals is not None:
            _check_below_totals(report, line, cells)
            continue
        kind = _kind(cells)
        spans = None if kind != layout.DATA else merged.get(line)
        if kind == layout.DATA and not spans and not issues and _plain_text(cells.values()):
            yield RawRow(source, line, cells)
            continue
        for h, index in present.items():
            issue = issues.get((line, index)) if issues else None
            if spans and issue is None:
                issue = next((found for left, right, found in spans if left <= index <= right), None)
            issue = issue or cell_issue(cells[h])
            if issue is not None:
                cells[h] = issue
        if kind == GRAND_TOTAL:
            report.totals = cells
            report.totals_line = line
            continue  # below the totals stand signatures and notes, checked to be no data
        if kind in (GROUP, SUBTOTAL):
            label = layout.row_label(cells.get("STT"), cells.get("Tên đơn vị"), cells.get("Mã đơn vị"))
            yield Marker(kind, line, label, cells, layout.is_top_group(label, layout.conventions()))
            continue
        yield RawRow(source, line, cells)


def _check_below_totals(report: Report, line: int, cells: dict) -> None:
    """Below the grand total stand signatures and notes. A second total or a row that carries data
    means the total stood in the middle of the table (a pasted block, a subtotal labelled as the
    total): reading on, or stopping there, would publish a shorter list, so the report is refused."""
    kind = _kind(cells)
    if kind == GRAND_TOTAL:
        raise ReportError(Problem(report.source, f"a second grand total (the first is row {report.totals_line}): "
                                                 f"a report has one, at the end of its table", line=line))
    if kind == layout.DATA and _carries_data(cells):
        raise ReportError(Problem(report.source, f"data below the grand total of row {report.totals_line}: a report's "
                                                 f"table ends at its grand total ('Tổng cộng'); move the total below "
                                                 f"the last employer (a subtotal is labelled 'Cộng …')", line=line))


_NUMERIC_HEADERS = tuple(CANONICAL_HEADER[name] for name in layout.SUMMED_FIELDS + ("months_late",))
_DIGITS = re.compile(r"^-?[\d.,\s]+$")


def _carries_data(cells: dict) -> bool:
    """A tax or unit code, or a number in an amount column: what an employer's row has and a
    signature line ("Người lập biểu", "Hà Nội, ngày 25 tháng 11 năm 2026") has not."""
    code = cells.get("Mã số thuế")
    if code not in (None, "") and sum(ch.isdigit() for ch in str(code)) >= 9:
        return True
    unit = cells.get("Mã đơn vị")
    if isinstance(unit, str) and _UNIT_CODE_CELL.match(unit.strip()) and any(ch.isdigit() for ch in unit):
        return True
    for header in _NUMERIC_HEADERS:
        value = cells.get(header)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if isinstance(value, str) and _DIGITS.match(value) and any(ch.isdigit() for ch in value):
            return True
    return False


def _plain_text(values) -> bool:
    """True when no cell of a row can have an issue, which is what cell_issue says of each cell,
    checked at once (and in C): its text cells, put together, are printable and short."""
    joined = "".join([value for value in values if value.__class__ is str])
    return len(joined) <= MAX_CELL_CHARS and joined.isprintable() and "#" not in joined and "Err:" not in joined


def cell_text(value) -> str:
    """A cell as text, the way a person reads it (dates dd/mm/yyyy, integral floats without '.0')."""
    if value is None:
        return ""
    if isinstance(value, (datetime, date)):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Unreadable):
        return value.text
    return clean(value)
