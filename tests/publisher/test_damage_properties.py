"""Random damage to a province's next-day report (dropped rows, a total moved up the table, error
cells, a typo in a decision date, a missing total, two provinces' files swapped) never takes a
listed employer off the list: the run fails, the province is left out, or the employer is still
listed, unless its day-2 row says it owes nothing or the operator confirmed the province's removals."""
import tempfile
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings, strategies as st

from congkhai.models import OFFENDER_STATUSES
from congkhai.policy import load_policy
from publisher.errors import VerificationError
from publisher.pipeline import PreviousView, build_release

from .factory import AS_OF, HEADERS, row, title_lines, totals, write_csv, write_xlsx

DAY2 = AS_OF + timedelta(1)
PROVINCES = ("01", "79", "48")
ROWS = 30
POLICY = replace(load_policy(), notice_days=0)
DAMAGE = ("drop_rows", "drop_offender", "total_midway", "error_cell", "decision_typo", "no_total", "swap_files",
          "pay")
PROPERTY = settings(max_examples=80, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def offender(i: int) -> dict:
    if i % 10 == 3:
        return dict(arrears_bhxh=5_000_000, months_late=6, evasion_decision="Số 12/QĐ-TTr ngày 05/03/2026")
    return dict(arrears_bhxh=9_000_000, arrears_bhyt=1_000_000, months_late=4)


def reports() -> dict[str, list[dict]]:
    """Each province's rows: every third one an offender (one in ten evading)."""
    out, n = {}, 0
    for code in PROVINCES:
        rows = []
        for i in range(ROWS):
            n += 1
            rows.append(row(n, **(offender(i) if i % 3 == 0 else {})))
        out[code] = rows
    return out


def write(directory: Path, code: str, rows: list[dict], as_of, *, name_code=None, total=True, total_at=None) -> None:
    """One province's report, CSV or XLSX by province; the totals row optionally moved up."""
    target = name_code or code
    grand = dict.fromkeys(HEADERS, "") | totals(rows)
    body = list(rows)
    if total_at is not None:
        body.insert(total_at, grand)
    if code == "79":
        write_xlsx(directory, target, body, as_of=as_of, with_totals=total and total_at is None, totals_row=grand,
                   titles=title_lines(target, as_of))
    else:
        write_csv(directory, target, body, with_totals=total and total_at is None, totals_row=grand,
                  titles=title_lines(target, as_of))


@lru_cache(maxsize=1)
def day_one():
    """Day 1's release and what the register then knows, built once."""
    with tempfile.TemporaryDirectory() as folder:
        for code, rows in reports().items():
            write(Path(folder), code, rows, AS_OF)
        built = build_release(Path(folder), AS_OF, POLICY, datetime(2026, 11, 25, 18), PreviousView(None, {}, {}, set()),
                              allow_partial=True)
    employers = {r.key: {"key": r.key, "tax_code": r.tax_code, "unit_code": r.unit_code, "personal_id_masked": None,
                         "name": r.name, "address": r.address, "ownership_type": r.ownership_type, "sector": r.sector,
                         "employees": r.employees, "province_code": r.province_code} for r in built.records}
    return {r.key: r.state() for r in built.records}, employers


def previous_view() -> PreviousView:
    """The register after day 1, read from day 1's release as Register.last_known reads it."""
    states, employers = day_one()
    province_of = {key: employer["province_code"] for key, employer in employers.items()}
    recall = lambda keys, _as_of: {k: (employers[k], states.get(k)) for k in keys if k in employers}  # noqa: E731
    owners = lambda codes: {e["unit_code"]: e["province_code"] for e in employers.values()  # noqa: E731
                            if e["unit_code"] in set(codes)}
    return PreviousView(AS_OF, dict(states), province_of, set(), recall=recall, unit_owners=owners)


@st.composite
def damaged_day(draw):
    """Day 2's reports (code -> rows), how they are written, the keys reported as paid, and the
    provinces whose removals the operator confirms."""
    rows = {code: [dict(r) for r in rows] for code, rows in reports().items()}
    paid = set()
    layout = {code: {} for code in PROVINCES}
    for code in PROVINCES:
        for damage in draw(st.lists(st.sampled_from(DAMAGE), max_size=3, unique=True)):
            body = rows[code]
            if damage == "pay":
                owing = [i for i, r in enumerate(body) if r["Số tháng chậm đóng"]]
                for i in draw(st.lists(st.sampled_from(owing), max_size=4, unique=True)) if owing else ():
                    body[i] |= {"Nợ BHXH": "", "Nợ BHYT": "", "Nợ BHTN": "", "Số tháng chậm đóng": "",
                                "Quyết định trốn đóng": ""}
                    paid.add(body[i]["Mã số thuế"])
            elif damage == "drop_rows" and body:
                keep = draw(st.integers(min_value=1, max_value=len(body)))
                rows[code] = body[:keep]
            elif damage == "drop_offender":
                offenders = [i for i, r in enumerate(body) if r["Số tháng chậm đóng"]]
                if offenders:
                    body.pop(draw(st.sampled_from(offenders)))
            elif damage == "total_midway" and body:
                layout[code]["total_at"] = draw(st.integers(min_value=1, max_value=max(1, len(body) - 1)))
            elif damage == "error_cell" and body:
                i = draw(st.integers(min_value=0, max_value=len(body) - 1))
                column = draw(st.sampled_from(["Nợ BHXH", "Nợ BHYT", "Quyết định trốn đóng", "Tên đơn vị"]))
                body[i][column] = draw(st.sampled_from(["#REF!", "#N/A", "#VALUE!"]))
            elif damage == "decision_typo":
                evading = [r for r in body if r["Quyết định trốn đóng"]]
                if evading:
                    draw(st.sampled_from(evading))["Quyết định trốn đóng"] = "Số 12/QĐ-TTr ngày 35/03/2026"
            elif damage == "no_total":
                layout[code]["total"] = False
            elif damage == "swap_files":
                other = draw(st.sampled_from([c for c in PROVINCES if c != code]))
                layout[code]["name_code"], layout[other]["name_code"] = other, code
    accepted = frozenset(draw(st.lists(st.sampled_from(PROVINCES), max_size=1)))
    return rows, layout, paid, accepted, draw(st.booleans())


@PROPERTY
@given(damaged_day())
def test_no_listed_employer_leaves_the_list_unless_its_report_says_it_paid(day2):
    rows, layout, paid, accepted, partial = day2
    listed = {key for key, state in day_one()[0].items() if state.status in OFFENDER_STATUSES}
    province_of = {key: e["province_code"] for key, e in day_one()[1].items()}
    with tempfile.TemporaryDirectory() as folder:
        for code, body in rows.items():
            write(Path(folder), code, body, DAY2, **layout[code])
        try:
            built = build_release(Path(folder), DAY2, POLICY, datetime(2026, 11, 26, 18), previous_view(),
                                  allow_partial=partial, accept_removals=accepted)
        except VerificationError:
            event("refused")
            return  # nothing published: everyone keeps yesterday's state
    event(f"published {len(built.provinces)} of {len(PROVINCES)} provinces")
    now = {r.key: r for r in built.records}
    changed = {c.key for c in built.changes}
    for key in listed:
        record = now.get(key)
        if record is not None and record.province_code != province_of[key]:
            assert record.province_code in accepted, f"{key} moved province without a confirmation"
        if record is not None and record.status in OFFENDER_STATUSES:
            continue
        if record is not None:
            assert key in paid and record.arrears_total == 0, (key, record.status, record.not_reported_since)
        elif province_of[key] in built.provinces:
            assert province_of[key] in accepted, f"{key} left the list without paying or a confirmation"
        else:
            assert key not in changed  # a province left out changes nobody
