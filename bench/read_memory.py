"""Peak memory of reading and validating one large CSV report (issue 9: memory bounded).

Writes a CSV of about --megabytes MB (default 200) for one province, realistic rows of the factory
kind (valid tax codes, Vietnamese names, a few employers in arrears), then reads and validates it
in a child process and prints that process's peak RSS, the rows read and the seconds taken,
beside the size of the file. The baseline line reads nothing (imports only).

    python bench/read_memory.py [--megabytes 200] [--out bench/out/read_memory] [--keep]
"""
from __future__ import annotations

import argparse
import csv
import json
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AS_OF = date(2026, 11, 25)


def write_report(path: Path, megabytes: int) -> int:
    """Rows until the file reaches the size; returns the number of data rows."""
    from stdnum.vn import mst

    from publisher.records import HEADERS

    target = megabytes * 1_000_000
    sectors = ["Xây dựng", "Dệt may", "Sản xuất điện tử", "Thương mại", "Vận tải"]
    n = base = 0
    totals = [0, 0, 0, 0]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([["BẢO HIỂM XÃ HỘI VIỆT NAM"], ["BẢO HIỂM XÃ HỘI THÀNH PHỐ HỒ CHÍ MINH"],
                          ["DANH SÁCH ĐƠN VỊ CHẬM ĐÓNG, TRỐN ĐÓNG BHXH, BHYT, BHTN"],
                          [f"Tính đến ngày {AS_OF:%d/%m/%Y}"], HEADERS])
        while handle.tell() < target:
            base += 1
            check = mst.calc_check_digit(f"{10_000_000 + base:09d}")
            if len(check) != 1:
                continue
            n += 1
            late = n % 10 == 0
            amounts = [n % 300 + 1, 1_234_567 * (n % 7 + 1) if late else 0, 234_567 if late else 0, 34_567 if late else 0]
            totals = [t + a for t, a in zip(totals, amounts)]
            writer.writerow([n, f"TA{n:07d}A", f"{10_000_000 + base:09d}{check}",
                             f"Công ty TNHH Thương mại và Dịch vụ Kỹ thuật Đức Thành số {n}",
                             f"Số {n} đường Nguyễn Thị Minh Khai, phường Bến Thành, Thành phố Hồ Chí Minh",
                             "Công ty TNHH", sectors[n % 5], amounts[0],
                             *(f"{a:,}".replace(",", ".") if a else "" for a in amounts[1:]),
                             4 if late else "", "", "Đã gửi thông báo đôn đốc" if late else ""])
        writer.writerow(["Tổng cộng", "", "", "", "", "", "", *totals, "", "", ""])
    return n


def measure(path: str, code: str, mode: str) -> None:
    """Child process: read and validate the report ('stream': as the pipeline does, 'list': raw
    rows first, as tests do; 'none': imports only), print peak RSS as JSON."""
    from publisher.read import read_report
    from publisher.validate import default_check, validate_report

    started = time.perf_counter()
    rows = rejected = 0
    if mode != "none":
        report = read_report(Path(path), code, AS_OF, stream=mode == "stream")
        validated = validate_report(report, AS_OF, default_check())
        rows, rejected = validated.rows_read, validated.rejected_rows
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_mb": round(peak_mb), "rows": rows, "rejected": rejected,
                      "seconds": round(time.perf_counter() - started, 1)}))


def child(path: Path, mode: str) -> dict:
    command = [sys.executable, __file__, "--measure", str(path), "79", mode]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "read_memory")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "79-ho-chi-minh.csv"
    started = time.perf_counter()
    rows = write_report(path, args.megabytes)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"wrote {path.stat().st_size / 1e6:,.0f} MB, {rows:,} rows in {time.perf_counter() - started:.0f} s")
    print(f"baseline (imports only): peak RSS {child(path, 'none')['peak_mb']:,} MB")
    for mode, label in (("stream", "streamed, as the pipeline reads"), ("list", "raw rows listed first")):
        result = child(path, mode)
        print(f"read + validate, {label}: peak RSS {result['peak_mb']:,} MB, {result['rows']:,} rows "
              f"({result['rejected']} rejected) in {result['seconds']} s")
    if not args.keep:
        shutil.rmtree(args.out)


if __name__ == "__main__":
    main()
