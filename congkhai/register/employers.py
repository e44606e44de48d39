"""Reads of employers: by any of their codes, their public facts in one state, their life on the register."""
from __future__ import annotations

import sys
from datetime import date

from sqlalchemy import and_, false, func, select

from ..models import Employer, StatusInterval
from ..policy import Policy
from ..provinces import by_code
from ..rules.changes import State, leaving_reason
from ..rules.classification import is_offender
from ..rules.intervals import covers, covers_sql
from ..search import parse_identifier
from ..statuses import NOTICE
from ..taxcode import is_personal_number, normalise_unit_code, personal_id_hash
from .base import Reads
from .tables import E, I, STATE_COLUMNS, STREAM_ROWS, batches, state_of, state_of_row

# What the publisher compares to spot an employer's changed attributes.
ATTRIBUTES = ("unit_code", "name", "address", "ownership_type", "sector", "employees", "province_code")


def employer_row(employer: Employer, interval: StatusInterval | None) -> dict:
    """The public facts of an employer in one state: what lists, results and the JSON twins show."""
    province = by_code().get(employer.province_code)
    row = {
        "key": employer.key,
        "name": employer.name,
        "tax_code": employer.tax_code,
        "unit_code": employer.unit_code,
        "personal_id_masked": employer.personal_id_masked if employer.is_household else None,
        "is_household": employer.is_household,
        "province_code": employer.province_code,
        "province": province.name if province else employer.province_code,
        "ownership_type": employer.ownership_type,
        "sector": employer.sector,
        "employees": employer.employees,
    }
    if interval is not None:
        row.update(
            status=interval.status,
            arrears_total=interval.arrears_total,
            arrears_bhxh=interval.arrears_bhxh,
            arrears_bhyt=interval.arrears_bhyt,
            arrears_bhtn=interval.arrears_bhtn,
            arrears_bhtnld=interval.arrears_bhtnld,
            interest=interval.interest,
            months_late=interval.months_late,
            evasion_decision=interval.evasion_decision,
            evasion_decision_date=interval.evasion_decision_date,
            enforcement_stage=interval.enforcement_stage,
            notice_from=interval.notice_from,
            listing_on=interval.listing_on,
            not_reported_since=interval.not_reported_since,
            since=getattr(interval, "valid_from", None),
        )
    return row


def interval_on(employer: Employer, day: date) -> StatusInterval | None:
    return next((interval for interval in employer.intervals if covers(interval, day)), None)


def history_of(employer: Employer) -> list[dict]:
    return [{"valid_from": i.valid_from, "valid_to": i.valid_to, **state_of(i)._asdict()} for i in employer.intervals]


def listing_episodes(employer: Employer, policy: Policy) -> list[dict]:
    """Each stretch on the offender list: when it began and why, when it ended and why."""
    episodes = []
    intervals = list(employer.intervals)
    for index, interval in enumerate(intervals):
        if not is_offender(interval.status):
            continue
        previous = intervals[index - 1] if index else None
        if previous is None or not is_offender(previous.status) or previous.valid_to != interval.valid_from:
            reason = ("evasion_decision" if interval.status == "evading" else "months_late")
            episodes.append({"listed_on": interval.valid_from, "status": interval.status, "reason": reason,
                             "months_late": interval.months_late, "evasion_decision": interval.evasion_decision,
                             "threshold_months": policy.delinquent_min_months,
                             "left_on": None, "leaving_reason": None})
        following = intervals[index + 1] if index + 1 < len(intervals) else None
        if interval.valid_to is None:
            continue
        if following is None or following.valid_from != interval.valid_to:
            episodes[-1].update(left_on=interval.valid_to, leaving_reason=leaving_reason(state_of(interval), None))
        elif not is_offender(following.status):
            episodes[-1].update(left_on=interval.valid_to,
                                leaving_reason=leaving_reason(state_of(interval), state_of(following)))
    return episodes


def interned_state(values) -> State:
    """A State whose repeated strings (status, enforcement stage) are shared, not a million copies."""
    values = list(values)
    for i in (0, 8):
        if values[i] is not None:
            values[i] = sys.intern(values[i])
    return State(*values)


def attributes_digest(values: tuple) -> int:
    """What is compared to spot a changed name, address...: a digest, since keeping a million
    employers' attributes in memory for the comparison would cost about a gigabyte."""
    return hash(values)


class EmployerReads(Reads):
    def employer(self, key: str) -> Employer | None:
        return self.session.scalars(select(Employer).where(Employer.key == key)).first()

    def find_employer(self, code: str) -> Employer | None:
        """The employer a typed code names: a tax code (any dashes or spaces), an agency unit code in any
        case, spacing or width, or a household owner's full personal number, matched by its digest (the
        number itself is never stored)."""
        identifier = parse_identifier(code)
        if identifier:
            found = self.employer_by_identifier(tax_code=identifier, unit_code=identifier)
            if found:
                return found
        if is_personal_number(code):
            return self.session.scalars(select(Employer).where(Employer.personal_id_hash == personal_id_hash(code))
                                        .limit(1)).first()
        unit_code = normalise_unit_code(code)
        return self.employer_by_identifier(unit_code=unit_code) if unit_code and unit_code != identifier else None

    def employer_by_identifier(self, tax_code: str | None = None, unit_code: str | None = None) -> Employer | None:
        """An employer by its tax code (enterprise or branch) or by the agency's unit code."""
        if tax_code:
            found = self.session.scalars(select(Employer).where(Employer.tax_code == tax_code).limit(1)).first()
            if found:
                return found
        if unit_code:
            return self.session.scalars(select(Employer).where(Employer.unit_code == unit_code).limit(1)).first()
        return None

    def state_of_employer_on(self, employer_id: int, day: date) -> State | None:
        row = self.conn.execute(select(*STATE_COLUMNS).where(I.c.employer_id == employer_id, covers_sql(I, day))
                                ).mappings().first()
        return state_of_row(row) if row else None

    # ---- what the publisher needs of the register before it writes a release -------------------------

    def employers_and_states(self, day: date | None) -> tuple[dict[str, tuple], dict[str, State]]:
        """Every employer, key -> (id, province_code, digest of the attributes), and the state the
        release of `day` published, key -> State, for those it published: both in one pass over the
        employers (each is a million rows, and the pass is most of reading them)."""
        on = I.c.employer_id == E.c.id
        query = select(E.c.key, E.c.id, *(E.c[a] for a in ATTRIBUTES), *STATE_COLUMNS).select_from(
            E.outerjoin(I, and_(on, covers_sql(I, day)) if day is not None else and_(on, false())))
        employers: dict[str, tuple] = {}
        states: dict[str, State] = {}
        first_state = 2 + len(ATTRIBUTES)
        for row in self.conn.execute(query.execution_options(yield_per=STREAM_ROWS)):  # streamed: PostgreSQL buffers
            employers[row[0]] = (row[1], row[first_state - 1], attributes_digest(tuple(row[2:first_state])))
            if row[first_state] is not None:  # an interval's status is never empty
                states[row[0]] = interned_state(row[first_state:])
        return employers, states

    def last_known(self, keys, before: date, batch: int = 500) -> dict[str, tuple[dict, State | None]]:
        """Employers by key: their attributes, and the last state a release before `before` published
        of them (None if none did). For the few employers the publisher must know more of than
        yesterday's states: those whose row was rejected, and those reported again after a gap."""
        found: dict[str, tuple[dict, State | None]] = {}
        for chunk in batches(sorted(set(keys)), batch):
            latest = (select(I.c.employer_id, func.max(I.c.valid_from).label("valid_from"))
                      .join(E, E.c.id == I.c.employer_id)
                      .where(E.c.key.in_(chunk), I.c.valid_from < before)
                      .group_by(I.c.employer_id).subquery())
            query = (select(E, *STATE_COLUMNS)
                     .select_from(E.outerjoin(latest, latest.c.employer_id == E.c.id)
                                  .outerjoin(I, and_(I.c.employer_id == E.c.id, I.c.valid_from == latest.c.valid_from)))
                     .where(E.c.key.in_(chunk)))
            for row in self.conn.execute(query).mappings():
                employer = {column.name: row[column] for column in E.c}
                found[employer["key"]] = (employer, state_of_row({c.name: row[c] for c in STATE_COLUMNS})
                                          if row[I.c.status] is not None else None)
        return found

    def unit_owners(self, unit_codes, batch: int = 500) -> dict[str, str]:
        """The province each of these agency unit codes is registered in, for those the register knows
        (an empty code, of an employer reported by its tax code only, names none)."""
        found: dict[str, str] = {}
        for chunk in batches(sorted(set(unit_codes) - {""}), batch):
            query = select(E.c.unit_code, E.c.province_code).where(E.c.unit_code.in_(chunk))
            found.update((unit_code, province) for unit_code, province in self.conn.execute(query))
        return found

    def unit_keys(self, unit_codes, batch: int = 500) -> dict[str, tuple[str, str | None]]:
        """(key, tax code) of the employers registered under these agency unit codes: how a list that
        carries only unit codes finds the employers the register knows by their tax code."""
        found: dict[str, tuple[str, str | None]] = {}
        for chunk in batches(sorted(set(unit_codes) - {""}), batch):
            query = select(E.c.unit_code, E.c.key, E.c.tax_code).where(E.c.unit_code.in_(chunk))
            found.update((unit_code, (key, tax_code)) for unit_code, key, tax_code in self.conn.execute(query))
        return found

    def notices_on(self, day: date) -> list[dict]:
        """Employers in their notice period on `day` (not yet listed), with what a notice letter needs:
        address and amounts. Selected by status in SQL (ix_intervals_status_to), so it costs the
        notices, not the register."""
        query = (select(E.c.key, E.c.tax_code, E.c.unit_code, E.c.name, E.c.address, E.c.province_code,
                        I.c.arrears_bhxh, I.c.arrears_bhyt, I.c.arrears_bhtn, I.c.arrears_bhtnld, I.c.arrears_total,
                        I.c.interest, I.c.months_late, I.c.notice_from, I.c.listing_on)
                 .select_from(I.join(E, E.c.id == I.c.employer_id))
                 .where(I.c.status == NOTICE, covers_sql(I, day)).order_by(I.c.listing_on, E.c.province_code, E.c.key))
        return [dict(row) for row in self.conn.execute(query).mappings()]
