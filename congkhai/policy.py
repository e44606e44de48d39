"""The publication policy: thresholds read from a TOML file in datasets/, never hard-coded."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import DATASETS_DIR

DEFAULT_POLICY_PATH = DATASETS_DIR / "policy.toml"
ELIGIBILITY_RULES = ("evasion_in_force", "evasion_or_delinquent")


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
    notice_days: int = 15                  # days between crossing into the offender list and being listed
    evasion_skips_notice: bool = True      # an evasion decision is already a formal decision: listed at once
    first_release_lists: bool = True       # the first release takes over lists that were already published
    resolved_visible_days: int = 30        # how long "obligation completed" stays in the public lists

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Policy":
        """Also reads the policy of a release made before a setting existed (it then has its default)."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr(sorted(self.to_dict().items())).encode()).hexdigest()[:16]


def load_policy(path: str | Path | None = None) -> Policy:
    path = Path(path or DEFAULT_POLICY_PATH)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"{path}: {error}") from None
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
            notice_days=int(raw.get("notice", {}).get("days", 15)),
            evasion_skips_notice=bool(raw.get("notice", {}).get("evasion_skips_notice", True)),
            first_release_lists=bool(raw.get("notice", {}).get("first_release_lists", True)),
            resolved_visible_days=int(raw.get("retention", {}).get("resolved_visible_days", 30)),
        )
    except KeyError as error:
        raise PolicyError(f"{path}: missing setting {error}") from None
    if policy.eligibility_rule not in ELIGIBILITY_RULES:
        raise PolicyError(f"{path}: eligibility.rule must be one of {', '.join(ELIGIBILITY_RULES)}")
    if policy.min_arrears_vnd < 1 or policy.delinquent_min_months < 1 or policy.notice_days < 0 or\
            policy.resolved_visible_days < 0 or not 0 <= policy.max_rejected_share <= 1:
        raise PolicyError(f"{path}: thresholds out of range")
    return policy
