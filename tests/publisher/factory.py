"""Small, exact provincial reports for tests: every messy case is written on purpose here."""
from __future__ import annotations

import csv
import struct
import zipfile
from datetime import date, datetime, time, timezone
from pathlib import Path

from openpyxl import Workbook
from stdnum.vn import mst

from congkhai.provinces import all_provinces, by_code
from publisher.records import HEADERS, TOTALLED_FIELDS, COLUMNS

AS_OF = date(2026, 11, 25)


def moment_on(day: date) -> datetime:
    """Noon UTC of `day` (the evening in Vietnam): a run's clock that lets it publish `day` whatever
    the real date, since a date in the future is refused."""
    return datetime.combine(day, time(12), tzinfo=timezone.utc)


def tax_code(n: int) -> str:
    """The n-th valid 10-digit tax code of a test (bases whose check digit would be 10 are skipped)."""
    base = 10_000_000 + 2 * n
    while len(mst.calc_check_digit(f"{base:09d}")) != 1:
        base += 1
    return f"{base:09d}" + mst.calc_check_digit(f"{base:09d}")


def row(n: int, **overrides) -> dict:
    """A valid compliant row by header; override any header with a keyword using the field name."""
    values = {
        "row_no": n, "unit_code": f"TA{n:04d}A", "tax_code": tax_code(n), "name": f"Công ty TNHH Thử Nghiệm Số {n}",
        "address": f"Số {n} đường Lê Lợi", "ownership_type": "Công ty TNHH", "sector": "Xây dựng", "employees": 10,
        "arrears_bhxh": "", "arrears_bhyt": "", "arrears_bhtn": "", "months_late": "", "evasion_decision": "",
        "enforcement_stage": "",
    }
    values.update(overrides)
    return {header: values[COLUMNS[header]] for header in HEADERS}


def garbled(text: str) -> str:
    """Mojibake as a spreadsheet shows it: UTF-8 bytes read as Windows-1252 ('Công' -> 'CÃ´ng')."""
    import ftfy.bad_codecs  # noqa: F401  (registers 'sloppy-windows-1252', which maps every byte)

    return text.encode("utf-8").decode("sloppy-windows-1252")


def _number(value) -> int:
    """A cell as the office's totals count it: an error value (#REF!) counts for nothing."""
    if value in ("", None) or str(value).startswith("#"):
        return 0
    return int(str(value).replace(".", ""))


def totals(rows: list[dict]) -> dict:
    out = {"STT": "Tổng cộng"}
    for header in HEADERS:
        if COLUMNS[header] in TOTALLED_FIELDS:
            out[header] = sum(_number(r[header]) for r in rows)
    return out


def title_lines(code: str, as_of: date) -> list[str]:
    province = by_code()[code]
    return ["BẢO HIỂM XÃ HỘI VIỆT NAM", f"BẢO HIỂM XÃ HỘI {province.name.upper()}",
            "DANH SÁCH ĐƠN VỊ CHẬM ĐÓNG, TRỐN ĐÓNG BHXH, BHYT, BHTN", f"Tính đến ngày {as_of:%d/%m/%Y}"]


def write_csv(directory: Path, code: str, rows: list[dict], *, with_totals=True, bom=False, titles=None,
              name: str | None = None, totals_row: dict | None = None, delimiter: str = ",") -> Path:
    path = Path(directory) / (name or f"{code}-bao-cao.csv")
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        for line in titles or []:
            writer.writerow([line])
        writer.writerow(HEADERS)
        for r in rows:
            writer.writerow([r[h] for h in HEADERS])
        if with_totals:
            t = totals_row or totals(rows)
            writer.writerow([t.get(h, "") for h in HEADERS])
    return path


def write_xlsx(directory: Path, code: str, rows: list[dict], *, as_of: date = AS_OF, titles=None,
               with_totals=True, name: str | None = None, totals_row: dict | None = None, book=None,
               sheet_title: str | None = None, hidden: bool = False) -> Path:
    """One report sheet; pass `book` (an openpyxl Workbook) to add it as a further sheet."""
    path = Path(directory) / (name or f"{code}.xlsx")
    first = book is None
    book = book or Workbook()
    sheet = book.active if first else book.create_sheet()
    if sheet_title:
        sheet.title = sheet_title
    if hidden:
        sheet.sheet_state = "hidden"
    for line in title_lines(code, as_of) if titles is None else titles:
        sheet.append([line])
    sheet.append([])
    sheet.append(HEADERS)
    for r in rows:
        sheet.append([r[h] if r[h] != "" else None for h in HEADERS])
    if with_totals:
        t = totals_row or totals(rows)
        sheet.append([t.get(h) for h in HEADERS])
    sheet.append([])
    sheet.append(["", "", "", "Người lập biểu", "", "", "", "", "Giám đốc"])
    book.save(path)
    return path


def rewrite_member(path: Path, member: str, change) -> None:
    """Replace one zip member's bytes by change(old bytes): a hostile workbook from a valid one."""
    with zipfile.ZipFile(path) as book:
        contents = {info: book.read(info) for info in book.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for info, data in contents.items():
            book.writestr(info, change(data) if info.filename == member else data)


def declare_size(path: Path, member: str, size: int) -> None:
    """Make the zip's local header and central directory declare `size` uncompressed bytes for
    `member`, as a zip bomb's do, without writing them."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, offset, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            length = struct.unpack_from("<H", data, start + name_at - 4 if signature == b"PK\x03\x04" else start + 28)[0]
            if data[start + name_at:start + name_at + length] == name:
                struct.pack_into("<I", data, start + offset, size)
            start += 4
    path.write_bytes(bytes(data))


def write_all(directory: Path, as_of: date = AS_OF, rows_per_province: int = 3, overrides: dict | None = None,
              skip: tuple = (), keep: int | None = None, omit=()) -> dict[str, list[dict]]:
    """Reports for every province (even codes CSV, odd XLSX); `overrides[(code, i)]` changes one row.
    With `keep`, each report holds only its first `keep` rows, and rows `omit` (code, i) are left
    out: the same employers, in the same provinces, as a fuller day's reports, less those."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    n = 0
    for index, province in enumerate(all_provinces()):
        rows = []
        for i in range(rows_per_province):
            n += 1
            rows.append(row(n, **(overrides or {}).get((province.code, i), {})))
        rows = [r for i, r in enumerate(rows) if (keep is None or i < keep) and (province.code, i) not in omit]
        written[province.code] = rows
        if province.code in skip:
            continue
        if index % 2:
            write_xlsx(directory, province.code, rows, as_of=as_of)
        else:
            write_csv(directory, province.code, rows, titles=title_lines(province.code, as_of))
    return written


def write_table(directory: Path, code: str, table: list[list], fmt: str, *, name: str | None = None,
                merges=(), sheets_before: dict | None = None) -> Path:
    """A report laid out exactly as `table` (title lines, header rows, groups, totals, signatures),
    as CSV or XLSX. XLSX only: `merges` are ranges such as 'E5:H5'; `sheets_before` maps a sheet's
    title to its rows, written in front of the report's sheet (a summary sheet)."""
    path = Path(directory) / (name or f"{code}-bao-cao.{fmt}")
    if fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([["" if v is None else v for v in r] for r in table])
        return path
    book = Workbook()
    first = book.active
    for index, (title, rows) in enumerate((sheets_before or {}).items()):
        sheet = first if index == 0 else book.create_sheet()
        sheet.title = title
        for r in rows:
            sheet.append(r)
    sheet = book.create_sheet("Chi tiết") if sheets_before else first
    for r in table:
        sheet.append([None if v == "" else v for v in r])
    for cells in merges:
        sheet.merge_cells(cells)
    book.save(path)
    return path
