"""`congkhai disputes`: the staff's side of employers' disputes (right of reply): list, show,
resolve, and open sample ones for a demo."""
from __future__ import annotations

from datetime import datetime

from ..errors import UsageError
from .common import in_utc
from .database import register_connection


def _utc_text(moment: datetime) -> str:
    return f"{in_utc(moment):%Y-%m-%d %H:%M:%S} UTC"


def _describe_dispute(dispute: dict) -> list[str]:
    attachment = (f"{dispute['attachment_type']}, {dispute['attachment_bytes']:,} bytes, sha256 "
                  f"{dispute['attachment_sha256']}" if dispute["attachment_type"] else "none")
    lines = [f"Dispute {dispute['reference']}: {dispute['status']}",
             f"  employer:    {dispute['employer_key']}",
             f"  opened:      {dispute['opened_on']} ({_utc_text(dispute['created_at'])})",
             f"  contact:     {dispute['contact_name']}, {dispute['contact']}",
             f"  attachment:  {attachment}",
             "  reason:", *("    " + line for line in dispute["reason"].splitlines())]
    if dispute["resolved_at"]:
        lines += [f"  resolved:    {_utc_text(dispute['resolved_at'])}", f"  note:        {dispute['resolution_note']}"]
    if dispute["corrected_status"]:
        lines.append(f"  correction:  {dispute['corrected_status']} from {dispute['corrected_from']}")
    return lines


def _dispute_table(rows: list[dict]) -> list[str]:
    """`disputes list` as aligned columns, the employer's name last (the one column of any length)."""
    from congkhai.provinces import by_code

    if not rows:
        return []
    provinces = by_code()
    cells = [(row["reference"], row["status"], str(row["opened_on"]), row["employer_key"],
              provinces[row["province_code"]].short_name if row["province_code"] in provinces else "-",
              "yes" if row["attachment_type"] else "", row["employer_name"] or "(not in the register)")
             for row in rows]
    header = ("reference", "status", "opened", "employer", "province", "attachment", "name")
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header) - 1)]
    return ["  " + "  ".join([*(text.ljust(width) for text, width in zip(line, widths)), line[-1]]).rstrip()
            for line in [header, *cells]]


def cmd_disputes(args, settings) -> int:
    from datetime import datetime, timezone

    from congkhai import disputes

    with register_connection(settings, write=True) as conn:
        if args.disputes_command == "list":
            rows = disputes.list_disputes(conn, args.status)
            print(f"{len(rows)} dispute(s)" + (f" {args.status}" if args.status else ""))
            print("\n".join(_dispute_table(rows)))
        elif args.disputes_command == "show":
            found = disputes.get_dispute(conn, args.reference)
            if found is None:
                raise UsageError(f"no dispute has the reference {args.reference}")
            print("\n".join(_describe_dispute(found)))
        elif args.disputes_command == "resolve":
            try:
                found, correction = disputes.resolve_dispute(
                    conn, args.reference, args.outcome, args.note, datetime.now(timezone.utc),
                    args.correct_status, args.correct_from)
            except disputes.DisputeError as error:
                raise UsageError(str(error)) from None
            print("\n".join(_describe_dispute(found)))
            if correction:
                print(f"  leads to a correction of {correction.employer_key}: "
                      f"{correction.status or 'facts in the note'}"
                      + (f" from {correction.valid_from}" if correction.valid_from else ""))
                print(f"  correction {correction.correction_id} recorded; the next release publishes it"
                      if correction.correction_id else
                      "  no correction recorded (no corrected status, or an employer never published): "
                      "record it with `congkhai correct` if the register must change")
        else:
            cmd_disputes_sample(conn, args, settings)
    return 0


def cmd_disputes_sample(conn, args, settings) -> None:
    from datetime import datetime, timezone

    from congkhai import disputes
    from congkhai.register import Register
    from congkhai.statuses import OFFENDER_STATUSES

    from ..sample import sample_disputes

    current = Register(conn).latest_release()
    if current is None:
        raise UsageError("no release has been published yet: publish one before opening sample disputes")
    now = datetime.now(timezone.utc)
    listed = [key for key, state in Register(conn).states_by_key(current["as_of"]).items() if state.status in OFFENDER_STATUSES]
    for submission in sample_disputes(listed, args.count, current["as_of"], args.seed):
        reference = disputes.open_dispute(conn, submission, now, int(settings["CONGKHAI_DISPUTE_MAX_OPEN"]),
                                          settings["CONGKHAI_DATA_DIR"])
        print(f"Opened dispute {reference} about {submission.employer_key}")

