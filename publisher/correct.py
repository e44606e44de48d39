"""`congkhai correct`: a province's corrected report for a date already published becomes
corrections, recorded in the next release, instead of a silent rewrite of that date.

The reports are read, validated and classified exactly as `publish` would have on that date
(under that release's policy and notice rules); each employer whose state differs from what
was published becomes one correction, from that date until the next release's own report.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from congkhai.corrections import record_correction
from congkhai.register import Register
from congkhai.policy import Policy
from congkhai.rules.commendation import window_start

from .errors import UsageError
from .pipeline import PreviousView, build_release, utcnow


@dataclass
class CorrectResult:
    as_of: date
    provinces: list[str]
    recorded: list[int] = field(default_factory=list)   # ids of the corrections, pending until the next release
    unknown: list[str] = field(default_factory=list)    # keys the register never published: nothing to correct


def correct(input_dir: Path, as_of: date, settings: dict, now: datetime | None = None) -> CorrectResult:
    """Record corrections for `as_of` from the corrected reports in `input_dir` (any provinces)."""
    from . import store

    engine = store.make_engine(settings["DATABASE_URL"])
    try:
        store.init_db(engine)
        with engine.begin() as conn:
            releases = Register(conn).complete_releases()
            release = next((r for r in releases if r["as_of"] == as_of), None)
            if release is None:
                raise UsageError(f"--as-of: no release for {as_of.isoformat()}; a correction corrects a published date")
            later = [r["as_of"] for r in releases if r["as_of"] > as_of]
            policy = Policy.from_dict(release["policy"])
            previous = store.load_previous(conn, as_of, window_start(as_of, policy.commendation_window_months))
            view = PreviousView(previous.release["as_of"] if previous.release else None, previous.states,
                                {k: v[1] for k, v in previous.employers.items()}, previous.disqualified)
            built = build_release(Path(input_dir), as_of, policy, now or utcnow(), view, allow_partial=True)
            published = Register(conn).states_by_key(as_of, list(built.provinces))
            corrected = {r.key: r.state() for r in built.records}
            result = CorrectResult(as_of, sorted(built.provinces))
            source = f"corrected report of province(s) {', '.join(result.provinces)} for {as_of.isoformat()}"
            for key in sorted(published.keys() | corrected.keys()):
                if published.get(key) == corrected.get(key):
                    continue
                if key not in previous.employers:
                    result.unknown.append(key)
                    continue
                reason = ("not in the corrected report" if key not in corrected else
                          "the province corrected its report")
                result.recorded.append(record_correction(
                    conn, key, as_of, later[0] if later else None, corrected.get(key), reason, source,
                    now=now, until_next_release=not later))
            return result
    finally:
        engine.dispose()
