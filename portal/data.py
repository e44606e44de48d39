"""Open data and method: every release with its files, hashes and signature; the schema; how to
verify a download; schema.org and DCAT metadata for harvesters; the methodology with the
thresholds of the release in force."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, send_file, send_from_directory, url_for
from flask_babel import gettext as _

from congkhai.config import DATASETS_DIR
from congkhai.policy import load_policy
from congkhai.feeds import STATIC_FEEDS
from congkhai.register import ReleaseInfo
from congkhai.release_archive import ArchiveError

from . import current, i18n, params, release_files
from .rendering import pagination, respond

bp = Blueprint("data", __name__)

LICENCE_URLS = {"CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
                "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
                "ODC-BY-1.0": "https://opendatacommons.org/licenses/by/1-0/"}
FORMATS = {"csv": "text/csv", "json": "application/json", "jsonl": "application/jsonl",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "atom": "application/atom+xml", "rss": "application/rss+xml", "pem": "application/x-pem-file"}


def base_url() -> str:
    return current_app.config["CONGKHAI_BASE_URL"].rstrip("/")


def licence() -> dict:
    spdx = current_app.config["CONGKHAI_LICENSE"]
    return {"id": spdx, "url": LICENCE_URLS.get(spdx)}


def release_entry(release: ReleaseInfo) -> dict:
    files = release_files.release_files(release.id)
    for item in files["files"]:
        item["url"] = url_for("data.release_file", date_text=release.id, filename=item["name"])
        item["format"] = FORMATS.get(item["name"].rsplit(".", 1)[-1], "application/octet-stream")
    return {**release_files.release_metadata(release), "signed": files["signed"], "files": files["files"],
            "archived": files.get("archived", False),
            "datapackage": files["datapackage"], "url": url_for("lists.release", date_text=release.id)}


def schema_tables(datapackage: dict | None) -> list[dict]:
    """Field tables of every resource: from the release's datapackage.json, else from datasets/schemas."""
    tables = []
    if datapackage:
        for resource in datapackage.get("resources", []):
            schema = resource.get("schema")
            if isinstance(schema, dict):
                tables.append({"name": resource.get("name") or resource.get("path"), "fields": schema.get("fields", [])})
        return tables
    for path in sorted((DATASETS_DIR / "schemas").glob("*.schema.json")):
        if path.name.startswith("report."):
            continue
        schema = json.loads(path.read_text(encoding="utf-8"))
        tables.append({"name": path.name.removesuffix(".schema.json"), "fields": schema.get("fields", [])})
    return tables


def field_rows(tables: list[dict]) -> list[dict]:
    """Title and description in the reader's language where the schema carries both."""
    lang = i18n.language()
    for table in tables:
        table["rows"] = [{"name": f.get("name"), "type": f.get("type", "string"),
                          "title": localised(f, "title", lang), "description": localised(f, "description", lang),
                          "required": bool(f.get("constraints", {}).get("required"))} for f in table["fields"]]
    return tables


def localised(item: dict, name: str, lang: str) -> str:
    value = item.get(f"{name}_{lang}") or item.get(f"{name}:{lang}") or item.get(name) or ""
    if isinstance(value, dict):
        value = value.get(lang) or next(iter(value.values()), "")
    return value


def dataset_jsonld(entry: dict) -> dict:
    """schema.org Dataset of one release, for search engines."""
    return {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": base_url() + entry["url"],
        "name": f"Danh sách đơn vị chậm đóng, trốn đóng BHXH, BHYT, BHTN ({entry['id']})",
        "alternateName": f"Employers behind on social insurance contributions ({entry['id']})",
        "description": "Đơn vị sử dụng lao động chậm đóng, nợ đọng, trốn đóng bảo hiểm xã hội, bảo hiểm y tế, "
                       "bảo hiểm thất nghiệp và đơn vị đóng đầy đủ, theo từng tỉnh, thành phố.",
        "url": base_url() + entry["url"],
        "license": licence()["url"] or licence()["id"],
        "isAccessibleForFree": True,
        "inLanguage": ["vi", "en"],
        "temporalCoverage": entry["as_of"].isoformat(),
        "dateModified": entry["created_at"].isoformat(),
        "spatialCoverage": {"@type": "Place", "name": "Việt Nam"},
        "creator": {"@type": "GovernmentOrganization", "name": "Bảo hiểm xã hội Việt Nam",
                    "alternateName": "Vietnam Social Security"},
        "distribution": [{"@type": "DataDownload", "name": f["name"], "encodingFormat": f["format"],
                          "contentUrl": base_url() + f["url"], "contentSize": str(f["bytes"]),
                          **({"sha256": f["sha256"]} if f["sha256"] else {})} for f in entry["files"]],
    }


RELEASES_PER_PAGE = 30


@bp.get("/data", defaults={"fmt": "html"})
@bp.get("/data.<any(json):fmt>")
def catalogue(fmt: str):
    """The releases newest first, RELEASES_PER_PAGE a page: the page costs the same on the tenth day
    and the thousandth (a page of every release took 0.5 s at 120 and grew with each one)."""
    every = sorted(current.register().releases(), key=lambda r: r.as_of, reverse=True)
    page = params.page_number()
    params.check_page_exists(page, len(every), RELEASES_PER_PAGE)
    releases = [release_entry(r) for r in every[(page - 1) * RELEASES_PER_PAGE:page * RELEASES_PER_PAGE]]
    newest = release_entry(every[0]) if every and page > 1 else (releases[0] if releases else None)
    data = {
        "title": _("Open data"),
        "licence": licence(),
        "releases": [{k: v for k, v in entry.items() if k != "datapackage"} for entry in releases],
        "pagination": pagination(page, len(every), RELEASES_PER_PAGE),
        "public_key": release_files.public_key_pem(),
        "schema": field_rows(schema_tables(newest["datapackage"] if newest else None)),
        "feeds": [{"name": name, "title": title, "url": url_for("data.static_feed", filename=f"{name}.atom")}
                  for name, (title, _description, _keep) in STATIC_FEEDS.items()],
        "links": {"json": url_for("data.catalogue", fmt="json"), "catalog": url_for("data.catalog_jsonld"),
                  "public_key": url_for("data.public_key")},
    }
    if fmt == "html":
        # `<` escaped so no value can close the <script> element the JSON-LD sits in
        data["jsonld"] = (json.dumps(dataset_jsonld(releases[0]), ensure_ascii=False, default=str).replace("<", "\\u003c")
                          if releases else None)
    return respond(fmt, "data.html", data)


@bp.get("/data/catalog.jsonld")
def catalog_jsonld():
    """A DCAT catalogue listing every release, for national open-data portals to harvest."""
    datasets = []
    for release in current.register().releases():
        entry = release_entry(release)
        datasets.append({
            "@id": base_url() + entry["url"], "@type": "dcat:Dataset",
            "dct:title": [{"@value": f"Danh sách đơn vị chậm đóng, trốn đóng BHXH ({entry['id']})", "@language": "vi"},
                          {"@value": f"Employers behind on social insurance ({entry['id']})", "@language": "en"}],
            "dct:issued": {"@value": entry["created_at"].isoformat(), "@type": "xsd:dateTime"},
            "dct:temporal": {"@type": "dct:PeriodOfTime", "dcat:endDate": entry["as_of"].isoformat()},
            "dct:license": {"@id": licence()["url"] or licence()["id"]},
            "dcat:landingPage": {"@id": base_url() + entry["url"]},
            "dcat:distribution": [{"@type": "dcat:Distribution", "dct:title": f["name"],
                                   "dcat:downloadURL": {"@id": base_url() + f["url"]},
                                   "dcat:mediaType": f["format"], "dcat:byteSize": f["bytes"],
                                   **({"spdx:checksum": {"spdx:algorithm": "sha256", "spdx:checksumValue": f["sha256"]}}
                                      if f["sha256"] else {})} for f in entry["files"]],
        })
    catalog = {
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
                     "xsd": "http://www.w3.org/2001/XMLSchema#", "spdx": "http://spdx.org/rdf/terms#"},
        "@id": base_url() + url_for("data.catalog_jsonld"), "@type": "dcat:Catalog",
        "dct:title": [{"@value": "Công khai: dữ liệu mở", "@language": "vi"},
                      {"@value": "Công khai: open data", "@language": "en"}],
        "dct:publisher": {"@type": "foaf:Organization", "foaf:name": "Bảo hiểm xã hội Việt Nam"},
        "dcat:dataset": datasets,
    }
    catalog["@context"]["foaf"] = "http://xmlns.com/foaf/0.1/"
    return Response(json.dumps(catalog, ensure_ascii=False, indent=1, default=str), mimetype="application/ld+json")


@bp.get("/data/releases/<date_text>/<path:filename>")
def release_file(date_text: str, filename: str):
    if current.register().release(date_text) is None:
        abort(404, description=_("There is no release of %(date)s.", date=date_text))
    try:
        path = release_files.file_path(date_text, filename)
    except ArchiveError as error:  # never a file other than the one signed; the operators must look
        current_app.logger.error("release %s, file %s: not restored from the archive: %s", date_text, filename, error)
        abort(503, description=_("The file %(name)s of the release of %(date)s cannot be restored from the archive "
                                 "just now; the operators have been told.", name=filename[:100], date=date_text))
    if path is None:
        abort(404, description=_("The release of %(date)s has no file %(name)s.", date=date_text, name=filename[:100]))
    return send_file(path, max_age=86400)


@bp.get("/releases/current/feeds/<path:filename>")
def static_feed(filename: str):
    """The release's static feeds at the address their own `self` links give (congkhai.feeds)."""
    release = current.release()
    if release is None:
        abort(404, description=_("No release has been published yet."))
    mimetype = FORMATS.get(filename.rsplit(".", 1)[-1])
    return send_from_directory(release_files.release_dir(release.id) / "feeds", filename, mimetype=mimetype, max_age=600)


@bp.get("/data/public-key.pem")
def public_key():
    pem = release_files.public_key_pem()
    if pem is None:
        abort(404, description=_("No signing key has been published yet."))
    return Response(pem, mimetype="application/x-pem-file")


@bp.get("/about", defaults={"fmt": "html"})
@bp.get("/about.<any(json):fmt>")
def about(fmt: str):
    """Thresholds of the release in force; before any release, those of the configured policy."""
    data = {"title": _("About and methodology"), "coverage": None,
            "release_hour": current.release_hour()}
    if current.release() is None:
        policy = load_policy(current_app.config["CONGKHAI_POLICY"])
    else:
        release, day = params.answering()
        policy = release.policy
        data["coverage"] = current.coverage(release, day)
    data["policy"] = policy.to_dict()
    return respond(fmt, "about.html", data)
