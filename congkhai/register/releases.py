"""Reads of the releases: which are complete, which is in force on a day, the one before."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from ..models import Release
from ..policy import Policy
from .base import Reads
from .tables import R


@dataclass(frozen=True)
class ReleaseInfo:
    """A complete release, detached from the session so it can be cached between requests."""
    id: str
    as_of: date
    created_at: datetime
    partial: bool
    provinces: list
    missing_provinces: dict
    policy: Policy
    counts: dict
    datapackage_sha256: str | None
    verification: dict = field(default_factory=dict)  # what the checks let through (publisher/compare.py)

    @classmethod
    def of(cls, row: Release) -> "ReleaseInfo":
        missing = row.missing_provinces
        if isinstance(missing, list):
            missing = {code: "" for code in missing}
        return cls(row.id, row.as_of, row.created_at, bool(row.partial), list(row.provinces or []),
                   dict(missing or {}), Policy.from_dict(row.policy), dict(row.counts or {}), row.datapackage_sha256,
                   dict(row.verification or {}))

    def to_dict(self) -> dict:
        return asdict(self)


def _complete():
    """Complete releases, without their stored figures: read apart, once per release (`stored_figures`)."""
    return select(Release).options(defer(Release.figures)).where(Release.state == "complete")


class ReleaseReads(Reads):
    def current_release(self) -> ReleaseInfo | None:
        """The newest complete release (the portal caches it for a few seconds per process)."""
        row = self.session.scalars(_complete().order_by(Release.as_of.desc()).limit(1)).first()
        return ReleaseInfo.of(row) if row else None

    def stored_figures(self, release_id: str) -> dict | None:
        """What the release computed for its pages when it was published (FigureReads.release_figures),
        or None for a release published before they were kept. A few tens of kilobytes: the portal
        keeps them per release rather than reading them with every request's release."""
        return self.session.scalar(select(Release.figures).where(Release.id == release_id))

    def release(self, release_id: str) -> ReleaseInfo | None:
        row = self.session.scalars(_complete().where(Release.id == release_id)).first()
        return ReleaseInfo.of(row) if row else None

    def releases(self) -> list[ReleaseInfo]:
        """Every complete release, newest first."""
        return [ReleaseInfo.of(row) for row in self.session.scalars(_complete().order_by(Release.as_of.desc()))]

    def release_in_force(self, day: date) -> ReleaseInfo | None:
        """The newest complete release on or before `day`: the one whose data describe that day."""
        row = self.session.scalars(_complete().where(Release.as_of <= day)
                                   .order_by(Release.as_of.desc()).limit(1)).first()
        return ReleaseInfo.of(row) if row else None

    def previous_release(self, release: ReleaseInfo) -> ReleaseInfo | None:
        row = self.session.scalars(_complete().where(Release.as_of < release.as_of)
                                   .order_by(Release.as_of.desc()).limit(1)).first()
        return ReleaseInfo.of(row) if row else None

    def first_release_day(self) -> date | None:
        return self.session.scalar(select(func.min(Release.as_of)).where(Release.state == "complete"))

    # The publisher's and the CLI's forms: plain rows of the releases table, any state.

    def complete_releases(self) -> list:
        """Rows of the complete releases, oldest first."""
        return list(self.conn.execute(select(R).where(R.c.state == "complete").order_by(R.c.as_of)).mappings())

    def latest_release(self, on_or_before: date | None = None):
        """The row of the newest complete release (on or before a day), or None."""
        query = select(R).where(R.c.state == "complete")
        if on_or_before is not None:
            query = query.where(R.c.as_of <= on_or_before)
        return self.conn.execute(query.order_by(R.c.as_of.desc()).limit(1)).mappings().first()

    def releases_around(self, as_of: date) -> tuple:
        """(a run of the same date, the next complete release after it, the last complete one
        before it): what a new release of `as_of` finds, as rows or None."""
        same = self.conn.execute(select(R).where(R.c.as_of == as_of)).mappings().first()
        later = self.conn.execute(select(R).where(R.c.as_of > as_of, R.c.state == "complete")
                                  .order_by(R.c.as_of).limit(1)).mappings().first()
        before = self.conn.execute(select(R).where(R.c.as_of < as_of, R.c.state == "complete")
                                   .order_by(R.c.as_of.desc()).limit(1)).mappings().first()
        return same, later, before

    def published_at(self, release_day: date) -> datetime | None:
        """When the release of `release_day` was published, zone-aware (SQLite keeps it without its zone: UTC)."""
        moment = self.conn.execute(select(R.c.created_at).where(R.c.as_of == release_day)).scalar()
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment
