"""A release's files on this node's disk: where they are, what its signed SHA256SUMS lists, whether
they are intact, and the keys receipts may be signed with (congkhai.release_format reads them).

A past release moved into the archive (publisher.compact) is listed from its archive, and a file of
it asked for is restored once into a bounded cache, checked against its SHA256SUMS on the way."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from datetime import timezone
from pathlib import Path

from flask import current_app, url_for

from congkhai.config import Paths
from congkhai.register import ReleaseInfo
from congkhai.release_archive import KEEP_VERBATIM, archived_files, is_archived, restore_file
from congkhai.release_format import PUBLIC_KEY, SIGNATURE, SUMS, read_sums, verify_release
from congkhai.signing import key_id, public_key_path

from . import current

VERIFY_RETRY_SECONDS = 30


def release_dir(release_id: str) -> Path:
    return Paths(current_app.config["CONGKHAI_DATA_DIR"]).release(release_id)


def archive_dir(release_id: str) -> Path:
    return Paths(current_app.config["CONGKHAI_DATA_DIR"]).archived(release_id)


def search_index_dir(release_id: str) -> Path:
    return Paths(current_app.config["CONGKHAI_DATA_DIR"]).search_index(release_id)


def release_files(release_id: str) -> dict:
    """Files of a published release with sizes and the hashes its signed SHA256SUMS lists."""
    directory = release_dir(release_id)
    if not directory.is_dir() and is_archived(archive_dir(release_id)):
        return _archived_release_files(release_id)
    sums_path = directory / SUMS
    sums = read_sums(sums_path.read_text(encoding="utf-8", errors="replace"))[0] if sums_path.is_file() else {}
    files = []
    if directory.is_dir():
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix()
            files.append({"name": name, "bytes": path.stat().st_size, "sha256": sums.get(name)})
    package = None
    package_path = directory / "datapackage.json"
    if package_path.is_file():
        package = json.loads(package_path.read_text(encoding="utf-8"))
    return {"directory_exists": directory.is_dir(), "files": files, "datapackage": package,
            "signed": (directory / SIGNATURE).is_file()}


def _archived_release_files(release_id: str) -> dict:
    """As release_files, from the archive's list (the data package is read only from a release that
    serves: the pages describe the current one's)."""
    files = [{"name": f.name, "bytes": f.bytes, "sha256": None if f.name in KEEP_VERBATIM else f.sha256}
             for f in archived_files(archive_dir(release_id))]
    return {"directory_exists": False, "archived": True, "files": files, "datapackage": None,
            "signed": any(f["name"] == SIGNATURE for f in files)}


def file_path(release_id: str, filename: str) -> Path | None:
    """Where to read one file of a release: in its directory, or restored from its archive into the
    cache (one restoration at a time per node, the cache kept under CONGKHAI_RESTORE_CACHE_MB);
    None when the release has no such file."""
    directory = release_dir(release_id)
    if directory.is_dir():
        path = directory / filename
        return path if path.is_file() and path.resolve().is_relative_to(directory.resolve()) else None
    archive = archive_dir(release_id)
    if not is_archived(archive):
        return None
    wanted = {f.name: f for f in archived_files(archive)}.get(filename)
    if wanted is None:
        return None
    if wanted.name in KEEP_VERBATIM:
        return archive / wanted.name
    cache = Paths(current_app.config["CONGKHAI_DATA_DIR"]).restored
    out = cache / release_id / filename
    if out.is_file():
        os.utime(out)  # recently read: kept longest
        return out
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.is_file():
            staging = out.with_name(f".{out.name}.tmp-{os.getpid()}")
            restore_file(archive, wanted, staging)
            os.replace(staging, out)
            _evict(cache, int(current_app.config["CONGKHAI_RESTORE_CACHE_MB"]) * 1_000_000, keep=out)
    return out


def _evict(cache: Path, limit: int, keep: Path) -> None:
    """Delete the restored files read least recently until the cache holds `limit` bytes or less."""
    files = sorted((p for p in cache.rglob("*") if p.is_file() and not p.name.startswith(".")),
                   key=lambda p: p.stat().st_mtime)
    total = sum(p.stat().st_size for p in files)
    for path in files:
        if total <= limit:
            break
        if path != keep:
            total -= path.stat().st_size
            path.unlink(missing_ok=True)


def datapackage_sha256(release: ReleaseInfo) -> str | None:
    """The hash recorded with the release, else the one of its datapackage.json on disk or in its archive."""
    if release.datapackage_sha256:
        return release.datapackage_sha256
    path = release_dir(release.id) / "datapackage.json"
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    if is_archived(archive_dir(release.id)):
        return {f.name: f.sha256 for f in archived_files(archive_dir(release.id))}.get("datapackage.json")
    return None


def release_metadata(release: ReleaseInfo) -> dict:
    """A release as its page, the page's .json twin and the API describe it; `created_at` in UTC with
    its offset (SQLite keeps times without one)."""
    created = release.created_at
    return {**release.to_dict(), "created_at": created if created.tzinfo else created.replace(tzinfo=timezone.utc),
            "datapackage_sha256": datapackage_sha256(release),
            "links": {"html": url_for("lists.release", date_text=release.id),
                      "api": url_for("api.release", date_text=release.id)}}


def public_key_pem() -> str | None:
    """The publishing key: as shipped in the current release, else beside the configured private key."""
    latest = current.release()
    candidates = [release_dir(latest.id) / PUBLIC_KEY] if latest else []
    candidates.append(public_key_path(current_app.config["CONGKHAI_SIGNING_KEY"]))
    for path in candidates:
        if path.is_file():
            return path.read_text(encoding="ascii")
    return None


def verification_keys() -> dict[str, str]:
    """Public keys a receipt may be signed with, by key id: the configured key, the one shipped in
    the current release, and earlier keys kept as keys/*.pub.pem after a rotation."""
    paths = [public_key_path(current_app.config["CONGKHAI_SIGNING_KEY"])]
    latest = current.release()
    if latest is not None:
        paths.append(release_dir(latest.id) / PUBLIC_KEY)
    keys_dir = Paths(current_app.config["CONGKHAI_DATA_DIR"]).keys
    if keys_dir.is_dir():
        paths.extend(sorted(keys_dir.glob("*.pub.pem")))
    keys = {}
    for path in paths:
        if path.is_file():
            pem = path.read_text(encoding="ascii")
            keys[key_id(pem)] = pem
    return keys


def release_problems(release_id: str) -> list[str]:
    """What is wrong with this node's copy of a release's files (SHA256SUMS, signature); empty when intact.

    A release's files never change, so a passed check is kept for the process's life; a failed one
    is tried again after VERIFY_RETRY_SECONDS (a copy may still be arriving)."""
    cache = current_app.extensions.setdefault("congkhai.verified", {})
    known = cache.get(release_id)
    if known is not None and (not known[1] or time.monotonic() - known[0] < VERIFY_RETRY_SECONDS):
        return known[1]
    agency_key = public_key_path(current_app.config["CONGKHAI_SIGNING_KEY"])
    problems = verify_release(release_dir(release_id),
                              agency_key.read_text(encoding="ascii") if agency_key.is_file() else None)
    cache[release_id] = (time.monotonic(), problems)
    return problems
