"""Settings, declared once as data so the README and a test can list every one of them.

Values come from environment variables; `load_settings()` returns a plain dict that the portal
copies into `app.config` and the publisher CLI uses directly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASETS_DIR = REPO_ROOT / "datasets"


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS = [
    Setting("CONGKHAI_DATA_DIR", "./instance",
            "Directory for the database, releases, search indexes, rejects reports and keys."),
    Setting("DATABASE_URL", None,
            "SQLAlchemy URL of the database; default: SQLite file congkhai.db in the data directory."),
    Setting("CONGKHAI_POLICY", str(DATASETS_DIR / "policy.toml"),
            "Policy file with the classification, verification, commendation and eligibility thresholds."),
    Setting("CONGKHAI_SIGNING_KEY", None,
            "Path of the Ed25519 private key that signs releases and receipts; default: keys/signing.key in the data directory."),
    Setting("CONGKHAI_BASE_URL", "http://localhost:5000",
            "Public base URL of the portal, used for permalinks in feeds, data packages and receipts."),
    Setting("CONGKHAI_LICENSE", "CC-BY-4.0",
            "SPDX identifier of the licence of the published data."),
    Setting("CONGKHAI_FEED_MAX_ENTRIES", 200, "Most entries a feed holds."),
    Setting("CONGKHAI_FEED_MAX_DAYS", 90, "Oldest entry a feed holds, in days before its release."),
    Setting("CONGKHAI_ARCHIVE_KEYFRAME_EVERY", 7,
            "Past releases are archived as patches against a whole copy kept every this many releases."),
    Setting("CONGKHAI_WARM_ON_SWITCH", 1,
            "1: a portal process serves a new release once its search index is open and its most-read pages are cached."),
    Setting("CONGKHAI_RESTORE_CACHE_MB", 2048,
            "Disk the portal may fill with files of archived releases restored for download."),
    Setting("REDIS_URL", None, "Redis URL for the portal's rate limits and rendered-answer cache; per-process memory when unset."),
    Setting("CONGKHAI_PAGE_RATE_LIMIT", "300 per minute",
            "Requests per client to the pages, feeds and downloads (everything but /api/ and static files)."),
    Setting("CONGKHAI_API_RATE_LIMIT", "300 per minute",
            "Requests per client to the JSON API (/api/v1), in flask-limiter notation."),
    Setting("CONGKHAI_BATCH_RATE_LIMIT", "30 per minute",
            "Eligibility checks submitted per client (POST /eligibility, POST /api/v1/eligibility)."),
    Setting("CONGKHAI_API_CACHE_SECONDS", 300,
            "Seconds a client or proxy may cache a GET answer, page or API (Cache-Control max-age)."),
    Setting("CONGKHAI_TRUSTED_PROXIES", 0,
            "Reverse proxies in front of the portal whose X-Forwarded-For/-Proto/-Host headers are trusted."),
    Setting("CONGKHAI_CACHE_SECONDS", 3600,
            "Seconds a rendered answer stays in the portal's own cache (Redis or in-process) within one release."),
    Setting("CONGKHAI_CACHE_BYTES", 64 * 1024 * 1024,
            "Bytes of rendered answers the in-process cache keeps per worker when REDIS_URL is unset (a quarter "
            "of it with Redis), plus a quarter of it for the hits each worker keeps ready to send."),
    Setting("CONGKHAI_CACHE_PREFIX", "congkhai:page",
            "Prefix of the portal's cache keys in Redis (one per register sharing a Redis)."),
    Setting("CONGKHAI_STATEMENT_TIMEOUT_MS", 20_000,
            "Longest a portal request's database statement may run, in milliseconds, before it is stopped and the "
            "request answered 503 with Retry-After; under gunicorn's worker timeout, so no worker is killed "
            "mid-answer. 0: no limit."),
    Setting("SECRET_KEY", None, "Flask secret key; required when the portal runs in production."),
    Setting("CONGKHAI_INCOMING_DIR", None,
            "Where provinces drop their reports, one directory per date (incoming/YYYY-MM-DD/); default: incoming "
            "in the data directory."),
    Setting("CONGKHAI_LOG_FORMAT", "text",
            "text: the publisher logs only problems, the portal logs nothing of its own; json: one JSON line per "
            "publisher step and run and per portal request, on stderr."),
    Setting("CONGKHAI_DISPUTE_MAX_ATTACHMENT_BYTES", 5_000_000,
            "Largest attachment (PDF, JPEG or PNG) an employer may send with a dispute, in bytes."),
    Setting("CONGKHAI_DISPUTE_MAX_OPEN", 3, "Most open disputes one employer may have at a time."),
    Setting("CONGKHAI_DISPUTE_MIN_SECONDS", 5,
            "Fewest seconds between showing the dispute form and sending it; faster is taken for a robot."),
    Setting("CONGKHAI_DISPUTE_RATE_LIMIT", "5 per hour", "Disputes sent per client address."),
    Setting("CONGKHAI_DISPUTE_EMPLOYER_RATE_LIMIT", "10 per day", "Disputes sent about one employer, from anywhere."),
    Setting("CONGKHAI_DISPUTE_LOOKUP_RATE_LIMIT", "60 per hour", "Dispute status look-ups per client address."),
]

_BY_NAME = {s.name: s for s in SETTINGS}


def load_settings(env: dict | None = None, **overrides) -> dict:
    """Read every setting from `env` (default os.environ), apply overrides and derive path defaults."""
    env = os.environ if env is None else env
    values = {}
    for setting in SETTINGS:
        raw = env.get(setting.name)
        if raw is None or raw == "":
            values[setting.name] = setting.default
        elif isinstance(setting.default, int):
            values[setting.name] = int(raw)
        else:
            values[setting.name] = raw
    unknown = set(overrides) - set(_BY_NAME)
    if unknown:
        raise KeyError(f"unknown settings: {', '.join(sorted(unknown))}")
    values.update(overrides)
    data_dir = Path(values["CONGKHAI_DATA_DIR"]).resolve()
    values["CONGKHAI_DATA_DIR"] = str(data_dir)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{data_dir / 'congkhai.db'}"
    if not values["CONGKHAI_SIGNING_KEY"]:
        values["CONGKHAI_SIGNING_KEY"] = str(data_dir / "keys" / "signing.key")
    if not values["CONGKHAI_INCOMING_DIR"]:
        values["CONGKHAI_INCOMING_DIR"] = str(data_dir / "incoming")
    return values


class Paths:
    """Where everything lives under the data directory, in one place."""

    def __init__(self, data_dir: str | os.PathLike):
        self.data_dir = Path(data_dir)

    @property
    def releases(self) -> Path:
        return self.data_dir / "releases"

    def release(self, as_of: str) -> Path:
        return self.releases / as_of

    @property
    def current(self) -> Path:
        return self.releases / "current"

    @property
    def release_index(self) -> Path:
        return self.releases / "index.json"

    @property
    def row_memo(self) -> Path:
        """The rows each province's last run validated (publisher/memo.py); safe to delete."""
        return self.data_dir / "row-memo"

    @property
    def feed_windows(self) -> Path:
        """The entries each recent release's feeds show (publisher/feed_window.py); safe to delete."""
        return self.data_dir / "feed-window"

    def feed_window(self, as_of: str) -> Path:
        return self.feed_windows / f"{as_of}.json"

    @property
    def archive(self) -> Path:
        """Past releases, compressed and patched (congkhai.release_archive)."""
        return self.data_dir / "archive"

    def archived(self, as_of: str) -> Path:
        return self.archive / as_of

    @property
    def restored(self) -> Path:
        """Files of archived releases the portal restored for download; safe to delete."""
        return self.data_dir / "cache" / "restored"

    @property
    def indexes(self) -> Path:
        return self.data_dir / "indexes"

    def search_index(self, as_of: str) -> Path:
        return self.indexes / as_of

    def search_base(self, as_of: str) -> Path:
        """The release's index built again without its dead rows, for the next release to update
        (publisher/compact.py); never served."""
        return self.indexes / f"{as_of}.base"

    def rejects(self, as_of: str) -> Path:
        return self.data_dir / "rejects" / as_of

    @property
    def keys(self) -> Path:
        return self.data_dir / "keys"

    @property
    def run_log(self) -> Path:
        return self.data_dir / "runs.jsonl"

    @property
    def disputes(self) -> Path:
        """Attachments of disputes, one directory per reference; never served publicly."""
        return self.data_dir / "disputes"
