"""The sample generator: realistic, valid, reproducible reports, and next-day reports that change a little.

Reports are read back here with csv/openpyxl directly, independently of the publisher's reader.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from congkhai.policy import load_policy
from congkhai.provinces import all_provinces, by_code, find_province
from congkhai.taxcode import BRANCH, ENTERPRISE, PERSONAL, compact, parse_tax_code
from publisher.pipeline import PreviousView, build_release
from publisher.records import HEADERS
from publisher.sample import allocate, generate_reports
from publisher.sample_employers import SampleError
from publisher.sample_ids import (MAX_SERIAL, PROVINCE_PROFILES, enterprise_tax_code, personal_number, unit_code,
                                  unit_serial)
from publisher.sample_reports import REPORT_TITLE

AS_OF = date(2026, 11, 25)
NEXT_DAY = date(2026, 11, 26)
EMPLOYERS = 600
AMOUNTS = ("Nợ BHXH", "Nợ BHYT", "Nợ BHTN")
TOTALLED = ("Số lao động",) + AMOUNTS
DECISION = re.compile(r"^Số \d+/QĐ-[A-Za-z]+ ngày (\d{2}/\d{2}/\d{4})$")


def load(path: Path) -> dict:
    """A report as title lines, header row, data rows (by header) and the 'Tổng cộng' row."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    else:
        book = load_workbook(path, read_only=True)
        rows = [list(values) for values in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
    start = next(i for i, values in enumerate(rows) if "Mã số thuế" in values)
    headers = rows[start]
    # openpyxl gives an XLSX row only as far as its last filled cell
    *data, totals = [dict(zip(headers, values + [None] * (len(headers) - len(values))))
                     for values in rows[start + 1:]]
    return {"titles": [values[0] for values in rows[:start] if values and values[0]], "headers": headers,
            "rows": data, "totals": totals, "bom": path.read_bytes()[:3] == b"\xef\xbb\xbf"}


def number(value) -> int:
    if value in (None, ""):
        return 0
    return value if isinstance(value, int) else int(value.replace(".", ""))


def reports(directory: Path) -> dict[str, dict]:
    return {path.name: load(path) for path in sorted(directory.iterdir())}


def all_rows(loaded: dict[str, dict]):
    for name, report in loaded.items():
        for row in report["rows"]:
            yield name[:2], row


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("day1")
    summary = generate_reports(out, EMPLOYERS, AS_OF, seed=3)
    return out, summary, reports(out)


@pytest.fixture(scope="module")
def next_day(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("day2")
    summary = generate_reports(out, 0, NEXT_DAY, seed=3, previous=sample[0])
    return out, summary, reports(out)


def test_every_province_has_a_report_in_a_mix_of_formats(sample):
    out, summary, loaded = sample
    expected = {f"{p.code}-{p.slug}.csv" if summary.formats[p.code] == "csv" else f"{p.code}.xlsx"
                for p in all_provinces()}
    assert set(loaded) == expected and len(expected) == 34
    assert set(summary.formats.values()) == {"csv", "xlsx"}
    assert {r["bom"] for name, r in loaded.items() if name.endswith(".csv")} == {True, False}
    assert summary.employers == EMPLOYERS == sum(len(r["rows"]) for r in loaded.values())
    assert summary.employers_by_province == {name[:2]: len(r["rows"]) for name, r in loaded.items()}
    assert f"{EMPLOYERS:,} employers" in summary.describe() and "Since" not in summary.describe()


def test_headers_are_exact_in_varying_order(sample):
    loaded = sample[2]
    assert all(sorted(r["headers"]) == sorted(HEADERS) for r in loaded.values())
    assert {tuple(r["headers"]) == tuple(HEADERS) for r in loaded.values()} == {True, False}


def test_titles_name_the_province_of_the_file_and_the_date(sample):
    for name, report in sample[2].items():
        if name.endswith(".csv") and not report["titles"]:
            continue
        titles = report["titles"]
        assert titles[0] == "BẢO HIỂM XÃ HỘI VIỆT NAM" and REPORT_TITLE in titles
        assert f"Tính đến ngày {AS_OF:%d/%m/%Y}" in titles
        named = {province.code for province in map(find_province, titles) if province}
        assert named == {name[:2]}
        assert f"BẢO HIỂM XÃ HỘI {by_code()[name[:2]].name.upper()}" in titles
    assert any(name.endswith(".csv") and not r["titles"] for name, r in sample[2].items())


def test_totals_row_carries_the_column_sums(sample):
    for report in sample[2].values():
        totals = report["totals"]
        assert "Tổng cộng" in (totals["STT"], totals["Tên đơn vị"])
        for header in TOTALLED:
            assert number(totals[header]) == sum(number(row[header]) for row in report["rows"]), header


def test_tax_codes_are_valid_and_unique_across_the_country(sample):
    kinds, taxes, units = Counter(), Counter(), Counter()
    for code, row in all_rows(sample[2]):
        household = row["Loại hình"] == "Hộ kinh doanh"
        tax = parse_tax_code(row["Mã số thuế"], household=household)
        kinds[tax.kind] += 1
        taxes[tax.value] += 1
        units[row["Mã đơn vị"]] += 1
        if tax.kind == PERSONAL:
            assert len(tax.value) == 12 and tax.value.startswith("0" + code)
        assert unit_serial(row["Mã đơn vị"]) is not None
    assert max(taxes.values()) == 1 and max(units.values()) == 1
    assert kinds[ENTERPRISE] > 0.85 * EMPLOYERS and kinds[BRANCH] >= 10 and kinds[PERSONAL] >= 5


def test_tax_codes_come_in_the_forms_staff_store_them(sample):
    cells = [row["Mã số thuế"] for _, row in all_rows(sample[2])]
    texts = [c for c in cells if isinstance(c, str)]
    assert any(re.fullmatch(r"\d{10}-\d{3}", c) for c in texts)
    assert any(re.fullmatch(r"\d{13}", c) for c in texts)
    numeric = [c for c in cells if isinstance(c, int)]
    assert numeric and any(len(str(c)) in (9, 12) for c in numeric)   # lost the leading zero
    assert all(len(compact(c)) in (9, 10, 11, 12, 13) for c in cells)


def test_some_names_are_decomposed_or_carry_stray_spaces(sample):
    names = [row["Tên đơn vị"] for _, row in all_rows(sample[2])]
    assert any(unicodedata.normalize("NFC", n) != n for n in names)
    assert any("  " in n or n.endswith(" ") for n in names)
    assert any(n.startswith("Hộ kinh doanh ") for n in map(unicodedata.normalize, ["NFC"] * len(names), names))
    assert any(n.startswith("Chi nhánh Công ty") for n in names)


def test_large_firms_owe_more_than_two_to_the_31_vnd(sample):
    assert any(number(row[h]) > 2**31 for _, row in all_rows(sample[2]) for h in AMOUNTS)


def test_amounts_come_dotted_plain_numeric_and_empty(sample):
    cells = [row[h] for _, row in all_rows(sample[2]) for h in AMOUNTS]
    assert any(isinstance(c, str) and re.fullmatch(r"\d{1,3}(\.\d{3})+", c) for c in cells)
    assert any(isinstance(c, str) and re.fullmatch(r"\d{4,}", c) for c in cells)
    assert any(isinstance(c, int) for c in cells)
    assert any(c in (None, "") for c in cells) and any(c in (0, "0") for c in cells)


def test_statuses_are_plausible_and_enforcement_consistent(sample):
    _, summary, loaded = sample
    assert sum(summary.by_status.values()) == EMPLOYERS
    assert 0.6 < summary.by_status["compliant"] / EMPLOYERS < 0.8
    assert summary.by_status["delinquent"] > summary.by_status["evading"] > 0
    for _, row in all_rows(loaded):
        arrears = sum(number(row[h]) for h in AMOUNTS)
        months = number(row["Số tháng chậm đóng"])
        decision = row["Quyết định trốn đóng"]
        assert (arrears > 0) == (months > 0)
        if decision:
            day = datetime.strptime(DECISION.match(decision).group(1), "%d/%m/%Y").date()
            assert day < AS_OF
            assert row["Tình trạng xử lý"] in ("Đã thanh tra", "Đã chuyển cơ quan điều tra", "Đã kiến nghị khởi tố")
        elif not arrears:
            assert row["Tình trạng xử lý"] in (None, "")
        assert 1 <= number(row["Số lao động"]) <= 20_000


def test_same_arguments_give_the_same_bytes(tmp_path):
    runs = [generate_reports(tmp_path / name, 120, AS_OF, seed=5, workers=workers)
            for name, workers in (("a", 1), ("b", 1), ("c", 2))]
    other = generate_reports(tmp_path / "d", 120, AS_OF, seed=6)
    assert runs[0].files == runs[1].files == runs[2].files
    for name in runs[0].files:
        data = (tmp_path / "a" / name).read_bytes()
        assert data == (tmp_path / "b" / name).read_bytes() == (tmp_path / "c" / name).read_bytes(), name
    assert any((tmp_path / "a" / n).read_bytes() != (tmp_path / "d" / n).read_bytes()
               for n in set(runs[0].files) & set(other.files))


def test_progress_is_told_of_every_row(tmp_path):
    seen = []
    generate_reports(tmp_path, 80, AS_OF, progress=seen.append)
    assert sum(seen) == 80


def test_allocation_follows_province_sizes():
    counts = allocate(10_000)
    assert sum(counts.values()) == 10_000 and min(counts.values()) >= 1
    ranked = sorted(counts, key=counts.get, reverse=True)
    assert ranked[:2] == ["79", "01"]
    assert allocate(34) == {p.code: 1 for p in all_provinces()}
    with pytest.raises(ValueError, match="at least 34"):
        allocate(33)


@pytest.mark.parametrize("serial", [1, 9_999, 10_000, 259_999, 260_000, 1_234_567, MAX_SERIAL])
def test_unit_codes_give_back_their_serial(serial):
    code = unit_code("79", serial)
    assert re.fullmatch(r"HM\d{4}[A-Z]{1,2}", code)
    assert unit_serial(code) == serial


def test_identifiers_are_valid_and_distinct_for_every_province():
    prefixes = [p for profile in PROVINCE_PROFILES.values() for p in profile[1]]
    assert len(set(prefixes)) == len(prefixes) and set(PROVINCE_PROFILES) == set(by_code())
    assert len({profile[0] for profile in PROVINCE_PROFILES.values()}) == 34
    from random import Random
    rng = Random(0)
    for code in PROVINCE_PROFILES:
        taxes = {enterprise_tax_code(code, serial) for serial in range(1, 1500)}
        assert len(taxes) == 1499
        assert all(parse_tax_code(t).kind == ENTERPRISE for t in taxes)
        people = {personal_number(code, serial, rng) for serial in range(1, 300)}
        assert len(people) == 299 and all(p.startswith("0" + code) and len(p) == 12 for p in people)


def test_next_day_keeps_each_province_format(sample, next_day):
    before, after = sample[2], next_day[2]
    assert set(before) == set(after)
    for name in before:
        assert after[name]["headers"] == before[name]["headers"]
        assert after[name]["bom"] == before[name]["bom"]
        titles = [t.replace(f"{NEXT_DAY:%d/%m/%Y}", f"{AS_OF:%d/%m/%Y}") for t in after[name]["titles"]]
        assert titles == before[name]["titles"]
        assert ("Tổng cộng" == after[name]["totals"]["STT"]) == ("Tổng cộng" == before[name]["totals"]["STT"])
        for header in TOTALLED:
            assert number(after[name]["totals"][header]) == sum(number(r[header]) for r in after[name]["rows"])


def _by_unit(loaded: dict) -> dict:
    return {row["Mã đơn vị"]: {h: v for h, v in row.items() if h != "STT"} for _, row in all_rows(loaded)}


def test_next_day_changes_a_few_percent(sample, next_day):
    before, after = _by_unit(sample[2]), _by_unit(next_day[2])
    summary = next_day[1]
    common = set(before) & set(after)
    changed = [u for u in common if before[u] != after[u]]
    assert 0 < len(changed) <= 0.06 * len(before)
    assert len(changed) == summary.changed
    assert len(set(after) - set(before)) == summary.added
    assert len(set(before) - set(after)) == summary.closed
    assert summary.employers == len(after)
    assert f"{summary.changed:,} changed" in summary.describe()
    new_decisions = [u for u in common if after[u]["Quyết định trốn đóng"] and not before[u]["Quyết định trốn đóng"]]
    assert len(new_decisions) == summary.new_decisions
    for u in common:   # identity never changes, whatever happened to the arrears
        assert all(after[u][h] == before[u][h] for h in ("Mã số thuế", "Tên đơn vị", "Địa chỉ", "Loại hình"))


def test_next_day_pays_up_and_falls_behind(sample, tmp_path):
    summary = generate_reports(tmp_path, 0, NEXT_DAY, seed=3, previous=sample[0], change_share=0.3)
    before, after = _by_unit(sample[2]), _by_unit(reports(tmp_path))
    months = {u: (number(before[u]["Số tháng chậm đóng"]), number(after[u]["Số tháng chậm đóng"]))
              for u in set(before) & set(after)}
    paid = [u for u, (old, new) in months.items() if old and not new]
    behind = [u for u, (old, new) in months.items() if new > old]
    assert paid and behind and summary.added > 0
    assert len(behind) < sum(1 for old, _ in months.values() if old)   # not everyone in arrears slips a month
    taxes = Counter(parse_tax_code(r["Mã số thuế"], r["Loại hình"] == "Hộ kinh doanh").value for r in after.values())
    assert max(taxes.values()) == 1


def test_next_day_is_reproducible(sample, next_day, tmp_path):
    generate_reports(tmp_path, 0, NEXT_DAY, seed=3, previous=sample[0])
    for name in next_day[1].files:
        assert (tmp_path / name).read_bytes() == (next_day[0] / name).read_bytes(), name


def test_previous_must_be_a_complete_sample(sample, tmp_path):
    with pytest.raises(SampleError, match="other than the previous"):
        generate_reports(sample[0], 0, NEXT_DAY, previous=sample[0])
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "01.csv").write_text(",".join(HEADERS) + "\n", encoding="utf-8")
    with pytest.raises(SampleError, match="no report for province"):
        generate_reports(tmp_path / "out", 0, NEXT_DAY, previous=partial)


def test_previous_rows_not_made_here_are_named(sample, tmp_path):
    previous = tmp_path / "previous"
    previous.mkdir()
    for path in sample[0].iterdir():
        (previous / path.name).write_bytes(path.read_bytes())
    csv_name = next(n for n in sample[1].files if n.endswith(".csv"))
    text = (previous / csv_name).read_text(encoding="utf-8-sig")
    first_unit = sample[2][csv_name]["rows"][0]["Mã đơn vị"]
    (previous / csv_name).write_text(text.replace(first_unit, "X-1", 1), encoding="utf-8")
    with pytest.raises(SampleError, match=rf"{re.escape(csv_name)}, row 1, Mã đơn vị: 'X-1'"):
        generate_reports(tmp_path / "out", 0, NEXT_DAY, previous=previous)


def test_the_publisher_accepts_every_row_of_both_days(sample, next_day):
    """End to end through the real pipeline: nothing rejected, and the statuses the summary announced."""
    policy = load_policy()
    first = build_release(sample[0], AS_OF, policy, datetime(2026, 11, 25, 18), PreviousView(None, {}, {}, set()))
    assert first.rejects == [] and len(first.records) == EMPLOYERS
    first_counts = dict(first.counts()["by_status"])
    assert first_counts.pop("notice") == 0 and first_counts == sample[1].by_status  # the first release lists at once
    first_states = {r.key: r.state() for r in first.records}
    previous = PreviousView(AS_OF, first_states,
                            {r.key: r.province_code for r in first.records}, set())
    second = build_release(next_day[0], NEXT_DAY, policy, datetime(2026, 11, 26, 18), previous)
    assert second.rejects == [] and len(second.records) == next_day[1].employers
    # The summary classifies the reports; the release keeps the day's crossings in their notice period.
    second_counts = dict(second.counts()["by_status"])
    notices = second_counts.pop("notice")
    second_counts["delinquent"] += notices
    # Listed employers that still owe, with fewer months, stay listed until they owe nothing.
    kept = [r for r in second.records if r.status == "delinquent" and r.months_late < policy.delinquent_min_months]
    assert kept and all(first_states[r.key].status in ("delinquent", "evading") for r in kept)
    second_counts["delinquent"] -= len(kept)
    second_counts["late"] += len(kept)
    assert second_counts == next_day[1].by_status
    assert 0 < len(second.changes) <= next_day[1].changed + next_day[1].added + next_day[1].closed


def test_a_corrected_report_changes_a_few_delinquent_rows_and_keeps_its_totals(sample, tmp_path):
    from publisher.read import read_report
    from publisher.reconcile import control_total_problems
    from publisher.sample import corrected_report
    from publisher.validate import default_check, validate_report

    path = corrected_report(sample[0], tmp_path / "fixed", AS_OF, seed=3)
    original = load(sample[0] / path.name)["rows"]
    fixed = load(path)["rows"]
    changed = [(a, b) for a, b in zip(original, fixed) if a != b]
    assert len(fixed) == len(original) and 1 <= len(changed) <= 3
    assert all(str(b["Số tháng chậm đóng"] or 0) in ("0", "") for _, b in changed)
    validated = validate_report(read_report(path, path.name[:2], AS_OF), AS_OF, default_check())
    assert validated.rejects == [] and validated.report.totals is not None
    assert control_total_problems(validated, load_policy()) == []  # its "Tổng cộng" row was recomputed


def test_a_week_of_sample_days_passes_the_comparison_with_each_day_before(tmp_path):
    """Regression: a sample day dropped a listed employer (an evader owing nothing), so the demo's and
    the benchmark's next days failed the check that nobody leaves the list without paying."""
    policy, previous, folder = load_policy(), PreviousView(None, {}, {}, set()), None
    for offset in range(7):
        day = date.fromordinal(AS_OF.toordinal() + offset)
        out = tmp_path / day.isoformat()
        generate_reports(out, 4000, day, seed=5, previous=folder, change_share=0.1)
        built = build_release(out, day, policy, datetime(2026, 11, 24), previous)
        previous = PreviousView(day, {r.key: r.state() for r in built.records},
                                {r.key: r.province_code for r in built.records}, set())
        folder = out
    assert built.previous_as_of == date.fromordinal(AS_OF.toordinal() + 5)
