"""The whole publishing run: what it leaves on disk, and that a crash at any moment leaves the
previous release fully readable."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from congkhai.config import REPO_ROOT, Paths
from congkhai.history import latest_release
from congkhai.search import search
from publisher.archive import current_release_id, file_sha256, verify_release
from publisher.errors import VerificationError
from publisher.pipeline import UsageError, publish

from .factory import AS_OF, write_all

DAY2 = AS_OF + timedelta(days=1)


def test_a_release_on_disk(tmp_path, settings):
    write_all(tmp_path / "d1", overrides={("79", 0): dict(name="Công ty TNHH Điện tử Đức Thành", arrears_bhxh=5,
                                                          months_late=4)})
    result = publish(tmp_path / "d1", AS_OF, settings)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    release = paths.release("2026-11-25")
    assert result.release_dir == release and current_release_id(paths.releases) == "2026-11-25"
    assert verify_release(release) == []
    index = json.loads(paths.release_index.read_text(encoding="utf-8"))
    assert index["current"] == "2026-11-25"
    assert [r["id"] for r in index["releases"]] == ["2026-11-25"]
    assert index["releases"][0]["datapackage_sha256"] == file_sha256(release / "datapackage.json")
    hits = search(paths.search_index("2026-11-25"), "dien tu duc thanh").hits
    assert hits[0].name == "Công ty TNHH Điện tử Đức Thành" and hits[0].status == "delinquent"
    assert (paths.rejects("2026-11-25") / "rejects.json").is_file()


def test_next_day_index_is_updated_not_rebuilt(tmp_path, settings):
    write_all(tmp_path / "d1")
    publish(tmp_path / "d1", AS_OF, settings)
    write_all(tmp_path / "d2", as_of=DAY2, overrides={("01", 0): dict(name="Công ty Cổ phần Đổi Tên", arrears_bhyt=9,
                                                                      months_late=1)}, rows_per_province=2)
    publish(tmp_path / "d2", DAY2, settings)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    assert search(paths.search_index("2026-11-26"), "doi ten").hits[0].status == "late"
    assert search(paths.search_index("2026-11-25"), "doi ten").total == 0  # yesterday's index untouched
    assert search(paths.search_index("2026-11-26"), "").total == 68         # dropped employers left the index
    assert search(paths.search_index("2026-11-25"), "").total == 102


def test_missing_signing_key_is_a_usage_error(tmp_path, settings):
    os.remove(settings["CONGKHAI_SIGNING_KEY"])
    write_all(tmp_path / "d1")
    with pytest.raises(UsageError, match="congkhai keygen"):
        publish(tmp_path / "d1", AS_OF, settings)


CHILD = """
import sys
from datetime import date
from pathlib import Path
sys.path.insert(0, {root!r})
from congkhai.config import load_settings
from publisher.pipeline import publish
publish(Path({inputs!r}), date.fromisoformat({day!r}), load_settings(env={{}}, CONGKHAI_DATA_DIR={data!r}))
print("done", flush=True)
"""


def run_child(inputs, day, data) -> subprocess.Popen:
    code = CHILD.format(root=str(REPO_ROOT), inputs=str(inputs), day=day.isoformat(), data=str(data))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_readable(data, expected_ids: set[str]) -> str:
    """The release the database calls current is complete on disk, and `current` is intact."""
    paths = Paths(data)
    engine = sa.create_engine(f"sqlite:///{data / 'congkhai.db'}")
    with engine.connect() as conn:
        release = latest_release(conn)
    engine.dispose()
    assert release["id"] in expected_ids
    assert verify_release(paths.release(release["id"])) == []
    assert file_sha256(paths.release(release["id"]) / "datapackage.json") == release["datapackage_sha256"]
    assert search(paths.search_index(release["id"]), "").total == release["counts"]["employers"]
    assert current_release_id(paths.releases) in expected_ids
    assert verify_release(paths.current) == []
    return release["id"]


@pytest.mark.slow
def test_publisher_killed_at_any_moment_leaves_a_readable_release(tmp_path, settings):
    """SIGKILL a real publishing run at moments spread over its whole length (reading, files, index,
    database, pointer); each time the previous release still serves, complete and verified, and a
    new run afterwards succeeds."""
    base = tmp_path / "data"
    write_all(tmp_path / "d1", rows_per_province=40)
    write_all(tmp_path / "d2", as_of=DAY2, rows_per_province=41,
              overrides={("79", i): dict(arrears_bhxh=1000 * (i + 1), months_late=3) for i in range(20)})
    publish(tmp_path / "d1", AS_OF, settings)
    pristine = tmp_path / "pristine"
    shutil.copytree(base, pristine, symlinks=True)

    started = time.perf_counter()
    child = run_child(tmp_path / "d2", DAY2, base)
    assert child.communicate()[0].strip() == "done"
    duration = time.perf_counter() - started
    assert check_readable(base, {"2026-11-26"}) == "2026-11-26"

    outcomes = set()
    for step in range(1, 9):
        shutil.rmtree(base)
        shutil.copytree(pristine, base, symlinks=True)
        child = run_child(tmp_path / "d2", DAY2, base)
        time.sleep(duration * step / 9)
        child.send_signal(signal.SIGKILL)
        child.communicate()
        outcomes.add(check_readable(base, {"2026-11-25", "2026-11-26"}))
        again = run_child(tmp_path / "d2", DAY2, base)
        out, err = again.communicate()
        assert out.strip() == "done", err
        assert check_readable(base, {"2026-11-26"}) == "2026-11-26"
        assert not [p for p in (base / "releases").iterdir() if ".tmp-" in p.name]
    assert "2026-11-25" in outcomes  # at least some kills landed before the new release was complete


def test_a_failed_rerun_keeps_the_published_rejects_report(tmp_path, settings):
    write_all(tmp_path / "d1", rows_per_province=40, overrides={("01", 3): dict(tax_code="0100233487")})
    publish(tmp_path / "d1", AS_OF, settings)
    report = Paths(settings["CONGKHAI_DATA_DIR"]).rejects("2026-11-25")
    published = (report / "rejects.csv").read_text(encoding="utf-8")
    assert "0100233487" in published
    write_all(tmp_path / "bad", skip=("48",))
    with pytest.raises(VerificationError):
        publish(tmp_path / "bad", AS_OF, settings)
    assert (report / "rejects.csv").read_text(encoding="utf-8") == published
    assert (report / "failed-run-rejects.json").is_file()


def test_a_corrected_rerun_keeps_the_days_renames_in_its_index(tmp_path, settings):
    """The first run of a day renamed an employer; its corrected re-run must still index the new name,
    though the database already holds it (so a comparison with the database sees no rename)."""
    write_all(tmp_path / "d1")
    publish(tmp_path / "d1", AS_OF, settings)
    renamed = {("01", 0): dict(name="Công ty TNHH Tên Mới Hoàn Toàn")}
    write_all(tmp_path / "d2", as_of=DAY2, overrides=renamed)
    publish(tmp_path / "d2", DAY2, settings)
    write_all(tmp_path / "d2b", as_of=DAY2, overrides={**renamed, ("79", 0): dict(arrears_bhxh=5, months_late=1)})
    publish(tmp_path / "d2b", DAY2, settings)
    index = Paths(settings["CONGKHAI_DATA_DIR"]).search_index("2026-11-26")
    assert search(index, "ten moi hoan toan").total == 1
    assert search(index, "").total == 102
