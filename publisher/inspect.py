"""`congkhai inspect`: what the publisher understood of a day's reports, before anything is published.

The same pipeline as `publish` (build_release, against the register as it stands), with no side
effect: nothing is written, neither files nor database rows nor the rejects report. It answers
per province what was read, what was rejected and why, how the report compares with the
province's last one, and whether `publish` would publish it.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

from congkhai.statuses import EVADING, NOTICE, OFFENDER_STATUSES
from congkhai.policy import load_policy
from congkhai.provinces import by_code

from .errors import VerificationError
from .pipeline import PreviousView, build_release, load_previous_view

SHOWN_REJECTS = 5  # rejected rows a province's text summary names (the JSON has them all)


def inspect_reports(input_dir: Path, as_of: date, settings: dict, accept_removals=(),
                    now: datetime | None = None) -> dict:
    """The day's reports as `publish` would take them: per province, and the verdict."""
    import sqlalchemy as sa

    policy = load_policy(settings["CONGKHAI_POLICY"])
    engine = sa.create_engine(settings["DATABASE_URL"])  # not store.make_engine, which prepares a file to write
    try:
        view = _previous(engine, as_of, policy)
        rejects: list = []
        try:
            built = build_release(Path(input_dir), as_of, policy, now or datetime.now(timezone.utc), view,
                                  allow_partial=True, on_rejects=lambda found, failed: rejects.extend(found),
                                  accept_removals=frozenset(accept_removals))
        except VerificationError as error:  # a problem no province can be left out for
            return {"as_of": as_of.isoformat(), "publishable": False, "partial_possible": False,
                    "problems": [_problem(p) for p in error.problems],
                    "provinces": {code: _refused(code, report, error.problems)
                                  for code, report in sorted(error.reports.items())},
                    "rejects": [_reject(r) for r in rejects]}
    finally:
        engine.dispose()
    return _summary(built, rejects, view)


def inspect_files(paths: list[Path], as_of: date, settings: dict, accept_removals=(),
                  now: datetime | None = None) -> dict:
    """`inspect_reports` for some reports of the day rather than a whole day's directory: the
    verdict and the summary concern those provinces only."""
    import tempfile

    from .read import report_province

    paths = [Path(p) for p in paths]
    if len(paths) == 1 and paths[0].is_dir():
        return inspect_reports(paths[0], as_of, settings, accept_removals, now)
    with tempfile.TemporaryDirectory(prefix="congkhai-inspect-") as folder:
        for path in paths:
            (Path(folder) / path.name).symlink_to(path.resolve())
        result = inspect_reports(Path(folder), as_of, settings, accept_removals, now)
    given = {code for path in paths if (code := report_province(path.name))}
    result["missing"] = {code: why for code, why in result.get("missing", {}).items() if code in given}
    result["problems"] = [p for p in result["problems"] if p["province"] in given or p["province"] is None
                          and not p["message"].startswith("no report for province")]
    result["publishable"] = bool(result["provinces"]) and not result["missing"] and all(
        p["publishable"] for p in result["provinces"].values())
    return result


def _previous(engine, as_of: date, policy) -> PreviousView:
    """The register as `publish` would compare with it; nothing at all where no database is yet
    (a SQLite file that does not exist is not created)."""
    from sqlalchemy import inspect as schema

    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:" and not Path(database).is_file():
        return PreviousView(None, {}, {}, set())
    if "releases" not in schema(engine).get_table_names():
        return PreviousView(None, {}, {}, set())
    return load_previous_view(engine, as_of, policy)[1]


def _problem(problem) -> dict:
    return {"province": problem.province_code, "source": problem.source, "row": problem.line,
            "field": problem.field, "message": problem.message}


def _reject(reject) -> dict:
    return {"province": reject.province_code, "source": reject.source, "row": reject.line, "field": reject.field,
            "value": reject.value, "reason": reject.reason}


def _refused(code: str, report: dict, problems) -> dict:
    """A report read, in a run that publishes nothing: what was understood of it and its problems."""
    return {"name": by_code()[code].name, **report, "publishable": False,
            "control_totals": "checked" if report["totals_line"] else "missing",
            "offenders": None, "in_notice": None, "evading": None, "last_report": None, "not_reported": [],
            "accepted_removals": None, "problems": [_problem(p) for p in problems if p.province_code == code]}


def _summary(built, rejects: list, view: PreviousView) -> dict:
    last: dict[str, list] = {}  # province -> statuses of the last report, in one pass over the register
    for key, state in view.states.items():
        last.setdefault(view.province_of.get(key), []).append(state.status)
    kept: dict[str, list] = {}
    for record in built.records:
        if record.not_reported_since:
            kept.setdefault(record.province_code, []).append(record.key)
    provinces: dict[str, dict] = {}
    for code, report in sorted(built.reports.items()):
        statuses = report["statuses"]
        before = last.get(code, [])
        provinces[code] = {
            "name": by_code()[code].name, **report,
            "control_totals": ("not checked (allowed by the policy)" if code in built.verification.get(
                "without_control_totals", []) else "checked" if report["totals_line"] else "missing"),
            "offenders": sum(statuses.get(s, 0) for s in OFFENDER_STATUSES),
            "in_notice": statuses.get(NOTICE, 0), "evading": statuses.get(EVADING, 0),
            "last_report": {"as_of": view.as_of.isoformat(), "employers": len(before),
                            "offenders": sum(s in OFFENDER_STATUSES for s in before),
                            "evading": sum(s == EVADING for s in before)} if view.as_of else None,
            "not_reported": kept.get(code, []),
            "accepted_removals": built.verification.get("accepted_removals", {}).get(code),
            "problems": [_problem(p) for p in built.problems if p.province_code == code],
            "publishable": code in built.provinces,
        }
    left_out = sorted(set(built.missing_provinces) - set(provinces))
    return {"as_of": built.id, "publishable": not built.missing_provinces, "partial_possible": bool(built.provinces),
            "missing": {code: built.missing_provinces[code] for code in left_out},
            "problems": [_problem(p) for p in built.problems], "provinces": provinces,
            "rejects": [_reject(r) for r in rejects]}


def render_text(result: dict) -> str:
    """The summary a clerk reads in a terminal."""
    lines = [f"Reports of {result['as_of']}:"]
    for code, p in result["provinces"].items():
        mark = "OK " if p["publishable"] else "NO "
        lines.append(f"{mark} {code} {p['name']} ({p['source']}, {p['format']})")
        lines.extend(_understood(p))
        statuses = (f"offenders {p['offenders']:,} (in notice {p['in_notice']:,}), evading {p['evading']:,}"
                    if p["offenders"] is not None else "not classified (the run stops before)")
        lines.append(f"      rows read {p['rows_read']:,}, rejected {p['rows_rejected']:,}, employers {p['employers']:,}; "
                     f"{statuses}; control totals {p['control_totals']}")
        if p["last_report"]:
            last = p["last_report"]
            lines.append(f"      last report ({last['as_of']}): employers {last['employers']:,}, offenders "
                         f"{last['offenders']:,}, evading {last['evading']:,}")
        if p["not_reported"]:
            lines.append(f"      kept at their last reported state (row rejected): {', '.join(p['not_reported'])}")
        if p["accepted_removals"]:
            lines.append(f"      removals confirmed: {', '.join(p['accepted_removals']['accepted_removals']) or 'none'}")
        for problem in p["problems"]:
            lines.append(f"      problem: {_where(problem)}{problem['message']}")
        shown = [r for r in result["rejects"] if r["province"] == code][:SHOWN_REJECTS]
        for reject in shown:
            lines.append(f"      row {reject['row']}, '{reject['field']}' = {reject['value']!r}: {reject['reason']}")
    for code, why in result.get("missing", {}).items():
        lines.append(f"NO  {code}: {why}")
    if not result["partial_possible"]:
        lines += [f"problem: {_where(p)}{p['message']}" for p in result["problems"] if p["province"] is None
                  or p["province"] not in result["provinces"]]
    if result["publishable"]:
        lines.append("Verdict: `congkhai publish` would publish every province.")
    elif result["partial_possible"]:
        lines.append("Verdict: `congkhai publish` would publish nothing; with --allow-partial it would leave out the "
                     "provinces marked NO.")
    else:
        lines.append("Verdict: nothing can be published from these reports.")
    return "\n".join(lines)


def _understood(p: dict) -> list[str]:
    """How the report was read (publisher/understood.py), in the order a clerk checks it."""
    layout, checks, ids = p["layout"], p["checks"], p["identifiers"]
    rows = ", ".join(map(str, layout["header_rows"]))
    lines = [f"      read{' sheet ' + repr(layout['sheet']) if layout['sheet'] else ''}: header row(s) {rows}"
             + (f", column numbers in row {layout['column_numbers_row']} (skipped)" if layout["column_numbers_row"]
                else "") + f"; layouts {layout['layout_version']}"]
    for column in layout["columns"]:
        became = f"-> {column['header']}" if column["field"] else "-> ignored"
        lines.append(f"        {column['column']:>3} {column['label']!r} {became}")
    lines.append(f"      unit: {layout['unit']} (amounts x {layout['scale']:,}); arrears: {layout['amounts']}")
    if layout["dates"]:
        lines.append("      dates: " + ", ".join(f"{k} {v}" for k, v in layout["dates"].items()))
    lines.append(f"      identifiers: {ids['by_tax_code']:,} by tax code, {ids['households_by_unit_code']:,} households "
                 f"by unit code, {ids['by_unit_code_only']:,} by unit code only; {ids['with_unit_code']:,} with a unit code")
    if checks["subtotals"]:
        good = sum(s["ok"] for s in checks["subtotals"])
        lines.append(f"      groups {checks['groups']:,}; subtotals {len(checks['subtotals']):,}, {good:,} add up")
        for sub in checks["subtotals"]:
            if not sub["ok"]:
                lines.append(f"        row {sub['row']} {sub['label']!r} does not add up: " + "; ".join(
                    f"{d['field']} states {_figure(d['stated'])}, rows sum to {d['computed']:,}"
                    for d in sub["differences"]))
    grand = checks["grand_total"]
    if grand["row"]:
        lines.append(f"      grand total (row {grand['row']}): " + ("; ".join(
            f"{f['field']} {_figure(f['stated'])} {'= rows' if f['ok'] else '!= rows ' + format(f['rows_sum'], ',')}"
            for f in grand["figures"]) or "no figure"))
    for row in p["first_rows"]:
        funds = "/".join("?" if row[n] is None else f"{row[n]:,}" for n in ("arrears_bhxh", "arrears_bhyt",
                                                                               "arrears_bhtn"))
        interest = f", interest {row['interest']:,}" if row["interest"] is not None else ""
        lines.append(f"        row {row['row']}: {row['key']} {row['name']} - {row['status'] or 'not classified'}, {row['months_late']} "
                     f"month(s), arrears {row['arrears_total']:,} (BHXH/BHYT/BHTN {funds}){interest}")
    return lines


def _figure(value) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _where(problem: dict) -> str:
    where = problem["source"] or ""
    if problem["row"] is not None:
        where += f", row {problem['row']}"
    if problem["field"]:
        where += f", field '{problem['field']}'"
    return f"{where}: " if where else ""
