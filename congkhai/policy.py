"""The publication policy: thresholds read from a TOML file in datasets/, never hard-coded."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import DATASETS_DIR

DEFAULT_POLICY_PATH = DATASETS_DIR / "policy.toml"
ELIGIBILITY_RULES = ("evasion_in_force", "evasion_or_delinquent")
MOJIBAKE_MODES = ("repair", "reject")


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Policy:
    version: str
    title: str
    min_arrears_vnd: int
    delinquent_min_months: int
    commendation_window_months: int
    commendation_requires_full_history: bool
    max_rejected_share: float
    control_total_tolerance_vnd: int
    eligibility_rule: str
    release_every_days: int
    mojibake: str = "repair"
    inspection_min_months: int = 3
    inspection_publish: str = "before_visit"
    receipt_current_days: int = 30
    notice_days: int = 15                  # days between crossing into the offender list and being listed
    evasion_skips_notice: bool = True      # an evasion decision is already a formal decision: listed at once
    first_release_lists: bool = True       # the first release takes over lists that were already published
    resolved_visible_days: int = 30        # how long "obligation completed" stays in the public lists
    # Provinces whose reports may come without a grand total (their releases say so); a list, not a
    # tuple, so that a release's recorded policy compares equal once read back from JSON.
    totals_optional: list = field(default_factory=list)
    max_employer_drop_share: float = 0.10  # a province's report against its last one: fewer employers,
    max_offender_drop_share: float = 0.10  # listed offenders or evaders than this share fails it
    max_evader_drop_share: float = 0.10
    drop_min_employers: int = 10           # a drop of fewer employers than this never fails a province
    # A wrong unit is the likeliest wrong list (publisher/compare.py, amount_problems).
    min_arrears_per_employee_month_vnd: int = 30_000
    max_amount_scale_jump: float = 100.0
    amount_check_min_rows: int = 5

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Policy":
        """Also reads the policy of a release made before a setting existed (it then has its default)."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr(sorted(self.to_dict().items())).encode()).hexdigest()[:16]


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{path}: {error}") from None


def load_policy(path: str | Path | None = None) -> Policy:
    path = Path(path or DEFAULT_POLICY_PATH)
    raw = _read(path)
    try:
        policy = Policy(
            version=str(raw["version"]),
            title=str(raw.get("title", "")),
            min_arrears_vnd=int(raw["classification"]["min_arrears_vnd"]),
            delinquent_min_months=int(raw["classification"]["delinquent_min_months"]),
            commendation_window_months=int(raw["commendation"]["window_months"]),
            commendation_requires_full_history=bool(raw["commendation"].get("requires_full_history", True)),
            max_rejected_share=float(raw["verification"]["max_rejected_share"]),
            control_total_tolerance_vnd=int(raw["verification"].get("control_total_tolerance_vnd", 0)),
            eligibility_rule=str(raw["eligibility"]["rule"]),
            release_every_days=int(raw.get("schedule", {}).get("release_every_days", 1)),
            mojibake=str(raw["verification"].get("mojibake", "repair")),
            inspection_min_months=int(raw.get("inspection", {}).get("min_months", 3)),
            inspection_publish=str(raw.get("inspection", {}).get("publish", "before_visit")),
            receipt_current_days=int(raw.get("receipts", {}).get("current_days", 30)),
            notice_days=int(raw.get("notice", {}).get("days", 15)),
            evasion_skips_notice=bool(raw.get("notice", {}).get("evasion_skips_notice", True)),
            first_release_lists=bool(raw.get("notice", {}).get("first_release_lists", True)),
            resolved_visible_days=int(raw.get("retention", {}).get("resolved_visible_days", 30)),
            totals_optional=sorted(str(code) for code in raw["verification"].get("totals_optional", [])),
            max_employer_drop_share=float(raw["verification"].get("max_employer_drop_share", 0.10)),
            max_offender_drop_share=float(raw["verification"].get("max_offender_drop_share", 0.10)),
            max_evader_drop_share=float(raw["verification"].get("max_evader_drop_share", 0.10)),
            drop_min_employers=int(raw["verification"].get("drop_min_employers", 10)),
            min_arrears_per_employee_month_vnd=int(raw["verification"].get("min_arrears_per_employee_month_vnd",
                                                                           30_000)),
            max_amount_scale_jump=float(raw["verification"].get("max_amount_scale_jump", 100.0)),
            amount_check_min_rows=int(raw["verification"].get("amount_check_min_rows", 5)),
        )
    except KeyError as error:
        raise PolicyError(f"{path}: missing setting {error}") from None
    if policy.eligibility_rule not in ELIGIBILITY_RULES:
        raise PolicyError(f"{path}: eligibility.rule must be one of {', '.join(ELIGIBILITY_RULES)}")
    if policy.mojibake not in MOJIBAKE_MODES:
        raise PolicyError(f"{path}: verification.mojibake must be one of {', '.join(MOJIBAKE_MODES)}")
    if policy.inspection_publish not in ("before_visit", "after_visit"):
        raise PolicyError(f"{path}: inspection.publish must be before_visit or after_visit")
    if policy.inspection_min_months < 1 or policy.receipt_current_days < 1:
        raise PolicyError(f"{path}: inspection.min_months and receipts.current_days must be 1 or more")
    if policy.min_arrears_vnd < 1 or policy.delinquent_min_months < 1 or policy.notice_days < 0 or\
            policy.resolved_visible_days < 0 or not 0 <= policy.max_rejected_share <= 1 or\
            policy.drop_min_employers < 0 or policy.min_arrears_per_employee_month_vnd < 0 or\
            policy.max_amount_scale_jump <= 1 or policy.amount_check_min_rows < 1 or not all(0 <= share <= 1 for share in (
                policy.max_employer_drop_share, policy.max_offender_drop_share, policy.max_evader_drop_share)):
        raise PolicyError(f"{path}: thresholds out of range")
    from .provinces import by_code
    unknown = [code for code in policy.totals_optional if code not in by_code()]
    if unknown:
        raise PolicyError(f"{path}: verification.totals_optional names unknown province codes {', '.join(unknown)}")
    return policy


@dataclass(frozen=True)
class Schedule:
    """When the daily release is due ([schedule] of the policy file). Not part of `Policy`: it says
    when a release is made, not what it contains, so it is not recorded in each release."""
    deadline: time
    timezone: ZoneInfo
    settle_seconds: int
    max_days_ahead: int = 0

    def today(self, moment: datetime) -> date:
        """The date at `moment` where the reports are made, whatever the machine's time zone."""
        return self.local(moment).date()

    def latest_as_of(self, moment: datetime) -> date:
        """The latest date a run at `moment` may publish: a later one is a typing error or a wrong clock."""
        return date.fromordinal(self.today(moment).toordinal() + self.max_days_ahead)

    def deadline_of(self, day: date) -> datetime:
        """The moment `day`'s release is due, with or without every province."""
        return datetime.combine(day, self.deadline, tzinfo=self.timezone)

    def local(self, moment: datetime) -> datetime:
        """`moment` in the schedule's time zone (a naive one is read as local time there)."""
        return moment.replace(tzinfo=self.timezone) if moment.tzinfo is None else moment.astimezone(self.timezone)


def load_schedule(path: str | Path | None = None) -> Schedule:
    path = Path(path or DEFAULT_POLICY_PATH)
    section = _read(path).get("schedule", {})
    try:
        deadline = time.fromisoformat(str(section.get("deadline", "18:30")))
    except ValueError:
        raise PolicyError(f"{path}: schedule.deadline must be a time such as \"18:30\"") from None
    try:
        zone = ZoneInfo(str(section.get("timezone", "Asia/Ho_Chi_Minh")))
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"{path}: schedule.timezone is not a known time zone") from None
    settle = section.get("settle_seconds", 60)
    if not isinstance(settle, int) or settle < 0:
        raise PolicyError(f"{path}: schedule.settle_seconds must be a whole number of seconds")
    ahead = section.get("max_days_ahead", 0)
    if not isinstance(ahead, int) or isinstance(ahead, bool) or ahead < 0:
        raise PolicyError(f"{path}: schedule.max_days_ahead must be a whole number of days, 0 or more")
    return Schedule(deadline, zone, settle, ahead)
