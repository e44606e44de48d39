"""A small streaming XLSX writer for the release workbook, and the guard that sizes a report
workbook before it is read (at the end of this module).

openpyxl spends about 4 µs a cell (a million-row list takes minutes), so the workbook's sheets are
written here as SpreadsheetML straight into the zip, one sheet at a time: inline strings, numbers,
booleans and dates, a bold frozen header row. Every member carries the release's timestamp, so the
same release gives the same bytes. Formula neutralisation is the caller's job: this module writes
text as text (never a formula), but a spreadsheet user could still re-enter it. The sample
generator also writes provincial reports with it: amounts in thousands as exact decimals, and
merged cells (two-row headers, title lines).
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

MAX_ROWS = 1_048_576  # Excel's limit, header included
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_ESCAPES = {"\r": "&#13;"}
_SPECIAL = re.compile("[&<>\r]")
_COMPRESS_LEVEL = 1  # level 6 makes the file a quarter smaller but the lists half again slower
_EPOCH = date(1899, 12, 30)
_FLUSH_ROWS = 2000
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')
_BOLD, _DATE = 1, 2
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COLUMNS = list(_LETTERS) + [a + b for a in _LETTERS for b in _LETTERS]  # A..ZZ


def _text(value: str, attributes: str) -> str:
    if not value.isprintable():
        value = _ILLEGAL.sub("", value)
    space = ' xml:space="preserve"' if value != value.strip() else ""
    if _SPECIAL.search(value):
        value = escape(value, _ESCAPES)
    return f'<c{attributes} t="inlineStr"><is><t{space}>{value}</t></is></c>'


def _cell(value, ref: str, bold: bool) -> str:
    """One cell at `ref` ('B7'); an empty value writes nothing."""
    if value is None:
        return ""
    attributes = f' r="{ref}" s="{_BOLD}"' if bold else f' r="{ref}"'
    if isinstance(value, str):
        return _text(value, attributes)
    if isinstance(value, bool):
        return f'<c{attributes} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c{attributes}><v>{value}</v></c>'
    if isinstance(value, Decimal):  # written as it reads ('1234.567'), never through a binary float
        return f'<c{attributes}><v>{value:f}</v></c>'
    if isinstance(value, date) and not isinstance(value, datetime):
        return f'<c r="{ref}" s="{_DATE}"><v>{(value - _EPOCH).days}</v></c>'
    return _text(str(value), attributes)


class Sheet:
    """One worksheet being streamed into the workbook; rows beyond Excel's limit are refused."""

    def __init__(self, stream, freeze_header: bool):
        self._stream = stream
        self._pending: list[str] = []
        self._merged: list[str] = []
        self.rows = 0
        self.closed = False
        pane = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>') if freeze_header else ""
        self._pending.append(f'{_XML}<worksheet xmlns="{_MAIN}">{pane}<sheetData>')

    def append(self, values, bold: bool = False) -> None:
        if self.rows >= MAX_ROWS:
            raise ValueError(f"a sheet holds at most {MAX_ROWS:,} rows")
        if len(values) > len(COLUMNS):
            raise ValueError(f"a row holds at most {len(COLUMNS)} cells here")
        self.rows += 1
        row = self.rows
        cells = "".join(_cell(value, f"{column}{row}", bold) for column, value in zip(COLUMNS, values))
        self._pending.append(f'<row r="{row}">{cells}</row>')
        if len(self._pending) >= _FLUSH_ROWS:
            self._flush()

    def merge(self, first_row: int, first_column: int, last_row: int, last_column: int) -> None:
        """Merge a range of cells (rows from 1, columns from 0), e.g. a header label over the
        columns below it; the value stays in the first cell."""
        if (first_row, first_column) == (last_row, last_column):
            return
        self._merged.append(f"{COLUMNS[first_column]}{first_row}:{COLUMNS[last_column]}{last_row}")

    def _flush(self) -> None:
        self._stream.write("".join(self._pending).encode("utf-8"))
        self._pending.clear()

    def close(self) -> None:
        self._pending.append("</sheetData>")
        if self._merged:
            refs = "".join(f'<mergeCell ref="{ref}"/>' for ref in self._merged)
            self._pending.append(f'<mergeCells count="{len(self._merged)}">{refs}</mergeCells>')
        self._pending.append("</worksheet>")
        self._flush()
        self._stream.close()
        self.closed = True


class Workbook:
    """Sheets are written one after another; `order` in `add_sheet` sets where each appears."""

    def __init__(self, path, created: datetime, creator: str):
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self._stamp = max(created.replace(tzinfo=None), datetime(1980, 1, 1))
        self._creator = creator
        self._sheets: list[tuple[int, str, str]] = []  # (order, title, member)
        self._open: Sheet | None = None

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self._stamp.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info._compresslevel = _COMPRESS_LEVEL
        info.external_attr = 0o644 << 16
        return info

    def add_sheet(self, title: str, order: int | None = None, freeze_header: bool = True) -> Sheet:
        if self._open is not None and not self._open.closed:
            raise RuntimeError("close the previous sheet before adding another")
        if len(title) > 31 or any(ch in title for ch in "[]:*?/\\"):
            raise ValueError(f"invalid sheet name {title!r}")
        member = f"xl/worksheets/sheet{len(self._sheets) + 1}.xml"
        self._sheets.append((len(self._sheets) if order is None else order, title, member))
        self._open = Sheet(self._zip.open(self._info(member), "w", force_zip64=True), freeze_header)
        return self._open

    def _write(self, name: str, text: str) -> None:
        self._zip.writestr(self._info(name), text.encode("utf-8"))

    def close(self) -> None:
        sheets = sorted(self._sheets, key=lambda sheet: sheet[0])
        entries = "".join(f'<sheet name={quoteattr(title)} sheetId="{n}" r:id="rId{n}"/>'
                          for n, (_order, title, _member) in enumerate(sheets, 1))
        rels = "".join(f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="{member[3:]}"/>'
                       for n, (_order, _title, member) in enumerate(sheets, 1))
        rels += f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        overrides = "".join(f'<Override PartName="/{member}" ContentType="application/'
                            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                            for _order, _title, member in sheets)
        stamp = self._stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        self._write("[Content_Types].xml", (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'{overrides}</Types>'))
        self._write("_rels/.rels", (
            f'{_XML}<Relationships xmlns="{_PKG_REL}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
            'metadata/core-properties" Target="docProps/core.xml"/></Relationships>'))
        self._write("docProps/core.xml", (
            f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:creator>{escape(self._creator)}</dc:creator>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>'))
        self._write("xl/workbook.xml", f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{entries}</sheets></workbook>')
        self._write("xl/_rels/workbook.xml.rels", f'{_XML}<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>')
        self._write("xl/styles.xml", _STYLES)
        self._zip.close()


# Reading guard. A report workbook is a zip of XML; calamine (native code) builds a dense grid of
# every cell between A1 and the last one, so a small file can ask for gigabytes and abort the whole
# process. What a report may expand to is checked here, from the central directory and one streamed
# pass over each worksheet's XML, before calamine sees the file. The limits leave room for the
# largest province (215,000 rows by 14 columns, ~90 MB of sheet XML) several times over.
MAX_UNCOMPRESSED_BYTES = 1 << 30    # all members together, as the central directory declares them
MAX_SHEET_COLUMNS = 100             # a report has 14 columns; CV is the last column read
MAX_SHEET_CELLS = 16_000_000        # rows x columns of a sheet's grid: ~1.5 GB once read into Python
MAX_UNCOMPUTED = 10_000             # formulas without a cached value, each rejecting its row
_CHUNK = 1 << 20
_OVERLAP = 4096                     # bytes kept between chunks so a tag cut in two is still seen
_SPREADSHEET = "{%s}" % _MAIN
_OFFICE_REL = "{%s}id" % _REL
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?"')
# The forms Excel, LibreOffice and openpyxl write (`<row r="7"`, `<c r="B7"`) are scanned with
# literal-prefix patterns, which the regex engine runs at memory speed (0.1 s per 100 MB). A chunk
# holding any other form (a namespace prefix, attributes in another order, cells without `r`) is
# scanned again with the slower general patterns.
_ROW_PLAIN = re.compile(rb'<row r="(\d{1,9})"')
_UNUSUAL = re.compile(rb'<row(?! r=")[\s>/]|<c(?! r=")[\s>/]|<\w+:(?:row|c)[\s>/]')
_TWO_LETTERS = re.compile(rb'<c r="([A-Z]{2,4})\d')
# `<c r="` followed by a column letter after the n-th: the search for a wider column than seen.
_LETTER_AFTER = [re.compile(b'<c r="[' + bytes([66 + n]) + b'-Z]') for n in range(25)]
_ROW_ANY = re.compile(rb'<(?:\w+:)?row\s[^>]*?\br\s*=\s*["\'](\d{1,9})')
_CELL_ANY = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br\s*=\s*["\']([A-Z]{1,4})\d')
_CELL_TAG = re.compile(rb'<(?:\w+:)?c[\s>/]')
# A formula cell whose cached value is missing or empty: calamine would read it as an empty cell.
_UNCOMPUTED = re.compile(rb'<(?:\w+:)?c\s[^>]*?r="([A-Z]{1,3})(\d{1,7})"[^>]*>\s*<(?:\w+:)?f\b(?:[^>]*/>|[^>]*>([^<]*)'
                         rb'</(?:\w+:)?f>)\s*(?:<(?:\w+:)?v\s*/>|<(?:\w+:)?v>\s*</(?:\w+:)?v>)?\s*</(?:\w+:)?c>')


# A cell of type "e": a formula's error value (`<c r="B7" t="e"><f>..</f><v>#REF!</v></c>`), which
# calamine reads as an empty cell, that is as 0 đồng.
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s([^>]*?\bt\s*=\s*["\']e["\'][^>]*)(?<!/)>(?:(?!</(?:\w+:)?c>).)*?'
                         rb'<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>', re.DOTALL)
_CELL_REF = re.compile(rb'\br\s*=\s*["\']([A-Z]{1,3})(\d{1,7})["\']')


def column_number(letters: str) -> int:
    """'A' -> 1, 'N' -> 14, 'XFD' -> 16384."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


class WorkbookRefused(ValueError):
    """A workbook that must not be handed to the reader; the message says which limit it passes."""


@dataclass
class SheetSize:
    """What one worksheet of a report holds, found without building its grid."""
    name: str
    visible: bool
    member: str | None      # None for a chart sheet, which holds no cells
    rows: int = 0
    columns: int = 0
    uncomputed: dict = field(default_factory=dict)  # (row, column index from 0) -> formula text
    errors: dict = field(default_factory=dict)      # (row, column index from 0) -> error value ('#REF!')
    row_tags: int = 0       # rows seen in chunks of an unusual form


def inspect_workbook(data: bytes) -> list[SheetSize]:
    """The worksheets of an XLSX file in workbook order, each checked against the limits above;
    raises WorkbookRefused saying which limit a file passes."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        members = book.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise WorkbookRefused(f"not a readable XLSX workbook ({error})") from None
    expanded = sum(member.file_size for member in members)
    if expanded > MAX_UNCOMPRESSED_BYTES:
        raise WorkbookRefused(f"expands to {expanded:,} bytes uncompressed, more than the limit of "
                              f"{MAX_UNCOMPRESSED_BYTES:,}: a damaged or hostile file")
    try:
        sheets = _sheet_members(book)
        result = []
        for name, visible, member in sheets:
            size = SheetSize(name, visible, member)
            if member is not None:
                _scan_sheet(book, member, size)
            result.append(size)
        _verify_sizes(book, {member for _, _, member in sheets})
    except zipfile.BadZipFile as error:  # includes a member whose declared size or CRC is false
        raise WorkbookRefused(f"not a readable XLSX workbook ({error})") from None
    except (KeyError, ElementTree.ParseError) as error:
        raise WorkbookRefused(f"not a readable XLSX workbook (workbook.xml: {error})") from None
    return result


def _sheet_members(book: zipfile.ZipFile) -> list[tuple[str, bool, str | None]]:
    """(name, visible, zip member) of each sheet listed in xl/workbook.xml."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    targets = {}
    try:
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        for rel in rels:
            target = rel.get("Target", "")
            targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    except KeyError:
        pass
    names = set(book.namelist())
    sheets = []
    for sheet in workbook.iter(_SPREADSHEET + "sheet"):
        member = targets.get(sheet.get(_OFFICE_REL))
        sheets.append((sheet.get("name", ""), sheet.get("state", "visible") == "visible",
                       member if member in names else None))
    return sheets


def _scan_sheet(book: zipfile.ZipFile, member: str, size: SheetSize) -> None:
    """One streamed pass over a worksheet's XML: declared dimension, last row and column, formulas
    without a cached value. zipfile stops at the declared size and checks the CRC, so a member
    that lies about its size fails here instead of expanding further."""
    tail = b""
    first = True
    with book.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            text = tail + chunk
            if first:
                first = False
                dimension = _DIMENSION.search(text)
                if dimension:
                    _check_dimension(size.name, dimension)
            _scan_chunk(text, size)
            if size.columns > MAX_SHEET_COLUMNS or size.rows * max(size.columns, 1) > MAX_SHEET_CELLS:
                break
            tail = text[-_OVERLAP:]
    if size.columns > MAX_SHEET_COLUMNS:
        raise WorkbookRefused(f"sheet {size.name!r} has cells in column {size.columns:,}, beyond the limit of "
                              f"{MAX_SHEET_COLUMNS} columns")
    if size.rows * max(size.columns, 1) > MAX_SHEET_CELLS:
        raise WorkbookRefused(f"sheet {size.name!r} spans {size.rows:,} rows by {size.columns:,} columns, more than "
                              f"the limit of {MAX_SHEET_CELLS:,} cells")


def _scan_chunk(text: bytes, size: SheetSize) -> None:
    if _UNUSUAL.search(text) is None:
        numbers = _ROW_PLAIN.findall(text)
        if numbers:
            size.rows = max(size.rows, int(max(numbers, key=lambda n: (len(n), n))))
        while size.columns < 26 and (wider := _LETTER_AFTER[max(size.columns, 1) - 1].search(text)):
            size.columns = wider.group()[-1] - 64
        if b'<c r="' in text and _TWO_LETTERS.search(text):
            for letters in set(_TWO_LETTERS.findall(text)):
                size.columns = max(size.columns, column_number(letters.decode()))
    else:
        # Rows without a number follow the one before: counted over the whole sheet (a few twice,
        # in the overlap between chunks, which errs on the safe side).
        size.row_tags += len(re.findall(rb"<(?:\w+:)?row[\s>]", text))
        size.rows = max([size.rows, size.row_tags, *(int(n) for n in _ROW_ANY.findall(text))])
        for letters in set(_CELL_ANY.findall(text)):
            size.columns = max(size.columns, column_number(letters.decode()))
        # Cells without a reference stand one after another: their count in a row is its width.
        widths = [len(_CELL_TAG.findall(part)) for part in re.split(rb"<(?:\w+:)?row[\s>]", text)[1:]]
        size.columns = max([size.columns, *widths])
    if b't="e"' in text or b"t='e'" in text:
        for match in _ERROR_CELL.finditer(text):
            where = _CELL_REF.search(match.group(1))
            if where is not None:
                key = (int(where.group(2)), column_number(where.group(1).decode()) - 1)
                size.errors[key] = (match.group(2) or b"#ERROR!").decode("utf-8", "replace").strip()
    if b"<f" in text or b":f" in text:
        for match in _UNCOMPUTED.finditer(text):
            key = (int(match.group(2)), column_number(match.group(1).decode()) - 1)
            size.uncomputed[key] = (match.group(3) or b"").decode("utf-8", "replace")
        if len(size.uncomputed) > MAX_UNCOMPUTED:
            raise WorkbookRefused(f"sheet {size.name!r} holds more than {MAX_UNCOMPUTED:,} formulas without a "
                                  f"computed value: open the workbook in a spreadsheet program and save it, "
                                  f"so each value is stored")


def _check_dimension(sheet: str, match) -> None:
    first_col, first_row, last_col, last_row = match.groups()
    if last_col is None:
        return
    rows = int(last_row) - int(first_row) + 1
    columns = column_number(last_col.decode()) - column_number(first_col.decode()) + 1
    ref = match.group(0).split(b'"')[1].decode()
    if columns > MAX_SHEET_COLUMNS or rows * columns > MAX_SHEET_CELLS:
        raise WorkbookRefused(f"sheet {sheet!r} declares the range {ref} ({rows:,} rows by {columns:,} columns), "
                              f"more than the limit of {MAX_SHEET_CELLS:,} cells or {MAX_SHEET_COLUMNS} columns; "
                              f"save the report again with only the rows and columns it uses")


def _verify_sizes(book: zipfile.ZipFile, scanned: set) -> None:
    """Every other member (shared strings, styles...) decompressed once, without keeping it, so a
    false declared size is caught before calamine trusts it."""
    for member in book.infolist():
        if member.filename in scanned or member.is_dir():
            continue
        with book.open(member) as stream:
            while stream.read(_CHUNK):
                pass
