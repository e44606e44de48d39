"""A release's open-data files: CSV lists, JSON Lines, an Excel workbook, feeds, a Frictionless
datapackage.json, SHA256SUMS and its Ed25519 signature.

Everything is written into an empty temporary directory that the caller then installs atomically
(publisher.archive), so readers never see half a release. The same BuiltRelease (with the same
`created_at`) gives the same bytes, so a re-run of a date changes nothing a consumer can see.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import time
from datetime import date, datetime, timezone
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

from congkhai.config import DATASETS_DIR
from congkhai.release_format import DATAPACKAGE, PUBLIC_KEY, SIGNATURE, SUMS, file_sha256, seal_release
from congkhai.statuses import COMPLIANT, DELINQUENT, EVADING, LATE, NOTICE, OFFENDER_STATUSES
from congkhai.provinces import all_provinces
from congkhai.rules.changes import leaving_reason
from congkhai.rules.classification import listing_reason
from congkhai.rules.corrections import REMOVED
from congkhai.rules.results import REPORTED_APART, empty as empty_figures, tally
from congkhai.text import FORMULA_STARTS, neutralise

from congkhai.feeds import (PUBLISHER, PUBLISHER_EN, EmployerRef, FeedItem, employer_url, feed_items_for,
                    release_url, write_feeds)
from .records import BuiltRelease, Record
from .xlsx import MAX_ROWS, Sheet, Workbook

SCHEMAS_DIR = DATASETS_DIR / "schemas"
# Rows per workbook sheet: Excel's limit. The workbook holds the lists; the CSV files hold everything.
XLSX_MAX_ROWS = MAX_ROWS - 1
_HASH_BUFFER = 1 << 20

LICENSES = {
    "CC-BY-4.0": ("https://creativecommons.org/licenses/by/4.0/", "Creative Commons Attribution 4.0 International"),
    "CC0-1.0": ("https://creativecommons.org/publicdomain/zero/1.0/", "Creative Commons Zero v1.0 Universal"),
    "ODC-By-1.0": ("https://opendatacommons.org/licenses/by/1-0/", "Open Data Commons Attribution License v1.0"),
    "ODbL-1.0": ("https://opendatacommons.org/licenses/odbl/1-0/", "Open Data Commons Open Database License v1.0"),
}

# resource -> (file, title, English title, description, English description, sheet name or None)
TABLES = {
    "employers": ("employers.csv", "Danh sách đơn vị", "Employers",
                  "Mọi đơn vị được công bố và tình trạng hiện tại.",
                  "Every published employer and its current status.", None),
    "delinquent": ("delinquent.csv", "Danh sách nợ đọng, trốn đóng", "Offender list",
                   "Đơn vị chậm đóng từ ngưỡng số tháng trở lên hoặc trốn đóng, theo tổng nợ giảm dần.",
                   "Delinquent and evading employers, by total arrears descending.", "Nợ đọng"),
    "evading": ("evading.csv", "Danh sách trốn đóng", "Evading employers",
                "Đơn vị có quyết định trốn đóng: không được tham gia đấu thầu dự án sử dụng ngân sách nhà nước.",
                "Employers found evading contributions: barred from tenders funded by the state budget.",
                "Trốn đóng"),
    "compliant": ("compliant.csv", "Đơn vị gương mẫu", "Honour roll",
                  "Đơn vị không nợ trong mọi kỳ công bố của khoảng thời gian xét biểu dương.",
                  "Employers with no arrears in any release of the commendation window.", "Gương mẫu"),
    "changes": ("changes.csv", "Thay đổi so với kỳ trước", "Changes since the previous release",
                "Đơn vị mới, không còn báo cáo, đổi tình trạng hoặc đổi số nợ, với giá trị trước và sau.",
                "Employers new, no longer reported, with a changed status or changed arrears, before and after.",
                "Thay đổi"),
    "provinces": ("provinces.csv", "Tổng hợp theo tỉnh", "By province",
                  "Số đơn vị theo tình trạng và tổng nợ của từng tỉnh, thành phố.",
                  "Employers by status and arrears totals for each province.", "Tỉnh thành"),
    "results": ("results.csv", "Kết quả hằng ngày theo tỉnh", "Daily results by province",
                "Báo cáo kết quả hằng ngày của từng tỉnh: nợ theo quỹ, số đơn vị nợ đọng, trốn đóng, mới vào và ra "
                "khỏi danh sách, chuyển thanh tra, chuyển cơ quan điều tra, số nợ thu hồi.",
                "Each province's daily results: arrears by fund, delinquent and evading employers, newly listed and "
                "resolved, moved to inspection or investigation, arrears recovered.", None),
    "corrections": ("corrections.csv", "Đính chính", "Corrections",
                    "Mọi đính chính đã ghi nhận đến bản công bố này: đã công bố gì, đúng là gì, từ khi nào, "
                    "vì sao, trong bản nào.",
                    "Every correction recorded up to this release: what was published, what is correct, since "
                    "when, why, in which release.", "Đính chính"),
}
# Which resources refer to which: (resource, its fields, target resource, target fields)
FOREIGN_KEYS = [
    ("employers", "province_code", "provinces", "province_code"),
    ("delinquent", "key", "employers", "key"),
    ("evading", "key", "employers", "key"),
    ("compliant", "key", "employers", "key"),
    ("changes", "province_code", "provinces", "province_code"),
    ("results", "province_code", "provinces", "province_code"),
]


@lru_cache(maxsize=None)
def load_schema(resource: str) -> dict:
    """The Table Schema of a published resource, from datasets/schemas (the source of truth)."""
    return json.loads((SCHEMAS_DIR / f"{resource}.schema.json").read_text(encoding="utf-8"))


def column_names(resource: str) -> list[str]:
    return [field["name"] for field in load_schema(resource)["fields"]]


def _json_line(values: dict) -> bytes:
    """One employers.jsonl line: UTF-8, dates in ISO form (orjson: a tenth of the json module's time
    on a million rows)."""
    return orjson.dumps(values, option=orjson.OPT_APPEND_NEWLINE)


def employer_values(record: Record, province_names: dict[str, str], commendable: set[str],
                    base_url: str, disputed: dict[str, date] | None = None) -> dict:
    """Every published field of one employer, typed; each resource takes the columns it lists.
    `disputed` maps the keys of entries disputed by their employer to the day since when."""
    try:
        province_name = province_names[record.province_code]
    except KeyError:
        raise ValueError(f"{record.source}, row {record.line}: employer {record.key}: unknown province code "
                         f"{record.province_code!r}") from None
    return {
        "key": record.key,
        "tax_code": record.public_tax_id,
        "unit_code": record.unit_code,
        "name": record.name,
        "address": record.address,
        "ownership_type": record.ownership_type,
        "sector": record.sector,
        "employees": record.employees,
        "province_code": record.province_code,
        "province_name": province_name,
        "status": record.status,
        "arrears_bhxh": record.arrears_bhxh,
        "arrears_bhyt": record.arrears_bhyt,
        "arrears_bhtn": record.arrears_bhtn,
        "arrears_bhtnld": record.arrears_bhtnld,
        "arrears_total": record.arrears_total,
        "interest": record.interest,
        "months_late": record.months_late,
        "evasion_decision": record.evasion_decision,
        "evasion_decision_date": record.evasion_decision_date,
        "enforcement_stage": record.enforcement_stage,
        "notice_from": record.notice_from,
        "listing_on": record.listing_on,
        "not_reported_since": record.not_reported_since,
        "honour_roll": record.key in commendable,
        "permalink": employer_url(base_url, record.key),
        "disputed_since": disputed.get(record.key) if disputed else None,
    }


def change_values(item: FeedItem, province_names: dict[str, str], base_url: str) -> dict:
    change = item.change
    before, after = change.before, change.after
    values = {
        "key": item.key,
        "tax_code": item.public_tax_id,
        "name": item.name,
        "province_code": item.province_code,
        "province_name": province_names.get(item.province_code, ""),
        "change": change.kind,
        "newly_listed": change.newly_listed,
        "resolved": change.resolved,
        "newly_evading": change.newly_evading,
        "leaving_reason": leaving_reason(before, after) if change.resolved else None,
        "arrears_delta": change.arrears_delta,
        "permalink": employer_url(base_url, item.key),
    }
    for name in ("status", "arrears_bhxh", "arrears_bhyt", "arrears_bhtn", "arrears_bhtnld", "arrears_total",
                 "interest", "months_late", "evasion_decision", "enforcement_stage"):
        values[f"{name}_before"] = getattr(before, name) if before else None
        values[f"{name}_after"] = getattr(after, name) if after else None
    return values


def correction_values(row: dict, release_id: str, base_url: str) -> dict:
    """One correction (congkhai.corrections.correction_rows) as published; a pending one is
    recorded in the release being written."""
    published, corrected = row["published_state"], row["corrected_state"]
    return {
        "correction_id": row["id"], "key": row["key"], "tax_code": row["public_tax_id"], "name": row["name"],
        "province_code": row["province_code"], "applies_from": row["applies_from"],
        "applies_to": row["applies_to"] or (date.fromisoformat(release_id) if row["until_next_release"] else None),
        "published_status": published.status if published else None,
        "published_arrears_total": published.arrears_total if published else None,
        "corrected_status": corrected.status if corrected else REMOVED,
        "corrected_arrears_total": corrected.arrears_total if corrected else None,
        "reason": row["reason"], "source": row["source"],
        "recorded_in_release": row["recorded_in_release"] or release_id,
        "recorded_at": _utc(row["recorded_at"]).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "permalink": employer_url(base_url, row["key"]),
    }


# A text starting as a formula would (text.neutralise), in a row's texts each put after a NUL.
_FORMULA_START = re.compile("\x00[" + re.escape("".join(FORMULA_STARTS)) + "]")


def _picker(keys: list) -> Callable[[Any], tuple]:
    """itemgetter that always gives a tuple (itemgetter of one key gives the bare item)."""
    if len(keys) == 1:
        only = keys[0]
        return lambda values: (values[only],)
    return itemgetter(*keys) if keys else (lambda values: ())


class _Table:
    """One CSV resource being written. Its sheet in the workbook is made afterwards from this very
    file (`write_workbook`), so the two always say the same."""

    def __init__(self, out_dir: Path, resource: str):
        self.resource = resource
        self.path = out_dir / TABLES[resource][0]
        self.columns = column_names(resource)
        types = [field["type"] for field in load_schema(resource)["fields"]]
        self.text_columns = [n for n, kind in enumerate(types) if kind == "string"]
        self.boolean_columns = [n for n, kind in enumerate(types) if kind == "boolean"]
        self.pick = _picker(self.columns)
        self.texts = _picker(self.text_columns)
        self.handle = self.path.open("w", encoding="utf-8", newline="", buffering=_HASH_BUFFER)
        self.writer = csv.writer(self.handle)
        self.writer.writerow(self.columns)
        self.rows = 0

    def write(self, values: dict) -> None:
        """One row: text neutralised; booleans and dates spelled as the schema reads them (csv writes
        None as '' and a date in ISO form)."""
        row = list(self.pick(values))
        # Looked at once over the row's text: only a row holding a text that starts like a formula
        # (rare) is neutralised cell by cell.
        if _FORMULA_START.search("\x00" + "\x00".join([text for text in self.texts(row) if text])):
            for n in self.text_columns:
                if row[n]:
                    row[n] = neutralise(row[n])
        self.rows += 1
        for n in self.boolean_columns:
            if row[n] is not None:
                row[n] = "true" if row[n] else "false"
        self.writer.writerow(row)

    @property
    def truncated(self) -> bool:
        return bool(TABLES[self.resource][5]) and self.rows > XLSX_MAX_ROWS

    def close(self) -> None:
        self.handle.close()


def _utc(moment: datetime) -> datetime:
    """Release timestamps are timezone-aware; a naive one is taken as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _vi_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _license(settings: dict) -> dict:
    spdx = settings.get("CONGKHAI_LICENSE") or "CC-BY-4.0"
    path, title = LICENSES.get(spdx, (f"https://spdx.org/licenses/{spdx}.html", spdx))
    return {"name": spdx, "path": path, "title": title}


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


def _write_intro_sheet(sheet: Sheet, built: BuiltRelease, settings: dict, tables: dict[str, _Table]) -> None:
    license_ = _license(settings)
    lines = [
        [f"Danh sách đơn vị chậm đóng, trốn đóng BHXH, BHYT, BHTN tính đến ngày {_vi_date(built.as_of)}"],
        [f"Đơn vị công bố: {PUBLISHER}"],
        [f"Giấy phép: {license_['title']} ({license_['path']})"],
        [f"Cổng thông tin: {settings['CONGKHAI_BASE_URL']}"],
        ["Giá trị bắt đầu bằng =, +, -, @ được thêm dấu ' ở đầu để Excel không chạy công thức."],
    ]
    if built.partial:
        missing = ", ".join(f"{code} ({why})" for code, why in sorted(built.missing_provinces.items()))
        lines.append([f"Công bố một phần: thiếu báo cáo của {missing}."])
    lines.append([])
    lines.append(["Trang", "Nội dung", "Số dòng", "Tệp CSV đầy đủ"])
    for table in tables.values():
        if not TABLES[table.resource][5]:
            continue
        shown = min(table.rows, XLSX_MAX_ROWS)
        note = f"{shown:,} / {table.rows:,} (chỉ {shown:,} dòng đầu)".replace(",", ".") if table.truncated \
            else f"{table.rows:,}".replace(",", ".")
        lines.append([TABLES[table.resource][5], TABLES[table.resource][3], note, table.path.name])
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


def write_workbook(built: BuiltRelease, out_dir: Path, settings: dict, tables: dict[str, "_Table"]) -> None:
    """The workbook of the lists, read back from their CSV files: one sheet per list, typed cells,
    at most Excel's row limit each (the CSV holds everything), and an introduction sheet."""
    workbook = Workbook(out_dir / f"congkhai-{built.id}.xlsx", _utc(built.created_at), PUBLISHER)
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
    _write_intro_sheet(intro, built, settings, tables)
    intro.close()
    workbook.close()


LIST_RESOURCES = ("delinquent", "evading", "compliant", "changes", "provinces", "corrections")
# From this many employers on, the workbook is written by a second process while this one writes
# employers.csv and .jsonl; below it, a process costs more than it saves.
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
    """Write the workbook now, in a forked process when the release is large; returns a join()."""
    if len(built.records) < PARALLEL_WORKBOOK_MIN:
        write_workbook(built, out_dir, settings, tables)
        return lambda: None
    import gc
    import multiprocessing

    gc.freeze()  # the child's collector then leaves the parent's objects (and their pages) alone
    process = multiprocessing.get_context("fork").Process(target=write_workbook,
                                                          args=(built, out_dir, settings, tables))
    process.start()
    gc.unfreeze()

    def join():
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"the workbook writer failed (exit status {process.exitcode}); see its error above")
    return join


def write_data_files(built: BuiltRelease, out_dir: Path, settings: dict, *, feed_items: list[FeedItem],
                     disputed: dict[str, date] | None = None) -> dict:
    """The list CSVs, changes.csv and provinces.csv, then the workbook (made from them, alongside)
    while employers.csv and .jsonl are written.

    Returns {'tables': {resource: rows}, 'xlsx': file name, 'truncated': [sheets], 'timings': {...}}.
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
        table = tables[resource] = _Table(out_dir, resource)
        for values in _table_rows(resource, built, groups, stats, feed_items, context):
            table.write(values)
        table.close()
    timings["lists"] = time.perf_counter() - started

    moment = time.perf_counter()
    join_workbook = _start_workbook(built, out_dir, settings, tables)
    employers = tables["employers"] = _Table(out_dir, "employers")
    with (out_dir / "employers.jsonl").open("wb", buffering=_HASH_BUFFER) as jsonl:
        for record in built.records:
            values = employer_values(record, province_names, commendable, base_url, disputed)
            employers.write(values)
            jsonl.write(_json_line(values))
    employers.close()
    timings["employers"] = time.perf_counter() - moment
    join_workbook()
    timings["employers_and_xlsx"] = time.perf_counter() - moment
    return {
        "tables": {resource: table.rows for resource, table in tables.items()},
        "xlsx": f"congkhai-{built.id}.xlsx",
        "truncated": [TABLES[t.resource][5] for t in tables.values() if t.truncated],
        "timings": timings,
    }


def _resource(name: str, path: Path, hashes: dict[str, str], **properties) -> dict:
    digest = hashes[path.name] = hashes.get(path.name) or file_sha256(path)
    return {"name": name, "path": path.name, **properties, "encoding": "utf-8",
            "bytes": path.stat().st_size, "hash": f"sha256:{digest}"}


def _source(province, as_of: date, report: dict | None) -> dict:
    """A province's report as a source: its title, and, so anyone can see how it was read, the file,
    its hash and its layout (datasets/layouts.toml version, header rows, unit and scale, and each
    column whose words were not the field's standard header, with what it became; null: ignored)."""
    source = {"title": f"Báo cáo của Bảo hiểm xã hội {province.name} tính đến ngày {_vi_date(as_of)}"}
    if report:
        layout = report.get("layout", {})
        read_as = {c["label"]: c["field"] for c in layout.get("columns", []) if c["label"] != c["header"]}
        source.update({"file": report["source"], "sha256": report["sha256"], "format": report["format"],
                       "layout": {"version": layout.get("layout_version"), "header_rows": layout.get("header_rows"),
                                  "unit": layout.get("unit"), "scale": layout.get("scale"), "columns": read_as}})
    return source


def build_datapackage(built: BuiltRelease, out_dir: Path, settings: dict, written: dict, *,
                      previous_release_id: str | None, signing_key_id: str, hashes: dict[str, str]) -> dict:
    """The datapackage.json descriptor (Data Package v1 with sha256 hashes, which frictionless checks)."""
    base_url = settings["CONGKHAI_BASE_URL"].rstrip("/")
    as_of = built.as_of
    resources = []
    for resource, (file_name, title, title_en, description, description_en, _sheet) in TABLES.items():
        schema = {key: value for key, value in load_schema(resource).items() if key != "$comment"}
        foreign = [{"fields": field, "reference": {"resource": target, "fields": target_field}}
                   for source, field, target, target_field in FOREIGN_KEYS if source == resource]
        if foreign:
            schema["foreignKeys"] = foreign
        resources.append(_resource(resource, out_dir / file_name, hashes, profile="tabular-data-resource",
                                   title=title, title_en=title_en, description=description,
                                   description_en=description_en, format="csv", mediatype="text/csv",
                                   rows=written["tables"][resource], schema=schema))
    resources.append(_resource(
        "employers-jsonl", out_dir / "employers.jsonl", hashes, profile="data-resource", type="file",
        title="Danh sách đơn vị (JSON Lines)", title_en="Employers (JSON Lines)",
        description="Mỗi dòng một đơn vị, cùng trường với employers.csv, giá trị giữ nguyên kiểu (không thêm dấu ').",
        description_en="One employer per line, the fields of employers.csv with JSON types and values as is.",
        format="jsonl", mediatype="application/jsonl"))
    truncated = written["truncated"]
    resources.append(_resource(
        "workbook", out_dir / written["xlsx"], hashes, profile="data-resource", type="file",
        title="Sổ tính Excel các danh sách", title_en="Excel workbook of the lists",
        description="Các danh sách nợ đọng, trốn đóng, gương mẫu, thay đổi và tổng hợp theo tỉnh, mỗi danh sách "
                    f"một trang, tối đa {XLSX_MAX_ROWS:,} dòng mỗi trang; tệp CSV có đầy đủ.".replace(",", "."),
        description_en=f"The offender, evading, honour-roll, changes and province lists, one sheet each, at most "
                       f"{XLSX_MAX_ROWS:,} rows a sheet; the CSV files hold every row."
                       + (f" Truncated here: {', '.join(truncated)}." if truncated else ""),
        format="xlsx", mediatype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    policy = built.policy.to_dict()
    return {
        "profile": "data-package",
        "name": f"congkhai-{built.id}",
        "id": release_url(base_url, built.id),
        "title": f"Danh sách đơn vị chậm đóng, trốn đóng BHXH, BHYT, BHTN tính đến ngày {_vi_date(as_of)}",
        "title_en": f"Employers behind on social, health and unemployment insurance contributions, {as_of.isoformat()}",
        "description": "Công bố hằng ngày của cơ quan BHXH: đơn vị chậm đóng, nợ đọng, trốn đóng bảo hiểm xã hội, "
                       "bảo hiểm y tế, bảo hiểm thất nghiệp, và đơn vị gương mẫu, từ báo cáo của BHXH các tỉnh, "
                       "thành phố. Số tiền tính bằng đồng (VND). Nợ từng quỹ để trống khi báo cáo của tỉnh không "
                       "tách tổng nợ theo quỹ đó (chưa biết, không phải 0); tổng nợ là tổng báo cáo ghi; lãi chậm đóng "
                       "ghi riêng, không tính vào nợ.",
        "description_en": "Daily publication of the social-insurance agency: employers late, delinquent or evading on "
                          "social, health and unemployment insurance, and exemplary payers, from the provincial "
                          "offices' reports. Amounts in VND. A fund's arrears are empty where the province's report "
                          "does not split its total by that fund (unknown, not 0); the total is the report's own; "
                          "late-payment interest is given apart and never added to the arrears.",
        "version": f"{as_of.year}.{as_of.month}.{as_of.day}",
        "created": _utc(built.created_at).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "homepage": base_url,
        "keywords": ["bảo hiểm xã hội", "BHXH", "BHYT", "BHTN", "chậm đóng", "trốn đóng", "social insurance",
                     "arrears", "Vietnam"],
        "licenses": [_license(settings)],
        "sources": [_source(province, as_of, built.reports.get(province.code))
                    for province in all_provinces() if province.code in built.provinces],
        "contributors": [{"title": PUBLISHER, "title_en": PUBLISHER_EN, "role": "publisher", "path": base_url}],
        "policy": {**policy, "digest": built.policy.digest},
        "release": {
            "id": built.id,
            "as_of": as_of.isoformat(),
            "previous": previous_release_id,
            "partial": built.partial,
            "provinces": sorted(built.provinces),
            "missing_provinces": dict(sorted(built.missing_provinces.items())),
            "verification": built.verification,
            "counts": built.counts(),
            "input_digest": built.input_digest,
            "signing_key_id": signing_key_id,
            "signature": {"sums": SUMS, "signature": SIGNATURE, "public_key": PUBLIC_KEY,
                          "algorithm": "Ed25519"},
        },
        "resources": resources,
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
    'truncated', 'timings', 'index_entry'} — `index_entry` is what update_release_index takes.
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
    write_feeds(out_dir, earlier + own_items, as_of=built.as_of, updated=_utc(built.created_at), settings=settings)
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
    }


def index_entry(descriptor: dict, datapackage_sha256: str) -> dict:
    """What releases/index.json says of a release, taken from its datapackage.json descriptor (so a
    run that finds the release already on disk can restore its entry)."""
    release = descriptor["release"]
    return {
        "id": release["id"],
        "as_of": release["as_of"],
        "created": descriptor["created"],
        "previous": release["previous"],
        "partial": release["partial"],
        "missing_provinces": release["missing_provinces"],
        "counts": release["counts"],
        "datapackage_sha256": datapackage_sha256,
        "signing_key_id": release["signing_key_id"],
    }
