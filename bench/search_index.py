"""Benchmark of congkhai.search on synthetic employers: index time and size, update time, and
per-query-type latency (p50/p95) in one process.

    .venv/bin/python bench/search_index.py --docs 1000000 --procs 2 --dir /tmp/search-bench

Names come from word pools shaped like real registrations ("Công ty TNHH Thương mại Dịch vụ
Minh Phát"): a legal form, zero to three trade words, a two-syllable proper name; so common words
("thương mại", "xây dựng") match a large share of the index, as they do in the real data.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

from stdnum.vn import mst

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from congkhai import search  # noqa: E402
from congkhai.provinces import all_provinces  # noqa: E402
from congkhai.text import fold  # noqa: E402

LEGAL = ["Công ty TNHH", "Công ty cổ phần", "Công ty TNHH MTV", "Công ty TNHH một thành viên",
         "Doanh nghiệp tư nhân", "Hợp tác xã", "Chi nhánh Công ty cổ phần", "Công ty TNHH Hai thành viên",
         "CTCP", "Cty TNHH"]
LEGAL_WEIGHTS = [40, 25, 10, 4, 6, 3, 4, 3, 3, 2]
TRADE = ["Thương mại", "Dịch vụ", "Xây dựng", "Sản xuất", "Đầu tư", "Vận tải", "Điện tử", "Thực phẩm",
         "May mặc", "Cơ khí", "Du lịch", "Xuất nhập khẩu", "Công nghệ", "Tư vấn", "Kỹ thuật", "Nông nghiệp",
         "Thủy sản", "Dược phẩm", "Giáo dục", "Bất động sản", "Môi trường", "Nội thất", "Điện lạnh",
         "Khoáng sản", "Logistics", "Giải pháp", "Truyền thông", "Quảng cáo", "In ấn", "Gỗ"]
SYLLABLES = ("An Anh Bảo Bình Châu Chí Công Cường Đại Đạt Điền Đông Đức Dũng Duy Gia Giang Hà Hải Hân Hạnh "
             "Hiệp Hiếu Hòa Hoàng Hồng Hợp Huệ Hùng Hưng Hương Huy Khải Khang Khánh Khoa Kiên Kim Lâm Lan "
             "Lộc Long Lợi Mai Mạnh Minh Mỹ Nam Nga Ngân Nghĩa Ngọc Nguyên Nhân Nhật Như Phát Phong Phú "
             "Phúc Phương Quang Quân Quốc Quý Quyết Sơn Tài Tâm Tân Thái Thắng Thanh Thành Thảo Thiên "
             "Thịnh Thọ Thông Thuận Thủy Tiến Toàn Trí Trung Trường Tú Tuấn Tùng Tường Uy Vân Việt Vinh "
             "Vũ Vượng Xuân Ý Yến Sao Mai Đất Việt Hoa Sen Rồng Vàng Bắc Nam Á Châu").split()
SECTORS = ["Xây dựng", "Dệt may", "Chế biến thực phẩm", "Bán buôn, bán lẻ", "Vận tải, kho bãi", "Giáo dục",
           "Y tế", "Công nghệ thông tin", "Nông, lâm nghiệp", "Thủy sản", "Điện, điện tử", "Cơ khí",
           "Du lịch, lưu trú", "Bất động sản", "Tài chính", "Khai khoáng"]
OWNERSHIP = ["Công ty TNHH", "Công ty cổ phần", "Doanh nghiệp tư nhân", "Hợp tác xã", "Doanh nghiệp nhà nước",
             "Doanh nghiệp FDI", "Hộ kinh doanh"]
STATUSES = ["compliant", "late", "delinquent", "evading"]


def tax_codes():
    """Valid enterprise tax codes in increasing order (prefixes whose check digit would be 10 skipped)."""
    n = 0
    while True:
        n += 1
        first9 = f"03{n:07d}"
        code = first9 + mst.calc_check_digit(first9)
        if mst.is_valid(code):
            yield code


def name(rng: random.Random) -> str:
    legal = rng.choices(LEGAL, LEGAL_WEIGHTS)[0]
    trade = rng.sample(TRADE, rng.choice([0, 1, 1, 2, 2, 3]))
    proper = rng.sample(SYLLABLES, 2)
    return " ".join([legal, *trade, *proper])


def employers(count: int, seed: int = 7):
    rng = random.Random(seed)
    provinces = [p.code for p in all_provinces()]
    codes = tax_codes()
    for n in range(count):
        code = next(codes)
        status = rng.choices(STATUSES, [70, 20, 8, 2])[0]
        months = 0 if status == "compliant" else rng.randint(1, 2) if status == "late" else rng.randint(3, 60)
        household = rng.random() < 0.03
        yield {
            "key": f"HK{n:07d}" if household else code,
            "tax_code": None if household else code,
            "unit_code": f"{rng.choice('TAYNBDHC')}{rng.choice('ANBC')}{n % 10000:04d}{chr(65 + n % 26)}",
            "name": name(rng),
            "province_code": rng.choice(provinces),
            "status": status,
            "ownership_type": "Hộ kinh doanh" if household else rng.choice(OWNERSHIP[:-1]),
            "sector": rng.choice(SECTORS),
            "arrears_total": 0 if status == "compliant" else rng.randint(1, 40) * rng.choice([10 ** 6, 10 ** 7, 10 ** 8, 10 ** 9]),
            "months_late": months,
        }


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def queries(rng: random.Random, docs_sample: list[dict]):
    """Query mix per type: (label, q, filters, sort)."""
    provinces = sorted({d["province_code"] for d in docs_sample})
    types = {
        "exact name": lambda: (rng.choice(docs_sample)["name"], {}, None),
        "folded distinctive": lambda: (fold(" ".join(rng.choice(docs_sample)["name"].split()[-2:])), {}, None),
        "abbrev + folded": lambda: ("cty " + fold(" ".join(rng.choice(docs_sample)["name"].split()[-2:])), {}, None),
        "common word": lambda: (fold(rng.choice(TRADE)), {}, None),
        "legal form only": lambda: (rng.choice(["cong ty tnhh", "ctcp", "htx", "dntn"]), {}, None),
        "typo": lambda: (typo(rng, rng.choice(docs_sample)["name"].split()[-1]) + " " + fold(rng.choice(SYLLABLES)), {}, None),
        "empty + province/status": lambda: ("", {"province_code": rng.choice(provinces), "status": ["delinquent", "evading"]}, None),
        "empty, no filter": lambda: ("", {}, rng.choice([None, "months", "name"])),
        "word + filters + range": lambda: (fold(rng.choice(TRADE)), {"status": "delinquent", "arrears_min": 3 * 10 ** 9}, "arrears"),
        "tax code": lambda: (rng.choice([d for d in docs_sample if d["tax_code"]])["tax_code"], {}, None),
    }
    return types


def typo(rng, word):
    letters = list(fold(word))
    if len(letters) > 3:
        i = rng.randrange(1, len(letters))
        letters[i] = rng.choice("aeioumnth")
    return "".join(letters)


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/congkhai-search-bench"))
    parser.add_argument("--queries", type=int, default=200, help="queries per type")
    parser.add_argument("--reuse", action="store_true", help="reuse an index already built in --dir")
    args = parser.parse_args(argv)

    base, nextday = args.dir / "base", args.dir / "next"
    if not args.reuse:
        shutil.rmtree(args.dir, ignore_errors=True)
        docs = list(employers(args.docs))   # generated first, so the time is the index's alone
        started, times = time.perf_counter(), os.times()
        count = search.build_index(base, docs, procs=args.procs)
        elapsed = time.perf_counter() - started
        cpu = sum(after - before for after, before in zip(os.times()[:4], times[:4]))
        del docs
        print(f"build_index: {count} docs in {elapsed:.1f} s ({count / elapsed:,.0f} docs/s, procs={args.procs}; "
              f"{cpu:.1f} CPU s in all processes, load {os.getloadavg()[0]:.1f}), size {size_of(base) / 2 ** 20:.1f} MiB")

        rng = random.Random(11)
        changed = rng.sample(range(args.docs), args.docs // 50)
        originals = list(employers(args.docs))
        upserts = [dict(originals[i], status="delinquent", months_late=originals[i]["months_late"] + 3,
                        arrears_total=originals[i]["arrears_total"] + 5 * 10 ** 9) for i in changed[len(changed) // 4:]]
        deletes = [originals[i]["key"] for i in changed[:len(changed) // 4]]
        del originals
        started = time.perf_counter()
        search.update_index(base, nextday, upserts, deletes)
        print(f"update_index: {len(upserts)} upserts + {len(deletes)} deletes in {time.perf_counter() - started:.1f} s, "
              f"size {size_of(nextday) / 2 ** 20:.1f} MiB")

    started = time.perf_counter()
    index = search.open_index(nextday)
    print(f"open_index: {time.perf_counter() - started:.2f} s ({index.doc_count} live docs)")
    rng = random.Random(5)
    sample = [d for i, d in enumerate(employers(min(args.docs, 50_000))) if i % 5 == 0]
    search.search(index, "warm up")
    print("Warm: caches kept between queries (as in a portal worker); cold: caches cleared before each.")
    print(f"{'query type':28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cold p50':>9} {'cold p95':>9} {'avg hits':>10}")
    for label, make in queries(rng, sample).items():
        warm, cold, totals = [], [], []
        for n in range(args.queries):
            q, filters, sort = make()
            if n % 4 == 0:
                index.clear_caches()
                started = time.perf_counter()
                search.search(index, q, filters, sort)
                cold.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            result = search.search(index, q, filters, sort)
            warm.append((time.perf_counter() - started) * 1000)
            totals.append(result.total)
        print(f"{label:28} {percentile(warm, .5):8.1f} {percentile(warm, .95):8.1f} {max(warm):8.1f} "
              f"{percentile(cold, .5):9.1f} {percentile(cold, .95):9.1f} {statistics.mean(totals):10,.0f}")


if __name__ == "__main__":
    main()
