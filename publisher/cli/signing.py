"""`congkhai keygen` and `verify`: the agency's signing key, and checking a release's hashes and
signature against it."""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UsageError


def cmd_keygen(args, settings) -> int:
    from congkhai.signing import SigningKeyError, generate_key

    path = Path(settings["CONGKHAI_SIGNING_KEY"])
    try:
        generate_key(path, force=args.force)
    except SigningKeyError as error:
        raise UsageError(f"{error} (old releases stay verifiable with the public key published in each)") from None
    print(f"Signing key written to {path}")
    return 0


def cmd_verify(args, settings) -> int:
    from congkhai.signing import public_key_path

    trusted = args.public_key or public_key_path(settings["CONGKHAI_SIGNING_KEY"])
    if args.public_key and not args.public_key.is_file():
        raise UsageError(f"{args.public_key}: no such public key file")
    expected = trusted.read_text(encoding="ascii") if trusted.is_file() else None
    target, problems = _verify_target(args.release_dir, settings, expected)
    if problems:
        print(f"{target}: NOT verified", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    if expected is None:
        # Anyone can re-sign a copy with a key of their own and ship it inside: only the agency's
        # published key proves who signed, so without one the check cannot pass.
        print(f"{target}: the files match SHA256SUMS and its signature matches the key shipped inside the "
              f"release, but that does not prove who signed it. Download the agency's public key (the portal's "
              f"/data/public-key.pem) and run again with --public-key.", file=sys.stderr)
        return 1
    print(f"{target}: every file matches SHA256SUMS and the signature is the agency's ({trusted})")
    return 0


def _verify_target(given: Path, settings, expected: str | None) -> tuple[Path, list[str]]:
    """(what was checked, its problems) for a release directory, an archived release, or a date
    found in the data directory; an archived release is restored aside, checked, and deleted."""
    import tempfile
    from datetime import date

    from congkhai.config import Paths
    from congkhai.release_archive import ArchiveError, is_archived, restore_release
    from congkhai.release_format import verify_release

    if not given.exists():
        try:
            day = date.fromisoformat(str(given)).isoformat()
        except ValueError:
            raise UsageError(f"{given}: neither a release directory, an archived release nor a date") from None
        paths = Paths(settings["CONGKHAI_DATA_DIR"])
        given = paths.release(day) if paths.release(day).is_dir() else paths.archived(day)
        if not given.is_dir():
            raise UsageError(f"no release of {day} in {paths.releases} or {paths.archive}")
    if not given.is_dir():
        raise UsageError(f"{given}: not a release directory")
    if not is_archived(given):
        return given, verify_release(given, expected)
    with tempfile.TemporaryDirectory(dir=given.parent, prefix=".verify.tmp-") as scratch:
        restored = Path(scratch) / given.name
        try:
            restore_release(given, restored)
        except ArchiveError as error:
            return given, [str(error)]
        return given, verify_release(restored, expected)
