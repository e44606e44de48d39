"""Reads of figures: counts and arrears per status and province on a day, and the daily results."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ..models import Commendation, DailyResult, Employer, StatusInterval
from ..provinces import by_code
from ..rules.intervals import covers_sql
from ..rules.results import FIGURES, tally_sql
from ..statuses import OFFENDER_STATUSES, STATUSES
from .states import Filters, StateReads

FACETS = ("sector", "ownership_type")  # the employer attributes list pages offer as filters


@dataclass
class Figures:
    """Counts and arrears per status, overall and per province, on one day."""
    day: date
    by_status: dict
    arrears_by_status: dict
    provinces: list = field(default_factory=list)
    honour_roll: int = 0

    @property
    def offenders(self) -> int:
        return sum(self.by_status[s] for s in OFFENDER_STATUSES)

    @property
    def offender_arrears(self) -> int:
        return sum(self.arrears_by_status[s] for s in OFFENDER_STATUSES)

    @property
    def arrears_total(self) -> int:
        return sum(self.arrears_by_status.values())

    def to_dict(self) -> dict:
        return {"day": self.day, "by_status": self.by_status, "arrears_by_status": self.arrears_by_status,
                "offenders": self.offenders, "offender_arrears": self.offender_arrears,
                "arrears_total": self.arrears_total, "honour_roll": self.honour_roll,
                "provinces": self.provinces}


def _figures(day: date, tally_rows, honour_roll: dict[str, int]) -> Figures:
    """Figures from the tally's rows, (province, status, employers, arrears), and the honour roll per province."""
    per_province = defaultdict(lambda: {s: [0, 0] for s in STATUSES})
    for code, status, count, arrears in tally_rows:
        per_province[code][status] = [int(count), int(arrears or 0)]
    names = by_code()
    provinces = []
    for code, cells in sorted(per_province.items()):
        province = names.get(code)
        provinces.append({
            "code": code,
            "name": province.name if province else code,
            "short_name": province.short_name if province else code,
            "slug": province.slug if province else code,
            "employers": sum(c for c, _ in cells.values()),
            "by_status": {s: c for s, (c, _) in cells.items()},
            "offenders": sum(cells[s][0] for s in OFFENDER_STATUSES),
            "offender_arrears": sum(cells[s][1] for s in OFFENDER_STATUSES),
            "arrears_total": sum(a for _, a in cells.values()),
        })
    return Figures(
        day=day,
        by_status={s: sum(p["by_status"][s] for p in provinces) for s in STATUSES},
        arrears_by_status={s: sum(per_province[p["code"]][s][1] for p in provinces) for s in STATUSES},
        provinces=provinces,
        honour_roll=sum(honour_roll.values()),
    )


def figures_after(previous: dict, leaving, arriving, honour_roll: dict[str, int]) -> dict:
    """A release's figures (`FigureReads.release_figures`) from the previous release's: every
    employer whose state or facts changed leaves with what it was, (province, sector, ownership
    type, State), and arrives with what it is; the honour roll per province is the release's own.
    The same numbers as counting the register again, for the cost of the day's changes."""
    tally = {(code, status): [count, arrears] for code, status, count, arrears in previous["tally"]}
    facets = {name: {(status, value): count for status, value, count in previous["facets"][name]} for name in FACETS}
    months_min = previous["stages"]["months_min"]
    stages = {(code, status, text): count for code, status, text, count in previous["stages"]["rows"]}

    def count(sign: int, code: str, sector: str, ownership: str, state) -> None:
        cell = tally.setdefault((code, state.status), [0, 0])
        cell[0] += sign
        cell[1] += sign * state.arrears_total
        for name, value in (("sector", sector), ("ownership_type", ownership)):
            if value:
                facets[name][(state.status, value)] = facets[name].get((state.status, value), 0) + sign
        if state.months_late >= months_min:
            key = (code, state.status, state.enforcement_stage)
            stages[key] = stages.get(key, 0) + sign

    for facts in leaving:
        count(-1, *facts)
    for facts in arriving:
        count(1, *facts)
    return {"tally": [[code, status, n, arrears] for (code, status), (n, arrears) in sorted(tally.items()) if n],
            "honour_roll": {code: n for code, n in sorted(honour_roll.items()) if n},
            "facets": {name: [[status, value, n] for (status, value), n in sorted(facets[name].items()) if n]
                       for name in FACETS},
            "stages": {"months_min": months_min,
                       "rows": [[code, status, text, n] for (code, status, text), n in
                                sorted(stages.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or ""))
                                if n]}}


class FigureReads(StateReads):
    def figures_on(self, day: date, window_months: int, full_history: bool = True,
                   stored: dict | None = None) -> Figures:
        """Aggregates for a day, per province from the tally rule (congkhai.rules.results.tally_sql):
        read from `stored`, the figures its release computed when it was published (`release_figures`),
        or computed from the history for a release published before they were kept."""
        if stored is not None:
            return _figures(day, stored["tally"], stored["honour_roll"])
        roll = self.count_on(day, Filters(honour_roll=True, window_months=window_months, full_history=full_history))
        return _figures(day, self.session.execute(tally_sql(day)), {"": roll})

    def release_figures(self, day: date, inspection_min_months: int) -> dict:
        """What the pages of the release of `day` read that depends only on the release, computed in the
        release's own transaction (publisher/store.py) once its intervals and honour roll are written:
        the tally per province and status, the honour roll per province (congkhai.models.Commendation),
        per status how many employers each sector and ownership type has (the lists' facets), and per
        province, status and enforcement stage as reported how many are behind by the policy's
        inspection threshold or more (the planned-inspections list's stages and totals)."""
        tally = [[code, status, int(count), int(arrears or 0)]
                 for code, status, count, arrears in self.conn.execute(tally_sql(day))]
        employers, commendations = Employer.__table__, Commendation.__table__
        roll = (select(employers.c.province_code, func.count())
                .select_from(commendations.join(employers, employers.c.id == commendations.c.employer_id))
                .where(covers_sql(commendations, day)).group_by(employers.c.province_code))
        intervals = StatusInterval.__table__
        facets = {}
        for name in FACETS:
            column = employers.c[name]
            stmt = (select(intervals.c.status, column, func.count())
                    .select_from(employers.join(intervals, intervals.c.employer_id == employers.c.id))
                    .where(covers_sql(intervals, day), column != "").group_by(intervals.c.status, column))
            facets[name] = [[status, value, int(count)] for status, value, count in self.conn.execute(stmt)]
        behind = (select(employers.c.province_code, intervals.c.status, intervals.c.enforcement_stage, func.count())
                  .select_from(employers.join(intervals, intervals.c.employer_id == employers.c.id))
                  .where(covers_sql(intervals, day), intervals.c.months_late >= inspection_min_months)
                  .group_by(employers.c.province_code, intervals.c.status, intervals.c.enforcement_stage))
        stages = {"months_min": inspection_min_months,
                  "rows": [[code, status, text, int(count)] for code, status, text, count in self.conn.execute(behind)]}
        return {"tally": tally, "honour_roll": {code: int(n) for code, n in self.conn.execute(roll)}, "facets": facets,
                "stages": stages}

    def results_series(self, province_code: str | None = None) -> list[dict]:
        """The daily results, one row per release, of a province or of the country (all its provinces)."""
        columns = [func.sum(getattr(DailyResult, name)).label(name) for name in FIGURES]
        stmt = (select(DailyResult.release_id, DailyResult.as_of, func.count().label("provinces"), *columns)
                .group_by(DailyResult.release_id, DailyResult.as_of).order_by(DailyResult.as_of))
        if province_code is not None:
            stmt = stmt.where(DailyResult.province_code == province_code)
        # SUM skips NULL and is NULL when every row is: an amount no province reported apart stays unknown.
        return [{**row, **{name: None if row[name] is None else int(row[name]) for name in FIGURES}}
                for row in self.session.execute(stmt).mappings()]

    def results_of_provinces(self, start: date, releases: tuple) -> dict[str, dict]:
        """Per province: the offender arrears at the release of `start`, and what the releases of
        `releases` recovered, for the recovery-rate ranking."""
        out: dict[str, dict] = defaultdict(lambda: {"arrears_at_start": 0, "recovered": 0, "reported": 0})
        stmt = select(DailyResult.province_code, DailyResult.arrears_offenders).where(DailyResult.as_of == start)
        for code, arrears in self.session.execute(stmt):
            out[code]["arrears_at_start"] = int(arrears)
        if releases:
            stmt = (select(DailyResult.province_code, func.sum(DailyResult.recovered), func.count())
                    .where(DailyResult.as_of.in_(releases)).group_by(DailyResult.province_code))
            for code, recovered, count in self.session.execute(stmt):
                out[code]["recovered"] = int(recovered or 0)
                out[code]["reported"] = int(count)
        return dict(out)
