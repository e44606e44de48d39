"""`congkhai sample`: realistic provincial reports (a first day, the next day, or a corrected
report) for demos, tests and benchmarks."""
from __future__ import annotations

import sys

from ..errors import UsageError
from .common import TqdmProgress


def cmd_sample(args, settings) -> int:
    from ..sample import generate_reports

    if args.employers < 34:
        raise UsageError("--employers must be at least 34 (one per province)")
    from ..sample import corrected_report
    from ..sample_employers import SampleError

    if args.layout and (args.previous or args.correct):
        raise UsageError("--layout chooses the layouts of a first day: --previous and --correct keep each report's own")
    if args.correct:
        if args.previous:
            raise UsageError("--correct and --previous cannot be combined")
        try:
            path = corrected_report(args.correct, args.out, args.as_of, seed=args.seed)
        except SampleError as error:
            raise UsageError(str(error)) from None
        print(f"Corrected report of {args.as_of.isoformat()}: {path}")
        return 0

    progress = TqdmProgress(enabled=sys.stderr.isatty())
    tick = progress.step("sample", None if args.previous else args.employers)
    try:
        summary = generate_reports(args.out, args.employers, args.as_of, seed=args.seed, previous=args.previous,
                                   progress=tick, layouts=args.layout)
    except (SampleError, ValueError) as error:
        raise UsageError(str(error)) from None
    finally:
        progress.done("sample")
    print(summary.describe())
    return 0

