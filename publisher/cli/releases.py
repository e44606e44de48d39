"""`congkhai publish`, `inspect`, `withdraw` and `correct`: the commands that make, preview, take
back or correct one date's release."""
from __future__ import annotations

import json
import sys

from ..errors import VerificationError
from ..errors import UsageError
from .common import TqdmProgress, describe_compaction, print_published, verification_failed


def cmd_publish(args, settings) -> int:
    from ..pipeline import publish

    if args.dry_run:
        return cmd_inspect(args, settings)
    progress = TqdmProgress(enabled=not args.quiet and sys.stderr.isatty())
    try:
        result = publish(args.input, args.as_of, settings, allow_partial=args.allow_partial, progress=progress,
                         accept_removals=args.accept_removals)
    except VerificationError as error:
        return verification_failed(error, args.as_of, settings)
    print_published(result)
    return 0


def cmd_inspect(args, settings) -> int:
    """Exit 0 when `publish` would publish every province, 1 otherwise."""
    from ..inspect import inspect_files, render_text

    paths = list(getattr(args, "paths", None) or []) + ([args.input] if args.input else [])
    if not paths:
        raise UsageError("give the reports to inspect (FILE…) or --input DIR")
    result = inspect_files(paths, args.as_of, settings, args.accept_removals)
    print(json.dumps(result, ensure_ascii=False, indent=1, default=str) if args.format == "json"
          else render_text(result))
    return 0 if result["publishable"] else 1


def cmd_withdraw(args, settings) -> int:
    from ..withdraw import withdraw

    done = withdraw(args.date, args.reason, settings)
    print(f"Release {done.release_id} withdrawn: {done.corrections:,} correction(s) published; "
          + (f"release {done.back_to} serves again." if done.back_to else "no release serves now."))
    return 0


def cmd_correct(args, settings) -> int:
    from ..correct import correct

    try:
        result = correct(args.input, args.as_of, settings)
    except VerificationError as error:
        print(f"Corrected report NOT accepted: {error}", file=sys.stderr)
        return 1
    print(f"{len(result.recorded)} correction(s) for {args.as_of.isoformat()} from province(s) "
          f"{', '.join(result.provinces)}; they are published with the next release")
    for key in result.unknown:
        print(f"  skipped {key}: never published, so there is nothing to correct")
    return 0



def cmd_compact(args, settings) -> int:
    from congkhai.config import Paths

    from ..compact import compact_locked

    done = compact_locked(Paths(settings["CONGKHAI_DATA_DIR"]), int(settings["CONGKHAI_ARCHIVE_KEYFRAME_EVERY"]))
    print(describe_compaction(done))
    return 0


def cmd_restore(args, settings) -> int:
    from congkhai.config import Paths
    from congkhai.release_archive import ArchiveError, is_archived, restore_release

    archived = Paths(settings["CONGKHAI_DATA_DIR"]).archived(args.date.isoformat())
    if not is_archived(archived):
        raise UsageError(f"no archived release of {args.date.isoformat()} in {archived.parent}")
    if args.out.exists():
        raise UsageError(f"--out {args.out}: already exists; give a new directory")
    try:
        restore_release(archived, args.out)
    except ArchiveError as error:
        print(f"{archived}: NOT restored: {error}", file=sys.stderr)
        return 1
    print(f"Release {args.date.isoformat()} restored to {args.out}; every file matches its SHA256SUMS "
          f"(`congkhai verify {args.out}` checks the signature too)")
    return 0
