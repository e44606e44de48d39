"""Benchmark of the daily results (issue 11): the publisher's precompute and the results page.

    python bench/results.py [--employers N] [--releases R] [--seed S]

Generates N employers' states directly (no reports, no files) and R daily releases in which 2% of
employers change (status, arrears, enforcement stage; a few pay off, a few are no longer
reported), times `congkhai.rules.results.daily_results` for each release as `build_release` calls
it, writes the rows into a fresh SQLite database the way `publisher.store` does, then renders the
results page, its JSON twin and the API for the country and a province through the Flask app.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from congkhai.config import load_settings  # noqa: E402
from congkhai.models import DailyResult, Release  # noqa: E402
from congkhai.policy import load_policy  # noqa: E402
from congkhai.provinces import all_provinces  # noqa: E402
from congkhai.rules.changes import State, diff_states  # noqa: E402
from congkhai.rules.results import daily_results  # noqa: E402
from publisher.store import init_db, make_engine  # noqa: E402

FIRST = date(2026, 10, 27)
STAGES = (None, "Đã gửi thông báo đôn đốc", "Đã lập biên bản làm việc", "Đã thanh tra", "Đã chuyển cơ quan điều tra")


def random_state(rng: random.Random) -> State:
    roll = rng.random()
    if roll < 0.70:
        return State("compliant", 0, 0, 0, 0, 0, None, None, None)
    months = rng.randint(1, 2) if roll < 0.82 else rng.randint(3, 24)
    bhxh, bhyt, bhtn = (rng.randint(1, 50) * 1_000_000 * months, rng.randint(1, 9) * 1_000_000, rng.randint(0, 3) * 1_000_000)
    status = "late" if months < 3 else ("evading" if roll > 0.985 else "delinquent")
    return State(status, bhxh, bhyt, bhtn, bhxh + bhyt + bhtn, months, None, None, rng.choice(STAGES))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=100_000)
    parser.add_argument("--releases", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    codes = [p.code for p in all_provinces()]
    province_of = {f"{n:010d}": rng.choice(codes) for n in range(args.employers)}
    states = {key: random_state(rng) for key in province_of}
    work = Path(tempfile.mkdtemp(prefix="bench-results-"))
    settings = load_settings(env={}, CONGKHAI_DATA_DIR=str(work))
    engine = make_engine(settings["DATABASE_URL"])
    init_db(engine)
    policy = load_policy().to_dict()
    compute, write = [], []
    for n in range(args.releases):
        day = FIRST + timedelta(days=n)
        before = dict(states)
        if n:
            for key in rng.sample(list(states), args.employers // 50):
                states[key] = random_state(rng) if rng.random() < 0.7 else State(
                    "compliant", 0, 0, 0, 0, 0, None, None, states[key].enforcement_stage)
        changes = diff_states(before, states) if n else []
        started = time.perf_counter()
        rows = daily_results(((province_of[k], s) for k, s in states.items()),
                             ((province_of[c.key], c) for c in changes), codes)
        compute.append(time.perf_counter() - started)
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(Release.__table__).values(
                id=day.isoformat(), as_of=day, created_at=datetime(2026, 1, 1, tzinfo=timezone.utc), state="complete",
                partial=False, provinces=codes, missing_provinces={}, policy=policy, counts={}, input_digest="0" * 64))
            conn.execute(insert(DailyResult.__table__), [{"release_id": day.isoformat(), "province_code": code,
                                                          "as_of": day, **row} for code, row in rows.items()])
        write.append(time.perf_counter() - started)
    engine.dispose()
    print(f"{args.employers:,} employers x {args.releases} releases, {args.employers // 50:,} changes a release")
    print(f"precompute per release: median {statistics.median(compute) * 1000:.1f} ms, max {max(compute) * 1000:.1f} ms")
    print(f"write 34 rows per release: median {statistics.median(write) * 1000:.1f} ms")

    from portal import create_app

    app = create_app({"TESTING": True, "CONGKHAI_DATA_DIR": str(work)})
    client = app.test_client()
    for label, url in (("results page, country", "/results?period=all"), ("results page, province", "/results?province=79"),
                       ("results .json", "/results.json"), ("results .csv", "/results.csv?period=all"),
                       ("API /api/v1/results", "/api/v1/results")):
        timings = []
        for _ in range(21):
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
            response.get_data()
        print(f"{label:<26} median {statistics.median(timings[1:]) * 1000:6.1f} ms, max {max(timings[1:]) * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
