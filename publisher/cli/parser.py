"""The `congkhai` command's arguments, subcommands and help texts in one place, so `--help` reads as
one document and each command module only does its work."""
from __future__ import annotations

import argparse
from datetime import date, datetime
from pathlib import Path

from congkhai.logs import LOG_FORMATS
from congkhai.statuses import STATUSES
from congkhai.rules.disputes import DISPUTE_STATUSES, REJECTED, UPHELD

from ..sample_layouts import LAYOUT_NAMES, MIXED


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _moment(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a moment in the form YYYY-MM-DDTHH:MM[:SS][+07:00]") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="congkhai", description="Công khai: publish the list of employers behind "
                                     "on social, health and unemployment insurance contributions.")
    parser.add_argument("--log-format", choices=LOG_FORMATS,
                        help="json: one JSON line per step and run on stderr (default: CONGKHAI_LOG_FORMAT, else text)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sample", help="generate realistic provincial reports for all provinces")
    p.add_argument("--out", type=Path, required=True, help="directory to write the reports into")
    p.add_argument("--employers", type=int, default=2000, help="number of employers in the whole country")
    p.add_argument("--as-of", type=_date, required=True, help="date of the reports, YYYY-MM-DD")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same reports)")
    p.add_argument("--previous", type=Path, help="the previous day's reports: produce the next day's from them")
    p.add_argument("--correct", type=Path, metavar="DIR",
                   help="reports of --as-of already published: write one province's corrected report of them")
    p.add_argument("--layout", action="append", metavar="NAME",
                   help=f"how the reports are laid out: {', '.join(LAYOUT_NAMES)} (the first is the default), or "
                        f"{MIXED} (all of them, dealt over the provinces by the seed); repeat or list with commas for "
                        f"a mix of some. A next day (--previous) keeps each province's layout")

    p = sub.add_parser("publish", help="verify, classify and publish the reports of one date")
    p.add_argument("--input", type=Path, required=True, help="directory with one report per province")
    p.add_argument("--as-of", type=_date, required=True, help="date of the reports, YYYY-MM-DD")
    p.add_argument("--allow-partial", action="store_true",
                   help="publish the provinces that passed when others fail (the release says so)")
    p.add_argument("--accept-removals", metavar="PROVINCE", action="append", default=[],
                   help="confirm that the employers this province's report leaves out (listed offenders among them) "
                        "or its drop against the last report are real; repeat for several provinces (the run log and "
                        "the release record it)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--dry-run", action="store_true",
                   help="publish nothing: show what was understood of each report and what would be published "
                        "(as `congkhai inspect`)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="with --dry-run")

    p = sub.add_parser("inspect", help="show what the publisher understands of a day's reports and whether it would "
                                        "publish them, without publishing or writing anything")
    p.add_argument("paths", type=Path, nargs="*", metavar="FILE",
                   help="reports to inspect (or one directory); instead of --input")
    p.add_argument("--input", type=Path, help="directory with one report per province")
    p.add_argument("--as-of", type=_date, required=True, help="date of the reports, YYYY-MM-DD")
    p.add_argument("--accept-removals", metavar="PROVINCE", action="append", default=[], help="as for publish")
    p.add_argument("--format", choices=("text", "json"), default="text")

    p = sub.add_parser("withdraw", help="take back the latest release, published by mistake: its changes are "
                                         "corrected in public and the release before it serves again; no file "
                                         "is deleted")
    p.add_argument("date", type=_date, help="the release's date, YYYY-MM-DD")
    p.add_argument("--reason", required=True, help="why it is withdrawn (published with the corrections)")

    p = sub.add_parser("run-daily", help="publish today's reports from the incoming directory when every province "
                                          "is in, or at the deadline with those that are")
    p.add_argument("--incoming", type=Path, help="directory holding one YYYY-MM-DD directory per date "
                                                 "(default: CONGKHAI_INCOMING_DIR)")
    p.add_argument("--date", type=_date, help="the date to publish (default: today in the schedule's time zone)")
    p.add_argument("--now", type=_moment, help="pretend it is this moment (tests, rehearsals); a time without an "
                                               "offset is local time of the schedule")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = sub.add_parser("status", help="show the current release, today's missing provinces and the last failed run")
    p.add_argument("--incoming", type=Path, help="as for run-daily")
    p.add_argument("--now", type=_moment, help="as for run-daily")

    p = sub.add_parser("keygen", help="create the Ed25519 key that signs releases and receipts")
    p.add_argument("--force", action="store_true", help="replace an existing key")

    p = sub.add_parser("verify", help="check every hash and the signature of a release: its directory, its archive, "
                                      "or its date (found in the data directory, restored first when archived)")
    p.add_argument("release_dir", type=Path, metavar="RELEASE", help="a release directory, archive/<date> or a date")
    p.add_argument("--public-key", type=Path, help="PEM file of the agency's public key (the portal serves it at "
                                                    "/data/public-key.pem); default: the public half of the "
                                                    "configured signing key, when there is one")

    sub.add_parser("compact", help="move every release but the current and the previous one into the archive "
                                   "(patches against a weekly whole copy, checked byte for byte) and delete the search "
                                   "indexes no release serves; run-daily does it after each release")
    p = sub.add_parser("restore", help="write an archived release's directory back, byte for byte, checked against "
                                       "its SHA256SUMS")
    p.add_argument("date", type=_date)
    p.add_argument("--out", type=Path, required=True, help="directory to create")

    sub.add_parser("backfill-results", help="compute from the status history the daily results of releases "
                                            "published without them")
    p = sub.add_parser("db", help="the database schema: upgrade it through the migrations, or show its revision")
    p.add_argument("action", choices=("upgrade", "current"))
    p.add_argument("--revision", default="head", help="upgrade to this revision (default: head)")

    p = sub.add_parser("correct", help="record a province's corrected report for a published date as corrections "
                                       "(published with the next release; history is not rewritten)")
    p.add_argument("--input", type=Path, required=True, help="directory with the corrected report(s)")
    p.add_argument("--as-of", type=_date, required=True, help="the published date they correct, YYYY-MM-DD")

    p = sub.add_parser("notices", help="write the notices to send: employers due to be listed unless they pay")
    p.add_argument("--as-of", type=_date, required=True, help="date of a published release, YYYY-MM-DD")
    p.add_argument("--out", type=Path, help="CSV file to write (default: rejects/<date>/notices.csv in the data dir)")

    p = sub.add_parser("diff", help="what changed between the releases of two dates")
    p.add_argument("date_a", type=_date)
    p.add_argument("date_b", type=_date)
    p.add_argument("--format", choices=("text", "csv", "json"), default="text")

    p = sub.add_parser("disputes", help="employers' disputes of their entries (right of reply), for the staff")
    disputes = p.add_subparsers(dest="disputes_command", required=True, metavar="ACTION")
    q = disputes.add_parser("list", help="disputes, oldest first")
    q.add_argument("--status", choices=DISPUTE_STATUSES, help="only disputes of this status")
    q = disputes.add_parser("show", help="everything about one dispute, contact details included")
    q.add_argument("reference")
    q = disputes.add_parser("resolve", help="record the decision on an open dispute")
    q.add_argument("reference")
    outcome = q.add_mutually_exclusive_group(required=True)
    outcome.add_argument("--upheld", dest="outcome", action="store_const", const=UPHELD,
                         help="the employer is right: the entry is corrected")
    outcome.add_argument("--rejected", dest="outcome", action="store_const", const=REJECTED,
                         help="the entry stands")
    q.add_argument("--note", required=True, help="the decision and its grounds, as the employer will read it")
    q.add_argument("--correct-status", choices=STATUSES, help="upheld: the status the entry should have had")
    q.add_argument("--correct-from", type=_date, help="upheld: the date the corrected status applies from")
    q = disputes.add_parser("sample", help="open a few realistic disputes about listed employers (demo)")
    q.add_argument("--count", type=int, default=3)
    q.add_argument("--seed", type=int, default=0)
    return parser

