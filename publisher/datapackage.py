"""The release's datapackage.json (Frictionless): every resource with its size and hash, the sources
(each province's report and how it was read), licence, policy and the release's own facts, and the
entry releases/index.json keeps of it."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from congkhai.release_format import PUBLIC_KEY, SIGNATURE, SUMS, file_sha256
from congkhai.provinces import all_provinces

from congkhai.feeds import PUBLISHER, PUBLISHER_EN, release_url
from .records import BuiltRelease
from .tables import FOREIGN_KEYS, TABLES, load_schema, utc

LICENSES = {
    "CC-BY-4.0": ("https://creativecommons.org/licenses/by/4.0/", "Creative Commons Attribution 4.0 International"),
    "CC0-1.0": ("https://creativecommons.org/publicdomain/zero/1.0/", "Creative Commons Zero v1.0 Universal"),
    "ODC-By-1.0": ("https://opendatacommons.org/licenses/by/1-0/", "Open Data Commons Attribution License v1.0"),
    "ODbL-1.0": ("https://opendatacommons.org/licenses/odbl/1-0/", "Open Data Commons Open Database License v1.0"),
}


def vi_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def license_of(settings: dict) -> dict:
    spdx = settings.get("CONGKHAI_LICENSE") or "CC-BY-4.0"
    path, title = LICENSES.get(spdx, (f"https://spdx.org/licenses/{spdx}.html", spdx))
    return {"name": spdx, "path": path, "title": title}


def _resource(name: str, path: Path, hashes: dict[str, str], **properties) -> dict:
    digest = hashes[path.name] = hashes.get(path.name) or file_sha256(path)
    return {"name": name, "path": path.name, **properties, "encoding": "utf-8",
            "bytes": path.stat().st_size, "hash": f"sha256:{digest}"}


def _source(province, as_of: date, report: dict | None) -> dict:
    """A province's report as a source: its title, and, so anyone can see how it was read, the file,
    its hash and its layout (datasets/layouts.toml version, header rows, unit and scale, and each
    column whose words were not the field's standard header, with what it became; null: ignored)."""
    source = {"title": f"Báo cáo của Bảo hiểm xã hội {province.name} tính đến ngày {vi_date(as_of)}"}
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
                    f"một trang, tối đa {written['sheet_rows']:,} dòng mỗi trang; tệp CSV có đầy đủ.".replace(",", "."),
        description_en=f"The offender, evading, honour-roll, changes and province lists, one sheet each, at most "
                       f"{written['sheet_rows']:,} rows a sheet; the CSV files hold every row."
                       + (f" Truncated here: {', '.join(truncated)}." if truncated else ""),
        format="xlsx", mediatype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    policy = built.policy.to_dict()
    return {
        "profile": "data-package",
        "name": f"congkhai-{built.id}",
        "id": release_url(base_url, built.id),
        "title": f"Danh sách đơn vị chậm đóng, trốn đóng BHXH, BHYT, BHTN tính đến ngày {vi_date(as_of)}",
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
        "created": utc(built.created_at).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "homepage": base_url,
        "keywords": ["bảo hiểm xã hội", "BHXH", "BHYT", "BHTN", "chậm đóng", "trốn đóng", "social insurance",
                     "arrears", "Vietnam"],
        "licenses": [license_of(settings)],
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

