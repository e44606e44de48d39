"""One release's index: searching it, on Whoosh and numpy columns.

The package's first module; its subjects move into modules of their own one by one.
"""
from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from contextlib import contextmanager
from itertools import chain
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from congkhai.text import clean, fold

from .analysis import _WORD, LEGAL_BITS, Analysed, _legal_bits, analyse, words
from .columns import _Columns, _docnums_by_seq, _positions_of
from .documents import FACET_FIELDS
from .identifiers import _UNIT_CODE, parse_identifier

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


ARREARS_BUCKETS = (0, 1, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000)
MONTHS_BUCKETS = (0, 1, 3, 6, 12, 24)


# --- Reading --------------------------------------------------------------------------------------

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 24  # the longest registered names, pasted whole by journalists
MAX_PER_PAGE = 100
MAX_RESULT_WINDOW = 10_000  # deepest result reachable by paging, as in most search engines
SORTS = ("relevance", "arrears", "months", "name")
RANGE_FILTERS = {"arrears_min": ("arrears_total", ">="), "arrears_max": ("arrears_total", "<="),
                 "months_min": ("months_late", ">="), "months_max": ("months_late", "<=")}

# Scoring: BM25 with tf = 1, the name's length counted in distinctive words only. Exact-form
# matches add this share of their idf on top of the folded match; a legal form the query names adds
# a small fixed share (at least LEGAL_WEIGHT, since the commonest forms have an idf near 0), enough
# to order "Công ty Minh Phát" before "DNTN Minh Phát" for "cty minh phat", never enough to outweigh
# a distinctive word.
_K1, _B = 1.2, 0.75
EXACT_WEIGHT = 0.5
LEGAL_WEIGHT = 0.1
FUZZY_WEIGHT = 0.5
# Names holding the query's words side by side, in its order ("duc truong" in "Đức Trường") rise
# above names holding them apart; checked on the best PHRASE_CANDIDATES distinct names only, whose
# stored names are read, so the cost stays a few milliseconds.
PHRASE_WEIGHT = 2.0
PHRASE_CANDIDATES = 200   # distinct names: 450 namesakes "… khu vực An Nhơn" hid "… Nhơn Nhơn" at 1,000,000
PHRASE_READ_LIMIT = 2_000  # stored names read at most, namesakes included (about 20 ms)
_SCORE_SCALE = 1 << 24   # scores are quantised and combined with a rank (< 16M documents) in one int64 key
CACHE_BYTES = 48 * 2 ** 20   # per cache (postings, filter masks, matches) and per process


@dataclass(frozen=True)
class Hit:
    key: str
    name: str
    tax_code: str | None
    province_code: str
    status: str
    ownership_type: str
    sector: str
    arrears_total: int
    months_late: int
    score: float | None = None


@dataclass(frozen=True)
class Bucket:
    """A range facet entry; `max` None means open-ended. Filters: *_min=min, *_max=max."""
    min: int
    max: int | None
    count: int


@dataclass
class SearchResult:
    query: str                         # the query as searched (cleaned, possibly truncated)
    total: int
    page: int
    per_page: int
    sort: str
    hits: list[Hit]
    facets: dict = field(default_factory=dict)   # field -> [(value, count)], arrears/months -> [Bucket]
    identifier: str | None = None      # canonical tax/unit code when the query was one
    redirect: str | None = None        # key of the one employer an identifier query found
    fuzzy: bool = False                # typo-tolerant retry was used
    truncated: bool = False            # the query was longer than MAX_QUERY_CHARS
    ignored_filters: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        reachable = min(self.total, MAX_RESULT_WINDOW)
        return max(1, -(-reachable // self.per_page))


def _bm25_idf(doc_count: int, df: int) -> float:
    return math.log(1 + (doc_count - df + 0.5) / (df + 0.5))


def _sorted_contains(haystack: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """needles[i] in haystack, for a sorted haystack."""
    if not len(haystack):
        return np.zeros(len(needles), dtype=bool)
    at = np.searchsorted(haystack, needles)
    at[at == len(haystack)] = 0
    return haystack[at] == needles


def _leaf_ids(matcher) -> np.ndarray:
    """All document numbers of one segment's postings, decoding whole blocks at once.

    Relies on the block layout of Whoosh's W3 codec (delta-encoded id tuples per block); other
    matchers (inline postings of rare terms) go through the public `all_ids()`.
    """
    matcher = getattr(matcher, "child", matcher)   # deletions are handled by our live column
    if not all(hasattr(matcher, name) for name in ("_read_data", "_next_block", "_atend")):
        return np.fromiter(matcher.all_ids(), dtype=np.int64)
    blocks = []
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        blocks.append(matcher._data[0])
        matcher._next_block()
    lengths = np.fromiter(map(len, blocks), dtype=np.int64, count=len(blocks))
    flat = np.array(list(chain.from_iterable(blocks)), dtype=np.int64)
    sums = np.cumsum(flat)
    ends = np.cumsum(lengths)
    before = np.concatenate([[0], sums[ends[:-1] - 1]]) if len(blocks) else np.zeros(0, dtype=np.int64)
    return sums - np.repeat(before, lengths)


class _LRU:
    """Least-recently-used cache of numpy values, bounded by their total size in bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.bytes, self.items, self.lock = max_bytes, 0, OrderedDict(), threading.Lock()

    @staticmethod
    def _size(value) -> int:
        return sum(part.nbytes for part in (value if isinstance(value, tuple) else (value,)))

    def get(self, key, compute):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = compute()
        with self.lock:
            if key not in self.items:
                self.items[key] = value
                self.bytes += self._size(value)
            while self.bytes > self.max_bytes and len(self.items) > 1:
                self.bytes -= self._size(self.items.popitem(last=False)[1])
        return value


class SearchIndex:
    """One release's index opened read-only: Whoosh for words and stored fields, numpy for the rest.

    Safe to share between threads; cheap to query once opened. Open it through `open_index`, which
    caches per path.

    One Whoosh searcher serves every thread, one call at a time: a searcher per thread held its own
    copy of the stored-fields offsets and field lengths (about 90 MB each at a million employers),
    so a gunicorn worker of 4 threads grew by 300 MB more than it needed, and the calls run under
    the GIL anyway. Opened (stored fields included) in the constructor, so that a gunicorn master
    that opens the index before forking shares those pages with all of its workers.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._ix = whoosh_index.open_dir(str(self.path), readonly=True)
        columns = _Columns.load(self.path)
        self.vocab = columns.vocab
        seq = columns.doc_seq
        arrays = columns.arrays
        self.live = arrays["live"][seq]
        self.codes = {name: arrays[name][seq] for name in FACET_FIELDS}
        self.arrears = arrays["arrears_total"][seq]
        self.months = arrays["months_late"][seq]
        self.name_len = arrays["name_len"][seq].astype(np.float64)
        name_key = arrays["name_key"][seq]
        self.legal = arrays["legal"][seq]
        self.size = len(seq)
        self.doc_count = int(self.live.sum())
        self.avg_len = float(self.name_len[self.live].mean()) if self.doc_count else 1.0
        self.legal_idf = {form: _bm25_idf(self.doc_count, int(((self.legal & bit) != 0)[self.live].sum()))
                          for form, bit in LEGAL_BITS.items()}
        self.arrears_bucket = np.searchsorted(ARREARS_BUCKETS, self.arrears, side="right") - 1
        self.months_bucket = np.searchsorted(MONTHS_BUCKETS, self.months, side="right") - 1
        self._code_of = {name: {v: i for i, v in enumerate(values)} for name, values in self.vocab.items()}
        docnums = _docnums_by_seq(seq, len(arrays["live"]))
        # Per identifier field: its values sorted, and the document number of each (-1: merged away).
        self._identifiers = {name: (arrays[name][order], docnums[order]) for name, order in columns.orders.items()}
        # Rank of every document under each field sort (0 = first); ties fall back to the next key.
        self.rank = {
            "arrears": self._ranks(np.lexsort((name_key, -self.months, -self.arrears))),
            "months": self._ranks(np.lexsort((name_key, -self.arrears, -self.months))),
            "name": self._ranks(np.lexsort((-self.arrears, name_key))),
        }
        self._searcher = self._ix.searcher()
        self._whoosh = threading.Lock()   # Whoosh's readers keep file positions: not for two threads at once
        with self.reader() as reader:   # each segment reads its stored-fields offsets on first use: now
            for leaf, _offset in reader.leaf_readers():
                if leaf.doc_count_all():
                    leaf.stored_fields(0)
        self._postings = _LRU(CACHE_BYTES)
        self._masks = _LRU(CACHE_BYTES)
        self._matches = _LRU(CACHE_BYTES)

    def _ranks(self, order: np.ndarray) -> np.ndarray:
        rank = np.empty(self.size, dtype=np.int64)
        rank[order] = np.arange(self.size)
        return rank

    def clear_caches(self):
        """Forget cached postings, filter masks and matches (to measure cold queries)."""
        for cache in (self._postings, self._masks, self._matches):
            with cache.lock:
                cache.items.clear()
                cache.bytes = 0

    def close(self):
        with self._whoosh:
            self._searcher.close()
            self._ix.close()

    # Whoosh access

    @contextmanager
    def reader(self):
        """The shared Whoosh reader, held by this thread for the block."""
        with self._whoosh:
            yield self._searcher.reader()

    def postings(self, fieldname: str, text: str) -> np.ndarray:
        """Sorted document numbers containing the term (deleted ones included; see `live`)."""
        def compute():
            parts = []
            with self.reader() as reader:
                for leaf, offset in reader.leaf_readers():
                    if (fieldname, text) in leaf:
                        parts.append(_leaf_ids(leaf.postings(fieldname, text)) + offset)
            return np.concatenate(parts).astype(np.int32) if parts else np.zeros(0, dtype=np.int32)
        return self._postings.get((fieldname, text), compute)

    def terms_within(self, fieldname: str, text: str, maxdist: int) -> set[str]:
        """Indexed terms within `maxdist` edits sharing the first letter, plus swapped neighbours.

        Whoosh counts a transposition ('thnag' for 'thang') as two edits; on a phone it is one slip.
        """
        found = set()
        with self.reader() as reader:
            for leaf, _offset in reader.leaf_readers():
                found.update(leaf.terms_within(fieldname, text, maxdist, prefix=1))
            for i in range(1, len(text) - 1):
                swapped = text[:i] + text[i + 1] + text[i] + text[i + 2:]
                if (fieldname, swapped) in reader:
                    found.add(swapped)
        return found

    def stored(self, docnum: int) -> dict:
        with self.reader() as reader:
            return reader.stored_fields(int(docnum))

    # Matching

    def _idf(self, docs: np.ndarray) -> float:
        return _bm25_idf(self.doc_count, len(docs))   # deleted documents (a few %) still count

    def match(self, analysed: Analysed, fuzzy: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Live documents having every distinctive word (or, without any, every legal form), scored."""
        return self._matches.get((analysed, fuzzy), lambda: self._match(analysed, fuzzy))

    def _match(self, analysed: Analysed, fuzzy: bool):
        required = []   # per word: [(docs, weight)] alternatives, the first being the main one
        for exact, folded in dict.fromkeys(zip(analysed.exact, analysed.folded)):
            options = [(self.postings("name_fold", folded), 1.0)]
            if fuzzy and _max_edits(folded):
                options += [(self.postings("name_fold", term), FUZZY_WEIGHT)
                            for term in sorted(self.terms_within("name_fold", folded, _max_edits(folded)))
                            if term != folded]
            required.append((exact, options))
        legal = dict.fromkeys(analysed.legal)
        if not required:
            wanted = _legal_bits(legal)
            if not wanted:
                return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
            matched = np.flatnonzero(((self.legal & wanted) == wanted) & self.live).astype(np.int32)
            score = LEGAL_WEIGHT * sum(self.legal_idf[form] for form in legal)
            return matched, self._length_scaled(matched, np.full(len(matched), score, dtype=np.float32))
        sets = [np.unique(np.concatenate([docs for docs, _ in options])) if len(options) > 1 else options[0][0]
                for _, options in required]
        matched = min(sets, key=len)
        for docs in sets:
            if docs is not matched:
                matched = matched[_sorted_contains(docs, matched)]
        matched = matched[self.live[matched]]
        scores = np.zeros(len(matched), dtype=np.float32)
        for exact, options in required:
            word = np.zeros(len(matched))
            for docs, weight in options:
                word = np.maximum(word, weight * self._idf(docs) * _sorted_contains(docs, matched))
            if exact is not None:
                exact_docs = self.postings("name_exact", exact)
                word += EXACT_WEIGHT * self._idf(exact_docs) * _sorted_contains(exact_docs, matched)
            scores += word
        doc_legal = self.legal[matched]
        for form in legal:
            scores += LEGAL_WEIGHT * max(self.legal_idf[form], 1.0) * ((doc_legal & LEGAL_BITS[form]) != 0)
        return matched, self._length_scaled(matched, scores)

    def _length_scaled(self, matched, scores):
        lengths = self.name_len[matched]
        return (scores * (_K1 + 1) / (1 + _K1 * (1 - _B + _B * lengths / self.avg_len))).astype(np.float32)

    def identifier_docs(self, identifier: str) -> np.ndarray:
        values, docnums = self._identifiers["unit_code" if _UNIT_CODE.fullmatch(identifier) else "key"]
        docs = np.sort(docnums[_positions_of(values, [identifier])])
        docs = docs[docs >= 0]
        return docs[self.live[docs]]

    # Filters and facets

    def filter_mask(self, name: str, spec) -> np.ndarray:
        def compute():
            if name in FACET_FIELDS:
                allowed = np.zeros(len(self.vocab[name]) + 1, dtype=bool)
                for value in spec:
                    code = self._code_of[name].get(value)
                    if code is not None:
                        allowed[code] = True
                return allowed[self.codes[name]]
            values = self.arrears if name == "arrears_total" else self.months
            low, high = spec
            mask = np.ones(self.size, dtype=bool) if low is None else values >= low
            return mask if high is None else mask & (values <= high)
        return self._masks.get((name, spec), compute)

    def facet_counts(self, name: str, mask: np.ndarray) -> list:
        if name in FACET_FIELDS:
            counts = np.bincount(self.codes[name][mask], minlength=len(self.vocab[name]))
            pairs = [(self.vocab[name][i], int(c)) for i, c in enumerate(counts) if c]
            return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))
        edges, buckets = ((ARREARS_BUCKETS, self.arrears_bucket) if name == "arrears_total"
                          else (MONTHS_BUCKETS, self.months_bucket))
        counts = np.bincount(buckets[mask], minlength=len(edges))
        return [Bucket(edges[i], edges[i + 1] - 1 if i + 1 < len(edges) else None, int(counts[i]))
                for i in range(len(edges))]

    # Search

    def search(self, q: str = "", filters: dict | None = None, sort: str | None = None, page: int = 1,
               per_page: int = 20, facets: bool = True) -> SearchResult:
        query, truncated = _clean_query(q)
        active, ignored = _parse_filters(filters or {})
        identifier = parse_identifier(query)
        analysed = analyse(query) if identifier is None else None
        fuzzy = False
        scores = None
        if identifier is not None:
            base = self.identifier_docs(identifier)
        elif analysed.folded or analysed.legal:
            base, scores = self.match(analysed)
            if not len(base) and analysed.folded:
                base, scores = self.match(analysed, fuzzy=True)
                fuzzy = bool(len(base))
            scores = self._phrase_boosted(analysed, base, scores)
        elif query:
            base = np.zeros(0, dtype=np.int32)   # punctuation only: nothing to look for
        else:
            base = None
        text_mask = self.live if base is None else _mask_of(base, self.size)
        masks = {name: self.filter_mask(name, spec) for name, spec in active.items()}
        final = text_mask
        for mask in masks.values():
            final = final & mask
        if sort not in SORTS or (sort == "relevance" and scores is None):
            sort = "relevance" if scores is not None else "arrears"
        per_page = min(max(int(per_page), 1), MAX_PER_PAGE)
        page = max(int(page), 1)
        docs = np.flatnonzero(final)
        hits = self._page(docs, base, scores, sort, page, per_page)
        result = SearchResult(query, len(docs), page, per_page, sort, hits, identifier=identifier,
                              fuzzy=fuzzy, truncated=truncated, ignored_filters=ignored)
        if identifier is not None and len(docs) == 1:
            result.redirect = hits[0].key if hits else self.stored(docs[0])["key"]
        if facets:
            result.facets = self._facets(text_mask, masks, final)
        return result

    def _phrase_boosted(self, analysed: Analysed, base: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """Scores with PHRASE_WEIGHT added where the best candidates' names hold the query's words
        together; a copy, since `scores` may be a cached array."""
        if len(analysed.folded) < 2 or not len(base):
            return scores
        phrase = " " + " ".join(analysed.folded) + " "
        limit = min(len(scores), PHRASE_READ_LIMIT)
        best = np.argpartition(-scores, limit - 1)[:limit] if len(scores) > limit else np.arange(len(scores))
        best = best[np.argsort(-scores[best], kind="stable")]
        holds: dict[str, bool] = {}   # name -> holds the phrase; namesakes count once toward the candidates
        together = []
        for i in best:
            name = self.stored(int(base[i]))["name"]
            if name not in holds:
                if len(holds) == PHRASE_CANDIDATES:
                    break
                holds[name] = phrase in " " + " ".join(fold(w) for w in words(name)) + " "
            if holds[name]:
                together.append(i)
        if not together:
            return scores
        boosted = scores.copy()
        boosted[together] += PHRASE_WEIGHT
        return boosted

    def _page(self, docs, base, scores, sort, page, per_page) -> list[Hit]:
        start = (page - 1) * per_page
        end = min(start + per_page, MAX_RESULT_WINDOW)
        if start >= min(len(docs), end):
            return []
        if sort == "relevance":
            doc_scores = scores[np.searchsorted(base, docs)]
            quantised = np.round(doc_scores * 1000).astype(np.int64)
            keys = -quantised * _SCORE_SCALE + self.rank["arrears"][docs]
        else:
            keys = self.rank[sort][docs]
            doc_scores = None
        if end < len(docs):
            top = np.argpartition(keys, end - 1)[:end]
        else:
            top = np.arange(len(docs))
        chosen = top[np.argsort(keys[top], kind="stable")][start:end]
        return [self._hit(docs[i], None if doc_scores is None else float(doc_scores[i])) for i in chosen]

    def _hit(self, docnum, score) -> Hit:
        stored = self.stored(docnum)
        facet = {name: self.vocab[name][self.codes[name][docnum]] for name in FACET_FIELDS}
        return Hit(stored["key"], stored["name"], stored.get("tax_code"), facet["province_code"], facet["status"],
                   facet["ownership_type"], facet["sector"], int(self.arrears[docnum]), int(self.months[docnum]),
                   score)

    def _facets(self, text_mask, masks, final) -> dict:
        """Counts per value; each facet ignores its own filter, so other values stay selectable."""
        result = {}
        for name in (*FACET_FIELDS, "arrears_total", "months_late"):
            if name in masks:
                mask = text_mask
                for other, other_mask in masks.items():
                    if other != name:
                        mask = mask & other_mask
            else:
                mask = final
            result[name] = self.facet_counts(name, mask)
        return result


def _max_edits(word: str) -> int:
    """Edits allowed for a mistyped word: none up to 2 letters, 1 up to 6 (most syllables), 2 beyond."""
    return 0 if len(word) <= 2 else 1 if len(word) <= 6 else 2


def _mask_of(docs: np.ndarray, size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[docs] = True
    return mask


def _clean_query(q) -> tuple[str, bool]:
    text = clean(_CONTROL.sub(" ", q if isinstance(q, str) else ""))
    truncated = len(text) > MAX_QUERY_CHARS
    if truncated:
        text = text[:MAX_QUERY_CHARS]
    found = list(_WORD.finditer(text))
    if len(found) > MAX_QUERY_WORDS:
        text, truncated = text[:found[MAX_QUERY_WORDS - 1].end()], True
    return text, truncated


def _values(raw) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else list(raw)
    return tuple(sorted({clean(item) for item in items if clean(item)}))


def _parse_filters(filters: dict) -> tuple[dict, list[str]]:
    """{'status': 'late' or [...], 'arrears_min': '1000', ...} -> masks spec; bad numbers are ignored."""
    unknown = set(filters) - set(FACET_FIELDS) - set(RANGE_FILTERS)
    if unknown:
        raise ValueError(f"unknown search filters: {', '.join(sorted(unknown))}")
    active, ignored = {}, []
    for name in FACET_FIELDS:
        values = _values(filters.get(name))
        if values:
            active[name] = values
    bounds = {}
    for name, (column, op) in RANGE_FILTERS.items():
        raw = filters.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            value = int(str(raw).strip().replace(".", "").replace(",", ""))
        except ValueError:
            ignored.append(name)
            continue
        if not -2 ** 63 < value < 2 ** 63:
            ignored.append(name)
            continue
        low, high = bounds.get(column, (None, None))
        bounds[column] = (value, high) if op == ">=" else (low, value)
    active.update(bounds)
    return active, ignored


# --- Opening --------------------------------------------------------------------------------------

_OPEN: "OrderedDict[Path, SearchIndex]" = OrderedDict()
_OPEN_LOCK = threading.Lock()
KEEP_OPEN = 2   # the current release's index and the one it is replacing


def open_index(path) -> SearchIndex:
    """The index at `path`, opened once per process and kept while it is among the last used.

    Release indexes never change in place, so the path identifies the content; when the portal
    moves to a new release it opens the new path, and the oldest index is closed.
    """
    path = Path(path).resolve()
    with _OPEN_LOCK:
        index = _OPEN.get(path)
        if index is None:
            index = _OPEN[path] = SearchIndex(path)
            while len(_OPEN) > KEEP_OPEN:
                _OPEN.popitem(last=False)[1].close()
        _OPEN.move_to_end(path)
        return index


def search(index, q: str = "", filters: dict | None = None, sort: str | None = None, page: int = 1,
           per_page: int = 20, facets: bool = True) -> SearchResult:
    """Search the index (a SearchIndex or a path). Never raises on the query text.

    `filters`: status, province_code, ownership_type, sector (a value or several), arrears_min,
    arrears_max, months_min, months_max (integers, inclusive). `sort`: relevance (default with
    words), arrears (default without), months, name. `page` starts at 1.
    """
    if not isinstance(index, SearchIndex):
        index = open_index(index)
    return index.search(q, filters, sort, page, per_page, facets)
