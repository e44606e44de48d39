"""`congkhai`: the thin command line over the publisher. It parses arguments, shows progress and
prints summaries; all the work is done by functions it calls. This module holds `main` and the table
of commands; the commands themselves live beside it, one module per area (releases, the daily run,
the register's database, disputes, signing, samples) and the arguments in `parser.py`.

Exit status: 0 success, 1 verification failure (nothing published) or a failed check, 2 bad usage,
3 the run failed on a fault (full disk, lost database...: nothing new published, the current release
unchanged), 75 (EX_TEMPFAIL) `run-daily` before the deadline with provinces missing (nothing published,
try again later).
"""
from __future__ import annotations

import os
import sys

from congkhai.config import Paths, load_settings
from congkhai.logs import check_format, configure

from ..errors import RunFailed, UsageError
from .common import EXIT_FAULT
from .daily import cmd_run_daily, cmd_status
from .disputes import cmd_disputes
from .parser import build_parser
from .register import cmd_backfill_results, cmd_db, cmd_diff, cmd_notices
from .releases import cmd_compact, cmd_correct, cmd_inspect, cmd_publish, cmd_restore, cmd_withdraw
from .samples import cmd_sample
from .signing import cmd_keygen, cmd_verify


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        configure(check_format(args.log_format or settings["CONGKHAI_LOG_FORMAT"]))
    except ValueError as error:
        parser.error(str(error))
    try:
        return COMMANDS[args.command](args, settings)
    except UsageError as error:
        print(f"congkhai: error: {error}", file=sys.stderr)
        return 2
    except RunFailed as error:
        print(f"congkhai: the run failed: {error}. Nothing new was published; the current release is unchanged.",
              file=sys.stderr)
        print(f"  The failure is recorded in {Paths(settings['CONGKHAI_DATA_DIR']).run_log} (`congkhai status`).",
              file=sys.stderr)
        return EXIT_FAULT
    except BrokenPipeError:
        # `congkhai diff ... | head`: the reader left; say nothing more (Python's documented recipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


COMMANDS = {"db": cmd_db, "sample": cmd_sample, "publish": cmd_publish, "inspect": cmd_inspect,
            "withdraw": cmd_withdraw, "run-daily": cmd_run_daily, "status": cmd_status, "diff": cmd_diff, "keygen": cmd_keygen, "verify": cmd_verify,
            "disputes": cmd_disputes, "backfill-results": cmd_backfill_results,
            "correct": cmd_correct, "notices": cmd_notices, "compact": cmd_compact, "restore": cmd_restore}

