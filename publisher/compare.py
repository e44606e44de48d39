"""Step 3b: each province's report against the same province's last published one.

A damaged but plausible report (cut short, a column shifted, one bad cell) would otherwise publish
a shorter or different list, and the employers it lost as "resolved". So before anything is
published, per province:

- a listed offender (delinquent or evading) that the report leaves out, without a row saying it
  paid, fails the province, naming the employers;
- fewer employers, offenders or evaders than the last report, by more than the policy's shares,
  fails it too;
- an employer whose row is in the report but rejected keeps its last published state, marked
  "not reported since <date>": never resolved by a typo.

The operator may confirm a province's removals (`--accept-removals CODE`): the release then
records what was confirmed. Nobody else leaves the list without the report saying they paid.

Every row must also belong to its report's province: rows the register knows in another province
(an employer that moved is confirmed like a removal), or a file whose addresses name another
province (one province's rows saved under another's file name), fail the province naming both.
"""
from __future__ import annotations

import math
import statistics

from dataclasses import dataclass, field
from datetime import date

from congkhai.taxcode import BRANCH, ENTERPRISE, PERSONAL, TaxId

from congkhai.statuses import EVADING, NOTICE, OFFENDER_STATUSES
from congkhai.policy import Policy
from congkhai.provinces import by_code, find_province
from congkhai.rules.changes import State

from .errors import Problem
from .records import Record, Reject

SHOWN = 10  # employers a message names before "and N more" (the rejects report has them all)
ADDRESS_SAMPLE = 200  # addresses of a report read for the province they name: a wrong file shows in any sample


@dataclass
class Comparison:
    problems: list[Problem] = field(default_factory=list)
    carried: dict = field(default_factory=dict)       # key -> (province, row) of rejected rows of known employers
    verification: dict = field(default_factory=dict)  # province -> what the operator confirmed
    notes: list[Reject] = field(default_factory=list)  # for the rejects report: each employer concerned


@dataclass
class _Tally:
    """A province's employers, offenders (listed or in notice) and evaders; `listed`, the keys of
    its listed offenders (the only employers whose absence is looked for one by one)."""
    employers: int = 0
    offenders: int = 0
    evaders: int = 0
    listed: list = field(default_factory=list)

    def add(self, status: str, key: str | None = None) -> None:
        self.employers += 1
        if status in OFFENDER_STATUSES or status == NOTICE:
            self.offenders += 1
            if key is not None and status != NOTICE:
                self.listed.append(key)
        if status == EVADING:
            self.evaders += 1


def _dropped(before: int, now: int, share: float, policy: Policy) -> bool:
    drop = before - now
    return drop > 0 and drop >= policy.drop_min_employers and drop > share * before


def compare_with_previous(records: list[Record], provinces: list[str], rejected_keys: dict[str, dict],
                          sources: dict[str, str], previous_states: dict[str, State], province_of: dict[str, str],
                          previous_as_of: date | None, policy: Policy, accepted: frozenset = frozenset(),
                          names=None, unit_owners=None) -> Comparison:
    """Compare today's records (classified, notices applied) of the `provinces` being published
    with the previous release's states. `province_of` maps every known key to its province;
    `names(keys) -> {key: name}`, where given, names the employers in the rejects report;
    `unit_owners(unit_codes) -> {unit code: province}`, where given, finds the province of the
    unit codes of employers new to the register."""
    result = Comparison()
    # One pass over each side, keeping counts and the listed keys only: a million states grouped
    # whole by province would cost the publisher about 100 MB at its peak.
    before = {code: _Tally() for code in provinces}
    for key, state in previous_states.items():
        tally = before.get(province_of.get(key))
        if tally is not None:
            tally.add(state.status, key)
    today: dict[str, list[Record]] = {code: [] for code in provinces}
    for record in records:
        if record.province_code in today:
            today[record.province_code].append(record)
    for code in provinces:
        result.problems.extend(amount_problems(code, sources.get(code, ""), today[code], previous_states,
                                               previous_as_of, policy))
        result.problems.extend(address_problems(code, sources.get(code, ""), today[code]))
        foreign = moved_problems(code, sources.get(code, ""), today[code], province_of, unit_owners)
        if code not in accepted:
            result.problems.extend(foreign)
        was = before[code]
        if not was.employers or previous_as_of is None:
            continue
        present = {record.key for record in today[code]}
        carried = {key: line for key, line in rejected_keys.get(code, {}).items()
                   if key not in present and province_of.get(key) == code and key in previous_states}
        for key, line in carried.items():
            result.carried[key] = (code, line)
        missing = sorted(key for key in was.listed if key not in present and key not in carried)
        del present
        now = _Tally()
        for record in today[code]:
            now.add(record.status)
        for key in carried:
            now.add(previous_states[key].status)
        problems = _province_problems(code, sources.get(code, ""), missing, was, now, previous_as_of, policy)
        if code in accepted:
            result.verification[code] = {
                "accepted_removals": missing, "employers_before": was.employers, "employers": now.employers,
                "offenders_before": was.offenders, "offenders": now.offenders,
                "evaders_before": was.evaders, "evaders": now.evaders,
                "waived": [problem.message for problem in problems]}
        else:
            result.problems.extend(problems)
        named = names(missing) if names and missing else {}
        reason = ("listed offender missing from the report, removal confirmed by the operator" if code in accepted
                  else f"listed offender in the report of {previous_as_of:%d/%m/%Y}, missing from this one "
                       f"without a payment recorded")
        result.notes.extend(Reject(sources.get(code, ""), 0, "Mã số thuế", key,
                                   reason + (f": {named[key]}" if key in named else ""), code)
                            for key in missing)
    return result


# Rows a plausibility median is taken over, at most: enough for a stable median, cheap at a million.
_AMOUNT_SAMPLE = 20_000
_UNIT_WORDS = {3: "thousands of đồng ('Đơn vị tính: nghìn đồng')", 6: "millions of đồng ('Đơn vị tính: triệu đồng')"}


def amount_problems(code: str, source: str, records: list[Record], previous_states: dict, previous_as_of: date | None,
                    policy: Policy) -> list[Problem]:
    """Amounts that make no sense for the report, most likely written in another unit than the
    report says: arrears per employee-month far below any month's contributions, or the same
    employers' arrears about 1,000 times smaller or larger than in the last report."""
    problems = []
    per_head = [r.arrears_total / (r.employees * r.months_late) for r in records[:_AMOUNT_SAMPLE]
                if r.employees and r.months_late and r.arrears_total and not r.not_reported_since]
    if len(per_head) >= policy.amount_check_min_rows:
        typical = statistics.median(per_head)
        if typical < policy.min_arrears_per_employee_month_vnd:
            problems.append(Problem(source, f"amounts make no sense: arrears per employee and month in arrears are "
                                            f"{typical:,.0f} đồng by the median of {len(per_head):,} rows, below any "
                                            f"month's contributions (the policy's floor is "
                                            f"{policy.min_arrears_per_employee_month_vnd:,}); "
                                            f"{_likely_unit(typical / 1_000_000)}", province_code=code))
    if previous_as_of is not None:
        ratios = []
        for record in records:
            before = previous_states.get(record.key)
            if before is not None and before.arrears_total and record.arrears_total and not record.not_reported_since:
                ratios.append(record.arrears_total / before.arrears_total)
                if len(ratios) >= _AMOUNT_SAMPLE:
                    break
        if len(ratios) >= policy.amount_check_min_rows:
            ratio = statistics.median(ratios)
            jump = policy.max_amount_scale_jump
            if ratio < 1 / jump or ratio > jump:
                problems.append(Problem(source, f"amounts are {ratio:.3g} times those of the report of "
                                                f"{previous_as_of:%d/%m/%Y} for the same {len(ratios):,} employers "
                                                f"(by the median): {_likely_unit(ratio)}", province_code=code))
    return problems


def _likely_unit(ratio: float) -> str:
    """What a scale of `ratio` against what was expected most likely means, for the clerk."""
    power = round(math.log10(ratio) / 3) * 3 if ratio > 0 else -3
    if power < 0 and -power in _UNIT_WORDS:
        return f"the amounts look like {_UNIT_WORDS[-power]}: add the unit line to the report's title"
    if power > 0:
        return ("the amounts look like đồng while the report declares a larger unit: correct its 'Đơn vị tính' line")
    return "check the unit the amounts are written in ('Đơn vị tính') and the amount columns"


def _province_problems(code: str, source: str, missing: list[str], was: _Tally, now: _Tally,
                       previous_as_of: date, policy: Policy) -> list[Problem]:
    name = by_code()[code].name if code in by_code() else code
    last = f"the report of {previous_as_of:%d/%m/%Y}"
    confirm = f"if they really left the register, confirm with `--accept-removals {code}`"
    problems = []
    if missing:
        shown = ", ".join(missing[:SHOWN]) + (f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else "")
        problems.append(Problem(source, f"{len(missing)} listed offender(s) of {last} are missing from this report of "
                                        f"{name} without a payment recorded: {shown} (all are in the rejects report). "
                                        f"Nobody leaves the list unless the report says they paid: send the whole "
                                        f"report, or {confirm}", province_code=code))
    for label, before, after, share in (
            ("employers", was.employers, now.employers, policy.max_employer_drop_share),
            ("offenders (delinquent, evading or in notice)", was.offenders, now.offenders,
             policy.max_offender_drop_share),
            ("evading employers", was.evaders, now.evaders, policy.max_evader_drop_share)):
        if _dropped(before, after, share, policy):
            problems.append(Problem(source, f"{after:,} {label}, {before:,} in {last}: {(before - after) / before:.0%} "
                                            f"fewer, more than the policy's limit of {share:.0%} (a report cut short, "
                                            f"or a column shifted?); {confirm}", province_code=code))
    return problems


def carried_record(key: str, employer: dict, state: State, province_code: str, source: str, line: int,
                   as_of: date) -> Record:
    """The record an employer whose row was rejected is published with: its last published
    attributes and state, marked not reported since the first day its row was missing. A
    household's personal number is not in the register, only its mask, which is all it shows."""
    if employer["tax_code"] is None:
        tax = TaxId(PERSONAL, employer["personal_id_masked"] or "")
    else:
        tax = TaxId(BRANCH if "-" in employer["tax_code"] else ENTERPRISE, employer["tax_code"])
    record = Record(source, line, province_code, employer["unit_code"], tax, employer["name"], employer["address"],
                    employer["ownership_type"], employer["sector"], employer["employees"], state.arrears_bhxh,
                    state.arrears_bhyt, state.arrears_bhtn, state.months_late, state.evasion_decision,
                    state.evasion_decision_date, state.enforcement_stage, state.status, state.notice_from,
                    state.listing_on, state.not_reported_since or as_of, reported_total=state.arrears_total,
                    arrears_bhtnld=state.arrears_bhtnld, interest=state.interest)
    assert record.key == key, (record.key, key)
    return record


def _names(code: str) -> str:
    return f"{code} ({by_code()[code].name})" if code in by_code() else code


def moved_problems(code: str, source: str, records: list[Record], province_of: dict[str, str],
                   unit_owners=None) -> list[Problem]:
    """Rows of employers the register knows in another province, by tax code or (for employers new
    to the register) by the agency's unit code: another province's report saved under this name,
    or employers that moved, which the operator confirms (`--accept-removals`)."""
    foreign = [(record, province_of[record.key]) for record in records
               if province_of.get(record.key, code) != code]
    new = [record for record in records if record.key not in province_of and record.unit_code]  # a list of tax
    if new and province_of and unit_owners is not None:  # codes only names no unit; an empty register knows none
        owners = unit_owners([record.unit_code for record in new])
        foreign += [(record, owners[record.unit_code]) for record in new
                    if owners.get(record.unit_code, code) != code]
        foreign.sort(key=lambda item: item[0].line)
    if not foreign:
        return []
    elsewhere = sorted({other for _, other in foreign})
    shown = ", ".join(f"{record.public_tax_id} (row {record.line}, {_names(other)})"
                      for record, other in foreign[:SHOWN])
    more = f" and {len(foreign) - SHOWN} more" if len(foreign) > SHOWN else ""
    return [Problem(source, f"{len(foreign)} of {len(records)} rows are employers the register knows in another "
                            f"province ({', '.join(map(_names, elsewhere))}), not {_names(code)}: {shown}{more}. "
                            f"Is this another province's report saved under this file name? If these employers "
                            f"moved, confirm with `--accept-removals {code}`", province_code=code)]


def address_problems(code: str, source: str, records: list[Record]) -> list[Problem]:
    """A report whose addresses mostly name one other province is that province's report: its
    rows would be published as this province's employers, and this province's removed."""
    if not records:
        return []
    step = max(1, len(records) // ADDRESS_SAMPLE)
    sample = records[::step][:ADDRESS_SAMPLE]
    named: dict[str, int] = {}
    for record in sample:
        province = find_province(record.address)
        if province is not None and province.code != code:
            named[province.code] = named.get(province.code, 0) + 1
    if not named:
        return []
    other, count = max(named.items(), key=lambda item: item[1])
    if count < max(3, len(sample) / 2):
        return []
    return [Problem(source, f"{count} of {len(sample)} addresses read name {_names(other)}, not {_names(code)}: "
                            f"is this {by_code()[other].name}'s report saved under the file name of "
                            f"{by_code()[code].name}?", province_code=code)]
