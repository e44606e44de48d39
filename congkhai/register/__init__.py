"""The register: every read of the employers, their status history, the releases and what was said
after them, in one home (Datasette's `Database` in shape).

`Register(bind)` wraps a SQLAlchemy Session (the portal's, per request) or a Connection (the
publisher's and the CLI's, inside their transaction) and answers by subject:

- releases.py   which releases are complete, in force on a day, before another
- employers.py  an employer by any code, its public facts, its life on the register; what the
                publisher must know of the register before it writes a release
- states.py     filtered and sorted lists on a day, whole-register states, honour roll, completed obligations
- figures.py    counts and arrears per status and province, the daily results
- changes.py    what a release changed, recent changes for feeds, the difference between two dates
- checks.py     eligibility checks of many codes at once, histories, stored receipts
- replies.py    corrections, and disputes' public marks

Every rule it applies in SQL comes from `congkhai.rules` (a builder beside each rule's Python
form). The portal keeps only a per-request wrapper with its caches (`portal/register.py`).
"""
from __future__ import annotations

from .changes import ChangeReads, Event, ReleaseChange
from .checks import CheckReads, Span
from .employers import (EmployerReads, attributes_digest, employer_row, history_of, interval_on,
                        listing_episodes)
from .figures import FigureReads, Figures
from .releases import ReleaseInfo
from .replies import ReplyReads, views_of
from .states import Filters, Page
from .tables import STATE_COLUMNS, state_of, state_of_row


class Register(ChangeReads, FigureReads, EmployerReads, CheckReads, ReplyReads):
    """Every read of the register, over one session or connection."""


__all__ = ["Register", "ReleaseInfo", "Filters", "Page", "Figures", "Event", "ReleaseChange", "Span",
           "STATE_COLUMNS", "attributes_digest", "employer_row", "history_of", "interval_on", "listing_episodes",
           "state_of", "state_of_row", "views_of"]
