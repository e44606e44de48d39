"""What every part of the Register stands on: a session over the caller's connection."""
from __future__ import annotations

from sqlalchemy.orm import Session, scoped_session


class Reads:
    """Reads over a SQLAlchemy Session (the portal's, per request) or Connection (the publisher's,
    inside its transaction: a Session bound to it reads what that transaction sees)."""

    def __init__(self, bind):
        self.session = bind if isinstance(bind, (Session, scoped_session)) else Session(bind=bind, autoflush=False)

    @property
    def conn(self):
        """The Connection under the session, for Core statements on hot paths (no ORM work per row)."""
        return self.session.connection()
