"""The publication policy: thresholds read from a TOML file in datasets/, never hard-coded."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import DATASETS_DIR

DEFAULT_POLICY_PATH = DATASETS_DIR / "policy.toml"
ELIGIBILITY_RULES = ("evasion_in_force", "evasion_or_delinquent")
MOJIBAKE_MODES = ("repair", "reject")


class PolicyError(ValueError):
    pass


def _setting(section: str, key: str, default=MISSING, default_factory=MISSING):
    """A policy field and where the policy file sets it: the default is written once, here."""
    return field(default=default, default_factory=default_factory, metadata={"file": (section, key)})


@dataclass(frozen=True, kw_only=True)
class Policy:
    """What a release is made by. A release records it, and the portal reads that record back with
    `from_dict`, so every default lives in this class only. The fields' order is the order of the
    keys in every release's recorded policy and datapackage.json: new settings go at the end."""
    version: str = _setting("", "version")
    title: str = _setting("", "title", "")
    min_arrears_vnd: int = _setting("classification", "min_arrears_vnd")
    delinquent_min_months: int = _setting("classification", "delinquent_min_months")
    commendation_window_months: int = _setting("commendation", "window_months")
    commendation_requires_full_history: bool = _setting("commendation", "requires_full_history", True)
    max_rejected_share: float = _setting("verification", "max_rejected_share")
    control_total_tolerance_vnd: int = _setting("verification", "control_total_tolerance_vnd", 0)
    eligibility_rule: str = _setting("eligibility", "rule")
    release_every_days: int = _setting("schedule", "release_every_days", 1)
    mojibake: str = _setting("verification", "mojibake", "repair")
    inspection_min_months: int = _setting("inspection", "min_months", 3)
    inspection_publish: str = _setting("inspection", "publish", "before_visit")
    receipt_current_days: int = _setting("receipts", "current_days", 30)
    # days between crossing into the offender list and being listed
    notice_days: int = _setting("notice", "days", 15)
    # an evasion decision is already a formal decision: listed at once
    evasion_skips_notice: bool = _setting("notice", "evasion_skips_notice", True)
    # the first release takes over lists that were already published
    first_release_lists: bool = _setting("notice", "first_release_lists", True)
    # how long "obligation completed" stays in the public lists
    resolved_visible_days: int = _setting("retention", "resolved_visible_days", 30)
    # Provinces whose reports may come without a grand total (their releases say so); a list, not a
    # tuple, so that a release's recorded policy compares equal once read back from JSON.
    totals_optional: list = _setting("verification", "totals_optional", default_factory=list)
    # a province's report against its last one: fewer employers, listed offenders or evaders than
    # this share fails it; a drop of fewer than drop_min_employers employers never does
    max_employer_drop_share: float = _setting("verification", "max_employer_drop_share", 0.10)
    max_offender_drop_share: float = _setting("verification", "max_offender_drop_share", 0.10)
    max_evader_drop_share: float = _setting("verification", "max_evader_drop_share", 0.10)
    drop_min_employers: int = _setting("verification", "drop_min_employers", 10)
    # A wrong unit is the likeliest wrong list (publisher/compare.py, amount_problems).
    min_arrears_per_employee_month_vnd: int = _setting("verification", "min_arrears_per_employee_month_vnd", 30_000)
    max_amount_scale_jump: float = _setting("verification", "max_amount_scale_jump", 100.0)
    amount_check_min_rows: int = _setting("verification", "amount_check_min_rows", 5)

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


def _typed(setting, value):
    if setting.name == "totals_optional":
        return sorted(str(code) for code in value)
    return {"int": int, "float": float, "bool": bool, "str": str}[setting.type](value)


def load_policy(path: str | Path | None = None) -> Policy:
    path = Path(path or DEFAULT_POLICY_PATH)
    raw = _read(path)
    values = {}
    for setting in fields(Policy):
        section, key = setting.metadata["file"]
        table = raw.get(section, {}) if section else raw
        if key in table:
            try:
                values[setting.name] = _typed(setting, table[key])
            except (TypeError, ValueError):
                raise PolicyError(f"{path}: setting '{key}' must be of type {setting.type}") from None
        elif setting.default is MISSING and setting.default_factory is MISSING:
            raise PolicyError(f"{path}: missing setting '{key}'" + (f" in [{section}]" if section else ""))
    policy = Policy(**values)
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
