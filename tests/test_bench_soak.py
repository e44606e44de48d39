"""bench/soak.py end to end on a tiny release with one release published underneath, so the soak
the lead runs at 100,000 employers for ten minutes cannot rot; and its checks on answers that name
the wrong release, which must fail the run."""
from __future__ import annotations

import re

import pytest

from tests.bench_scripts import load_bench_script


def load_bench():
    return load_bench_script("soak")


@pytest.mark.slow
def test_tiny_soak_publishes_underneath_and_every_answer_names_its_release(tmp_path, capsys):
    bench = load_bench()
    out = tmp_path / "out"
    status = bench.main(["--employers", "300", "--duration", "3", "--workers", "2", "--concurrency", "4",
                         "--sample-seconds", "1", "--port", "5191", "--out", str(out)])
    report = capsys.readouterr().out

    assert status == 0, report
    assert re.search(r"machine: .+, \d+ cores, .+; load average [\d.]+ ", report)
    assert "release 2026-11-24: 300 employers; publishing underneath: 2026-11-25" in report
    requests = re.search(r"requests: ([\d,]+) in [\d.]+ s, [\d.]+ req/s \(batch ([\d,]+), employers ([\d,]+), "
                         r"lists ([\d,]+), search ([\d,]+)\)", report)
    assert requests and all(int(n.replace(",", "")) > 0 for n in requests.groups()), report
    assert re.search(r"latency: p50 [\d.]+ ms, p95 [\d.]+ ms, p99 [\d.]+ ms", report)
    assert "\nerrors: 0\n" in report and "(header and content name different releases): 0\n" in report
    switch = re.search(r"release 2026-11-25 current at \+[\d.]+ s \(publish started at .+ first answer naming it "
                       r"\+[\d.]+ s after; \d+ worker processes \(2 at a time\) served it", report)  # max_requests may restart one
    assert switch, report
    assert re.search(r"worker memory \(\d+ samples.+\n  worker \d+: RSS \d+ MB at start", report)
    assert "verdict: zero errors, zero mixed answers" in report
    assert not out.exists()  # no --keep: data, reports and logs removed


def answer(bench, header, content, start, end=None, kind="search"):
    return bench.Answer(0, kind, start, end if end is not None else start + 0.1, 200, header, content)


def test_an_answer_naming_the_old_release_long_after_the_switch_is_an_error():
    bench = load_bench()
    switches = [(0.0, "2026-11-24"), (100.0, "2026-11-25")]
    answers = [answer(bench, "2026-11-24", "2026-11-24", 105.0),    # within the allowance
               answer(bench, "2026-11-24", "2026-11-24", 113.0),    # stale
               answer(bench, "2026-11-25", "2026-11-25", 99.0, 99.5),  # before it was current
               answer(bench, "2026-11-25", "2026-11-25", 101.0)]
    bench.check_releases(answers, switches, grace=12)
    assert [a.error for a in answers] == [None, "stale release after the switch",
                                          "release served before it was current", None]


def test_a_page_or_receipt_naming_another_release_than_its_header_is_mixed():
    bench = load_bench()
    page = b'<!doctype html><head><meta name="release-id" content="2026-11-24">'
    assert bench.judge("search", 200, "2026-11-24", page) == ("2026-11-24", None, False)
    assert bench.judge("search", 200, "2026-11-25", page) == ("2026-11-24", None, True)
    assert bench.judge("search", 200, None, page) == ("2026-11-24", "no X-Release-Id header", False)
    assert bench.judge("lists", 200, "2026-11-24", b"<html>") == (None, "page without a release-id", False)
    assert bench.judge("employers", 500, None, b"")[1] == "HTTP 500"
    receipt = b'{"release_id": "2026-11-25", "receipt": {"release": {"id": "2026-11-24"}}}'
    assert bench.judge("batch", 200, "2026-11-25", receipt) == ("2026-11-24/2026-11-25", None, True)
    assert bench.judge("batch", 200, "2026-11-25", receipt.replace(b"-24", b"-25"))[1:] == (None, False)

    mixed = answer(bench, "2026-11-25", "2026-11-24", 1.0)
    mixed.mixed = True
    lines, failed = bench.report([mixed], 2.0, [(0.0, "2026-11-24")], [], {}, 2, [], 0)
    assert failed and "(header and content name different releases): 1\n  search at +1.0 s: header 2026-11-25, " \
                      "content 2026-11-24" in "\n".join(lines)
