"""The permanent archive of releases: atomic installation, the `current` pointer and the index (a
release directory is verified by congkhai.release_format.verify_release).

A release is written in a hidden temporary directory beside the others, fsynced, then renamed into
place; `current` is a symlink replaced in one rename. A crash at any moment leaves the previous
release, and `current`, fully readable; what remains is at most a hidden temporary directory that
`remove_stale_temporaries` deletes.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import tempfile
from pathlib import Path


CURRENT = "current"
INDEX = "index.json"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _fsync_path(path: Path, directory: bool = False) -> None:
    descriptor = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_tree(root: Path) -> None:
    """Flush every file and directory under `root` to disk before it is made visible."""
    for directory, _dirs, files in os.walk(root):
        for name in files:
            _fsync_path(Path(directory, name))
        _fsync_path(Path(directory), directory=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), os.fspath(second))


def make_temp_release_dir(releases_dir: Path, release_id: str) -> Path:
    """An empty hidden directory beside the releases (same filesystem, so the final rename is atomic)."""
    releases_dir = Path(releases_dir)
    releases_dir.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f".{release_id}.tmp-", dir=releases_dir))
    path.chmod(0o755)
    return path


def install_release_dir(tmp_dir: Path, final_dir: Path, keep_replaced: bool = False) -> Path | None:
    """Make the complete release in `tmp_dir` appear at `final_dir` in one step.

    A first release of a date is a rename. A re-run swaps the two directories atomically
    (renameat2); where the kernel or filesystem cannot, the old one is renamed aside first, which
    leaves `final_dir` absent for an instant (never half-written). With `keep_replaced`, the
    replaced directory is not deleted but returned (hidden, so a crashed run's copy is swept), for
    the caller to put back if its run fails before the database makes the new one current.
    """
    tmp_dir, final_dir = Path(tmp_dir), Path(final_dir)
    fsync_tree(tmp_dir)
    if not final_dir.exists():
        os.rename(tmp_dir, final_dir)
        _fsync_path(final_dir.parent, directory=True)
        return None
    if _exchange(tmp_dir, final_dir):
        _fsync_path(final_dir.parent, directory=True)
        replaced = tmp_dir  # now holds the replaced release
    else:
        replaced = final_dir.with_name(f".{final_dir.name}.old-{os.getpid()}-{os.urandom(3).hex()}")
        os.rename(final_dir, replaced)
        os.rename(tmp_dir, final_dir)
        _fsync_path(final_dir.parent, directory=True)
    if keep_replaced:
        return replaced
    shutil.rmtree(replaced)
    return None


def switch_current(releases_dir: Path, release_id: str) -> None:
    """Point releases/current at `release_id` (a relative symlink, so the tree can be copied as is)."""
    releases_dir = Path(releases_dir)
    if not (releases_dir / release_id).is_dir():
        raise FileNotFoundError(f"{releases_dir / release_id}: no such release to make current")
    temporary = releases_dir / f".{CURRENT}.tmp-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    os.symlink(release_id, temporary)
    os.replace(temporary, releases_dir / CURRENT)
    _fsync_path(releases_dir, directory=True)


def current_release_id(releases_dir: Path) -> str | None:
    link = Path(releases_dir) / CURRENT
    return os.readlink(link) if link.is_symlink() else None


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old or the new content, never a mix."""
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_path(path.parent, directory=True)


def update_release_index(releases_dir: Path, entry: dict) -> dict:
    """Add or replace (same id) one release in releases/index.json, newest first; returns the index."""
    releases_dir = Path(releases_dir)
    path = releases_dir / INDEX
    try:
        releases = json.loads(path.read_text(encoding="utf-8"))["releases"]
    except FileNotFoundError:
        releases = []
    except (ValueError, KeyError) as error:
        raise ValueError(f"{path}: not a release index ({error}); move it aside to rebuild it") from None
    releases = [release for release in releases if release["id"] != entry["id"]] + [entry]
    releases.sort(key=lambda release: release["id"], reverse=True)
    index = {"current": current_release_id(releases_dir), "releases": releases}
    write_atomic(path, (json.dumps(index, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return index


def remove_stale_temporaries(releases_dir: Path) -> list[Path]:
    """Delete what a crashed run left (hidden temporary and set-aside directories and links).

    Call it only while holding the publisher's lock: another run's temporary directory looks the same.
    """
    removed = []
    for path in Path(releases_dir).glob(".*"):
        if ".tmp-" not in path.name and ".old-" not in path.name:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        removed.append(path)
    return removed
