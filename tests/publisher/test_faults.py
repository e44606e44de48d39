"""Faults while publishing: the publisher killed at each step, the database connection terminated
mid-transaction, the disk filling while a release is written. Each time the previous release keeps
serving unchanged (files verify, the database's current release is the same), what the run left is
swept, the next run succeeds, and the run log records the failed run with its reason."""
import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from congkhai.config import REPO_ROOT, Paths
from congkhai.register import Register
from congkhai.search import search
from congkhai.signing import load_signer
from publisher import install, runlog, store
from congkhai.release_format import file_sha256, verify_release
from publisher.archive import current_release_id
from publisher.cli import EXIT_FAULT, main
from publisher.errors import RunFailed
from publisher.pipeline import publish

from .factory import AS_OF, write_all

DAY2 = AS_OF + timedelta(days=1)
STEPS = ("previous", "read+validate", "reconcile", "classify", "plausibility", "compare", "files", "index", "database", "current")


def current_in_database(url: str) -> dict:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        release = Register(conn).latest_release()
    engine.dispose()
    return release


def check_serving(settings, release_id: str) -> None:
    """`release_id` is the database's current release and `current` on disk, complete and signed by
    the agency's key, its index whole; no hidden temporary is left beside the releases and indexes."""
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    release = current_in_database(settings["DATABASE_URL"])
    assert release["id"] == release_id
    assert current_release_id(paths.releases) == release_id
    public_key = load_signer(settings["CONGKHAI_SIGNING_KEY"]).public_key_pem
    assert verify_release(paths.current, public_key) == []
    assert file_sha256(paths.current / "datapackage.json") == release["datapackage_sha256"]
    assert search(paths.search_index(release_id), "").total == release["counts"]["employers"]


def no_leftovers(settings) -> None:
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    for directory in (paths.releases, paths.indexes):
        assert [p.name for p in directory.iterdir() if p.name.startswith(".")] == []


def last_run(settings) -> dict:
    return runlog.runs(runlog.read(Paths(settings["CONGKHAI_DATA_DIR"]).run_log))[-1]


def two_days_published_one(tmp_path, settings):
    """The first day published; the second day's reports ready (some employers new, some delinquent)."""
    write_all(tmp_path / "d1", rows_per_province=11, keep=10)
    write_all(tmp_path / "d2", as_of=DAY2, rows_per_province=11,
              overrides={("79", i): dict(arrears_bhxh=1_500_000 * (i + 1), months_late=3) for i in range(5)})
    publish(tmp_path / "d1", AS_OF, settings)
    return tmp_path / "d2"


@pytest.fixture
def two_days(tmp_path, settings):
    return two_days_published_one(tmp_path, settings)


CHILD = """
import sys, time
from datetime import date
from pathlib import Path
sys.path.insert(0, {root!r})
from congkhai.config import load_settings
from publisher.pipeline import Progress, publish

class StopAt(Progress):
    '''Stops for good at the start of the step, or inside the database transaction after its first batch.'''
    def step(self, name, total=None):
        if name != {step!r}:
            return super().step(name, total)
        if name != "database":
            self.stop()
        return lambda n=1: self.stop()

    def stop(self):
        print("at", {step!r}, flush=True)
        time.sleep(120)

publish(Path({inputs!r}), date.fromisoformat({day!r}), load_settings(env={{}}, CONGKHAI_DATA_DIR={data!r}),
        progress=StopAt())
"""


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_publisher_killed_at_each_step_leaves_the_previous_release_serving(two_days, settings, step):
    """SIGKILL a real publishing run (its own process, fsync and all) at each named step in turn."""
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    before = file_sha256(paths.current / "datapackage.json")
    code = CHILD.format(root=str(REPO_ROOT), step=step, inputs=str(two_days), day=DAY2.isoformat(),
                        data=settings["CONGKHAI_DATA_DIR"])
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline().strip()
        assert line == f"at {step}", child.stderr.read()
        child.kill()
    finally:
        child.kill()
        child.communicate()
    if step == "current":  # the database made the new release current; the pointer follows on the next run
        assert current_in_database(settings["DATABASE_URL"])["id"] == "2026-11-26"
        assert current_release_id(paths.releases) == "2026-11-25"
    else:
        check_serving(settings, "2026-11-25")
        assert file_sha256(paths.current / "datapackage.json") == before
    killed = last_run(settings)
    assert killed.get("outcome") is None and killed["step"] == step  # started, never ended

    publish(two_days, DAY2, settings)
    check_serving(settings, "2026-11-26")
    no_leftovers(settings)
    index = json.loads(paths.release_index.read_text(encoding="utf-8"))
    assert [entry["id"] for entry in index["releases"]] == ["2026-11-26", "2026-11-25"]
    runs = runlog.runs(runlog.read(paths.run_log))
    assert [r["outcome"] for r in runs] == ["published", "interrupted", "unchanged" if step == "current" else
                                            "published"]
    assert f"during step '{step}'" in runs[1]["reason"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_database_connection_terminated_mid_transaction(tmp_path, db_settings, monkeypatch, capsys):
    """pg_terminate_backend from another connection while the database step is writing."""
    settings = db_settings
    two_days = two_days_published_one(tmp_path, settings)
    admin = sa.create_engine(settings["DATABASE_URL"])
    write_release = store.write_release

    def write_and_lose_the_connection(conn, *args, progress=None, **kwargs):
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        terminated = []

        def tick(n):
            if not terminated:  # after the first batch: the transaction holds uncommitted rows
                with admin.connect() as other:
                    terminated.append(other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                                      .scalar_one())
        return write_release(conn, *args, progress=tick, **kwargs)

    monkeypatch.setattr(store, "write_release", write_and_lose_the_connection)
    for name, value in (("CONGKHAI_DATA_DIR", settings["CONGKHAI_DATA_DIR"]),
                        ("DATABASE_URL", settings["DATABASE_URL"])):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CONGKHAI_SIGNING_KEY", raising=False)
    capsys.readouterr()
    assert main(["publish", "--input", str(two_days), "--as-of", DAY2.isoformat(), "--quiet"]) == EXIT_FAULT
    err = capsys.readouterr().err
    assert "the run failed: the connection to the database was lost in step 'database'" in err
    assert "Traceback" not in err and "current release is unchanged" in err
    check_serving(settings, "2026-11-25")
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    assert not paths.release("2026-11-26").exists() and not paths.search_index("2026-11-26").exists()
    failed = last_run(settings)
    assert failed["outcome"] == "failed" and failed["step"] == "database"
    assert "connection to the database was lost" in failed["reason"]

    monkeypatch.setattr(store, "write_release", write_release)
    assert main(["publish", "--input", str(two_days), "--as-of", DAY2.isoformat(), "--quiet"]) == 0
    check_serving(settings, "2026-11-26")
    no_leftovers(settings)
    admin.dispose()


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs: the data directory on a disk that fills up (needs root, as in CI). Two releases of
    the small reports, their indexes and database take about 2 MB in 4 KB pages: 2 MB left a few
    pages to spare once the schemas described partial amounts, and the database's write-ahead log
    then found the disk full after the operator had freed it."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}); CI runs as root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_disk_full_while_a_release_is_written(tmp_path, small_disk, monkeypatch, capsys):
    data = small_disk / "data"
    monkeypatch.setenv("CONGKHAI_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CONGKHAI_SIGNING_KEY", raising=False)
    write_all(tmp_path / "d1")
    write_all(tmp_path / "d2", as_of=DAY2, overrides={("01", 0): dict(arrears_bhyt=9, months_late=1)})
    assert main(["keygen"]) == 0
    assert main(["publish", "--input", str(tmp_path / "d1"), "--as-of", AS_OF.isoformat(), "--quiet"]) == 0
    from congkhai.config import load_settings
    settings = load_settings()
    before = file_sha256(Paths(data).current / "datapackage.json")
    # Something else fills the disk: about 150 KB stay free, less than a release needs.
    ballast = small_disk / "ballast"
    stat = os.statvfs(small_disk)
    ballast.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 150_000))
    capsys.readouterr()
    assert main(["publish", "--input", str(tmp_path / "d2"), "--as-of", DAY2.isoformat(), "--quiet"]) == EXIT_FAULT
    err = capsys.readouterr().err
    assert "the run failed: the disk is full in step 'files'" in err and "free space" in err
    assert "Traceback" not in err
    check_serving(settings, "2026-11-25")
    assert file_sha256(Paths(data).current / "datapackage.json") == before
    no_leftovers(settings)
    assert not Paths(data).release("2026-11-26").exists()
    failed = last_run(settings)
    assert failed["outcome"] == "failed" and "the disk is full in step 'files'" in failed["reason"]

    ballast.unlink()  # the operator frees space
    assert main(["publish", "--input", str(tmp_path / "d2"), "--as-of", DAY2.isoformat(), "--quiet"]) == 0
    check_serving(settings, "2026-11-26")
    no_leftovers(settings)
    assert last_run(settings)["outcome"] == "published"


def test_a_fault_is_a_run_failed_with_its_step_not_a_traceback(two_days, settings, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("index writer exploded")

    monkeypatch.setattr("congkhai.search.update_index", broken)
    with pytest.raises(RunFailed, match="unexpected error in step 'index': RuntimeError: index writer exploded"):
        publish(two_days, DAY2, settings)
    check_serving(settings, "2026-11-25")
    assert not Paths(settings["CONGKHAI_DATA_DIR"]).release("2026-11-26").exists()
    assert last_run(settings)["step"] == "index"
    monkeypatch.undo()
    publish(two_days, DAY2, settings)
    check_serving(settings, "2026-11-26")


def test_an_index_written_in_its_own_process_is_stopped_and_removed_when_the_files_fail(two_days, settings,
                                                                                         monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(install, "PARALLEL_INDEX_MIN", 0)
    monkeypatch.setattr("publisher.package.write_release_files", broken)
    with pytest.raises(RunFailed, match="step 'files'"):
        publish(two_days, DAY2, settings)
    check_serving(settings, "2026-11-25")
    no_leftovers(settings)
    assert not Paths(settings["CONGKHAI_DATA_DIR"]).search_index("2026-11-26").exists()


def test_an_index_writer_process_that_fails_fails_the_run_in_its_step(two_days, settings, monkeypatch):
    """Yesterday's index lost a segment: the writer process exits with an error, nothing is published."""
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    for segment in paths.search_index("2026-11-25").glob("*.seg"):
        segment.unlink()
    monkeypatch.setattr(install, "PARALLEL_INDEX_MIN", 0)
    with pytest.raises(RunFailed, match=r"unexpected error in step 'index': RuntimeError: the search index writer "
                                        r"failed \(exit status 1\)"):
        publish(two_days, DAY2, settings)
    assert not paths.release("2026-11-26").exists() and not paths.search_index("2026-11-26").exists()
    no_leftovers(settings)


def test_a_correction_failing_in_the_database_step_puts_the_published_files_back(tmp_path, settings, monkeypatch):
    """A re-run of the latest date replaces its files before the database switches; when the
    database step fails, the replaced files come back, so files and database still agree."""
    write_all(tmp_path / "d1")
    publish(tmp_path / "d1", AS_OF, settings)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    published = file_sha256(paths.current / "datapackage.json")
    write_all(tmp_path / "d1b", overrides={("79", 0): dict(arrears_bhxh=5_000_000, months_late=4)})
    write_release = store.write_release

    def fail_after_the_first_batch(conn, *args, progress=None, **kwargs):
        def tick(n):
            raise sa.exc.OperationalError("INSERT ...", {}, Exception("server closed the connection unexpectedly"))
        return write_release(conn, *args, progress=tick, **kwargs)

    monkeypatch.setattr(store, "write_release", fail_after_the_first_batch)
    with pytest.raises(RunFailed, match="database error in step 'database'"):
        publish(tmp_path / "d1b", AS_OF, settings)
    check_serving(settings, "2026-11-25")
    assert file_sha256(paths.current / "datapackage.json") == published
    no_leftovers(settings)
    monkeypatch.undo()
    publish(tmp_path / "d1b", AS_OF, settings)
    check_serving(settings, "2026-11-25")
    assert file_sha256(paths.current / "datapackage.json") != published
