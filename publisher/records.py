"""The values passed between the pipeline's steps."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from congkhai.statuses import STATUSES
from congkhai.policy import Policy
from congkhai.rules.changes import Change, State
from congkhai.taxcode import PERSONAL, UNIT_ONLY, TaxId, mask_personal_id

from .layout import SUMMED_FIELDS, conventions

# The standard layout's columns (datasets/README.md), by their Vietnamese headers.
HEADERS = ["STT", "Mã đơn vị", "Mã số thuế", "Tên đơn vị", "Địa chỉ", "Loại hình", "Ngành nghề", "Số lao động",
           "Nợ BHXH", "Nợ BHYT", "Nợ BHTN", "Số tháng chậm đóng", "Quyết định trốn đóng", "Tình trạng xử lý"]
# Every field a report may carry (datasets/layouts.toml) -> its canonical header, which the rows'
# cells are keyed by whatever words the report used; the standard layout's first.
CANONICAL_HEADER = dict(sorted(((name, header) for name, header in conventions().headers.items()
                                if name not in conventions().ignored),
                               key=lambda item: HEADERS.index(item[1]) if item[1] in HEADERS else len(HEADERS)))
COLUMNS = {header: name for name, header in CANONICAL_HEADER.items()}
AMOUNT_FIELDS = ("arrears_bhxh", "arrears_bhyt", "arrears_bhtn")
# Columns whose grand total and subtotals are checked against the rows, when the report has them.
TOTALLED_FIELDS = SUMMED_FIELDS


@dataclass(slots=True)
class RawRow:
    """One data row as read from a report: header -> cell value (str, int, float, datetime or None)."""
    source: str   # file name, as the rejects report names it
    line: int     # row number in the file (1-based, counting title and header lines)
    cells: dict


@dataclass(slots=True)
class Marker:
    """A row between the employers that is not one: a group's heading (which may state its sums)
    or a subtotal. Validation checks each subtotal against the rows of its group."""
    kind: str       # layout.GROUP or layout.SUBTOTAL
    line: int
    label: str      # lower case, as layout.row_label reads it: 'a. doanh nghiệp', 'cộng quận lê chân'
    cells: dict     # canonical header -> the figures it states, if any
    top: bool = False  # a group that holds groups (A., II.)


@dataclass(slots=True)
class Report:
    source: str
    province_code: str
    format: str                     # 'csv' or 'xlsx'
    rows: list                      # RawRows and Markers, in the report's order
    totals: dict | None = None      # canonical header -> control total from the grand total row
    totals_line: int | None = None
    title_lines: list[str] = field(default_factory=list)
    sha256: str = ""
    header: object = None           # layout.Header: the header's rows and what each column became
    scale: int = 1                  # đồng per unit the amounts are written in
    unit: str = ""                  # the unit's words as declared ('nghin dong'), '' when none is
    dates: dict = field(default_factory=dict)  # what the title dates: 'as_of', 'arrears_to' (a second, earlier date), 'signed'
    column_numbers_line: int | None = None
    layout_version: str = ""        # of datasets/layouts.toml
    sheet: str = ""                 # the worksheet read (XLSX)


@dataclass(slots=True)
class Reject:
    source: str
    line: int
    field: str      # Vietnamese header of the offending column, or '' for the whole row
    value: str
    reason: str
    province_code: str = ""


def problem_rejects(problems) -> list[Reject]:
    """A run's or a province's problems (errors.Problem) as rows of the rejects report, so that the
    report explains every refusal, not only the rejected rows: row 0 and an empty value for a
    problem of the whole report."""
    return [Reject(p.source, p.line or 0, p.field or "", "", p.message, p.province_code or "") for p in problems]


@dataclass(slots=True)
class Record:
    """A verified row: normalised values, one per employer."""
    source: str
    line: int
    province_code: str
    unit_code: str
    tax: TaxId
    name: str
    address: str
    ownership_type: str
    sector: str
    employees: int | None
    # Arrears per fund as reported; None where the report does not split its total by that fund.
    arrears_bhxh: int | None
    arrears_bhyt: int | None
    arrears_bhtn: int | None
    months_late: int
    evasion_decision: str | None
    evasion_decision_date: date | None
    enforcement_stage: str | None
    status: str = ""  # set by the classify step
    notice_from: date | None = None  # set by the notice step while the status is 'notice'
    listing_on: date | None = None
    not_reported_since: date | None = None  # set for an employer carried over from its last report (compare.py)
    # The arrears as the report totals them (every fund, BHTNLĐ-BNN included), when it has a total
    # column; otherwise the total is the sum of the funds. The status rules read `arrears_total`.
    reported_total: int | None = None
    arrears_bhtnld: int | None = None  # occupational accident and disease insurance, when a column of its own
    interest: int | None = None        # late-payment interest, published beside the arrears, never in them
    arrears_bhxh_bhtn: int | None = None  # BHXH and BHTN in one column: checked against the total, not published
    # Public identifier and permalink: tax code, or the agency unit code for a household. Stored,
    # not derived on each use: sorting, comparing and writing a million records ask for it often.
    key: str = field(init=False)

    def __post_init__(self):
        self.key = self.unit_code if self.tax.kind in (PERSONAL, UNIT_ONLY) else self.tax.value

    @property
    def is_household(self) -> bool:
        return self.tax.kind == PERSONAL

    @property
    def tax_code(self) -> str | None:
        return self.tax.public

    @property
    def public_tax_id(self) -> str:
        """What files and pages may show: the tax code, the masked personal number, or for an
        employer reported without a tax code its unit code."""
        if self.tax.kind == UNIT_ONLY:
            return self.unit_code
        return mask_personal_id(self.tax.value) if self.is_household else self.tax.value

    @property
    def arrears_total(self) -> int:
        if self.reported_total is not None:
            return self.reported_total
        # Spelled out, not summed over a generator: files, figures and ranks ask it millions of times.
        return ((self.arrears_bhxh or 0) + (self.arrears_bhyt or 0) + (self.arrears_bhtn or 0)
                + (self.arrears_bhtnld or 0))

    def state(self) -> State:
        return State(self.status, self.arrears_bhxh, self.arrears_bhyt, self.arrears_bhtn, self.arrears_total,
                     self.months_late, self.evasion_decision, self.evasion_decision_date, self.enforcement_stage,
                     self.notice_from, self.listing_on, self.not_reported_since, self.arrears_bhtnld, self.interest)


def validated_values(record: Record) -> tuple:
    """A validated record (not yet classified) as plain values, the decision date as its ordinal:
    a million of these are pickled or marshalled in a fraction of the time the objects take."""
    decided = record.evasion_decision_date
    extra = (record.reported_total, record.arrears_bhtnld, record.interest, record.arrears_bhxh_bhtn)
    return (record.source, record.line, record.province_code, record.unit_code, record.tax.kind, record.tax.value,
            record.name, record.address, record.ownership_type, record.sector, record.employees,
            record.arrears_bhxh, record.arrears_bhyt, record.arrears_bhtn, record.months_late,
            record.evasion_decision, decided.toordinal() if decided is not None else None, record.enforcement_stage,
            None if extra == _NO_EXTRA else extra)  # the standard layout has none: one value, not four


_NO_EXTRA = (None, None, None, None)


def from_validated_values(values: tuple) -> Record:
    (source, line, province_code, unit_code, tax_kind, tax_value, name, address, ownership_type, sector, employees,
     bhxh, bhyt, bhtn, months_late, decision, decided, stage, extra) = values
    record = Record(source, line, province_code, unit_code, TaxId(tax_kind, tax_value), name, address, ownership_type,
                    sector, employees, bhxh, bhyt, bhtn, months_late, decision,
                    date.fromordinal(decided) if decided is not None else None, stage)
    if extra is not None:
        record.reported_total, record.arrears_bhtnld, record.interest, record.arrears_bhxh_bhtn = extra
    return record


@dataclass
class BuiltRelease:
    """Everything a release consists of, before anything is written anywhere."""
    as_of: date
    created_at: datetime
    policy: Policy
    records: list[Record]                 # published employers, sorted by key
    changes: list[Change]                 # since the previous release
    rejects: list[Reject]
    provinces: list[str]                  # province codes published
    missing_provinces: dict[str, str]     # code -> why it was left out (only with --allow-partial)
    commendable: set[str]                 # keys qualifying for the honour roll
    input_digest: str
    previous_as_of: date | None = None
    rows_read: int = 0
    results: dict = field(default_factory=dict)  # province code -> daily results (congkhai.rules.results)
    corrections: list = field(default_factory=list)  # congkhai.corrections.correction_rows, newest first
    # What the checks let through: provinces without control totals, removals the operator
    # confirmed, employers carried over from their last report (publisher/compare.py).
    verification: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)  # what left the missing provinces out (errors.Problem)
    reports: dict = field(default_factory=dict)   # province -> what was read of its report (inspect shows it)
    _counts: dict | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.as_of.isoformat()

    @property
    def partial(self) -> bool:
        return bool(self.missing_provinces)

    def counts(self) -> dict:
        """Rows, employers and arrears by status; computed once (files, database and CLI all ask)."""
        if self._counts is None:
            self._counts = self._count()
        return self._counts

    def _count(self) -> dict:
        by_status = dict.fromkeys(STATUSES, 0)
        arrears = dict.fromkeys(STATUSES, 0)
        for record in self.records:
            by_status[record.status] += 1
            arrears[record.status] += record.arrears_total
        return {
            "rows_read": self.rows_read,
            "rows_rejected": len(self.rejects),
            "employers": len(self.records),
            "by_status": by_status,
            "arrears_by_status": arrears,
            "arrears_total": sum(arrears.values()),
            "offenders": by_status["delinquent"] + by_status["evading"],
            "honour_roll": len(self.commendable),
            "changes": len(self.changes),
        }
