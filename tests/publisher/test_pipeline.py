"""The whole publishing run: what it leaves on disk (crashes and other faults: test_faults.py)."""
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest

from congkhai.config import Paths
from congkhai.policy import load_schedule
from congkhai.search import search
from publisher import install, runlog
from congkhai.release_format import file_sha256, verify_release
from publisher.archive import current_release_id
from publisher.errors import VerificationError
from publisher.errors import UsageError
from publisher.pipeline import publish, refuse_future

from .factory import AS_OF, moment_on, write_all

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


@pytest.mark.parametrize("apart", [False, True], ids=["in-process", "in-its-own-process"])
def test_next_day_index_is_updated_not_rebuilt(tmp_path, settings, monkeypatch, apart):
    """A large register's update runs in a process of its own while the files are written: the same index."""
    if apart:
        monkeypatch.setattr(install, "PARALLEL_INDEX_MIN", 0)
    write_all(tmp_path / "d1")
    publish(tmp_path / "d1", AS_OF, settings)
    write_all(tmp_path / "d2", as_of=DAY2, overrides={("01", 0): dict(name="Công ty Cổ phần Đổi Tên", arrears_bhyt=9,
                                                                      months_late=1)}, keep=2)
    publish(tmp_path / "d2", DAY2, settings)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    assert search(paths.search_index("2026-11-26"), "doi ten").hits[0].status == "late"
    assert search(paths.search_index("2026-11-25"), "doi ten").total == 0  # yesterday's index untouched
    assert search(paths.search_index("2026-11-26"), "").total == 68         # dropped employers left the index
    assert search(paths.search_index("2026-11-25"), "").total == 102


def test_next_day_index_is_built_whole_when_yesterdays_is_in_an_older_format(tmp_path, settings):
    write_all(tmp_path / "d1")
    publish(tmp_path / "d1", AS_OF, settings)
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    vocab = paths.search_index("2026-11-25") / "columns.json"
    vocab.write_text(json.dumps({**json.loads(vocab.read_text(encoding="utf-8")), "version": 2}), encoding="utf-8")
    write_all(tmp_path / "d2", as_of=DAY2, keep=2)
    publish(tmp_path / "d2", DAY2, settings)
    assert search(paths.search_index("2026-11-26"), "").total == 68


def test_missing_signing_key_is_a_usage_error(tmp_path, settings):
    os.remove(settings["CONGKHAI_SIGNING_KEY"])
    write_all(tmp_path / "d1")
    with pytest.raises(UsageError, match="congkhai keygen"):
        publish(tmp_path / "d1", AS_OF, settings)


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


def test_static_feed_entries_carry_their_release_publication_time(tmp_path, settings):
    """Regression: entries were dated midnight of the release date. Each is dated by when its release
    was published: this release's from the run, earlier ones' from the database (SQLite: no zone)."""
    published_at = {AS_OF: datetime(2026, 11, 25, 10, 5, 17, tzinfo=timezone.utc),
                    DAY2: datetime(2026, 11, 26, 11, 42, 3, tzinfo=timezone.utc)}
    for day, now in published_at.items():
        months = 4 if day == AS_OF else 5
        write_all(tmp_path / day.isoformat(), as_of=day, overrides={("01", 0): dict(arrears_bhxh=9_000_000,
                                                                                     months_late=months)})
        result = publish(tmp_path / day.isoformat(), day, settings, now=now)
    for fmt in ("atom", "rss"):
        entries = feedparser.parse((result.release_dir / "feeds" / f"changes.{fmt}").read_bytes()).entries
        dated = {(entry.id.split("#")[0].rsplit("/", 1)[1], datetime(*entry.published_parsed[:6], tzinfo=timezone.utc))
                 for entry in entries}
        assert dated == {(day.isoformat(), now) for day, now in published_at.items()}, fmt


def test_an_as_of_in_the_future_is_refused_naming_both_dates(tmp_path, settings):
    """23:59 on the 24th in Vietnam: the 25th has not come."""
    write_all(tmp_path / "d1")
    with pytest.raises(UsageError, match=r"^cannot publish 2026-11-25, a date in the future: today is 2026-11-24 in "
                                         r"Asia/Ho_Chi_Minh; check the date \(and the machine's clock\)$"):
        publish(tmp_path / "d1", AS_OF, settings, now=datetime(2026, 11, 24, 16, 59, tzinfo=timezone.utc))
    paths = Paths(settings["CONGKHAI_DATA_DIR"])
    assert not paths.release(AS_OF.isoformat()).exists()
    [failed] = runlog.runs(runlog.read(paths.run_log))
    assert failed["outcome"] == "failed" and "a date in the future" in failed["reason"]


def test_23_30_utc_the_day_before_is_already_the_day_in_vietnam(tmp_path, settings):
    write_all(tmp_path / "d1")
    result = publish(tmp_path / "d1", AS_OF, settings, now=datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc))
    assert result.release.id == "2026-11-25"


def test_the_policy_may_allow_days_ahead(tmp_path, settings):
    policy = tmp_path / "policy.toml"
    policy.write_text(Path(settings["CONGKHAI_POLICY"]).read_text(encoding="utf-8")
                      .replace("max_days_ahead = 0", "max_days_ahead = 1"), encoding="utf-8")
    schedule = load_schedule(policy)
    refuse_future(AS_OF + timedelta(days=1), moment_on(AS_OF), schedule)
    with pytest.raises(UsageError, match=r"cannot publish 2026-11-27, a date in the future: today is 2026-11-25 in "
                                         r"Asia/Ho_Chi_Minh, and the policy \(\[schedule\] max_days_ahead\) allows 1 "
                                         r"day\(s\) ahead"):
        refuse_future(AS_OF + timedelta(days=2), moment_on(AS_OF), schedule)


def test_a_large_first_release_builds_its_index_apart_from_its_own_employers_jsonl(tmp_path, settings, monkeypatch):
    """In a process of its own (forked from the small server, not from the publisher's heap) and
    from the file just published, as compaction rebuilds one: the same documents and searches as
    the index built from the records in the publisher."""
    from congkhai.config import load_settings
    from congkhai.signing import generate_key

    from .test_compact import index_documents

    write_all(tmp_path / "d1", overrides={("79", 0): dict(name="Hộ kinh doanh Nguyễn Văn Đức", months_late=4,
                                                          arrears_bhxh=7_000_000)})
    publish(tmp_path / "d1", AS_OF, settings)
    apart = load_settings(env={}, CONGKHAI_DATA_DIR=str(tmp_path / "apart"))
    generate_key(apart["CONGKHAI_SIGNING_KEY"])
    monkeypatch.setattr(install, "PARALLEL_INDEX_MIN", 0)
    publish(tmp_path / "d1", AS_OF, apart)
    here, there = (Paths(s["CONGKHAI_DATA_DIR"]).search_index("2026-11-25") for s in (settings, apart))
    assert index_documents(there) == index_documents(here) and len(index_documents(here)) == 102
