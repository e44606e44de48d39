"""Bounded disk for a year of daily releases: every release but the two that serve (the current one
and the one before, which a withdrawal switches back to and the next release's index is built
from) moves into the archive (congkhai.release_archive), and only those two keep a search index.
When the current index holds too many dead rows (INDEX_DEAD_SHARE_MAX), it is built again aside from
the release's employers.jsonl, as the base the next release updates: searches and the index step
then cost what the employers cost, not what the days added.

Every `CONGKHAI_ARCHIVE_KEYFRAME_EVERY`-th archived release is a keyframe, stored whole; the others
are patches against the last keyframe before them. A release directory is deleted only after its
archive was written beside it, restored file by file against its SHA256SUMS and renamed into place,
so a crash at any moment leaves either the directory or a verified archive, often both.

It runs after a publish, in a process of its own (`congkhai compact`, or the daily timer's first
tick after the release): the release is already served, and the patches' memory never adds to
the publish's.
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from congkhai.config import Paths
from congkhai.release_archive import ArchiveError, is_archived, read_manifest, restore_release, write_archive
from congkhai.release_format import SUMS

from .archive import INDEX, current_release_id, fsync_tree, remove_stale_temporaries
from .errors import RunFailed, UsageError

_RELEASE_ID = re.compile(r"\d{4}-\d{2}-\d{2}")
_INDEX_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})(\.base)?")
# An index updated day after day keeps a dead row for every change; past this share of dead rows
# the current release's index is built again aside, as the base the next release updates.
INDEX_DEAD_SHARE_MAX = 0.25


@dataclass
class Compaction:
    archived: list[str] = field(default_factory=list)   # release ids moved into the archive, oldest first
    keyframes: list[str] = field(default_factory=list)  # of those, the ones stored whole
    indexes_removed: list[str] = field(default_factory=list)
    index_rebuilt: float | None = None   # the dead share of the current index, when it was built again
    bytes_before: int = 0
    bytes_after: int = 0


def serving(releases_dir: Path) -> set[str]:
    """The releases kept whole: `current` and the newest release before it not withdrawn."""
    current = current_release_id(releases_dir)
    kept = {current} if current else set()
    try:
        entries = json.loads((releases_dir / INDEX).read_text(encoding="utf-8"))["releases"]
    except (OSError, ValueError, KeyError):
        entries = []
    earlier = sorted((e["id"] for e in entries if not e.get("withdrawn") and current and e["id"] < current),
                     reverse=True)
    return kept | set(earlier[:1])


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


def _archived(paths: Paths) -> dict[str, dict]:
    """{release id: manifest} of the archive, by date."""
    if not paths.archive.is_dir():
        return {}
    return {d.name: read_manifest(d) for d in sorted(paths.archive.iterdir())
            if _RELEASE_ID.fullmatch(d.name) and is_archived(d)}


def _base_for(release_id: str, archived: dict[str, dict], every: int) -> str | None:
    """The keyframe the release is patched against, or None when it is to be one itself."""
    earlier = [rid for rid in archived if rid < release_id]
    keyframes = [rid for rid in earlier if archived[rid]["base"] is None]
    if not keyframes:
        return None
    keyframe = keyframes[-1]
    since = sum(1 for rid in earlier if rid > keyframe)
    return keyframe if since + 1 < every else None


def _remove(path: Path) -> None:
    """Out of sight in one rename, then deleted; a crash in between leaves a hidden directory the
    next run sweeps."""
    if not path.exists():
        return
    aside = path.with_name(f".{path.name}.old-compact")
    shutil.rmtree(aside, ignore_errors=True)
    path.rename(aside)
    shutil.rmtree(aside)


def _holds(archive_dir: Path, directory: Path) -> bool:
    """Whether the archive already holds this very release (the same signed SHA256SUMS)."""
    return is_archived(archive_dir) and (archive_dir / SUMS).read_bytes() == (directory / SUMS).read_bytes()


def _replacing(release_id: str, archived: dict[str, dict]) -> None:
    """A date published again after a withdrawal replaces its archive, unless others are patches on it."""
    if release_id not in archived:
        return
    dependent = sorted(rid for rid, manifest in archived.items() if manifest["base"] == release_id)
    if dependent:
        raise ArchiveError(f"release {release_id} was published again, but the archive of {dependent[0]} is a patch "
                           f"against its earlier files; neither is changed")
    del archived[release_id]


def _archive_one(paths: Paths, directory: Path, release_id: str, base: str | None) -> None:
    target = paths.archived(release_id)
    staging = target.with_name(f".{release_id}.tmp-compact")
    shutil.rmtree(staging, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=paths.archive, prefix=".scratch.tmp-") as scratch:
        try:
            write_archive(directory, staging, base, Path(scratch))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    fsync_tree(staging)
    _remove(target)  # an archive of an earlier, withdrawn release of the date (see _replacing)
    staging.rename(target)


def _release_dirs(paths: Paths) -> list[str]:
    if not paths.releases.is_dir():
        return []
    return sorted(d.name for d in paths.releases.iterdir()
                  if _RELEASE_ID.fullmatch(d.name) and d.is_dir() and not d.is_symlink())


def _index_dirs(paths: Paths) -> list[tuple[str, str]]:
    """(directory name, release id) of the indexes and rebuilt bases."""
    if not paths.indexes.is_dir():
        return []
    found = ((d.name, _INDEX_NAME.fullmatch(d.name)) for d in paths.indexes.iterdir() if d.is_dir())
    return sorted((name, match.group(1)) for name, match in found if match)


def _needs_base(paths: Paths) -> str | None:
    """The current release, when its index has more dead rows than INDEX_DEAD_SHARE_MAX and no base yet."""
    from congkhai import search

    current = current_release_id(paths.releases)
    if current is None or paths.search_base(current).is_dir() or not paths.release(current).is_dir():
        return None
    index = paths.search_index(current)
    return current if index.is_dir() and search.dead_share(index) > INDEX_DEAD_SHARE_MAX else None


def _unserved_indexes(paths: Paths, keep: set[str]) -> list[str]:
    """Indexes of releases that do not serve, and bases the next release has already been built from."""
    current = current_release_id(paths.releases)
    return [name for name, release_id in _index_dirs(paths)
            if release_id not in keep or (name.endswith(".base") and release_id != current)]


def pending(paths: Paths) -> bool:
    """Whether `compact` has anything to do: a cheap look, for the daily timer's every tick."""
    keep = serving(paths.releases)
    return (any(name not in keep for name in _release_dirs(paths)) or bool(_unserved_indexes(paths, keep))
            or _needs_base(paths) is not None)


def compact(paths: Paths, keyframe_every: int) -> Compaction:
    """Archive every release directory that does not serve, drop the indexes that do not serve.
    Call it holding the publisher's lock (`congkhai compact` does)."""
    result = Compaction()
    keep = serving(paths.releases)
    archived = _archived(paths)
    paths.archive.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(paths.archive)
    for release_id in _release_dirs(paths):
        if release_id in keep:
            continue
        directory = paths.release(release_id)
        result.bytes_before += _size(directory)
        if not _holds(paths.archived(release_id), directory):
            _replacing(release_id, archived)
            base = _base_for(release_id, archived, keyframe_every)
            _archive_one(paths, directory, release_id, base)
            archived[release_id] = read_manifest(paths.archived(release_id))
            result.archived.append(release_id)
            if base is None:
                result.keyframes.append(release_id)
        result.bytes_after += _size(paths.archived(release_id))
        _remove(directory)
    for name in _unserved_indexes(paths, keep):
        _remove(paths.indexes / name)
        result.indexes_removed.append(name)
    rebuild = _needs_base(paths)
    if rebuild is not None:
        from congkhai import search

        result.index_rebuilt = search.dead_share(paths.search_index(rebuild))
        index_from_release(paths, rebuild, paths.search_base(rebuild))
    return result


def make_whole(paths: Paths, release_id: str) -> list[str]:
    """Bring an archived release back to serve (a withdrawal switching back to it): its directory
    restored byte for byte and its search index rebuilt from its own employers.jsonl. Returns what
    was brought back; nothing when both are there."""
    done = []
    directory = paths.release(release_id)
    if not directory.is_dir():
        if not is_archived(paths.archived(release_id)):
            raise ArchiveError(f"release {release_id}: neither its directory nor its archive is on this disk")
        staging = directory.with_name(f".{release_id}.tmp-restore")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            restore_release(paths.archived(release_id), staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        fsync_tree(staging)
        staging.rename(directory)
        done.append(f"releases/{release_id}")
    index = paths.search_index(release_id)
    if not index.is_dir():
        index_from_release(paths, release_id, index)
        done.append(f"indexes/{release_id}")
    return done


def index_from_release(paths: Paths, release_id: str, target: Path) -> None:
    """A search index of the release's employers as its own employers.jsonl publishes them; staged,
    so no half index is ever seen."""
    from congkhai import search

    with (paths.release(release_id) / "employers.jsonl").open("rb") as lines:
        search.build_index(target, (_searchable(json.loads(line)) for line in lines), procs=2)


def _searchable(line: dict) -> dict:
    """A search document from an employers.jsonl line, whose `tax_code` column is the public
    identifier (a masked personal number or a unit code when there is no tax code to search by)."""
    from congkhai import search
    from congkhai.taxcode import InvalidTaxCode, parse_tax_code

    try:  # a unit code that happens to read as a tax code is still no tax code
        tax_code = parse_tax_code(line["tax_code"]).public if line["tax_code"] != line["unit_code"] else None
    except InvalidTaxCode:
        tax_code = None
    return search.document(SimpleNamespace(**{**line, "tax_code": tax_code}))


def compact_locked(paths: Paths, keyframe_every: int) -> Compaction:
    """`compact` under the publisher's lock, recorded in the run log like any publishing run."""
    from .install import publisher_lock
    from .runlog import ARCHIVED, FAILED, RunRecord

    run = RunRecord(paths.run_log, "compact", "", "")
    try:
        with publisher_lock(paths, run):
            done = compact(paths, keyframe_every)
    except UsageError as error:
        run.finish(FAILED, str(error))
        raise
    except (ArchiveError, OSError) as error:  # nothing was deleted that its archive cannot give back
        failure = RunFailed(f"compacting the past releases: {error}", "compact")
        run.finish(FAILED, str(failure))
        raise failure from error
    run.finish(ARCHIVED, archived=done.archived, indexes_removed=done.indexes_removed)
    return done
