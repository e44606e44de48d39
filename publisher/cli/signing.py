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
    from congkhai.release_format import verify_release

    from congkhai.signing import public_key_path

    if not args.release_dir.is_dir():
        raise UsageError(f"{args.release_dir}: not a release directory")
    trusted = args.public_key or public_key_path(settings["CONGKHAI_SIGNING_KEY"])
    if args.public_key and not args.public_key.is_file():
        raise UsageError(f"{args.public_key}: no such public key file")
    expected = trusted.read_text(encoding="ascii") if trusted.is_file() else None
    problems = verify_release(args.release_dir, expected)
    if problems:
        print(f"{args.release_dir}: NOT verified", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    if expected is None:
        # Anyone can re-sign a copy with a key of their own and ship it inside: only the agency's
        # published key proves who signed, so without one the check cannot pass.
        print(f"{args.release_dir}: the files match SHA256SUMS and its signature matches the key shipped inside the "
              f"release, but that does not prove who signed it. Download the agency's public key (the portal's "
              f"/data/public-key.pem) and run again with --public-key.", file=sys.stderr)
        return 1
    print(f"{args.release_dir}: every file matches SHA256SUMS and the signature is the agency's ({trusted})")
    return 0

