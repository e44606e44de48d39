"""Step 3: checks across rows and reports that decide whether the run may publish at all.

A missing province, a control total that does not match, too many rejected rows, or one employer
reported twice with different data each fail the run. With `allow_partial`, the provinces concerned
are left out instead and the release says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from congkhai.policy import Policy
from congkhai.provinces import by_code

from .errors import Problem, VerificationError
from .records import TOTALLED_FIELDS, Record, Reject
from .cells import CellError, parse_amount, parse_integer
from .validate import HEADER_OF, RowLayout, ValidatedReport

_COMPARED = ("unit_code", "name", "address", "ownership_type", "sector", "employees", "arrears_bhxh",
             "arrears_bhyt", "arrears_bhtn", "reported_total", "arrears_bhtnld", "interest", "months_late",
             "evasion_decision", "enforcement_stage")


@dataclass
class Reconciled:
    records: list[Record]
    rejects: list[Reject]
    provinces: list[str]
    missing_provinces: dict[str, str]
    rows_read: int
    problems: list[Problem] = field(default_factory=list)  # what left the missing provinces out
    rejected_keys: dict = field(default_factory=dict)  # province -> {key: row} of its rejected rows
    sources: dict = field(default_factory=dict)        # province -> its report's file name
    without_totals: list = field(default_factory=list)  # provinces published without a control total


def control_total_problems(validated: ValidatedReport, policy: Policy) -> list[Problem]:
    """The grand total's figures against the rows' sums. A report without one (or whose totals row
    states no figure) fails, unless the policy lets that province's reports come without it: with
    nothing to check, a report cut to a tenth of its rows would publish as it is."""
    report = validated.report
    if not has_control_totals(report):
        if report.province_code in policy.totals_optional:
            return []
        where = "its 'Tổng cộng' row states no figure" if report.totals is not None else "no 'Tổng cộng' row"
        return [Problem(report.source, f"{where}: a report's table ends with its grand total, whose figures are "
                                       f"checked against the rows (the policy's [verification] totals_optional lists "
                                       f"the provinces that may send reports without one)", report.totals_line,
                        province_code=report.province_code)]
    problems = []
    shape = RowLayout.of(report)
    for name in validated.column_sums:
        header = HEADER_OF[name]
        try:
            value = report.totals.get(header)
            stated = (parse_integer(value, empty=None) if name == "employees" or value in (None, "")
                      else parse_amount(value, shape.scale, report.unit))
        except CellError as error:
            problems.append(Problem(report.source, f"control total is unreadable: {error}", report.totals_line, header,
                                    report.province_code))
            continue
        if stated is None:
            continue
        computed = validated.column_sums[name]
        if abs(stated - computed) > policy.control_total_tolerance_vnd:
            note = ""
            if validated.unreadable[name]:
                note = f" ({validated.unreadable[name]} row(s) with an unreadable value not counted)"
            problems.append(Problem(report.source, f"control total {stated:,} does not match the sum of the rows "
                                                   f"{computed:,}{note}", report.totals_line, header, report.province_code))
    return problems


def has_control_totals(report) -> bool:
    """A totals row that states at least one figure (an error value counts: it fails the check)."""
    return report.totals is not None and any(report.totals.get(HEADER_OF[name]) not in (None, "")
                                             for name in TOTALLED_FIELDS if HEADER_OF[name] in report.totals)


def subtotal_problems(validated: ValidatedReport) -> list[Problem]:
    """Each subtotal (or group heading stating figures) that does not add up to its group's rows."""
    report = validated.report
    problems = []
    for check in validated.subtotals:
        group = f"group '{check['group']}' (from row {check['group_line']})" if check["group"] else "the rows above it"
        for difference in check["differences"]:
            stated = difference["stated"]
            what = (difference["reason"] if "reason" in difference
                    else f"states {stated:,}, the {check['rows']:,} row(s) of {group} sum to {difference['computed']:,}")
            problems.append(Problem(report.source, f"{'subtotal' if check['kind'] == 'subtotal' else 'group heading'} "
                                                   f"'{check['label']}' does not add up: {what}", check["line"],
                                    difference["field"], report.province_code))
    return problems


def rejected_share_problem(validated: ValidatedReport, policy: Policy) -> Problem | None:
    if not validated.rows_read:
        return Problem(validated.report.source, "report has no data rows", province_code=validated.report.province_code)
    share = validated.rejected_rows / validated.rows_read
    if share > policy.max_rejected_share:
        first = validated.rejects[0]
        return Problem(validated.report.source,
                       f"{validated.rejected_rows} of {validated.rows_read} rows rejected ({share:.1%}), more than the "
                       f"policy's limit of {policy.max_rejected_share:.1%}; the first: row {first.line}, field "
                       f"'{first.field}': {first.reason}; all are in the rejects report",
                       province_code=validated.report.province_code)
    return None


def _differences(a: Record, b: Record) -> list[str]:
    return [name for name in _COMPARED if getattr(a, name) != getattr(b, name)]


def find_duplicates(records: list[Record]) -> tuple[list[Record], list[Reject], list[Problem]]:
    """Identical repeats in one report are kept once (and noted); conflicting repeats, and one employer
    in two provinces' reports, are problems naming both rows."""
    by_key: dict[str, Record] = {}
    by_unit: dict[str, Record] = {}
    kept, notes, problems = [], [], []
    for record in records:
        first = by_key.get(record.key)
        if first is not None:
            differing = _differences(first, record)
            where = f"{first.source} row {first.line}"
            if first.province_code != record.province_code:  # whose employer is it? never merged silently
                for one, other in ((record, first), (first, record)):
                    problems.append(Problem(one.source, f"employer {record.public_tax_id} is also in the report of "
                                                        f"province {other.province_code} ({other.source} row "
                                                        f"{other.line}): one employer belongs to one province",
                                            one.line, "Mã số thuế", one.province_code))
            elif differing:
                fields = ", ".join(HEADER_OF.get(n, n) for n in differing)
                problems.append(Problem(record.source, f"employer {record.public_tax_id} also at {where} with different "
                                                       f"data ({fields})", record.line, "Mã số thuế", record.province_code))
                problems.append(Problem(first.source, f"employer {record.public_tax_id} also at {record.source} row "
                                                      f"{record.line} with different data ({fields})", first.line,
                                        "Mã số thuế", first.province_code))
            else:
                notes.append(Reject(record.source, record.line, "Mã số thuế", record.public_tax_id,
                                    f"identical duplicate of {where}; published once", record.province_code))
            continue
        other = by_unit.get(record.unit_code) if record.unit_code else None  # a list of tax codes only has none
        if other is not None:
            problems.append(Problem(record.source, f"unit code {record.unit_code} also used by {other.public_tax_id} at "
                                                   f"{other.source} row {other.line}", record.line, "Mã đơn vị",
                                    record.province_code))
            continue
        by_key[record.key] = record
        by_unit[record.unit_code] = record
        kept.append(record)
    return kept, notes, problems


def reconcile(validated: list[ValidatedReport], read_problems: list[Problem], policy: Policy,
              allow_partial: bool = False, expected: list[str] | None = None) -> Reconciled:
    expected = expected or list(by_code())
    problems = list(read_problems)
    present = {v.report.province_code for v in validated}
    for code in expected:
        if code not in present and not any(p.province_code == code for p in read_problems):
            problems.append(Problem("", f"no report for province {code} ({by_code()[code].name})", province_code=code))
    records, rejects, rows_read = [], [], 0
    for item in validated:
        problems.extend(control_total_problems(item, policy))
        problems.extend(subtotal_problems(item))
        share = rejected_share_problem(item, policy)
        if share:
            problems.append(share)
        records.extend(item.records)
        rejects.extend(sorted(item.rejects + item.notes, key=lambda r: r.line))
        rows_read += item.rows_read
    kept, notes, duplicate_problems = find_duplicates(records)
    problems.extend(duplicate_problems)
    rejects.extend(notes)
    unattributed = [p for p in problems if p.province_code is None]
    if problems and (not allow_partial or unattributed):
        raise VerificationError(problems)
    failed: dict[str, str] = {}
    for problem in problems:
        failed.setdefault(problem.province_code, str(problem))
    provinces = sorted(present - set(failed))
    if not provinces:
        raise VerificationError(problems)
    kept = [r for r in kept if r.province_code not in failed]
    reports = {item.report.province_code: item for item in validated if item.report.province_code in provinces}
    return Reconciled(kept, rejects, provinces, dict(sorted(failed.items())), rows_read, problems,
                      {code: item.rejected_keys for code, item in reports.items()},
                      {code: item.report.source for code, item in reports.items()},
                      sorted(code for code, item in reports.items() if not has_control_totals(item.report)))
