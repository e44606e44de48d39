"""A year of daily releases in bounded space: past releases move into the archive (whole weekly
copies, patches between), only the two serving releases keep a directory and a search index, and
every past release comes back byte for byte, verifiable against its original signature."""
import json
import os
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from congkhai import search
from congkhai.config import Paths
from congkhai.release_archive import is_archived, read_manifest
from congkhai.release_format import verify_release
from publisher.archive import current_release_id
from publisher.cli import main
from publisher.compact import compact, index_from_release, make_whole, pending, serving
from publisher.daily import NOTHING_NEW, run_daily
from publisher.pipeline import publish
from publisher.withdraw import withdraw

from .factory import AS_OF, moment_on, write_all

pytestmark = pytest.mark.skipif(shutil.which("zstd") is None, reason="the zstd command is not installed")
DAYS = [AS_OF + timedelta(days) for days in range(5)]


def publish_days(tmp_path, settings, days):
    for day in days:
        number = (day - AS_OF).days
        reports = tmp_path / "reports" / day.isoformat()
        write_all(reports, as_of=day, overrides={("01", number % 3): {"arrears_bhxh": 1_000_000 * (number + 1),
                                                                       "months_late": 1}})
        publish(reports, day, settings, now=moment_on(day))


def snapshot(paths, days):
    """Every release directory's bytes before compaction, to compare what comes back with."""
    return {day.isoformat(): {p.relative_to(paths.release(day.isoformat())).as_posix(): p.read_bytes()
                              for p in paths.release(day.isoformat()).rglob("*") if p.is_file()} for day in days}


def tree(directory):
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def index_documents(path):
    """Every document as search answers it, and what a search by each name answers."""
    index = search.open_index(path)
    hits, page = [], 1
    while not hits or len(hits) < search.search(index, "", facets=False).total:
        hits += search.search(index, "", sort="name", page=page, per_page=search.MAX_PER_PAGE, facets=False).hits
        page += 1
    return [(hit, [h.key for h in search.search(index, hit.name, per_page=3, facets=False).hits])
            for hit in sorted(hits, key=lambda hit: hit.key)]


@pytest.fixture
def five_days(tmp_path, settings, monkeypatch):
    """Five daily releases; the `congkhai` command reads the same data directory."""
    for name in ("CONGKHAI_DATA_DIR", "CONGKHAI_SIGNING_KEY", "DATABASE_URL"):
        monkeypatch.setenv(name, settings[name])
    publish_days(tmp_path, settings, DAYS)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    return paths, snapshot(paths, DAYS)


def test_only_the_serving_releases_stay_whole_and_keyframes_come_every_n(five_days):
    paths, _before = five_days
    done = compact(paths, keyframe_every=2)
    ids = [day.isoformat() for day in DAYS]
    assert done.archived == ids[:3] and done.keyframes == [ids[0], ids[2]]
    assert serving(paths.releases) == set(ids[3:])
    assert sorted(d.name for d in paths.releases.iterdir() if d.is_dir() and not d.is_symlink()) == ids[3:]
    assert sorted(d.name for d in paths.indexes.iterdir()) == ids[3:]
    assert [read_manifest(paths.archived(i))["base"] for i in ids[:3]] == [None, ids[0], None]
    assert done.bytes_after < done.bytes_before
    assert not pending(paths)
    assert compact(paths, keyframe_every=2).archived == []  # nothing twice


def test_every_archived_release_comes_back_byte_for_byte_and_verifies_with_the_agency_key(five_days, settings, capsys):
    paths, before = five_days
    compact(paths, keyframe_every=3)
    public_key = paths.keys / "signing.pub.pem"
    for day in DAYS[:3]:
        out = paths.data_dir.parent / "restored" / day.isoformat()
        assert main(["restore", day.isoformat(), "--out", str(out)]) == 0
        assert tree(out) == before[day.isoformat()]
        assert verify_release(out, public_key.read_text(encoding="ascii")) == []
        assert main(["verify", day.isoformat(), "--public-key", str(public_key)]) == 0
        assert main(["verify", str(paths.archived(day.isoformat())), "--public-key", str(public_key)]) == 0
    assert "every file matches SHA256SUMS" in capsys.readouterr().out


def test_verify_of_an_archived_release_names_a_damaged_file(five_days, capsys):
    paths, _before = five_days
    compact(paths, keyframe_every=3)
    archived = paths.archived(DAYS[1].isoformat())
    stored = archived / read_manifest(archived)["files"]["employers.csv"]["stored"]
    data = bytearray(stored.read_bytes())
    data[-3] ^= 0x55
    stored.write_bytes(bytes(data))
    assert main(["verify", DAYS[1].isoformat(), "--public-key", str(paths.keys / "signing.pub.pem")]) == 1
    err = capsys.readouterr().err
    assert "NOT verified" in err and "employers.csv" in err


def test_a_crash_after_the_archive_was_renamed_in_only_deletes_the_directory_next_time(five_days):
    paths, before = five_days
    compact(paths, keyframe_every=7)
    first = DAYS[0].isoformat()
    archive_bytes = tree(paths.archived(first))
    (paths.releases / first).mkdir()
    for name, data in before[first].items():  # the directory as a crash before its deletion left it
        (paths.releases / first / name).parent.mkdir(parents=True, exist_ok=True)
        (paths.releases / first / name).write_bytes(data)
    assert pending(paths)
    done = compact(paths, keyframe_every=7)
    assert done.archived == [] and not paths.release(first).exists()
    assert tree(paths.archived(first)) == archive_bytes


def test_a_second_withdrawal_in_a_row_brings_the_archived_release_back_with_its_index(tmp_path, settings):
    publish_days(tmp_path, settings, DAYS[:4])
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    second = DAYS[1].isoformat()
    original_index = index_documents(paths.search_index(second))
    original_files = tree(paths.release(second))
    compact(paths, keyframe_every=7)
    assert is_archived(paths.archived(second)) and not paths.search_index(second).exists()

    withdraw(DAYS[3], "sent twice", settings)
    withdraw(DAYS[2], "the same mistake", settings)

    assert current_release_id(paths.releases) == second
    assert tree(paths.release(second)) == original_files
    assert index_documents(paths.search_index(second)) == original_index
    assert make_whole(paths, second) == []  # already whole


def test_the_daily_timer_compacts_on_its_first_tick_after_a_release(tmp_path, settings):
    publish_days(tmp_path, settings, DAYS[:3])
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    day = DAYS[3]
    incoming = tmp_path / "incoming"
    write_all(incoming / day.isoformat(), as_of=day)
    late = datetime.combine(day, datetime.min.time(), timezone(timedelta(hours=7))).replace(hour=23)
    old = (late - timedelta(minutes=30)).timestamp()
    for path in (incoming / day.isoformat()).iterdir():
        os.utime(path, (old, old))
    first = run_daily(settings, late, day=day, incoming=incoming)
    assert first.published is not None and first.compaction is None
    second = run_daily(settings, late + timedelta(minutes=5), day=day, incoming=incoming)
    assert second.decision == NOTHING_NEW
    assert second.compaction.archived == [DAYS[0].isoformat(), DAYS[1].isoformat()]
    runs = [json.loads(line) for line in paths.run_log.read_text(encoding="utf-8").splitlines()]
    assert runs[-1]["command"] == "compact" and runs[-1]["outcome"] == "archived"
    third = run_daily(settings, late + timedelta(minutes=10), day=day, incoming=incoming)
    assert third.compaction is None  # nothing left: no run logged each tick


def test_an_index_full_of_dead_rows_is_built_again_aside_and_the_next_release_updates_that(
        tmp_path, settings, monkeypatch):
    """Each daily update keeps a dead row per change, so a chain of them grows with the days; past
    INDEX_DEAD_SHARE_MAX the current index is built again from its employers.jsonl as the base the
    next release updates, with the same documents."""
    monkeypatch.setattr("publisher.compact.INDEX_DEAD_SHARE_MAX", 0.0)
    publish_days(tmp_path, settings, DAYS[:3])
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    third = DAYS[2].isoformat()
    grown = search.dead_share(paths.search_index(third))
    assert grown > 0 and pending(paths)

    done = compact(paths, keyframe_every=7)
    assert done.index_rebuilt == grown
    assert search.dead_share(paths.search_base(third)) == 0
    assert index_documents(paths.search_base(third)) == index_documents(paths.search_index(third))
    assert not pending(paths)

    publish_days(tmp_path, settings, DAYS[3:4])
    fourth = paths.search_index(DAYS[3].isoformat())
    assert search.dead_share(fourth) < grown
    rebuilt = tmp_path / "rebuilt"
    index_from_release(paths, DAYS[3].isoformat(), rebuilt)
    assert index_documents(fourth) == index_documents(rebuilt)

    compact(paths, keyframe_every=7)  # the fourth was built from the base, which has served its day
    assert not paths.search_base(third).exists() and paths.search_index(third).exists()
