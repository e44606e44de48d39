"""Reads of figures: counts and arrears per status and province on a day, and the daily results."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ..models import DailyResult
from ..provinces import by_code
from ..rules.results import FIGURES, tally_sql
from ..statuses import OFFENDER_STATUSES, STATUSES
from .states import Filters, StateReads


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


class FigureReads(StateReads):
    def figures_on(self, day: date, window_months: int, full_history: bool = True) -> Figures:
        """Aggregates for a day, per province from the tally rule (congkhai.rules.results.tally_sql)."""
        per_province = defaultdict(lambda: {s: [0, 0] for s in STATUSES})
        for code, status, count, arrears in self.session.execute(tally_sql(day)):
            per_province[code][status] = [count, int(arrears or 0)]
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
            honour_roll=self.count_on(day, Filters(honour_roll=True, window_months=window_months,
                                                   full_history=full_history)),
        )

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
