"""Step 2: turn raw cells into typed, normalised values and check every row against the Table Schema.

Messy-but-meaningful forms are normalised first (Vietnamese thousands dots, numeric cells, tax codes
that lost their leading zero, NFD text); the schema in datasets/ then decides what is valid. A row
that fails is quarantined as one Reject per offending field, never published.

Invisible characters are removed from every text field (`visible_text`): a right-to-left override
(U+202E) or another bidirectional control would make a name display as a different name than it
is, and a zero-width space or joiner would make two names that look the same differ (or hide a
name from search). No Vietnamese text needs them, so they are stripped rather than rejected; but a
text of nothing but characters that draw nothing (those, Hangul fillers, a Braille blank, lone
accents) is rejected, naming them: it would publish an employer without a name that shows. Greek or Cyrillic
letters among Latin ones ('Сông ty' with a Cyrillic 'С') are published as they are, never
replaced by a guess, and noted in the rejects report so the province can check them.

Reading one cell (an amount, a number, a decision, visible text) is publisher.cells; this module
applies it to rows and whole reports.
"""
from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path

from frictionless import Schema

from congkhai.config import DATASETS_DIR
from congkhai.policy import MOJIBAKE_MODES
from congkhai.rules.households import is_household
from congkhai.taxcode import (PERSONAL, UNIT_ONLY, InvalidTaxCode, TaxId, compact, mask_personal_id,
                              normalise_unit_code, parse_tax_code)
from congkhai.text import blank_characters, describe_character, has_visible, lookalikes

from . import layout
from .memo import RowMemo, row_digest
from .cells import CellError, parse_amount, parse_decision, parse_integer, repair_mojibake, visible_text
from .read import Unreadable, cell_text
from .records import (COLUMNS, HEADERS, TOTALLED_FIELDS, Marker, RawRow, Record, Reject, Report,
                      from_validated_values, validated_values)

REPORT_SCHEMA = DATASETS_DIR / "schemas" / "report.schema.json"
HEADER_OF = {name: header for header, name in COLUMNS.items()}
HEADER_OF["evasion_decision_date"] = "Quyết định trốn đóng"

TEXT_FIELDS = ("name", "address", "ownership_type", "sector", "enforcement_stage")
# The free texts, where a Greek or Cyrillic look-alike can pass for a Latin letter; the other text
# fields are a few values picked from a list.
LOOKALIKE_FIELDS = ("name", "address")


# The amounts a row may carry, as published or checked; a fund whose column the report lacks is None.
AMOUNTS = ("arrears_bhxh", "arrears_bhyt", "arrears_bhtn", "reported_total", "arrears_bhxh_bhtn", "arrears_bhtnld",
           "interest", "with_interest")
# The columns that split the total, and those of them that complete a split without BHTNLĐ-BNN.
_PARTS = ("arrears_bhxh", "arrears_bhyt", "arrears_bhtn", "arrears_bhxh_bhtn", "arrears_bhtnld")


@dataclass(frozen=True)
class RowLayout:
    """What a report's rows carry: the fields of its columns, and đồng per unit of its amounts."""
    fields: frozenset
    scale: int = 1

    @classmethod
    def of(cls, report: Report) -> "RowLayout":
        if report.header is None:
            return STANDARD_LAYOUT
        return cls(frozenset(report.header.fields), report.scale)

    @cached_property
    def amounts(self) -> tuple:
        """The amount fields the report has a column for."""
        return tuple(name for name in AMOUNTS if name in self.fields)

    @cached_property
    def absent_amounts(self) -> dict:
        """The amount fields it has none for: unknown."""
        return dict.fromkeys(name for name in AMOUNTS if name not in self.fields)

    @property
    def signature(self) -> bytes:
        """What a remembered row depends on besides its cells (memo.py), as a 32-byte key."""
        return hashlib.blake2b(repr((sorted(self.fields), self.scale)).encode(), digest_size=32).digest()


STANDARD_LAYOUT = RowLayout(frozenset(COLUMNS[h] for h in HEADERS))


@dataclass(frozen=True)
class RowCheck:
    """The schema's per-field cell readers and constraints, compiled once per run, and what the
    policy says of mojibake ([verification] mojibake: "repair" or "reject")."""
    readers: dict
    constraints: dict
    mojibake: str = "repair"
    schema_digest: str = ""  # of the schema file: part of what a remembered row depends on (memo.py)

    @cached_property
    def required(self) -> frozenset:
        """Fields the schema requires: checked even when the row has no value for them."""
        return frozenset(name for name, constraints in self.constraints.items() if constraints.get("required"))

    @classmethod
    def from_schema(cls, path: Path = REPORT_SCHEMA, mojibake: str = "repair") -> "RowCheck":
        if mojibake not in MOJIBAKE_MODES:
            raise ValueError(f"mojibake must be one of {', '.join(MOJIBAKE_MODES)}, not {mojibake!r}")
        schema = Schema.from_descriptor(str(path))
        return cls({field.name: field.create_cell_reader() for field in schema.fields},
                   {field.name: dict(field.constraints) for field in schema.fields}, mojibake,
                   hashlib.sha256(Path(path).read_bytes()).hexdigest())


@lru_cache(maxsize=4)
def default_check(mojibake: str = "repair") -> RowCheck:
    return RowCheck.from_schema(mojibake=mojibake)


def constraint_reason(value, notes: dict, constraints: dict) -> str:
    """The schema's note on a number out of range ('constraint "minimum" is "0"') as a reason a
    clerk can act on; the other notes name their constraint plainly enough."""
    reasons = []
    for kind, note in notes.items():
        limit = constraints.get(kind)
        if kind == "minimum" and isinstance(value, int):
            reasons.append(f"{value:,} is negative; the least accepted is {limit:,}" if value < 0 <= limit
                           else f"{value:,} is below the least accepted, {limit:,}")
        elif kind == "maximum" and isinstance(value, int):
            reasons.append(f"{value:,} is more than the most accepted, {limit:,}")
        else:
            reasons.append(note)
    return "; ".join(reasons)


def validate_row(row: RawRow, province_code: str, as_of: date, check: RowCheck,
                 shape: RowLayout = STANDARD_LAYOUT, unit: str = "", readers=None) -> tuple[Record | None, list[Reject]]:
    """One raw row -> a Record and the notes on what was repaired in it (in the rejects report, the
    row still published), or None and the Rejects that say which fields are wrong and why. `shape`
    says which columns the report has (an absent one is unknown, never a refusal) and the unit its
    amounts are written in; `readers`, the schema's cell readers of the fields the report can have
    (validate_report picks them once per report)."""
    cells = row.cells
    values: dict = {}
    errors: list[tuple[str, str, str]] = []  # field name, raw value, reason

    for header, raw in cells.items():
        if raw.__class__ is Unreadable and header != "STT":  # the row number is not published
            errors.append((COLUMNS[header], raw.text, raw.reason))
    unreadable = {name for name, _, _ in errors}
    notes: list[Reject] = []

    def take(name, parse):
        if name in unreadable:
            return
        raw = cells.get(HEADER_OF[name])
        try:
            values[name] = parse(raw)
        except (CellError, InvalidTaxCode) as error:
            errors.append((name, cell_text(raw), str(error)))

    for name in TEXT_FIELDS:
        raw = cells.get(HEADER_OF[name])
        text = "" if name in unreadable else visible_text(raw)
        repaired = repair_mojibake(raw) if text and isinstance(raw, str) else None
        if repaired is not None:
            if check.mojibake == "reject":
                errors.append((name, cell_text(raw), f"mojibake (UTF-8 text read as Windows-1252): it reads {repaired!r} "
                                           f"once repaired; send the report again saved as UTF-8"))
            else:
                notes.append(Reject(row.source, row.line, HEADER_OF[name], cell_text(raw),
                                    f"mojibake repaired: published as {repaired!r}", province_code))
                text = visible_text(repaired)
        if not has_visible(text) and name not in unreadable and (blank := blank_characters(cell_text(raw))):
            errors.append((name, cell_text(raw), f"shows nothing: only characters that draw nothing "
                                                 f"({', '.join(map(describe_character, blank))})"))
        elif name in LOOKALIKE_FIELDS and (similar := lookalikes(text)):
            notes.append(Reject(row.source, row.line, HEADER_OF[name], text,
                                f"Greek or Cyrillic letters among Latin ones, which may look alike: "
                                f"{', '.join(map(describe_character, similar))}; published as written",
                                province_code))
        # A few dozen distinct values over a million rows: one shared string each saves ~100 MB a field.
        values[name] = sys.intern(text) if name in ("ownership_type", "sector", "enforcement_stage") else text
    take("unit_code", lambda raw: normalise_unit_code(cell_text(raw)))
    household = is_household(values["ownership_type"], values["name"], compact(cells.get(HEADER_OF["tax_code"])))
    if _is_blank(cells.get(HEADER_OF["tax_code"])) and "tax_code" not in unreadable:
        if values.get("unit_code"):
            values["tax_code"] = TaxId(UNIT_ONLY, "")  # a list of unit codes only: known by the unit code
        elif "unit_code" not in unreadable:
            errors.append(("tax_code", "", "neither a tax code nor a unit code: a row needs one to name its employer"))
    else:
        take("tax_code", lambda raw: parse_tax_code(raw, household=household))
    if values.get("tax_code") is not None and values["tax_code"].kind == PERSONAL and not values.get("unit_code") \
            and "unit_code" not in unreadable:
        errors.append(("unit_code", "", "a household business is published by its unit code (its owner's personal "
                                        "number never is), and the row has none"))
    if not household and "tax_code" in values and values["tax_code"].kind == PERSONAL:
        notes.append(Reject(row.source, row.line, HEADER_OF["tax_code"], mask_personal_id(values["tax_code"].value),
                            "a citizen identity number in a row that does not read as a household's: published "
                            "masked, keyed by the unit code; check the tax code and the ownership type",
                            province_code))
    take("employees", lambda raw: parse_integer(raw, empty=None))
    values.update(shape.absent_amounts)
    read_amount = parse_integer if shape.scale == 1 else (lambda raw: parse_amount(raw, shape.scale, unit))
    for name in shape.amounts:
        take(name, read_amount)
    take("months_late", parse_integer)
    raw_decision = cells.get(HEADER_OF["evasion_decision"])
    try:
        if "evasion_decision" not in unreadable:
            values["evasion_decision"], values["evasion_decision_date"] = parse_decision(raw_decision, as_of)
    except CellError as error:
        errors.append(("evasion_decision", cell_text(raw_decision), str(error)))

    failed = {name for name, _, _ in errors}
    required = check.required
    for name, reader in readers or check.readers.items():
        if name in failed:
            continue
        value = values.get(name)
        if value is None and name not in required:  # nothing to check: most amounts of most layouts
            continue
        if name == "tax_code" and value is not None:
            value = value.value
        cell = "" if value is None else value
        _, broken = reader(cell)
        if broken:
            errors.append((name, cell_text(cells.get(HEADER_OF[name])) if name != "evasion_decision_date" else str(value),
                           constraint_reason(value, broken, check.constraints[name])))
    if not errors:
        errors.extend(_amount_problems(values, shape))
    if errors:
        return None, [Reject(row.source, row.line, HEADER_OF[name], raw, reason, province_code)
                      for name, raw, reason in errors]
    record = Record(
        source=row.source, line=row.line, province_code=province_code,
        unit_code=values["unit_code"], tax=values["tax_code"], name=values["name"], address=values["address"],
        ownership_type=values["ownership_type"], sector=values["sector"], employees=values["employees"],
        arrears_bhxh=values["arrears_bhxh"], arrears_bhyt=values["arrears_bhyt"], arrears_bhtn=values["arrears_bhtn"],
        months_late=values["months_late"], evasion_decision=values["evasion_decision"],
        evasion_decision_date=values["evasion_decision_date"], enforcement_stage=values["enforcement_stage"] or None,
        reported_total=values["reported_total"], arrears_bhtnld=values["arrears_bhtnld"], interest=values["interest"],
        arrears_bhxh_bhtn=values["arrears_bhxh_bhtn"],
    )
    return record, notes


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _amount_problems(values: dict, shape: RowLayout) -> list[tuple[str, str, str]]:
    """What the row's amounts say against each other. The funds a report splits out add up to its
    total (all of it when BHTNLĐ-BNN has its column; without one, the rest of the total may be that
    fund, so the funds may fall short of it but never exceed it); principal plus interest is the
    sum column beside them; and months in arrears come with an amount. Amounts written in a larger
    unit were rounded one by one, so their sums may differ by half a unit each."""
    total = values["reported_total"]
    if total is None and values["with_interest"] is None:  # the standard layout: only the months to check
        return _months_without_arrears(values, any(values[name] for name in _PARTS))
    problems = []
    parts = {name: values[name] for name in _PARTS if values.get(name) is not None}
    slack = 0 if shape.scale == 1 else shape.scale * (len(parts) + 1) // 2
    if total is not None and parts:
        summed = sum(parts.values())
        shown = " + ".join(HEADER_OF[name] for name in parts)
        if summed > total + slack:
            problems.append(("reported_total", f"{total:,}", f"{shown} = {summed:,}, more than the total {total:,}"))
        elif "arrears_bhtnld" in parts and summed < total - slack:
            problems.append(("reported_total", f"{total:,}", f"{shown} = {summed:,}, not the total {total:,}"))
    arrears = total if total is not None else sum(parts.values())
    if values.get("with_interest") is not None:
        expected = arrears + (values["interest"] or 0)
        if abs(values["with_interest"] - expected) > slack:
            problems.append(("with_interest", f"{values['with_interest']:,}",
                             f"arrears {arrears:,} plus interest {values['interest'] or 0:,} make {expected:,}, "
                             f"not {values['with_interest']:,}"))
    return problems + _months_without_arrears(values, arrears)


def _months_without_arrears(values: dict, arrears) -> list[tuple[str, str, str]]:
    if values["months_late"] > 0 and not arrears:
        return [("months_late", str(values["months_late"]), "months in arrears without any arrears amount")]
    return []


def rejected_row_key(row: RawRow) -> str | None:
    """The register key a rejected row names, when its identifier can be read: the row is then its
    employer's, reported but not valid, so the employer keeps its last state (compare.py)."""
    cells = row.cells
    try:
        unit_code = normalise_unit_code(cell_text(cells.get("Mã đơn vị")))
        if _is_blank(cells.get("Mã số thuế")):
            return unit_code or None
        household = is_household(visible_text(cells.get("Loại hình")), visible_text(cells.get("Tên đơn vị")),
                                 compact(cells.get("Mã số thuế")))
        tax = parse_tax_code(cells.get("Mã số thuế"), household=household)
    except (InvalidTaxCode, CellError, TypeError, ValueError):
        return None
    return (unit_code or None) if tax.kind == PERSONAL else tax.value


@dataclass
class ValidatedReport:
    report: Report
    records: list[Record]
    rejects: list[Reject]
    rows_read: int
    rejected_rows: int
    column_sums: dict            # field -> sum over every row whose cell could be read
    unreadable: dict             # field -> rows whose cell could not be read as a number
    notes: list[Reject] = field(default_factory=list)  # what was repaired in published rows
    recalled: int = 0            # rows taken from the last run's memo instead of validated again
    rejected_keys: dict = field(default_factory=dict)  # register key -> row, of rejected rows whose identifier reads
    subtotals: list = field(default_factory=list)  # each subtotal's check against its group (GroupSums)
    groups: list = field(default_factory=list)     # the group headings found (GroupSums)

    def __getstate__(self):
        """Sent back from a reading process with its records as plain values (the objects would
        take longer to pickle and unpickle than the memo takes to make them)."""
        return {**self.__dict__, "records": [validated_values(record) for record in self.records]}

    def __setstate__(self, state):
        self.__dict__.update(state, records=[from_validated_values(values) for values in state["records"]])


def validate_report(report: Report, as_of: date, check: RowCheck | None = None,
                    memo: RowMemo | None = None) -> ValidatedReport:
    """Every row of a report validated, with the sums its grand total is checked against and each
    subtotal checked against the rows of its group (GroupSums).

    With a `memo` (publisher/memo.py), a row whose cells the last run validated cleanly is taken
    from it, and every clean row of this run is remembered in it for the next."""
    check = check or default_check()
    shape = RowLayout.of(report)
    salt = shape.signature if shape is not STANDARD_LAYOUT else b""
    summed = tuple(name for name in TOTALLED_FIELDS if name in shape.fields)
    plain_sums = tuple(name for name in summed if name != "with_interest")  # record attributes, summed as they are
    with_interest = "with_interest" in summed
    readers = [(name, reader) for name, reader in check.readers.items() if name not in shape.absent_amounts]
    records, rejects, notes = [], [], []
    rejected_keys: dict[str, int] = {}
    rows_read, rejected_rows = 0, 0
    sums = {name: 0 for name in summed}
    unreadable = {name: 0 for name in summed}
    groups = GroupSums(report, summed, shape, report.unit)
    province_code = report.province_code
    for row in report.rows:  # a list, or the rows as they are read (read_report(stream=True))
        if row.__class__ is Marker:
            groups.mark(row, sums, rows_read)
            continue
        rows_read += 1
        record = None
        if memo is not None:
            digest = row_digest(row, salt)
            record = memo.recall(digest, row, province_code, as_of)
        if record is not None:
            row_rejects = []
        else:
            record, row_rejects = validate_row(row, province_code, as_of, check, shape, report.unit, readers)
            if memo is not None and record is not None and not row_rejects:
                memo.remember(digest, record)
        if record is not None:
            records.append(record)
            notes.extend(row_rejects)
            for name in plain_sums:
                sums[name] += getattr(record, name) or 0
            if with_interest:
                sums["with_interest"] += record.arrears_total + (record.interest or 0)
        else:
            rejects.extend(row_rejects)
            rejected_rows += 1
            key = rejected_row_key(row)
            if key is not None:
                rejected_keys.setdefault(key, row.line)
            for name in summed:
                try:
                    sums[name] += cell_amount(row.cells.get(HEADER_OF[name]), name, shape, report.unit) or 0
                except CellError:
                    unreadable[name] += 1
    groups.close(sums, rows_read)
    report.rows = []  # raw cells are no longer needed; free them before the next province is read
    return ValidatedReport(report, records, rejects, rows_read, rejected_rows, sums, unreadable, notes,
                           memo.recalled if memo is not None else 0, rejected_keys, groups.checks, groups.groups)


def cell_amount(value, name: str, shape: RowLayout, unit: str):
    """A cell of a totalled column in đồng: counts are whole numbers, amounts in the report's unit."""
    if name == "employees":
        return parse_integer(value, empty=None)
    return parse_amount(value, shape.scale, unit)


class GroupSums:
    """The groups of a report (A., B., a district, a band of months) and their subtotals, each
    checked against the rows between the group's heading and its subtotal ("a second control
    total, for free"). A subtotal closes the innermost open group, or the one its label names
    ('Cộng A', 'Cộng quận Lê Chân'); a subtotal with no group open sums the rows since the last
    subtotal. A heading that states figures is checked when its group ends. Rows are counted by
    their cells, valid and rejected alike, as the grand total is."""

    def __init__(self, report: Report, summed: tuple, shape: RowLayout, unit: str):
        self.report, self.summed, self.shape, self.unit = report, summed, shape, unit
        self.open: list[dict] = []
        self.base = None  # (sums, rows) after the last subtotal closing no group
        self.checks: list[dict] = []
        self.groups: list[dict] = []  # each group heading: row and label

    @staticmethod
    def _state(sums: dict, rows: int) -> tuple[dict, int]:
        return dict(sums), rows

    def mark(self, marker: Marker, sums: dict, rows: int) -> None:
        if marker.kind == layout.GROUP:
            self.groups.append({"line": marker.line, "label": marker.label})
            while self.open and (marker.top or not self.open[-1]["top"]):
                self._end(self.open.pop(), sums, rows)
            self.open.append({"label": marker.label, "line": marker.line, "top": marker.top,
                              "start": self._state(sums, rows), "stated": marker.cells})
            return
        group = self._named(marker.label)
        if group is None:
            start = self.base or ({name: 0 for name in self.summed}, 0)
            self.base = self._state(sums, rows)
            self._check(marker, None, start, sums, rows)
            return
        while self.open and self.open[-1] is not group:
            self._end(self.open.pop(), sums, rows)
        self.open.pop()
        self._end(group, sums, rows)
        self._check(marker, group, group["start"], sums, rows)

    def close(self, sums: dict, rows: int) -> None:
        while self.open:
            self._end(self.open.pop(), sums, rows)

    def _named(self, label: str) -> dict | None:
        """The open group a subtotal's label names ('cộng a' -> 'a. doanh nghiệp…', 'cộng quận lê
        chân' -> '1. quận lê chân'), else the innermost."""
        if not self.open:
            return None
        words = label.split(maxsplit=1)
        name = words[1].strip(" .:") if len(words) > 1 else ""
        if name:
            for group in reversed(self.open):
                numbering = group["label"].split(".", 1)[0]
                if name == numbering or (len(name) > 2 and name in group["label"]):
                    return group
        return self.open[-1]

    def _end(self, group: dict, sums: dict, rows: int) -> None:
        """A group ends: figures its heading stated are checked against its rows."""
        if any(not _is_blank(group["stated"].get(HEADER_OF[name])) for name in self.summed):
            heading = Marker(layout.GROUP, group["line"], group["label"], group["stated"])
            self._check(heading, group, group["start"], sums, rows)

    def _check(self, marker: Marker, group: dict | None, start: tuple, sums: dict, rows: int) -> None:
        differences = []
        for name in self.summed:
            header = HEADER_OF[name]
            value = marker.cells.get(header)
            if _is_blank(value):
                continue
            computed = sums[name] - start[0][name]
            try:
                stated = cell_amount(value, name, self.shape, self.unit)
            except CellError as error:
                differences.append({"field": header, "stated": cell_text(value), "computed": computed,
                                    "reason": str(error)})
                continue
            if stated is not None and stated != computed:
                differences.append({"field": header, "stated": stated, "computed": computed})
        self.checks.append({"line": marker.line, "kind": marker.kind, "label": marker.label,
                            "group": group["label"] if group else None, "group_line": group["line"] if group else None,
                            "rows": rows - start[1], "differences": differences})
