"""What the publisher understood of one report, as the clerk who sent it should see it first.

Sheet, header rows, each column and the field it became (or that it was ignored), the unit and
its scale, the groups and subtotals found and whether each adds up, the grand total's check, the
identifiers used, the row counts and the first rows as they would be published. `congkhai
inspect` and `congkhai publish --dry-run` print it; the release keeps the layout part
(`datapackage.json` `sources`) so anyone can see how a report was read.
"""
from __future__ import annotations

import heapq
from collections import Counter

from .records import CANONICAL_HEADER
from .cells import CellError
from .validate import HEADER_OF, RowLayout, ValidatedReport, cell_amount

FIRST_ROWS = 5


def layout_summary(validated: ValidatedReport) -> dict:
    """How the report was read: the part of the summary that depends on its layout only."""
    report = validated.report
    header = report.header
    columns = [{"column": column.letter, "label": column.label, "field": column.field,
                "header": CANONICAL_HEADER.get(column.field) if column.field else None}
               for column in (header.columns if header else [])]
    return {
        "layout_version": report.layout_version,
        "sheet": report.sheet or None,
        "header_rows": list(header.rows) if header else [],
        "column_numbers_row": report.column_numbers_line,
        "columns": columns,
        "ignored": [c["label"] for c in columns if c["field"] is None],
        "unit": report.unit or "đồng (no unit line)",
        "scale": report.scale,
        "dates": dict(report.dates),
        "amounts": _amounts(header.fields if header else {}),
    }


def _amounts(fields) -> str:
    """In words, what the report says of the arrears, so a clerk sees a total read as a total."""
    funds = [name for name in ("arrears_bhxh", "arrears_bhyt", "arrears_bhtn", "arrears_bhxh_bhtn", "arrears_bhtnld")
             if name in fields]
    parts = []
    if "reported_total" in fields:
        parts.append("a total" + (" split by " + ", ".join(HEADER_OF[n] for n in funds) if funds else
                                  ", not split by fund (the funds are published as unknown)"))
    else:
        parts.append("by fund: " + ", ".join(HEADER_OF[n] for n in funds) + "; the total is their sum")
    if "interest" in fields:
        parts.append("late-payment interest apart (never added to the arrears)")
    return "; ".join(parts)


def checks_summary(validated: ValidatedReport, control_problems: list) -> dict:
    """Groups and subtotals found, whether each adds up, and the grand total against the rows."""
    report = validated.report
    totals = []
    if report.totals is not None:
        failing = {p.field: p.message for p in control_problems}
        shape = RowLayout.of(report)
        for name, computed in validated.column_sums.items():
            header = HEADER_OF[name]
            stated = report.totals.get(header)
            if stated in (None, ""):
                continue
            try:
                stated = cell_amount(stated, name, shape, report.unit)
            except CellError:
                stated = str(stated)
            totals.append({"field": header, "stated": stated, "rows_sum": computed,
                           "ok": header not in failing, "problem": failing.get(header)})
    return {
        "groups": len(validated.groups),
        "subtotals": [{"row": c["line"], "label": c["label"], "group": c["group"], "rows": c["rows"],
                       "ok": not c["differences"], "differences": c["differences"]} for c in validated.subtotals],
        "grand_total": {"row": report.totals_line, "figures": totals},
    }


def identifiers(records) -> dict:
    """Which identifiers the report's employers are known by."""
    kinds = Counter(record.tax.kind for record in records)
    return {"by_tax_code": kinds["enterprise"] + kinds["branch"], "households_by_unit_code": kinds["personal"],
            "by_unit_code_only": kinds["unit_only"],
            "with_unit_code": sum(1 for record in records if record.unit_code)}


def first_rows(records, count: int = FIRST_ROWS) -> list[dict]:
    """The report's first employers as the release would publish them."""
    return [{"row": r.line, "key": r.key, "tax_code": r.tax_code, "unit_code": r.unit_code or None, "name": r.name,
             "status": r.status, "months_late": r.months_late, "arrears_total": r.arrears_total,
             "arrears_bhxh": r.arrears_bhxh, "arrears_bhyt": r.arrears_bhyt, "arrears_bhtn": r.arrears_bhtn,
             "arrears_bhtnld": r.arrears_bhtnld, "interest": r.interest}
            for r in heapq.nsmallest(count, records, key=lambda r: r.line)]
