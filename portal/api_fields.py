"""The API's field names, in one place. Each area's data function builds one dict (the page's, which
its .json twin returns as it is); these turn it into the API's answer, keeping the names and the
shape the OpenAPI document (portal/openapi.py) promises. tests/portal/test_one_answer.py checks,
area by area, that the page, its .json twin and the API say the same."""
from __future__ import annotations

from flask import url_for

EMPLOYER_FACTS = ("key", "name", "tax_code", "unit_code", "personal_id_masked", "is_household", "province_code",
                  "province", "ownership_type", "sector", "employees")


def employer_links(key: str) -> dict:
    return {"html": url_for("employers.employer", key=key), "api": url_for("api.employer", code=key)}


def row(page_row: dict) -> dict:
    """A row of a list as the API gives it: links to the employer's page and answer instead of a URL."""
    return {**{k: v for k, v in page_row.items() if k != "url"}, "links": employer_links(page_row["key"])}


def search(data: dict) -> dict:
    return {"as_of": data["day"], "query": data["q"], "sort": data["sort"], "total": data["total"],
            "page": data["page"], "per_page": data["per_page"], "pages": data["pages"], "fuzzy": data["fuzzy"],
            "truncated": data["truncated"], "identifier": data["identifier"],
            "results": [row(r) for r in data["results"]], "facets": data["facet_counts"]}


def employer(data: dict) -> dict:
    return {"as_of": data["day"], "known_at": data["known"]["known_at"],
            "employer": {name: data["employer"][name] for name in EMPLOYER_FACTS},
            "state": data["state"], "since": data["since"], "disputed_since": data["disputed_since"],
            "known": data["known"], "eligibility": data["eligibility"], "history": data["history"],
            "links": employer_links(data["employer"]["key"])}


def inspections(data: dict) -> dict:
    return {"as_of": data["day"], "policy": data["policy"], "total": data["total"], "page": data["page"],
            "per_page": data["per_page"], "results": [row(r) for r in data["rows"]]}


def releases(data: dict) -> dict:
    """The releases as the open-data page lists them, less each one's files."""
    return {"releases": [{name: value for name, value in entry.items()
                          if name not in ("signed", "files", "url", "archived")}
                         for entry in data["releases"]]}


def release(data: dict) -> dict:
    return {"release": data["release"], "files": data["files"], "signed": data["signed"]}


def results(data: dict) -> dict:
    """The daily results as the page's .json twin gives them, less the page's title and links."""
    return {name: value for name, value in data.items() if name not in ("title", "links")}
