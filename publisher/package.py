"""A release's open-data files: CSV lists, JSON Lines, an Excel workbook, feeds, a Frictionless
datapackage.json, SHA256SUMS and its Ed25519 signature.

Everything is written into an empty temporary directory that the caller then installs atomically
(publisher.archive), so readers never see half a release. The same BuiltRelease (with the same
`created_at`) gives the same bytes, so a re-run of a date changes nothing a consumer can see.

This module writes the files in order and makes the workbook from the CSV files; what each table
holds is publisher.tables, the datapackage.json descriptor publisher.datapackage.
"""
from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Iterable

from congkhai.release_format import DATAPACKAGE, seal_release
from congkhai.statuses import COMPLIANT, DELINQUENT, EVADING, LATE, NOTICE, OFFENDER_STATUSES
from congkhai.provinces import all_provinces
from congkhai.rules.classification import listing_reason
from congkhai.rules.results import REPORTED_APART, empty as empty_figures, tally
from congkhai.text import neutralise

from congkhai.feeds import PUBLISHER, EmployerRef, FeedItem, feed_items_for, write_feeds
from .datapackage import build_datapackage, index_entry, license_of, vi_date
from .records import BuiltRelease, Record
from .tables import (HASH_BUFFER, TABLES, CsvTable, change_values, correction_values, employer_values, json_line,
                     load_schema, utc)
from .xlsx import MAX_ROWS, Sheet, Workbook

# Rows per workbook sheet: Excel's limit. The workbook holds the lists; the CSV files hold everything.
XLSX_MAX_ROWS = MAX_ROWS - 1


def _truncated(resource: str, rows: int) -> bool:
    """Whether the resource's sheet in the workbook holds only its first rows."""
    return bool(TABLES[resource][5]) and rows > XLSX_MAX_ROWS


def _province_rows(built: BuiltRelease, stats: dict[str, dict]) -> Iterable[dict]:
    for province in all_provinces():
        counts = stats.get(province.code) or _empty_stats()
        yield {
            "province_code": province.code,
            "province_name": province.name,
            "province_name_en": province.name_en,
            "published": province.code in built.provinces,
            "missing_reason": built.missing_provinces.get(province.code),
            "offenders": counts[DELINQUENT] + counts[EVADING],
            **counts,
        }


_AMOUNTS = (*REPORTED_APART, "arrears_total", "employers_without_fund_split")


def _empty_stats() -> dict:
    """A province's counts before its first employer; its amounts start as the daily results' do
    (congkhai.rules.results: a fund no employer's report gives apart is unknown, not 0)."""
    figures = empty_figures()
    return {**dict.fromkeys(("employers", COMPLIANT, LATE, NOTICE, DELINQUENT, EVADING, "honour_roll_count",
                             "arrears_offenders"), 0), **{name: figures[name] for name in _AMOUNTS}}


def _count(stats: dict, record: Record, commended: bool) -> None:
    counts = stats.get(record.province_code)
    if counts is None:
        counts = stats[record.province_code] = _empty_stats()
    tally(counts, record)
    counts["honour_roll_count"] += commended


def _write_intro_sheet(sheet: Sheet, job: "WorkbookJob", settings: dict) -> None:
    license_ = license_of(settings)
    lines = [
        [f"Danh sách đơn vị chậm đóng, trốn đóng BHXH, BHYT, BHTN tính đến ngày {vi_date(job.as_of)}"],
        [f"Đơn vị công bố: {PUBLISHER}"],
        [f"Giấy phép: {license_['title']} ({license_['path']})"],
        [f"Cổng thông tin: {settings['CONGKHAI_BASE_URL']}"],
        ["Giá trị bắt đầu bằng =, +, -, @ được thêm dấu ' ở đầu để Excel không chạy công thức."],
    ]
    if job.missing_provinces:
        missing = ", ".join(f"{code} ({why})" for code, why in sorted(job.missing_provinces.items()))
        lines.append([f"Công bố một phần: thiếu báo cáo của {missing}."])
    lines.append([])
    lines.append(["Trang", "Nội dung", "Số dòng", "Tệp CSV đầy đủ"])
    for resource, rows in job.table_rows.items():
        if not TABLES[resource][5]:
            continue
        shown = min(rows, XLSX_MAX_ROWS)
        note = f"{shown:,} / {rows:,} (chỉ {shown:,} dòng đầu)".replace(",", ".") if _truncated(resource, rows) \
            else f"{rows:,}".replace(",", ".")
        lines.append([TABLES[resource][5], TABLES[resource][3], note, TABLES[resource][0]])
    for line in lines:
        sheet.append([neutralise(value) for value in line])


def _table_rows(resource: str, built: BuiltRelease, groups: dict, stats: dict, feed_items: list[FeedItem],
                context: tuple) -> Iterable[dict]:
    """The rows of one list resource, in its published order."""
    province_names, commendable, base_url, disputed = context
    if resource in ("delinquent", "evading"):
        ranked = sorted(groups[resource], key=lambda record: (-record.arrears_total, record.key))
        for rank, record in enumerate(ranked, 1):
            values = employer_values(record, province_names, commendable, base_url, disputed)
            values["rank"] = rank
            values["listing_reason"] = listing_reason(record.status, record.months_late, built.policy)
            yield values
    elif resource == "compliant":
        for record in sorted(groups[resource], key=lambda record: (record.province_code, record.key)):
            yield employer_values(record, province_names, commendable, base_url, disputed)
    elif resource == "changes":
        this_release = (item for item in feed_items if item.release_date == built.as_of)
        for item in sorted(this_release, key=lambda item: item.key):
            yield change_values(item, province_names, base_url)
    elif resource == "provinces":
        yield from _province_rows(built, stats)
    elif resource == "results":
        for code, row in sorted(built.results.items()):
            yield {"release_id": built.id, "as_of": built.as_of, "province_code": code,
                   "province_name": province_names.get(code, code), **row}
    elif resource == "corrections":
        for row in built.corrections:
            yield correction_values(row, built.id, base_url)


def _sheet_value(text: str, kind: str):
    """A CSV cell back to the type its schema gives it, for the workbook."""
    if text == "":
        return None
    if kind == "integer":
        return int(text)
    if kind == "number":
        return float(text)
    if kind == "boolean":
        return text == "true"
    if kind == "date":
        return date.fromisoformat(text)
    return text  # already neutralised when the CSV was written


@dataclass(frozen=True)
class WorkbookJob:
    """What the workbook needs of a release besides its CSV files: small, so that a process of its
    own gets it without the release's records."""
    release_id: str
    as_of: date
    created_at: datetime
    missing_provinces: dict
    table_rows: dict  # resource -> rows of its CSV file, in the order the files were written


def write_workbook(job: WorkbookJob, out_dir: Path, settings: dict) -> None:
    """The workbook of the lists, read back from their CSV files: one sheet per list, typed cells,
    at most Excel's row limit each (the CSV holds everything), and an introduction sheet."""
    workbook = Workbook(out_dir / f"congkhai-{job.release_id}.xlsx", utc(job.created_at), PUBLISHER)
    for resource in LIST_RESOURCES:
        fields = load_schema(resource)["fields"]
        kinds = [field["type"] for field in fields]
        sheet = workbook.add_sheet(TABLES[resource][5])
        sheet.append([field["title"] for field in fields], bold=True)
        with (out_dir / TABLES[resource][0]).open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            for row in reader:
                if sheet.rows > XLSX_MAX_ROWS:
                    break
                sheet.append([_sheet_value(text, kind) for text, kind in zip(row, kinds)])
        sheet.close()
    intro = workbook.add_sheet("Giới thiệu", order=-1, freeze_header=False)
    _write_intro_sheet(intro, job, settings)
    intro.close()
    workbook.close()


LIST_RESOURCES = ("delinquent", "evading", "compliant", "changes", "provinces", "corrections")
# From this many employers on, the workbook is written by a second process while this one writes
# employers.csv and .jsonl; below it, starting a process costs more than it saves.
PARALLEL_WORKBOOK_MIN = 50_000


def _groups(built: BuiltRelease) -> tuple[dict, dict]:
    """The records of each list, and per-province counts, in one pass."""
    groups = {"delinquent": [], "evading": [], "compliant": []}
    stats: dict[str, dict] = {}
    commendable = built.commendable
    for record in built.records:
        commended = record.key in commendable
        _count(stats, record, commended)
        if record.status in OFFENDER_STATUSES:
            groups["delinquent"].append(record)
            if record.status == EVADING:
                groups["evading"].append(record)
        if commended:
            groups["compliant"].append(record)
    return groups, stats


def _start_workbook(built: BuiltRelease, out_dir: Path, settings: dict, tables: dict):
    """Write the workbook now, or for a large release in a process of its own while this one writes
    employers.csv and .jsonl; returns a join(). The process is forked from multiprocessing's small
    server, not from this one: a fork of this one would share, and count in its resident size, the
    million records it never reads (spawning would import the caller's main module again)."""
    job = WorkbookJob(built.id, built.as_of, built.created_at, dict(built.missing_provinces),
                      {resource: table.rows for resource, table in tables.items()})
    if len(built.records) < PARALLEL_WORKBOOK_MIN:
        write_workbook(job, out_dir, settings)
        return lambda: None
    import multiprocessing

    process = multiprocessing.get_context("forkserver").Process(target=write_workbook, args=(job, out_dir, settings))
    process.start()

    def join():
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"the workbook writer failed (exit status {process.exitcode}); see its error above")
    return join


def write_data_files(built: BuiltRelease, out_dir: Path, settings: dict, *, feed_items: list[FeedItem],
                     disputed: dict[str, date] | None = None) -> dict:
    """The list CSVs, changes.csv and provinces.csv, then the workbook (made from them, alongside)
    while employers.csv and .jsonl are written.

    Returns {'tables': {resource: rows}, 'xlsx': file name, 'truncated': [sheets], 'sheet_rows': the most
    rows a sheet holds, 'timings': {...}}.
    `feed_items` supplies names for changes.csv (this release's items only are used); `disputed` the
    entries disputed by their employers (key -> since), for the `disputed_since` column.
    """
    timings = {}
    started = time.perf_counter()
    base_url = settings["CONGKHAI_BASE_URL"].rstrip("/")
    province_names = {province.code: province.name for province in all_provinces()}
    commendable = built.commendable
    groups, stats = _groups(built)
    context = (province_names, commendable, base_url, disputed)
    tables = {}
    for resource in LIST_RESOURCES + ("results",):
        table = tables[resource] = CsvTable(out_dir, resource)
        for values in _table_rows(resource, built, groups, stats, feed_items, context):
            table.write(values)
        table.close()
    timings["lists"] = time.perf_counter() - started

    moment = time.perf_counter()
    join_workbook = _start_workbook(built, out_dir, settings, tables)
    employers = tables["employers"] = CsvTable(out_dir, "employers")
    with (out_dir / "employers.jsonl").open("wb", buffering=HASH_BUFFER) as jsonl:
        for record in built.records:
            values = employer_values(record, province_names, commendable, base_url, disputed)
            employers.write(values)
            jsonl.write(json_line(values))
    employers.close()
    timings["employers"] = time.perf_counter() - moment
    join_workbook()
    timings["employers_and_xlsx"] = time.perf_counter() - moment
    return {
        "tables": {resource: table.rows for resource, table in tables.items()},
        "xlsx": f"congkhai-{built.id}.xlsx",
        "truncated": [TABLES[t.resource][5] for t in tables.values() if _truncated(t.resource, t.rows)],
        "sheet_rows": XLSX_MAX_ROWS,
        "timings": timings,
    }


def write_release_files(built: BuiltRelease, out_dir: Path, settings: dict, signer,
                        previous_release_id: str | None, *, feed_items: list[FeedItem] | None = None,
                        removed: dict[str, EmployerRef] | None = None,
                        disputed: dict[str, date] | None = None) -> dict:
    """Write a complete, signed release into the empty directory `out_dir`.

    `removed` names the employers that `built.changes` reports as no longer reported (they are not in
    `built.records`). `feed_items` are the recent changes of earlier releases for the feeds' window;
    this release's own items are derived from `built` and added here. `disputed` maps the keys of the
    entries their employers dispute (open disputes at publish time) to the day since when.

    Returns {'id', 'files': {path: sha256}, 'datapackage_sha256', 'signing_key_id', 'tables',
    'truncated', 'timings', 'index_entry', 'feed_window'} — `index_entry` is what update_release_index
    takes, `feed_window` the entries the feeds show (publisher/feed_window.py).
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise ValueError(f"{out_dir}: not a directory")
    if any(out_dir.iterdir()):
        raise ValueError(f"{out_dir}: not empty; a release is written into a new empty directory")
    started = time.perf_counter()
    needed = {change.key for change in built.changes}
    refs = {record.key: record for record in built.records if record.key in needed} if needed else {}
    own_items = feed_items_for(built.as_of, built.changes, refs, removed, published_at=built.created_at)
    earlier = [item for item in (feed_items or []) if item.release_date != built.as_of]

    written = write_data_files(built, out_dir, settings, feed_items=own_items, disputed=disputed)
    timings = dict(written["timings"])
    moment = time.perf_counter()
    shown = write_feeds(out_dir, earlier + own_items, as_of=built.as_of, updated=utc(built.created_at),
                        settings=settings)
    timings["feeds"] = time.perf_counter() - moment

    moment = time.perf_counter()
    hashes: dict[str, str] = {}
    descriptor = build_datapackage(built, out_dir, settings, written, previous_release_id=previous_release_id,
                                   signing_key_id=signer.key_id, hashes=hashes)
    (out_dir / DATAPACKAGE).write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    files = seal_release(out_dir, signer, hashes)
    timings["hashes_and_signature"] = time.perf_counter() - moment
    timings["total"] = time.perf_counter() - started
    return {
        "id": built.id,
        "path": os.fspath(out_dir),
        "files": files,
        "datapackage_sha256": files[DATAPACKAGE],
        "signing_key_id": signer.key_id,
        "tables": written["tables"],
        "truncated": written["truncated"],
        "timings": timings,
        "index_entry": index_entry(descriptor, files[DATAPACKAGE]),
        "feed_window": shown,
    }


