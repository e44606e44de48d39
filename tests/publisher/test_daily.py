"""Daily operation: `congkhai run-daily` publishes when every province is in or at the deadline,
waits (exit 75) before it, and re-publishes a date complete when a late province arrives."""
import json
import os
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from congkhai.config import load_settings
from congkhai.register.tables import R
from congkhai.policy import load_schedule
from publisher import runlog
from congkhai.release_format import verify_release
from publisher.cli import main
from publisher.cli.common import EXIT_WAITING
from publisher.daily import PUBLISH, PUBLISH_PARTIAL, WAIT, decide, scan

from .factory import AS_OF, write_all

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = AS_OF.isoformat()


def settle(directory, moment: datetime) -> None:
    """Give every file the modification time `moment`, as if it had been dropped then."""
    for path in directory.iterdir():
        os.utime(path, (moment.timestamp(), moment.timestamp()))


def release_row(env, day=AS_OF):
    """(partial, missing provinces, state) of the date's release in the database."""
    engine = sa.create_engine(f"sqlite:///{env / 'data' / 'congkhai.db'}")
    with engine.connect() as conn:
        row = conn.execute(sa.select(R.c.partial, R.c.missing_provinces, R.c.state).where(R.c.as_of == day)).first()
    engine.dispose()
    return row


def test_a_report_is_in_only_when_complete(tmp_path):
    directory = tmp_path / DAY
    write_all(directory)
    settle(directory, datetime(2026, 11, 25, 17, 0, tzinfo=HCM))
    (directory / "01-bao-cao.csv").rename(directory / "01-bao-cao.csv.part")  # still uploading
    (directory / "04.xlsx").rename(directory / ".04.xlsx")                    # write-then-rename, not renamed yet
    os.utime(directory / "08-bao-cao.csv", (datetime(2026, 11, 25, 17, 59, 30, tzinfo=HCM).timestamp(),) * 2)
    found = scan(directory, AS_OF, datetime(2026, 11, 25, 18, 0, tzinfo=HCM), settle_seconds=60)
    assert found.missing == ["01", "04", "08"]
    assert found.arriving == [".04.xlsx", "01-bao-cao.csv.part", "08-bao-cao.csv"]
    assert len(found.complete) == 31
    assert found.missing_names()[0] == "01 Thành phố Hà Nội"
    os.utime(directory / "08-bao-cao.csv", (datetime(2026, 11, 25, 18, 5, tzinfo=HCM).timestamp(),) * 2)
    ahead = scan(directory, AS_OF, datetime(2026, 11, 25, 18, 0, tzinfo=HCM), settle_seconds=60)
    assert ahead.missing == ["01", "04"]  # a clock ahead of ours does not hold a report back
    schedule = load_schedule()
    assert decide(found, datetime(2026, 11, 25, 18, 29, 59, tzinfo=HCM), schedule) == WAIT
    assert decide(found, datetime(2026, 11, 25, 18, 30, tzinfo=HCM), schedule) == PUBLISH_PARTIAL
    assert decide(found, datetime(2026, 11, 25, 11, 30, tzinfo=ZoneInfo("UTC")), schedule) == PUBLISH_PARTIAL
    found.missing = []
    assert decide(found, datetime(2026, 11, 25, 9, 0, tzinfo=HCM), schedule) == PUBLISH


def test_before_the_deadline_with_a_province_missing_nothing_is_published(env, capsys):
    incoming = env / "incoming" / DAY
    write_all(incoming, skip=("48",))
    settle(incoming, datetime(2026, 11, 25, 16, 0, tzinfo=HCM))
    assert main(["run-daily", "--now", "2026-11-25T18:15:00", "--quiet"]) == EXIT_WAITING
    err = capsys.readouterr().err
    assert "Nothing published for 2026-11-25: before the deadline (18:30 Asia/Ho_Chi_Minh) 1 of 34" in err
    assert "  - 48 Thành phố Đà Nẵng" in err
    assert sorted(p.name for p in (env / "data").iterdir()) == ["keys", "runs.jsonl"]  # nothing else touched
    [waiting] = runlog.runs(runlog.read(env / "data" / "runs.jsonl"))
    assert waiting["outcome"] == "waiting" and waiting["missing_provinces"] == {"48": "no report yet"}


def test_every_province_in_before_the_deadline_publishes_complete(env, capsys):
    incoming = env / "incoming" / DAY
    write_all(incoming)
    settle(incoming, datetime(2026, 11, 25, 16, 0, tzinfo=HCM))
    (incoming / ".79-upload.csv.tmp").write_text("half a report")  # a province's next upload, in transit
    assert main(["run-daily", "--now", "2026-11-25T17:00:00+07:00", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Published release 2026-11-25\n" in out and "Still arriving (not read): .79-upload.csv.tmp" in out
    assert tuple(release_row(env)) == (False, {}, "complete")
    assert main(["run-daily", "--now", "2026-11-25T17:15:00+07:00", "--quiet"]) == 0
    assert "already published from the reports now in" in capsys.readouterr().out


def test_at_the_deadline_a_partial_release_then_a_late_province_completes_it(env, capsys):
    incoming = env / "incoming" / DAY
    write_all(incoming, skip=("48",), overrides={("48", 0): dict(arrears_bhxh=7_000_000, months_late=5)})
    settle(incoming, datetime(2026, 11, 25, 16, 0, tzinfo=HCM))
    assert main(["run-daily", "--now", "2026-11-25T18:30:00", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Deadline 18:30 Asia/Ho_Chi_Minh passed: publishing 2026-11-25 without 1 province(s): 48" in out
    assert "Published release 2026-11-25 (PARTIAL)" in out and "LEFT OUT 48: input: no report for province 48" in out
    partial, missing, _ = release_row(env)
    assert partial and list(missing) == ["48"]

    assert main(["status", "--now", "2026-11-25T18:45:00"]) == 0
    out = capsys.readouterr().out
    assert "33 of 34 provinces in" in out and "LATE: 48 Thành phố Đà Nẵng" in out
    assert "published: 2026-11-25 (partial, without 48)" in out

    write_all(env / "late", overrides={("48", 0): dict(arrears_bhxh=7_000_000, months_late=5)})
    late = next((env / "late").glob("48*"))
    late.rename(incoming / late.name)  # the province's write-then-rename
    settle(incoming, datetime(2026, 11, 25, 19, 0, tzinfo=HCM))
    assert main(["status", "--now", "2026-11-25T19:05:00"]) == 0
    assert "arrived since: 48; the next `congkhai run-daily` re-publishes the date" in capsys.readouterr().out
    assert main(["run-daily", "--now", "2026-11-25T19:05:00", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Published release 2026-11-25\n" in out and "LEFT OUT" not in out and "delinquent" in out
    assert tuple(release_row(env)) == (False, {}, "complete")
    release = env / "data" / "releases" / DAY
    assert verify_release(release) == []
    package = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    assert package["release"]["partial"] is False and "48" in package["release"]["provinces"]
    index = json.loads((env / "data" / "releases" / "index.json").read_text(encoding="utf-8"))
    assert [(e["id"], e["partial"]) for e in index["releases"]] == [(DAY, False)]
    assert "Đà Nẵng" in (release / "delinquent.csv").read_text(encoding="utf-8")
    runs = runlog.runs(runlog.read(env / "data" / "runs.jsonl"))
    assert [(r["command"], r["outcome"], r["partial"]) for r in runs] == [("run-daily", "published", True),
                                                                          ("run-daily", "published", False)]
    assert {r["input"] for r in runs} == {str(incoming)}  # the incoming directory, not the copy it read


def test_a_bad_report_before_the_deadline_fails_the_run_and_names_it(env, capsys):
    incoming = env / "incoming" / DAY
    write_all(incoming, overrides={("79", 1): dict(tax_code="0100233487")}, rows_per_province=3)
    settle(incoming, datetime(2026, 11, 25, 16, 0, tzinfo=HCM))
    assert main(["run-daily", "--now", "2026-11-25T17:00:00", "--quiet"]) == 1
    assert "1 of 3 rows rejected" in capsys.readouterr().err
    assert main(["status", "--now", "2026-11-25T17:01:00"]) == 0
    out = capsys.readouterr().out
    assert "Last failed run: " in out and "verification failed, nothing published" in out


def test_settings_give_the_incoming_directory_a_default_in_the_data_dir(tmp_path):
    settings = load_settings(env={}, CONGKHAI_DATA_DIR=str(tmp_path))
    assert settings["CONGKHAI_INCOMING_DIR"] == str(tmp_path / "incoming")


def test_json_logs_of_a_publisher_run(env, capsys):
    incoming = env / "incoming" / DAY
    write_all(incoming)
    settle(incoming, datetime(2026, 11, 25, 16, 0, tzinfo=HCM))
    capsys.readouterr()
    assert main(["--log-format", "json", "run-daily", "--now", "2026-11-25T17:00:00", "--quiet"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    events = [line["event"] for line in lines]
    assert events[0] == "run_start" and events[-1] == "run_end"
    steps = [line["step"] for line in lines if line["event"] == "step"]
    assert steps == ["previous", "read+validate", "reconcile", "classify", "plausibility", "compare", "files", "index", "database", "current"]
    end = lines[-1]
    assert end["outcome"] == "published" and end["release_id"] == DAY and end["counts"]["employers"] == 102
    assert end["duration_s"] >= 0 and end["command"] == "run-daily" and end["level"] == "info"
    assert len({line["run_id"] for line in lines}) == 1 and {line["release_id"] for line in lines} == {DAY}


def test_an_unknown_log_format_is_bad_usage(env, monkeypatch, capsys):
    monkeypatch.setenv("CONGKHAI_LOG_FORMAT", "xml")
    with pytest.raises(SystemExit) as caught:
        main(["status"])
    assert caught.value.code == 2 and "CONGKHAI_LOG_FORMAT must be one of text, json" in capsys.readouterr().err


def test_run_daily_now_without_offset_is_vietnam_time_in_the_release(env, capsys):
    """A --now without an offset decided as Vietnam time but stamped the release as if it were UTC."""
    incoming = env / "incoming" / DAY
    write_all(incoming)
    settle(incoming, datetime(2026, 11, 25, 16, 0, tzinfo=HCM))
    assert main(["run-daily", "--now", "2026-11-25T17:00:00", "--quiet"]) == 0
    engine = sa.create_engine(f"sqlite:///{env / 'data' / 'congkhai.db'}")
    with engine.connect() as conn:
        created = conn.execute(sa.select(R.c.created_at).where(R.c.as_of == AS_OF)).scalar_one()
    engine.dispose()
    assert created.replace(tzinfo=None) == datetime(2026, 11, 25, 10, 0)
    capsys.readouterr()
    assert main(["status", "--now", "2026-11-25T17:05:00"]) == 0
    assert "  created:     2026-11-25 10:00:00 UTC (17:00 Asia/Ho_Chi_Minh)\n" in capsys.readouterr().out


def test_a_date_in_the_future_is_refused_at_once_not_waited_for(env, capsys):
    assert main(["run-daily", "--date", "2026-11-26", "--now", "2026-11-25T23:59:00", "--quiet"]) == 2
    assert ("cannot publish 2026-11-26, a date in the future: today is 2026-11-25 in Asia/Ho_Chi_Minh"
            in capsys.readouterr().err)
    assert not (env / "data" / "runs.jsonl").exists()
