"""What a report's layout means: its columns, the kinds of its rows and the unit of its amounts.

The words are data (`datasets/layouts.toml`); this module applies them. It is pure: it takes the
cells of the rows above the data and of each row below, and says what they are, so the reader
(read.py) can stay about files and the rules about layouts can be tested without one.
"""
from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from congkhai.config import DATASETS_DIR
from congkhai.text import clean, fold

LAYOUTS_FILE = DATASETS_DIR / "layouts.toml"

IDENTITY_FIELDS = ("unit_code", "tax_code")
# The forms arrears come in; a report needs one of them at least.
ARREARS_FIELDS = ("reported_total", "arrears_bhxh", "arrears_bhyt", "arrears_bhtn", "arrears_bhxh_bhtn",
                  "arrears_bhtnld")
AMOUNT_FIELDS = ARREARS_FIELDS + ("interest", "with_interest")
# Columns whose totals and subtotals are checked against the rows, when the report has them.
SUMMED_FIELDS = ("employees",) + AMOUNT_FIELDS
REQUIRED = (("name",), IDENTITY_FIELDS, ("months_late",), ARREARS_FIELDS)
_PARENS = re.compile(r"\(([^()]*)\)")
_PUNCT_SPACE = re.compile(r"\s*([,+\-/&])\s*")
_SUM_LABELS = ("tong cong", "tong so", "cong", "tong")


def strip_marks(text: str) -> str:
    """The text without diacritics, case kept ('Cộng A' -> 'Cong A'); đ is d."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def label_key(text) -> str:
    """A header label as it is matched: folded, parentheses and a trailing ':' or '*' dropped,
    spaces around punctuation removed ('Số tiền\\nchậm đóng (đồng):' -> 'so tien cham dong')."""
    text = _PARENS.sub(" ", clean(text)).strip().rstrip(":*").strip()
    return _PUNCT_SPACE.sub(r"\1", " ".join(fold(text).split()))


def _parenthesised(text) -> list[str]:
    return [part.strip() for part in _PARENS.findall(clean(text))]


@dataclass(frozen=True)
class Conventions:
    """datasets/layouts.toml, compiled."""
    version: str
    headers: dict            # field -> canonical header
    synonyms: dict           # folded label -> field
    province_synonyms: dict  # province code -> {folded label: field}
    ignored: frozenset       # fields read and never published
    groups: frozenset        # folded labels that head a two-row header's group
    children: dict           # folded label under such a group -> field
    grand_total: tuple
    subtotal: tuple
    group: tuple
    top_group: tuple
    column_numbers: re.Pattern
    unit_label: re.Pattern
    scales: dict             # folded unit words -> scale
    source_sha256: str = ""

    @classmethod
    def load(cls, path: Path = LAYOUTS_FILE) -> "Conventions":
        import hashlib

        data = Path(path).read_bytes()
        raw = tomllib.loads(data.decode("utf-8"))
        fields = raw["fields"]
        synonyms = {}
        for name, spec in fields.items():
            for label in [spec["header"], *spec.get("synonyms", ())]:
                synonyms.setdefault(label_key(label), name)
        provinces = {code: {label_key(label): name for name, labels in spec.get("synonyms", {}).items()
                            for label in labels}
                     for code, spec in raw.get("provinces", {}).items()}
        two_row, rows, units = raw["two_row"], raw["rows"], raw["units"]

        def patterns(names):
            return tuple(re.compile(p) for p in names)

        return cls(raw["version"], {name: spec["header"] for name, spec in fields.items()}, synonyms, provinces,
                   frozenset(name for name, spec in fields.items() if spec.get("ignored")),
                   frozenset(label_key(g) for g in two_row["groups"]),
                   {label_key(label): name for name, labels in two_row["children"].items() for label in labels},
                   patterns(rows["grand_total"]), patterns(rows["subtotal"]), patterns(rows["group"]),
                   patterns(rows["top_group"]), re.compile(rows["column_numbers"]), re.compile(units["label"]),
                   {" ".join(fold(word).split()): scale for word, scale in units["scale"].items()},
                   hashlib.sha256(data).hexdigest())

    def labels(self, province_code: str | None) -> dict:
        own = self.province_synonyms.get(province_code or "", {})
        return {**self.synonyms, **own} if own else self.synonyms

    def scale_of(self, words: str) -> int | None:
        """The scale of a unit's words ('nghìn đồng' -> 1000), None when they name no unit."""
        return self.scales.get(" ".join(fold(words).split()).rstrip("."))


@lru_cache(maxsize=4)
def conventions(path: str | None = None) -> Conventions:
    return Conventions.load(Path(path) if path else LAYOUTS_FILE)


# ---------------------------------------------------------------------------------------------------
# The header

@dataclass(frozen=True)
class Column:
    index: int
    label: str               # as the report writes it ('Số tiền chậm đóng / BHXH')
    field: str | None        # what it became; None: ignored (an unknown label or a column never published)
    scale: int | None = None  # a unit in the header's parentheses ('(nghìn đồng)')

    @property
    def letter(self) -> str:
        from .xlsx import COLUMNS

        return COLUMNS[self.index] if self.index < len(COLUMNS) else str(self.index + 1)


@dataclass
class Header:
    rows: tuple[int, ...]          # the report's row numbers holding the header (one or two)
    columns: list[Column]
    fields: dict = field(default_factory=dict)  # field -> column index

    def column_of(self, name: str) -> Column | None:
        index = self.fields.get(name)
        return None if index is None else next(c for c in self.columns if c.index == index)


class HeaderProblem(ValueError):
    """A header that cannot be used; `line` is the report row it is about."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _text(value) -> str:
    """A cell as text; a numeric cell 1.0 (a spreadsheet's row number) as '1'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _row_fields(values, labels: dict) -> set[str]:
    return {labels[key] for value in values if (key := label_key(_text(value))) in labels}


def is_header_row(values, conv: Conventions, province_code: str | None = None) -> bool:
    """A row naming the employer (a name column) and how it is identified (a unit or tax code)."""
    found = _row_fields(values, conv.labels(province_code))
    return "name" in found and bool(found & set(IDENTITY_FIELDS))


def read_header(top: list, below: list | None, line: int, conv: Conventions,
                province_code: str | None = None) -> Header:
    """The columns of a header row, and of the row below it when that row carries the second line
    of a two-row header ('Số tiền chậm đóng' merged above 'Tổng số | BHXH | BHYT | BHTN')."""
    labels = conv.labels(province_code)
    width = max(len(top), len(below or ()))
    top = [clean(_text(v)) for v in top] + [""] * (width - len(top))
    second = _second_row(top, below, conv, labels)
    rows = (line, line + 1) if second else (line,)
    columns, parent = [], ""
    for index, label in enumerate(top):
        under = second[index] if second else ""
        if label:
            parent = label if label_key(label) in conv.groups else ""
        elif not under:
            parent = ""
        if not label and not under:
            continue
        if under and parent:
            name = conv.children.get(label_key(under)) or labels.get(label_key(under))
            shown = f"{parent} / {under}"
        elif under:
            name = labels.get(label_key(under)) or labels.get(label_key(label))
            shown = f"{label} / {under}" if label else under
        else:
            name, shown = labels.get(label_key(label)), label
        scale = next((s for part in _parenthesised(shown) if (s := conv.scale_of(part))), None)
        columns.append(Column(index, shown, None if name in conv.ignored else name, scale))
    header = Header(rows, _interest_total(columns))
    for column in header.columns:
        if column.field is None:
            continue
        if column.field in header.fields:
            first = header.column_of(column.field)
            raise HeaderProblem(f"columns {first.letter} ('{first.label}') and {column.letter} ('{column.label}') both "
                                f"read as {conv.headers[column.field]}: a report has one such column (a province's own "
                                f"words go in datasets/layouts.toml)", line)
        header.fields[column.field] = column.index
    _check_required(header, conv, labels, line)
    return header


def _second_row(top: list[str], below: list | None, conv: Conventions, labels: dict) -> list[str] | None:
    """The row below the header when it is the header's second line: it names columns under a
    group label of the first, and holds no data (no number, no tax code)."""
    if not below:
        return None
    cells = [clean(_text(v)) for v in below] + [""] * (len(top) - len(below))
    if any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in below):
        return None
    if not any(label_key(label) in conv.groups for label in top):
        return None
    named = [c for c in cells if c and (label_key(c) in conv.children or label_key(c) in labels)]
    return cells if named else None


def _interest_total(columns: list[Column]) -> list[Column]:
    """Beside late-payment interest, a sum column ('Số tiền phải tính lãi | Lãi chậm đóng | Tổng
    cộng') is principal plus interest: it is checked, never published as arrears."""
    if not any(c.field == "interest" for c in columns):
        return columns
    totals = [c for c in columns if c.field in ("reported_total", None)]
    summed = [c for c in totals if label_key(c.label.rsplit("/", 1)[-1]) in _SUM_LABELS]
    if len(summed) != 1 or not any(c.field == "reported_total" and c is not summed[0] for c in columns):
        return columns
    return [Column(c.index, c.label, "with_interest", c.scale) if c is summed[0] else c for c in columns]


def _check_required(header: Header, conv: Conventions, labels: dict, line: int) -> None:
    missing = [group for group in REQUIRED if not any(name in header.fields for name in group)]
    if not missing:
        return
    raise HeaderProblem(describe_missing(header.columns, missing, conv, labels), line)


def describe_missing(columns: list[Column], missing, conv: Conventions, labels: dict) -> str:
    """Which fields are missing, the headers seen, and for each unknown header the closest known
    words ("'Số tháng nợ kéo dài': did you mean 'Số tháng chậm đóng'?")."""
    needs = "; ".join(" or ".join(repr(conv.headers[name]) for name in group) for group in missing)
    seen = ", ".join(repr(c.label) for c in columns) or "none"
    hints = []
    known = list(labels)
    wanted = {name for group in missing for name in group}
    for column in columns:
        if column.field is not None:
            continue
        close = difflib.get_close_matches(label_key(column.label), known, n=3, cutoff=0.6)
        close = [key for key in close if labels[key] in wanted] or close
        if close:
            name = labels[close[0]]
            hints.append(f"'{column.label}': did you mean {conv.headers[name]!r}?")
    text = f"header lacks {needs} (headers seen: {seen})"
    return text + (". " + " ".join(hints) if hints else "")


def best_header_guess(rows: list[tuple[int, list]], conv: Conventions, province_code: str | None) -> tuple[int, list]:
    """The row of the first ones that looks most like a header (most known words), to explain why
    none was taken."""
    labels = conv.labels(province_code)
    scored = [(len(_row_fields(values, labels)), sum(1 for v in values if _text(v).strip()), -line, line, values)
              for line, values in rows]
    if not scored:
        return 1, []
    best = max(scored, key=lambda s: s[:3])
    return best[3], best[4]


def header_columns_for_hint(values, conv: Conventions, province_code: str | None) -> list[Column]:
    labels = conv.labels(province_code)
    return [Column(i, clean(_text(v)), labels.get(label_key(_text(v)))) for i, v in enumerate(values)
            if clean(_text(v))]


# ---------------------------------------------------------------------------------------------------
# Rows below the header

DATA, GROUP, SUBTOTAL, GRAND_TOTAL = "data", "group", "subtotal", "grand_total"
_BARE_NUMBERING = re.compile(r"^([a-zđ]|[ivxlc]+|\d{1,2})$", re.IGNORECASE)


def is_column_numbers(values, conv: Conventions) -> bool:
    """'(1) (2) (3)…', 'A B 1 2', '(8)=(9)+(10)+(11)': the row numbering the columns."""
    texts = [" ".join(fold(_text(v)).split()) for v in values if _text(v).strip()]
    if len(texts) < 3 or not all(conv.column_numbers.match(t) for t in texts):
        return False
    return any("(" in t or "=" in t for t in texts) or _counting(texts)


def _counting(texts: list[str]) -> bool:
    """Letters, then numbers, each counting up by one (A B C 1 2 3 …), as a column-number row
    writes them; an employer's row never does."""
    letters = [ord(t) for t in texts if len(t) == 1 and t.isalpha()]
    numbers = [int(t) for t in texts if t.isdigit()]
    if len(letters) + len(numbers) != len(texts) or len(texts) < 3:
        return False
    return all(b == a + 1 for seq in (letters, numbers) for a, b in zip(seq, seq[1:]))


def row_label(numbering, name, unit_code=None) -> str:
    """The text a non-employer row is known by: its number and its name ('A' + 'Doanh nghiệp' ->
    'A. Doanh nghiệp'), lower case."""
    first = clean(_text(numbering))
    rest = " ".join(t for t in (clean(_text(name)), clean(_text(unit_code))) if t)
    if first and rest and _BARE_NUMBERING.match(first):
        return f"{first}. {rest}".lower()
    return " ".join(t for t in (first, rest) if t).lower()


def _matches(patterns, label: str) -> bool:
    """The label against the patterns as written, then, for a label typed without diacritics,
    against the patterns without theirs."""
    if any(p.search(label) for p in patterns):
        return True
    return label.isascii() and any(p.search(label) for p in _folded(patterns))


@lru_cache(maxsize=32)
def _folded(patterns: tuple) -> tuple:
    """The patterns without diacritics, for labels typed without them ('Cong A', 'TONG CONG')."""
    return tuple(re.compile(strip_marks(p.pattern)) for p in patterns)


def row_kind(label: str, conv: Conventions) -> str:
    """GRAND_TOTAL, SUBTOTAL, GROUP, or DATA for a row whose label is none of them (an employer's
    row that lacks its codes, which validation then rejects)."""
    if not label:
        return DATA
    if _matches(conv.grand_total, label):
        return GRAND_TOTAL
    if _matches(conv.subtotal, label):
        return SUBTOTAL
    if _matches(conv.group, label):
        return GROUP
    return DATA


def is_top_group(label: str, conv: Conventions) -> bool:
    return _matches(conv.top_group, label)


# ---------------------------------------------------------------------------------------------------
# Units

def declared_unit(titles: list[tuple[int, str]], conv: Conventions) -> tuple[int, str, int] | None:
    """(row, words, scale) of the title's 'Đơn vị tính: …', if it has one."""
    for row, text in titles:
        folded = fold(clean(text))
        for match in conv.unit_label.finditer(folded):
            words = re.split(r"[;,)(]", folded[match.end():], maxsplit=1)[0].split()
            for end in range(len(words), 0, -1):  # the longest run of words that names a unit
                if (scale := conv.scale_of(" ".join(words[:end]))) is not None:
                    return row, " ".join(words[:end]), scale
    return None
