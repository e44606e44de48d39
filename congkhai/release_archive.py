"""Past releases kept small and byte for byte: each file compressed with zstd, or stored as a zstd
patch against the same file of a keyframe release (`zstd --patch-from`), beside the release's own
SHA256SUMS and signature, which stay verbatim.

A day's files differ from a week-old release's in a few percent of their lines, so a patch is a
fraction of a percent of the file (BENCHMARKS.md). Every patch points at a keyframe stored whole,
never at another patch: a file comes back in at most two decompressions. Nothing is trusted on the
way back: a restored file must have the sha256 its release's SHA256SUMS lists, and a release is
archived only after every file was restored from the archive and checked so.

The `zstd` command does the work (Debian's package `zstd`): its patch format is the documented one
anyone can apply to check us, and it keeps the file being patched out of Python's memory.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .release_format import SIGNATURE, SUMS, file_sha256, read_sums

MANIFEST = "manifest.json"
FORMAT = 1
KEEP_VERBATIM = (SUMS, SIGNATURE)
FULL_LEVEL = 9       # keyframes: a fifth of the time of level 19 for a few percent more bytes
PATCH_LEVEL = 3      # patches are small whatever the level; 3 takes a second at a million employers
_LONG = "--long=31"  # windows up to 2 GiB: a patch must see the whole base file


class ArchiveError(Exception):
    """An archive that cannot give back a release's files exactly; the message names the file."""


@dataclass(frozen=True)
class ArchivedFile:
    name: str
    sha256: str
    bytes: int
    stored: str            # path inside the archived release's directory
    base: str | None       # the keyframe release the file is a patch against, or None when whole


def _zstd(*arguments: str) -> None:
    try:
        done = subprocess.run(["zstd", "-q", "-f", _LONG, *arguments], capture_output=True, text=True)
    except FileNotFoundError:
        raise ArchiveError("the zstd command is not installed (Debian package zstd)") from None
    if done.returncode:
        raise ArchiveError(f"zstd {' '.join(arguments)}: {done.stderr.strip() or f'exit status {done.returncode}'}")


def is_archived(archive_dir: Path) -> bool:
    return (archive_dir / MANIFEST).is_file()


def read_manifest(archive_dir: Path) -> dict:
    try:
        manifest = json.loads((archive_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ArchiveError(f"{archive_dir / MANIFEST}: not readable ({error})") from None
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"{archive_dir / MANIFEST}: format {manifest.get('format')!r}, this code reads {FORMAT}")
    return manifest


def archived_files(archive_dir: Path) -> list[ArchivedFile]:
    """The release's files as its manifest lists them (the sealing files included), sorted by name."""
    manifest = read_manifest(archive_dir)
    return sorted((ArchivedFile(name, entry["sha256"], entry["bytes"], entry["stored"], entry.get("base"))
                   for name, entry in manifest["files"].items()), key=lambda f: f.name)


def write_archive(release_dir: Path, target: Path, base: str | None, scratch: Path) -> None:
    """Write the archive of `release_dir` into `target` (a new directory beside the other archived
    releases), its files patched against the same files of the keyframe release `base` where it
    has them, and check that every file comes back exactly before returning. `scratch` holds the
    keyframe's files while they serve as patch bases."""
    listed, problems = read_sums((release_dir / SUMS).read_text(encoding="utf-8"))
    if problems:
        raise ArchiveError(f"{release_dir}: {problems[0]}")
    present = {p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if p.is_file()}
    unlisted = present - set(listed) - set(KEEP_VERBATIM)
    if unlisted:
        raise ArchiveError(f"{release_dir}: {sorted(unlisted)[0]} is not listed in {SUMS}; not archived")
    base_dir = target.parent / base if base else None
    base_files = {f.name: f for f in archived_files(base_dir)} if base_dir else {}
    target.mkdir(parents=True)
    entries = {}
    for name, digest in sorted(listed.items()):
        source = release_dir / name
        if file_sha256(source) != digest:
            raise ArchiveError(f"{source}: sha256 differs from {SUMS}; a damaged release is not archived")
        stored = f"files/{name}.zst"
        (target / stored).parent.mkdir(parents=True, exist_ok=True)
        base_file = base_files.get(name)
        if base_file is not None and base_file.base is None:
            base_copy = scratch / name
            if not base_copy.is_file():
                restore_file(base_dir, base_file, base_copy)
            _zstd(f"-{PATCH_LEVEL}", f"--patch-from={base_copy}", str(source), "-o", str(target / stored))
            entries[name] = {"sha256": digest, "bytes": source.stat().st_size, "stored": stored, "base": base}
        else:
            _zstd(f"-{FULL_LEVEL}", str(source), "-o", str(target / stored))
            entries[name] = {"sha256": digest, "bytes": source.stat().st_size, "stored": stored}
    for name in KEEP_VERBATIM:  # listed like the others, so a restored copy is checked too
        if (release_dir / name).is_file():
            shutil.copy2(release_dir / name, target / name)
            entries[name] = {"sha256": file_sha256(target / name), "bytes": (target / name).stat().st_size,
                             "stored": name}
    manifest = {"format": FORMAT, "release": release_dir.name, "base": base, "files": entries}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    with tempfile.TemporaryDirectory(dir=scratch) as check:
        for archived in archived_files(target):
            restore_file(target, archived, Path(check) / "file",
                         base_copy=scratch / archived.name if archived.base else None)
            os.unlink(Path(check) / "file")


def _restore_whole(archive_dir: Path, archived: ArchivedFile, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if archived.name in KEEP_VERBATIM:
        shutil.copyfile(archive_dir / archived.stored, out)
    else:
        _zstd("-d", str(archive_dir / archived.stored), "-o", str(out))


def restore_file(archive_dir: Path, archived: ArchivedFile, out: Path, base_copy: Path | None = None) -> None:
    """Write one archived file to `out`, checked against the sha256 its release lists (`base_copy`:
    the keyframe's file it is a patch against, already restored). ArchiveError, and nothing at
    `out`, otherwise."""
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if archived.base is None:
            _restore_whole(archive_dir, archived, out)
        else:
            with tempfile.TemporaryDirectory(dir=out.parent) as work:
                if base_copy is None:
                    base_copy = Path(work) / "base"
                    keyframe = keyframe_file(archive_dir, archived)
                    restore_file(archive_dir.parent / archived.base, keyframe, base_copy)
                _zstd("-d", f"--patch-from={base_copy}", str(archive_dir / archived.stored), "-o", str(out))
        if file_sha256(out) != archived.sha256:
            raise ArchiveError(f"{archived.name}: restored from {archive_dir} with a sha256 other than its release "
                               f"lists")
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def keyframe_file(archive_dir: Path, archived: ArchivedFile) -> ArchivedFile:
    """The keyframe's whole copy of the file `archived` (of the release archived in `archive_dir`) is
    a patch against; keyframes are archived beside the releases patched against them."""
    keyframe_dir = archive_dir.parent / archived.base
    if not is_archived(keyframe_dir):
        raise ArchiveError(f"{archived.name}: its keyframe release {archived.base} is not in the archive")
    keyframe = {f.name: f for f in archived_files(keyframe_dir)}.get(archived.name)
    if keyframe is None or keyframe.base is not None:
        raise ArchiveError(f"{archived.name}: the keyframe {archived.base} holds no whole copy of it")
    return keyframe


def restore_release(archive_dir: Path, out_dir: Path) -> None:
    """The whole release directory back at `out_dir` (which must not exist), every file checked."""
    out_dir.mkdir(parents=True)
    for archived in archived_files(archive_dir):
        restore_file(archive_dir, archived, out_dir / archived.name)
    _check_sums(archive_dir, out_dir)


def _check_sums(archive_dir: Path, out_dir: Path) -> None:
    listed, problems = read_sums((archive_dir / SUMS).read_text(encoding="utf-8"))
    if problems:
        raise ArchiveError(f"{archive_dir / SUMS}: {problems[0]}")
    restored = {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()} - set(KEEP_VERBATIM)
    if restored != set(listed):
        missing = sorted(set(listed) - restored) or sorted(restored - set(listed))
        raise ArchiveError(f"{archive_dir}: {missing[0]} is in the archive or in {SUMS} but not in both")
