"""Benchmark of writing a release directory (issue 3): files, hashes, feeds and signature for a
synthetic BuiltRelease of N employers (default 1,000,000), without the database or the reports.

    python bench/package.py [--employers N] [--out DIR] [--keep]

Prints the seconds of each part, the size of every file and the peak memory. Target: well under
2 minutes for 1,000,000 employers on a 2-core machine. Shares of statuses follow publisher/sample.py
(70% compliant, 12% late, 16.5% delinquent, 1.5% evading); 2% of employers changed since the
previous release, 0.2% are no longer reported.
"""
from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stdnum.vn import mst  # noqa: E402

from congkhai.config import load_settings  # noqa: E402
from congkhai.policy import load_policy  # noqa: E402
from congkhai.provinces import all_provinces  # noqa: E402
from congkhai.rules.changes import diff_states  # noqa: E402
from congkhai.signing import generate_key  # noqa: E402
from congkhai.taxcode import BRANCH, ENTERPRISE, PERSONAL, TaxId  # noqa: E402
from congkhai.release_format import verify_release  # noqa: E402
from congkhai.feeds import EmployerRef  # noqa: E402
from publisher.records import BuiltRelease, Record  # noqa: E402

AS_OF = date(2026, 11, 25)
TYPES = ["Công ty TNHH", "Công ty cổ phần", "Doanh nghiệp tư nhân", "Hợp tác xã"]
WORDS = ["Đức", "Thành", "Phát", "Hưng", "Thịnh", "Việt", "Á Châu", "Sông Hồng", "Điện tử", "Thủy sản", "Xây dựng",
         "Thương mại", "Dịch vụ", "Đông Đô", "Miền Tây", "Hải Âu", "Ánh Dương", "Bình Minh", "Tân Tiến", "Đại Nam"]
SECTORS = ["Xây dựng", "Dệt may", "Thủy sản", "Bán lẻ", "Vận tải", "Chế biến gỗ", "Điện tử", "Giáo dục"]
STAGES = ["Đã gửi thông báo đôn đốc", "Đã thanh tra", "Đã chuyển cơ quan điều tra"]


def tax_codes():
    """Valid 10-digit tax codes in order."""
    n = 100_000_000
    while True:
        n += 1
        check = mst.calc_check_digit(f"{n:09d}")
        if len(check) == 1:
            yield f"{n:09d}{check}"


def synthetic_release(n: int, seed: int = 1) -> tuple[BuiltRelease, dict]:
    rng = random.Random(seed)
    provinces = [p.code for p in all_provinces()]
    codes = tax_codes()
    records = []
    parent = None
    for i in range(n):
        u = rng.random()
        household = u < 0.05
        if household:
            tax = TaxId(PERSONAL, f"{rng.randrange(10**11, 10**12):012d}")
        elif u < 0.10 and parent:
            tax = TaxId(BRANCH, f"{parent}-{rng.randint(1, 999):03d}")
        else:
            parent = next(codes)
            tax = TaxId(ENTERPRISE, parent)
        employees = max(1, int(rng.lognormvariate(2.5, 1.2)))
        status, months, decision, decision_date, stage, arrears = "compliant", 0, None, None, None, (0, 0, 0)
        s = rng.random()
        if s >= 0.70:
            months = rng.randint(1, 2) if s < 0.82 else min(60, 3 + int(rng.expovariate(1 / 7)))
            total = employees * rng.uniform(1_000_000, 2_500_000) * months
            arrears = (int(total * 0.8), int(total * 0.15), int(total * 0.05))
            status = "late" if months < 3 else "delinquent"
            stage = rng.choice(STAGES) if months >= 3 else None
            if s >= 0.985:
                status = "evading"
                decision_date = AS_OF - timedelta(days=rng.randint(3, 700))
                decision = f"Số {rng.randint(1, 999)}/QĐ-TTr ngày {decision_date:%d/%m/%Y}"
        name = f"{'Hộ kinh doanh' if household else rng.choice(TYPES)} {rng.choice(WORDS)} {rng.choice(WORDS)} {i}"
        records.append(Record(
            source="bench.csv", line=i + 2, province_code=rng.choice(provinces), unit_code=f"DV{i:08d}", tax=tax,
            name=name, address=f"Số {rng.randint(1, 999)} đường {rng.choice(WORDS)}, phường {rng.choice(WORDS)}",
            ownership_type="Hộ kinh doanh" if household else rng.choice(TYPES), sector=rng.choice(SECTORS),
            employees=employees, arrears_bhxh=arrears[0], arrears_bhyt=arrears[1], arrears_bhtn=arrears[2],
            months_late=months, evasion_decision=decision, evasion_decision_date=decision_date,
            enforcement_stage=stage, status=status))
    records.sort(key=lambda r: r.key)
    unique = {r.key: r for r in records}
    records = list(unique.values())
    after = {r.key: r.state() for r in records}
    before = dict(after)
    for record in rng.sample(records, len(records) // 50):
        state = before[record.key]
        before[record.key] = state._replace(arrears_total=state.arrears_total + 1, arrears_bhxh=state.arrears_bhxh + 1)
    removed = {}
    for i in range(len(records) // 500):
        key = f"{9_000_000_000 + i}"
        before[key] = records[i].state()
        removed[key] = EmployerRef(key, f"Công ty TNHH Đã Giải Thể {i}", rng.choice(provinces), key, "Dệt may")
    built = BuiltRelease(
        as_of=AS_OF, created_at=datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc), policy=load_policy(),
        records=records, changes=diff_states(before, after), rejects=[], provinces=provinces, missing_provinces={},
        commendable={r.key for r in records if r.status == "compliant"}, input_digest="0" * 64,
        previous_as_of=AS_OF - timedelta(days=1), rows_read=len(records))
    return built, removed


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, help="where to write (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the release directory")
    args = parser.parse_args(argv)
    from publisher.package import write_release_files

    work = Path(tempfile.mkdtemp(prefix="congkhai-bench-", dir=args.out))
    try:
        started = time.perf_counter()
        built, removed = synthetic_release(args.employers)
        print(f"synthetic release: {len(built.records):,} employers, {len(built.changes):,} changes "
              f"in {time.perf_counter() - started:.1f} s")
        settings = load_settings(env={}, CONGKHAI_DATA_DIR=str(work / "data"))
        signer = generate_key(settings["CONGKHAI_SIGNING_KEY"])
        out = work / "release"
        out.mkdir()
        result = write_release_files(built, out, settings, signer, "2026-11-24", removed=removed)
        for part, seconds in result["timings"].items():
            print(f"  {part:<22} {seconds:7.1f} s")
        print(f"  rows: {result['tables']}; workbook sheets capped: {result['truncated'] or 'none'}")
        moment = time.perf_counter()
        problems = verify_release(out, signer.public_key_pem)
        print(f"  {'verify_release':<22} {time.perf_counter() - moment:7.1f} s ({len(problems)} problems)")
        total = 0
        for path in sorted(p for p in out.rglob("*") if p.is_file() and "feeds/provinces" not in p.as_posix()):
            size = path.stat().st_size
            total += size
            print(f"  {path.relative_to(out).as_posix():<28} {size / 1e6:9.1f} MB")
        feeds = sum(p.stat().st_size for p in (out / "feeds" / "provinces").iterdir())
        print(f"  {'feeds/provinces/* (68)':<28} {feeds / 1e6:9.1f} MB")
        print(f"  {'total':<28} {(total + feeds) / 1e6:9.1f} MB")
        print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        if args.keep:
            print(f"kept in {work}")
        else:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
