"""The operator's export of notices to send: employers in their notice period on a date, with
address and amounts. Written beside the rejects report (rejects/<date>/notices.csv), never into
the public release: an employer in notice is not named yet."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from congkhai.register import Register
from congkhai.text import neutralise

# A fund the report did not split out is left empty (unknown, not 0); interest is apart from the total.
NOTICE_FIELDS = ["key", "tax_code", "unit_code", "name", "address", "province_code", "arrears_bhxh", "arrears_bhyt",
                 "arrears_bhtn", "arrears_bhtnld", "arrears_total", "interest", "months_late", "notice_from",
                 "listing_on"]


def write_notices(conn, day: date, path: Path) -> int:
    """Write the notices of `day` to `path` (CSV, UTF-8, spreadsheet-safe); returns how many."""
    rows = Register(conn).notices_on(day)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=NOTICE_FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralise(v) if isinstance(v, str) else
                             (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()})
    tmp.replace(path)
    return len(rows)
