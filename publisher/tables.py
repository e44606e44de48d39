"""The release's tables: which resources there are (their files, titles and sheets), their Table
Schemas from datasets/schemas, each row's published values, and the CSV writer that neutralises
formula-like text. The workbook (publisher.package) and the descriptor (publisher.datapackage) read
what is written here."""
from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime, timezone
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, Callable

import orjson

from congkhai.config import DATASETS_DIR
from congkhai.rules.changes import leaving_reason
from congkhai.rules.corrections import REMOVED
from congkhai.text import FORMULA_STARTS, neutralise

from congkhai.feeds import FeedItem, employer_url
from .records import Record

SCHEMAS_DIR = DATASETS_DIR / "schemas"


HASH_BUFFER = 1 << 20


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


def json_line(values: dict) -> bytes:
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
        "recorded_at": utc(row["recorded_at"]).isoformat(timespec="seconds").replace("+00:00", "Z"),
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


class CsvTable:
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
        self.handle = self.path.open("w", encoding="utf-8", newline="", buffering=HASH_BUFFER)
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

    def close(self) -> None:
        self.handle.close()


def utc(moment: datetime) -> datetime:
    """Release timestamps are timezone-aware; a naive one is taken as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)

