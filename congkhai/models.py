"""Storage shared by the publisher and the portal.

Status history is kept as intervals: an employer gets a new `StatusInterval` only when its status,
arrears or enforcement data change, so "what was this employer's status on 3 March?" is one indexed
query and a year of daily releases does not store a year of full copies.

Interval semantics: `valid_from` is the as-of date of the release that first showed the state;
`valid_to` is the as-of date of the first release that no longer showed it (exclusive), NULL while
it is current. An employer dropped from the reports has its last interval closed and no new one.
"""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer,
                        String, Text, text)
from sqlalchemy.orm import DeclarativeBase, relationship

from .statuses import COMPLIANT, DELINQUENT, EVADING, LATE, NOTICE, OFFENDER_STATUSES, STATUSES  # noqa: F401


class Base(DeclarativeBase):
    """Plain SQLAlchemy: the publisher and the rules use the models without Flask; the portal binds
    the same metadata to Flask-SQLAlchemy (portal/database.py)."""


metadata = Base.metadata


class Release(Base):
    """One published release per as-of date; only `state == 'complete'` releases are ever served."""
    __tablename__ = "releases"

    id = Column(String(10), primary_key=True)  # the as-of date, ISO: '2026-11-25'
    as_of = Column(Date, nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False)
    state = Column(String(16), nullable=False, default="complete")
    partial = Column(Boolean, nullable=False, default=False)
    provinces = Column(JSON, nullable=False)          # codes of the provinces whose reports were published
    missing_provinces = Column(JSON, nullable=False)  # codes left out by --allow-partial, with reasons
    policy = Column(JSON, nullable=False)             # Policy.to_dict() in force for this release
    counts = Column(JSON, nullable=False)             # rows_read, rows_rejected, employers, per status, arrears
    input_digest = Column(String(64), nullable=False)  # sha256 over the input files: re-runs are idempotent
    datapackage_sha256 = Column(String(64))
    # What the checks against the previous reports let through and why: provinces published without
    # a control total, removals the operator confirmed, employers not reported (publisher/compare.py).
    verification = Column(JSON)
    # What the portal's pages need that depends only on the release, computed once in the release's
    # own transaction (congkhai.rules.figures): counts and arrears per province and status, the
    # honour roll per province, the facets of the lists. NULL for releases published before it was
    # kept: the portal then computes them from the history.
    figures = Column(JSON)


class Employer(Base):
    """An employer as last reported. `key` is its public identifier and permalink."""
    __tablename__ = "employers"

    id = Column(Integer, primary_key=True)
    key = Column(String(32), nullable=False, unique=True)  # tax code, or the unit code of a household
    tax_code = Column(String(14), index=True)              # '0101234567' or '0101234567-001'; NULL for households
    unit_code = Column(String(32), nullable=False, index=True)
    personal_id_hash = Column(String(64), index=True)      # household owner's number, salted sha256
    personal_id_masked = Column(String(12))                # '001*******23'
    name = Column(Text, nullable=False)
    address = Column(Text, nullable=False, default="")
    ownership_type = Column(String(120), nullable=False, default="")
    sector = Column(String(200), nullable=False, default="")
    employees = Column(Integer)
    province_code = Column(String(2), nullable=False, index=True)

    intervals = relationship("StatusInterval", back_populates="employer",
                                order_by="StatusInterval.valid_from", lazy="selectin")

    __table_args__ = (Index("ix_employers_name_key", "name", "key"),)  # lists sorted by name walk it

    @property
    def is_household(self) -> bool:
        """A household business, published by its unit code with its owner's number masked; an
        employer reported without a tax code (a list of unit codes only) is not one."""
        return self.personal_id_hash is not None


class StatusInterval(Base):
    __tablename__ = "status_intervals"

    id = Column(Integer, primary_key=True)
    employer_id = Column(Integer, ForeignKey("employers.id"), nullable=False)
    valid_from = Column(Date, nullable=False)
    valid_to = Column(Date)
    status = Column(String(12), nullable=False)
    # Per fund as reported; NULL when the report gave only a total or did not split out that fund.
    arrears_bhxh = Column(BigInteger)
    arrears_bhyt = Column(BigInteger)
    arrears_bhtn = Column(BigInteger)
    arrears_total = Column(BigInteger, nullable=False, default=0)  # what the report totals: the status rules read it
    arrears_bhtnld = Column(BigInteger)  # occupational accident and disease insurance, when reported apart
    interest = Column(BigInteger)        # late-payment interest: published beside arrears, never in them
    months_late = Column(Integer, nullable=False, default=0)
    evasion_decision = Column(String(200))  # as reported: number and date of the inspection decision
    evasion_decision_date = Column(Date)
    enforcement_stage = Column(String(200))
    notice_from = Column(Date)  # status 'notice': the first day of the notice period
    listing_on = Column(Date)   # status 'notice': the day it is listed unless it pays first
    # The first release whose report did not carry this employer (its row was rejected, or its
    # province's removals not confirmed): the last reported state stands, marked, never "resolved".
    not_reported_since = Column(Date)

    employer = relationship("Employer", back_populates="intervals")

    # The open intervals (the register on its newest day) in each list order, so a page of a list
    # reads its rows in order instead of sorting every offender (congkhai/register/states.py).
    __table_args__ = (
        Index("ix_intervals_employer_from", "employer_id", "valid_from"),
        Index("ix_intervals_from", "valid_from"),
        Index("ix_intervals_to", "valid_to"),
        Index("ix_intervals_status_to", "status", "valid_to"),
        Index("ix_open_arrears", "status", "arrears_total", "id", sqlite_where=text("valid_to IS NULL"),
              postgresql_where=text("valid_to IS NULL")),
        Index("ix_open_months", "status", "months_late", "arrears_total", "id", sqlite_where=text("valid_to IS NULL"),
              postgresql_where=text("valid_to IS NULL")),
        Index("ix_open_since", "status", "valid_from", "arrears_total", "id", sqlite_where=text("valid_to IS NULL"),
              postgresql_where=text("valid_to IS NULL")),
    )

    def covers(self, day) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class Commendation(Base):
    """Honour-roll membership as intervals, like the status history: the publisher decides who is on
    a release's honour roll (the same set its files publish) and writes only who joined or left, so
    the roll of any day is one indexed read instead of the commendation rule over every history."""
    __tablename__ = "commendations"

    id = Column(Integer, primary_key=True)
    employer_id = Column(Integer, ForeignKey("employers.id"), nullable=False)
    valid_from = Column(Date, nullable=False)
    valid_to = Column(Date)

    __table_args__ = (
        Index("ix_commendations_employer_from", "employer_id", "valid_from"),
        Index("ix_commendations_to", "valid_to"),
    )


class Receipt(Base):
    """A signed, immutable answer to an eligibility check; contains only public data."""
    __tablename__ = "receipts"

    id = Column(String(40), primary_key=True)
    created_at = Column(DateTime(timezone=True), nullable=False)
    release_id = Column(String(10), ForeignKey("releases.id"), nullable=False)
    body = Column(Text, nullable=False)       # canonical JSON that was signed
    signature = Column(String(200), nullable=False)  # base64 Ed25519 signature of `body`


class Dispute(Base):
    """An employer's "this is wrong" about its own entry (the right of reply).

    Contact details, reason and attachment are private to the agency's staff; the public only ever
    sees that an entry is disputed and since when (`congkhai.rules.disputes.disputed_since`).
    """
    __tablename__ = "disputes"

    id = Column(Integer, primary_key=True)
    reference = Column(String(20), nullable=False, unique=True)  # 'KN-2026-7K3F-9QX2'
    employer_key = Column(String(32), nullable=False)
    contact_name = Column(Text, nullable=False)
    contact = Column(Text, nullable=False)      # e-mail address or phone number
    reason = Column(Text, nullable=False)       # plain text, no HTML kept
    status = Column(String(12), nullable=False, default="open")  # open, upheld, rejected
    opened_on = Column(Date, nullable=False)    # Vietnam date of created_at, shown as "disputed since"
    created_at = Column(DateTime(timezone=True), nullable=False)
    attachment_type = Column(String(40))        # sniffed: application/pdf, image/jpeg, image/png
    attachment_bytes = Column(Integer)
    attachment_sha256 = Column(String(64))
    resolved_at = Column(DateTime(timezone=True))
    resolution_note = Column(Text)
    corrected_status = Column(String(12))       # upheld: the status the entry should have had
    corrected_from = Column(Date)               # upheld: from which date

    __table_args__ = (Index("ix_disputes_employer_status", "employer_key", "status"),)


class DailyResult(Base):
    """A province's results on the day of a release (congkhai.rules.results), written with the
    release in the same transaction: the 18:30 report, read by the results page without touching
    the history. Provinces left out of a partial release have no row that day."""
    __tablename__ = "daily_results"

    release_id = Column(String(10), ForeignKey("releases.id"), primary_key=True)
    province_code = Column(String(2), primary_key=True)
    as_of = Column(Date, nullable=False, index=True)
    employers = Column(Integer, nullable=False, default=0)
    # Each fund and the interest summed over the employers whose report gives them apart; NULL when
    # none does (rules/results.py). The total is the reports' own: the funds need not add up to it.
    arrears_bhxh = Column(BigInteger)
    arrears_bhyt = Column(BigInteger)
    arrears_bhtn = Column(BigInteger)
    arrears_bhtnld = Column(BigInteger)
    arrears_total = Column(BigInteger, nullable=False, default=0)
    arrears_offenders = Column(BigInteger, nullable=False, default=0)
    interest = Column(BigInteger)
    employers_without_fund_split = Column(Integer, nullable=False, default=0)
    delinquent = Column(Integer, nullable=False, default=0)
    evading = Column(Integer, nullable=False, default=0)
    new_offenders = Column(Integer, nullable=False, default=0)
    resolved_offenders = Column(Integer, nullable=False, default=0)
    to_inspection = Column(Integer, nullable=False, default=0)
    to_investigation = Column(Integer, nullable=False, default=0)
    recovered = Column(BigInteger, nullable=False, default=0)


class Correction(Base):
    """A correction of what a release published, kept beside the intervals, never over them.

    Two times: `applies_from`..`applies_to` (exclusive; NULL: until further notice) is when the
    corrected state applies; `recorded_in_release` is the release that first published the
    correction (NULL while it waits for the next release), `recorded_at` when it was entered.
    "What the list said on a day" stays the intervals; "what we now know about that day" is the
    intervals overridden by the corrections recorded by then (congkhai/rules/corrections.py).
    """
    __tablename__ = "corrections"

    id = Column(Integer, primary_key=True)
    employer_id = Column(Integer, ForeignKey("employers.id"), nullable=False, index=True)
    applies_from = Column(Date, nullable=False)
    applies_to = Column(Date)
    until_next_release = Column(Boolean, nullable=False, default=False)  # applies_to set by the next release
    published_state = Column(JSON)   # State as published on applies_from, or NULL: not in the register
    corrected_state = Column(JSON)   # the correct State, or NULL: should not have been published at all
    reason = Column(Text, nullable=False)
    source = Column(String(200), nullable=False)  # e.g. "dispute 12" or "corrected report of province 79"
    recorded_in_release = Column(String(10), ForeignKey("releases.id"), index=True)
    recorded_at = Column(DateTime(timezone=True), nullable=False)
