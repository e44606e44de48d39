"""A past release moved into the archive is still listed, downloadable byte for byte and citable:
its files come back from the archive once, into a bounded cache, checked against its SHA256SUMS."""
import hashlib
import shutil

import pytest

from congkhai.config import Paths
from publisher.compact import compact
from tests.registers import writable_copy

from .conftest import soup
from .eligibility_register import DAY_1, DAY_2, DAY_3, make_app

pytestmark = pytest.mark.skipif(shutil.which("zstd") is None, reason="the zstd command is not installed")


@pytest.fixture
def archived(eligibility, tmp_path):
    """A copy of the three-release register with its first release archived: (settings, that
    release's files as published)."""
    settings = writable_copy(eligibility, tmp_path)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    first = paths.release(DAY_1.isoformat())
    original = {p.relative_to(first).as_posix(): p.read_bytes() for p in first.rglob("*") if p.is_file()}
    assert compact(paths, keyframe_every=7).archived == [DAY_1.isoformat()]
    return settings, original


def test_an_archived_release_downloads_byte_for_byte(archived):
    settings, original = archived
    client = make_app(settings).test_client()
    for name in ("employers.csv", "employers.jsonl", "datapackage.json", "SHA256SUMS", "SHA256SUMS.sig",
                 "feeds/changes.atom"):
        response = client.get(f"/data/releases/{DAY_1.isoformat()}/{name}")
        assert response.status_code == 200, name
        assert response.data == original[name], name
    assert client.get(f"/data/releases/{DAY_1.isoformat()}/nothing.csv").status_code == 404
    assert client.get(f"/data/releases/{DAY_1.isoformat()}/../{DAY_2.isoformat()}/SHA256SUMS").status_code == 404


def test_an_archived_release_is_listed_with_its_hashes_on_the_data_page_and_the_api(archived):
    settings, original = archived
    client = make_app(settings).test_client()
    page = soup(client.get("/data"))
    release = page.find("article", id=f"release-{DAY_1.isoformat()}")
    rows = {tr.td.get_text(strip=True): tr for tr in release.select("table.files tbody tr")}
    assert set(rows) == set(original)
    digest = rows["employers.csv"].find("code").get_text()
    assert digest == hashlib.sha256(original["employers.csv"]).hexdigest()
    answer = client.get(f"/api/v1/releases/{DAY_1.isoformat()}").get_json()
    assert answer["signed"] and {f["name"] for f in answer["files"]} == set(original)
    assert answer["release"]["datapackage_sha256"] == hashlib.sha256(original["datapackage.json"]).hexdigest()
    assert client.get(f"/releases/{DAY_1.isoformat()}").status_code == 200


def test_the_restore_cache_keeps_to_its_limit(archived):
    settings, original = archived
    client = make_app(settings, CONGKHAI_RESTORE_CACHE_MB=0).test_client()
    cache = Paths(settings["CONGKHAI_DATA_DIR"]).restored
    for name in ("employers.csv", "employers.jsonl", "changes.csv"):
        assert client.get(f"/data/releases/{DAY_1.isoformat()}/{name}").data == original[name]
        kept = [p.name for p in cache.rglob("*") if p.is_file() and not p.name.startswith(".")]
        assert kept == [name]  # with no room, only the file just served stays (until the next one)


def test_a_damaged_archive_is_never_served(archived):
    settings, _original = archived
    archive = Paths(settings["CONGKHAI_DATA_DIR"]).archived(DAY_1.isoformat())
    stored = archive / "files" / "employers.csv.zst"
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    app = make_app(settings)
    response = app.test_client().get(f"/data/releases/{DAY_1.isoformat()}/employers.csv")
    assert response.status_code == 503 and "khôi phục tệp employers.csv" in response.get_data(as_text=True)
    english = app.test_client().get(f"/data/releases/{DAY_1.isoformat()}/employers.csv?lang=en")
    assert "cannot be restored from the archive" in english.get_data(as_text=True)
    assert not list(Paths(settings["CONGKHAI_DATA_DIR"]).restored.rglob("employers.csv"))
    assert app.test_client().get(f"/data/releases/{DAY_3.isoformat()}/employers.csv").status_code == 200
