"""`congkhai diff`, `backfill-results`, `notices` and `db`: commands over the register's database
(its releases, status history and schema) rather than over reports."""
from __future__ import annotations

import json
import sys

from congkhai.config import Paths

from ..errors import UsageError
from .database import register_connection, register_engine


def cmd_diff(args, settings) -> int:
    from congkhai.register import Register

    with register_connection(settings, migrate=False) as conn:
        dates = {r["as_of"] for r in Register(conn).complete_releases()}
        for day in (args.date_a, args.date_b):
            if day not in dates:
                raise UsageError(f"no release for {day.isoformat()}")
        changes = Register(conn).changes_between(args.date_a, args.date_b)
    rows = [{"key": c.key, "change": c.kind, "newly_listed": c.newly_listed, "resolved": c.resolved,
             "status_before": c.before.status if c.before else "", "status_after": c.after.status if c.after else "",
             "arrears_before": c.before.arrears_total if c.before else 0,
             "arrears_after": c.after.arrears_total if c.after else 0} for c in changes]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    elif args.format == "csv":
        import csv

        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["key"])
        writer.writeheader()
        writer.writerows({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()} for row in rows)
    else:
        print(f"{len(rows)} change(s) from {args.date_a} to {args.date_b}")
        for row in rows:
            print(f"  {row['key']:<16} {row['change']:<16} {row['status_before'] or '-':>10} -> "
                  f"{row['status_after'] or '-':<10} {row['arrears_before']:>16,} -> {row['arrears_after']:>16,}")
    return 0


def cmd_backfill_results(args, settings) -> int:
    from ..store import backfill_results

    with register_connection(settings, write=True) as conn:
        written = backfill_results(conn)
    print(f"Daily results written for {len(written)} release(s)" + (f": {', '.join(written)}" if written else ""))
    return 0


def cmd_notices(args, settings) -> int:
    from congkhai.register import Register

    from ..notices import write_notices

    out = args.out or Paths(settings["CONGKHAI_DATA_DIR"]).rejects(args.as_of.isoformat()) / "notices.csv"
    with register_connection(settings) as conn:
        if args.as_of not in {r["as_of"] for r in Register(conn).complete_releases()}:
            raise UsageError(f"--as-of: no release for {args.as_of.isoformat()}")
        count = write_notices(conn, args.as_of, out)
    print(f"{count} notice(s) to send on {args.as_of.isoformat()}: {out}")
    return 0


def cmd_db(args, settings) -> int:
    from congkhai import migrations

    with register_engine(settings) as engine:
        if args.action == "upgrade":
            migrations.upgrade(engine, args.revision)
        revision = migrations.current(engine)
    latest = migrations.head()
    print(f"{engine.url.render_as_string(hide_password=True)}: at revision {revision or 'none (empty database)'}"
          + ("" if revision == latest else f"; the newest is {latest}, run `congkhai db upgrade`"))
    return 0

