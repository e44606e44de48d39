"""Realistic provincial reports for the demo, the tests and the benchmark (`congkhai sample`).

The reports look like the agency staff's exports: some provinces send CSV (with or without a BOM,
`1.234.567` strings or plain integers, with or without title lines), others XLSX with title lines,
numeric cells and tax codes that lost their leading zero; a few names are in decomposed Unicode or
carry stray spaces. All of it is valid input: broken reports are the tests' business.

Every identifier derives from the employer's province and its serial number there (unit code, tax
code, a household owner's personal number), namespaced by province, so identifiers are unique across
the country without shared state. Provinces are therefore generated independently (in two processes
for large runs), and a next-day run needs nothing but each province's own report of the day before.

This module runs the generation (a first day, a next day, a corrected report, sample disputes); the
identifiers are publisher.sample_ids, the employers publisher.sample_employers, the standard layout's
files publisher.sample_reports, the other layouts publisher.sample_layouts and sample_writer.
"""
from __future__ import annotations

import os
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from random import Random

from congkhai.policy import load_policy
from congkhai.provinces import all_provinces, by_code
from congkhai.rules.classification import classify
from congkhai.text import clean
from publisher.records import HEADERS
from publisher.sample_layouts import LAYOUTS, STANDARD, assign_layouts
from publisher.sample_employers import (GIVEN_FEMALE_POOL, GIVEN_MALE_POOL, INSPECTED, MIDDLE_FEMALE, MIDDLE_MALE, NOTICE,
                                       PARENT_TYPES, STAGES, SURNAME_POOL, Entry, Generator, ReportStyle, SampleError,
                                       fund_split)
from publisher.sample_ids import PROVINCE_PROFILES
from publisher.sample_reports import ALTERNATE_HEADERS, open_writer, previous_rows


PARALLEL_FROM = 20_000   # employers; below this, a second process costs more than it saves
PROGRESS_EVERY = 5_000


@dataclass
class SampleSummary:
    out_dir: Path
    as_of: date
    files: list[str]
    employers_by_province: dict[str, int]
    by_status: dict[str, int]        # as the current policy would classify the rows
    formats: dict[str, str]          # province code -> 'csv' or 'xlsx'
    layouts: dict[str, str] = field(default_factory=dict)   # province code -> layout name
    changed: int = 0                 # with `previous`: existing employers whose row changed
    added: int = 0
    closed: int = 0
    new_decisions: int = 0

    @property
    def employers(self) -> int:
        return sum(self.employers_by_province.values())

    def describe(self) -> str:
        """What the command line prints."""
        formats = Counter(self.formats.values())
        statuses = ", ".join(f"{status} {count:,}" for status, count in self.by_status.items())
        text = (f"Wrote {len(self.files)} reports for {self.as_of.isoformat()} to {self.out_dir} "
                f"({formats['xlsx']} XLSX, {formats['csv']} CSV): {self.employers:,} employers; {statuses}.")
        layouts = Counter(self.layouts.values())
        if set(layouts) - {STANDARD}:
            text += "\nLayouts: " + ", ".join(f"{name} {count}" for name, count in sorted(layouts.items())) + "."
        if self.changed or self.added or self.closed:
            text += (f"\nSince the previous day: {self.changed:,} changed, {self.added:,} new, {self.closed:,} closed, "
                     f"{self.new_decisions} new evasion decision(s).")
        return text


@dataclass
class _ProvinceResult:
    code: str
    file: str
    format: str
    employers: int
    by_status: Counter
    changed: int = 0
    added: int = 0
    closed: int = 0
    new_decisions: int = 0
    layout: str = STANDARD


# ---------------------------------------------------------------------------------------------------
# Identifiers


# ---------------------------------------------------------------------------------------------------
# Styles and titles


def assign_styles(seed: int) -> dict[str, ReportStyle]:
    """A mix of export habits over the 34 provinces; Hà Nội and Hồ Chí Minh get one format each."""
    rng = Random(f"congkhai-sample:{seed}:styles")
    big = ["01", "79"]
    rng.shuffle(big)
    rest = [p.code for p in all_provinces() if p.code not in big]
    rng.shuffle(rest)
    xlsx_codes = [big[0]] + rest[:15]
    csv_codes = [big[1]] + rest[15:]
    styles = {}
    for i, code in enumerate(xlsx_codes):
        styles[code] = ReportStyle("xlsx", headers=ALTERNATE_HEADERS if i == 3 else tuple(HEADERS),
                                   unit_line=i % 3 == 1, zero_blank=i % 4 != 2,
                                   total_label_in="Tên đơn vị" if i % 2 else "STT")
    for i, code in enumerate(csv_codes):
        styles[code] = ReportStyle("csv", headers=ALTERNATE_HEADERS if i == 5 else tuple(HEADERS),
                                   titles=i % 3 != 2, unit_line=i % 6 == 1, bom=i % 2 == 0,
                                   dotted=(i // 2) % 2 == 0, zero_blank=i % 4 != 3,
                                   total_label_in="Tên đơn vị" if i % 5 == 4 else "STT")
    return styles


def allocate(employers: int) -> dict[str, int]:
    """Employers per province by the profile weights (largest remainder), at least one each."""
    codes = [p.code for p in all_provinces()]
    if employers < len(codes):
        raise ValueError(f"need at least {len(codes)} employers, one per province; got {employers}")
    spare = employers - len(codes)
    total_weight = sum(PROVINCE_PROFILES[c][2] for c in codes)
    shares = {c: spare * PROVINCE_PROFILES[c][2] / total_weight for c in codes}
    counts = {c: 1 + int(shares[c]) for c in codes}
    left = employers - sum(counts.values())
    for code in sorted(codes, key=lambda c: (int(shares[c]) - shares[c], c))[:left]:
        counts[code] += 1
    return counts


# ---------------------------------------------------------------------------------------------------
# Generating employers


# ---------------------------------------------------------------------------------------------------
# Cells in a report's style


# ---------------------------------------------------------------------------------------------------
# Writers


# ---------------------------------------------------------------------------------------------------
# Reading the previous day's report


# ---------------------------------------------------------------------------------------------------
# One province

def _names_units(style: ReportStyle) -> bool:
    """Whether the style's reports carry the agency's unit codes (the standard layout does)."""
    from .sample_layouts import LAYOUTS

    layout = LAYOUTS.get(style.layout)
    return layout is None or any(column.value == "unit_code" for column in layout.columns)


def _status(entry: Entry, policy) -> str:
    return classify(sum(entry.arrears), entry.months, bool(entry.decision), policy)


def _fresh_province(code: str, count: int, as_of: date, seed: int, style: ReportStyle, out_dir: Path,
                    progress=None) -> _ProvinceResult:
    province = by_code()[code]
    rng = Random(f"congkhai-sample:{seed}:{code}")
    generator = Generator(province, rng, as_of, personal_numbers=_names_units(style))
    policy = load_policy()
    path = out_dir / style.file_name(province)
    writer = open_writer(path, province, as_of, style)
    statuses = Counter()
    for i in range(count):
        entry = generator.new_entry()
        writer.add_new(entry, rng)
        statuses[_status(entry, policy)] += 1
        if progress and (i + 1) % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    writer.close()
    if progress:
        progress(count % PROGRESS_EVERY)
    return _ProvinceResult(code, path.name, style.format, count, statuses, layout=style.layout)


def _next_day_change(entry: Entry, generator: Generator) -> None:
    """One employer's step from one day to the next: pays up, pays part, falls behind, or starts to."""
    r = generator.rng
    if entry.months == 0 and sum(entry.arrears) == 0:
        if r.random() < 0.4:   # hires or leavers only
            step = max(1, round(entry.employees * 0.05))
            entry.employees += step if entry.employees <= step or r.random() < 0.5 else -step
            return
        generator.set_arrears(entry, 1)
        entry.stage = NOTICE if r.random() < 0.5 else entry.stage
        return
    # Late payers mostly settle; delinquent ones mostly slip further (steady shares over many days).
    pay_up, pay_part = (0.5, 0.6) if entry.months < 3 else (0.15, 0.35)
    u = r.random()
    if u < pay_up:
        entry.arrears, entry.months = [0, 0, 0], 0
        if not entry.decision:
            entry.stage = ""
    elif u < pay_part and entry.months > 1:
        share = (entry.months - 1) / entry.months
        entry.arrears = [round(a * share) for a in entry.arrears]
        entry.months -= 1
    else:
        monthly = [round(a / entry.months) for a in entry.arrears] if entry.months else \
            fund_split(generator.monthly(entry.employees))
        entry.arrears = [a + m for a, m in zip(entry.arrears, monthly)]
        entry.months += 1
        escalated = generator.stage(entry.months, bool(entry.decision))
        if STAGES.index(escalated) > STAGES.index(entry.stage if entry.stage in STAGES else ""):
            entry.stage = escalated


def _next_province(code: str, previous_path: Path, as_of: date, seed: int, out_dir: Path, change_share: float,
                   new_decisions: int, progress=None) -> _ProvinceResult:
    """The next day's report of one province: the same layout and export style, a few employers changed."""
    province = by_code()[code]
    rng = Random(f"congkhai-sample:{seed}:{code}:{as_of.isoformat()}")
    style, rows = previous_rows(previous_path, province, as_of)
    entries = [row.entry for row in rows]
    max_serial = max((entry.serial for entry in entries), default=0)
    branch_numbers, parents = {}, deque(maxlen=500)
    in_arrears = bytearray(len(rows))
    on_record = bytearray(len(rows))  # owes, or an evasion finding is in force: may not simply vanish
    for i, entry in enumerate(entries):
        if entry.kind == "branch":
            parent, number = entry.tax.split("-")
            branch_numbers[parent] = max(branch_numbers.get(parent, 0), int(number))
        elif entry.kind == "enterprise" and entry.ownership in PARENT_TYPES:
            parents.append((entry.tax, clean(entry.name), entry.ownership, entry.sector))
        in_arrears[i] = entry.months > 0 or any(entry.arrears)
        on_record[i] = in_arrears[i] or bool(entry.decision)
    generator = Generator(province, rng, as_of, max_serial + 1, parents, branch_numbers,
                           personal_numbers=_names_units(style))
    n_arrears = sum(in_arrears)
    n_compliant = len(rows) - n_arrears
    # Most changes among employers in arrears, the rest among the others, so the shares stay steady.
    p_arrears = min(1.0, change_share * len(rows) * 0.7 / n_arrears) if n_arrears else 0.0
    p_compliant = min(1.0, change_share * len(rows) * 0.3 / n_compliant) if n_compliant else 0.0
    decision_rows = set(_decision_candidates(entries, style, rng, new_decisions))

    policy = load_policy()
    path = out_dir / previous_path.name
    writer = open_writer(path, province, as_of, style)
    statuses = Counter()
    changed = closed = 0
    for i, row in enumerate(rows):
        entry = row.entry
        # Only employers that owe nothing and have no evasion finding close: a listed one stays in its
        # office's list until settled (and the publisher refuses a report that drops a listed employer).
        if entry.kind != "branch" and entry.serial != max_serial and rng.random() < change_share * 0.05 \
                and not on_record[i]:
            closed += 1
            continue
        change = rng.random() < (p_arrears if in_arrears[i] else p_compliant) or i in decision_rows
        if change:
            if i in decision_rows:
                entry.decision = generator.decision(as_of - timedelta(days=rng.randint(1, 5)))
                entry.stage = INSPECTED
            else:
                _next_day_change(entry, generator)
            entry.bhtnld = None   # its share of the new arrears
            changed += 1
        writer.add_row(row, change)
        statuses[_status(entry, policy)] += 1
        if progress and (i + 1) % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    added = _random_round(len(rows) * change_share * 0.2, rng)
    for _ in range(added):
        entry = generator.new_entry()
        writer.add_new(entry, rng)
        statuses[_status(entry, policy)] += 1
    writer.close()
    if progress:
        progress(len(rows) % PROGRESS_EVERY + added)
    return _ProvinceResult(code, path.name, style.format, len(rows) - closed + added, statuses,
                           changed, added, closed, len(decision_rows), style.layout)


def _decision_candidates(entries: list[Entry], style: ReportStyle, rng: Random, n: int) -> list[int]:
    """Rows to receive a new evasion decision: delinquent employers without one, in a report that
    has a column for it."""
    if not n or (style.layout != STANDARD and not LAYOUTS[style.layout].shows("decision")):
        return []
    candidates = [i for i, entry in enumerate(entries) if entry.months >= 3 and not entry.decision]
    return rng.sample(candidates, min(n, len(candidates)))


def _random_round(x: float, rng: Random) -> int:
    whole = int(x)
    return whole + (rng.random() < x - whole)


# ---------------------------------------------------------------------------------------------------
# The whole country

def _previous_reports(previous: Path) -> dict[str, Path]:
    reports = {}
    for path in sorted(previous.iterdir()):
        code = path.name[:2]
        if path.suffix.lower() in (".csv", ".xlsx") and code in PROVINCE_PROFILES:
            if code in reports:
                raise SampleError(f"{previous}: two reports for province {code}: {reports[code].name}, {path.name}")
            reports[code] = path
    missing = sorted(set(PROVINCE_PROFILES) - set(reports))
    if missing:
        raise SampleError(f"{previous}: no report for province(s) {', '.join(missing)}")
    return reports


def _run(jobs: list[tuple], workers: int, progress, sizes: dict[str, int]) -> list[_ProvinceResult]:
    """Run the province jobs, the largest first so two processes finish together."""
    jobs = sorted(jobs, key=lambda job: -sizes[job[1][0]])
    if workers <= 1:
        return [function(*args, progress=progress) for function, args in jobs]
    results = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(function, *args) for function, args in jobs]
        for future in futures:
            result = future.result()
            if progress:
                progress(result.employers)
            results.append(result)
    return results


def generate_reports(out_dir: Path, employers: int, as_of: date, seed: int = 0, previous: Path | None = None,
                     progress=None, change_share: float = 0.02, workers: int | None = None,
                     layouts=None) -> SampleSummary:
    """Write one report per province for `as_of` into `out_dir`.

    Without `previous`, `employers` new employers spread over the provinces, in the `layouts`
    named (publisher/sample_layouts.py: 'standard' by default, several or 'mixed' dealt over the
    provinces by the seed). With `previous` (a directory this function wrote for an earlier day),
    the next day: the same employers, layouts and export styles, about `change_share` of them
    changed, a few new and a very few closed, one or two new evasion decisions; `employers` is then
    unused. `progress(n)` is told of every n rows written. Same arguments, same bytes.
    """
    out_dir = Path(out_dir)
    if previous is not None and layouts:
        raise SampleError("a next day keeps each province's layout of the previous day: no layouts to choose")
    chosen = assign_layouts(seed, layouts) if previous is None else {}   # raises ValueError for an unknown name
    out_dir.mkdir(parents=True, exist_ok=True)
    if previous is not None:
        previous = Path(previous)
        if previous.resolve() == out_dir.resolve():
            raise SampleError(f"{out_dir}: the next day's reports need a directory other than the previous day's")
        reports = _previous_reports(previous)
        decisions = _new_decision_counts(seed, as_of)
        jobs = [(_next_province, (code, path, as_of, seed, out_dir, change_share, decisions.get(code, 0)))
                for code, path in reports.items()]
        sizes = {code: path.stat().st_size for code, path in reports.items()}
        total_size = sum(sizes.values())
        parallel = total_size > PARALLEL_FROM * 250
    else:
        counts = allocate(employers)
        styles = {code: style if chosen[code] == STANDARD else ReportStyle(style.format, layout=chosen[code])
                  for code, style in assign_styles(seed).items()}
        jobs = [(_fresh_province, (code, count, as_of, seed, styles[code], out_dir)) for code, count in counts.items()]
        sizes = counts
        parallel = employers >= PARALLEL_FROM
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if parallel else 1
    results = sorted(_run(jobs, workers, progress, sizes), key=lambda result: result.code)
    by_status = Counter()
    for result in results:
        by_status.update(result.by_status)
    return SampleSummary(
        out_dir=out_dir, as_of=as_of, files=[r.file for r in results],
        employers_by_province={r.code: r.employers for r in results},
        by_status={status: by_status.get(status, 0) for status in ("compliant", "late", "delinquent", "evading")},
        formats={r.code: r.format for r in results}, layouts={r.code: r.layout for r in results},
        changed=sum(r.changed for r in results), added=sum(r.added for r in results),
        closed=sum(r.closed for r in results), new_decisions=sum(r.new_decisions for r in results))


def _new_decision_counts(seed: int, as_of: date) -> dict[str, int]:
    """One or two new evasion decisions in the country per day, more likely in the large provinces."""
    rng = Random(f"congkhai-sample:{seed}:{as_of.isoformat()}:decisions")
    codes = list(PROVINCE_PROFILES)
    chosen = rng.choices(codes, weights=[PROVINCE_PROFILES[c][2] for c in codes], k=rng.choice((1, 2)))
    return Counter(chosen)


DISPUTE_REASONS = (
    "Đơn vị đã nộp đủ số tiền nợ BHXH ngày {day} theo ủy nhiệm chi số {number}, nhưng danh sách vẫn ghi còn nợ.",
    "Số lao động và số tiền nợ ghi trên danh sách không đúng với biên bản đối chiếu với cơ quan BHXH ngày {day}.",
    "Quyết định thanh tra ghi trên danh sách đã được thu hồi; đề nghị cơ quan BHXH kiểm tra và cập nhật.",
    "Mã số thuế ghi trên danh sách là của đơn vị khác cùng tên; đơn vị chúng tôi không có khoản nợ nào (số {number}).",
)


def sample_disputes(keys: list[str], count: int, as_of: date, seed: int = 0):
    """A few realistic disputes about some of `keys` (the demo shows the "disputed" mark with them)."""
    from congkhai.disputes import Submission

    rng = Random(seed)
    chosen = rng.sample(sorted(keys), min(count, len(keys)))
    out = []
    for key in chosen:
        female = rng.random() < 0.5
        name = " ".join((rng.choice(SURNAME_POOL), rng.choice(MIDDLE_FEMALE if female else MIDDLE_MALE),
                         rng.choice(GIVEN_FEMALE_POOL if female else GIVEN_MALE_POOL)))
        phone = "09" + "".join(str(rng.randrange(10)) for _ in range(8))
        day = as_of - timedelta(days=rng.randrange(3, 40))
        reason = rng.choice(DISPUTE_REASONS).format(day=day.strftime("%d/%m/%Y"), number=rng.randrange(100, 9999))
        out.append(Submission(key, name, phone, reason))
    return out


def corrected_report(reports_dir: Path, out_dir: Path, as_of: date, seed: int = 0, fixes: int = 3) -> Path:
    """A province's corrected report of a date already published: its largest province's report of
    `reports_dir` again, in its layout, where a few delinquent employers turn out to have paid (a
    payment matched to the wrong employer, the error that named hundreds of firms wrongly in
    Slovakia). Feeds `congkhai correct`. Returns the report's path."""
    reports = _previous_reports(Path(reports_dir))
    code = max(reports, key=lambda c: (reports[c].stat().st_size, c))
    path = reports[code]
    province = by_code()[code]
    style, rows = previous_rows(path, province, as_of)
    rng = Random(f"congkhai-sample:{seed}:{code}:{as_of.isoformat()}:correction")
    candidates = [i for i, row in enumerate(rows) if row.entry.months >= 3 and not row.entry.decision]
    fixed = set(rng.sample(candidates, min(fixes, len(candidates))))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = open_writer(out_dir / path.name, province, as_of, style)
    for i, row in enumerate(rows):
        if i in fixed:
            row.entry.arrears, row.entry.months, row.entry.stage, row.entry.bhtnld = [0, 0, 0], 0, "", None
        writer.add_row(row, i in fixed)
    writer.close()
    return out_dir / path.name
