"""The run log: whole lines only, read from its tail, runs merged from their events."""
import errno
import os

import pytest

from publisher import runlog
from publisher.cli import main
from publisher.runlog import RunRecord


def test_a_line_cut_short_by_a_full_disk_is_taken_back(tmp_path, monkeypatch):
    path = tmp_path / "runs.jsonl"
    runlog.append(path, {"run_id": "a", "event": "start"})
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:7]))
    with pytest.raises(OSError) as caught:
        runlog.append(path, {"run_id": "b", "event": "start"})
    assert caught.value.errno == errno.ENOSPC
    monkeypatch.undo()
    runlog.append(path, {"run_id": "c", "event": "start"})
    assert [entry["run_id"] for entry in runlog.read(path)] == ["a", "c"]


def test_status_reads_the_tail_and_merges_each_run(tmp_path):
    path = tmp_path / "runs.jsonl"
    for number in range(200):
        run = RunRecord(path, "publish", "2026-11-25", "in", run_id=f"r{number:03d}")
        run.start()
        run.begin_step("files")
        run.finish("failed" if number == 150 else "published", "the disk is full" if number == 150 else None)
    tail = runlog.read(path, tail_bytes=20_000)
    assert 0 < len(tail) < 600 and all("run_id" in entry for entry in tail)
    failure = runlog.last_failure(runlog.read(path))
    assert failure["run_id"] == "r150" and failure["step"] == "files" and failure["reason"] == "the disk is full"


def test_a_run_that_never_ended_is_recorded_as_interrupted(tmp_path):
    path = tmp_path / "runs.jsonl"
    killed = RunRecord(path, "run-daily", "2026-11-25", "in")
    killed.start()
    killed.begin_step("database")
    [ended] = runlog.record_interrupted(path)
    assert ended["outcome"] == "interrupted" and "during step 'database'" in ended["reason"]
    assert runlog.record_interrupted(path) == []  # once only


def test_status_when_the_database_does_not_answer(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CONGKHAI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")
    RunRecord(tmp_path / "data" / "runs.jsonl", "run-daily", "2026-11-25", "in").finish(
        "failed", "the connection to the database was lost in step 'database'")
    assert main(["status", "--now", "2026-11-25T19:00:00"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Database: cannot connect to the database (connection failed: ")
    assert "0 of 34 provinces in" in out and "LATE: 01 Thành phố Hà Nội" in out
    assert "Last failed run: " in out and "lost in step 'database'" in out
