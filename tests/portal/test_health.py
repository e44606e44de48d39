"""Liveness and readiness probes: JSON, 200 or 503, with the reason."""
from __future__ import annotations

import shutil
from pathlib import Path

from portal import create_app
from publisher.pipeline import publish
from tests.publisher.factory import write_all
from tests.registers import writable_copy

from .conftest import BRANCH, DAY_1, DAY_2, PERSONAL_NUMBER, scenario


def copy_of(published, tmp_path):
    """A node's own copy of the register, to damage."""
    return Path(writable_copy(published, tmp_path / "node")["CONGKHAI_DATA_DIR"])


def probe(data_dir, url="/readyz", **config):
    return create_app({"TESTING": True, "CONGKHAI_DATA_DIR": str(data_dir), **config}).test_client().get(url)


def test_healthz_needs_no_database(tmp_path):
    response = probe(tmp_path, "/healthz", DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_with_a_verified_release(published, tmp_path):
    response = probe(published["CONGKHAI_DATA_DIR"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok" and body["release_id"] == DAY_2.isoformat()
    assert body["checks"] == {"database": True, "release_files": True, "search_index": True}


def test_not_ready_without_a_database(tmp_path):
    response = probe(tmp_path, DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert response.status_code == 503
    assert response.get_json()["reason"].startswith("database unreachable: ")


def test_not_ready_before_the_first_release(empty_app):
    response = empty_app.test_client().get("/readyz")
    assert response.status_code == 503 and response.get_json()["reason"] == "no release has been published yet"


def test_not_ready_when_a_file_was_altered_and_the_verification_is_kept(published, tmp_path):
    node = copy_of(published, tmp_path)
    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": str(node)})
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    (node / "releases" / DAY_2.isoformat() / "employers.csv").write_text("altered", encoding="utf-8")
    assert client.get("/readyz").status_code == 200  # verified once per release id, not on every probe
    response = probe(node)  # a new process checks again
    assert response.status_code == 503
    assert "employers.csv: sha256 does not match SHA256SUMS" in response.get_json()["reason"]
    assert response.get_json()["checks"]["release_files"] is False


def test_not_ready_without_the_search_index(published, tmp_path):
    node = copy_of(published, tmp_path)
    shutil.rmtree(node / "indexes" / DAY_2.isoformat())
    response = probe(node)
    assert response.status_code == 503
    assert response.get_json()["reason"].startswith(f"search index of {DAY_2.isoformat()} cannot be opened")


def test_publisher_and_portal_on_each_engine(db_settings, tmp_path):
    """DATABASE_URL alone moves both to PostgreSQL: the schema from the migrations, the pages from it."""
    write_all(tmp_path / "reports", as_of=DAY_1, overrides=scenario(DAY_1))
    publish(tmp_path / "reports", DAY_1, db_settings)
    client = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": db_settings["CONGKHAI_DATA_DIR"],
                         "DATABASE_URL": db_settings["DATABASE_URL"]}).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["release_id"] == DAY_1.isoformat()
    assert "Đông Á" in client.get("/lists/evading").get_data(as_text=True)
    assert client.get("/api/v1/releases").get_json()["releases"][0]["id"] == DAY_1.isoformat()
    checked = client.post("/api/v1/eligibility", json={"codes": [BRANCH, BRANCH.replace("-", ""), PERSONAL_NUMBER,
                                                                 "0100233488"], "date": DAY_1.isoformat()})
    answers = checked.get_json()["receipt"]["answers"]
    assert [a["outcome"] for a in answers] == ["found", "duplicate", "found", "unknown"]
    assert answers[0]["employer"]["tax_code"] == BRANCH and answers[2]["employer"]["name"] == "Hộ kinh doanh Nguyễn Văn Đức"
