"""One release's index opened for reading, and a search over it: matching, scoring, filters, facets.

Every search is a few vector operations over boolean masks: Whoosh gives the documents holding a
word (and the words near a mistyped one), numpy does the rest. Ranking is BM25 with a term
frequency of one, computed over the matched set: folded idf for every matched word, an extra
exact-form idf when the marks agree, a small legal-form bonus, all scaled by the name's length.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from congkhai.text import fold

from .analysis import LEGAL_BITS, Analysed, _legal_bits, analyse, words
from .cache import _LRU
from .columns import _Columns, _docnums_by_seq, _positions_of
from .documents import FACET_FIELDS
from .identifiers import _UNIT_CODE, parse_identifier
from .query import MAX_PER_PAGE, MAX_RESULT_WINDOW, SORTS, _clean_query, _parse_filters
from .results import Bucket, Hit, SearchResult


ARREARS_BUCKETS = (0, 1, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000)
MONTHS_BUCKETS = (0, 1, 3, 6, 12, 24)


# Scoring: BM25 with tf = 1, the name's length counted in distinctive words only. Exact-form
# matches add this share of their idf on top of the folded match; a legal form the query names adds
# a small fixed share (at least LEGAL_WEIGHT, since the commonest forms have an idf near 0), enough
# to order "Công ty Minh Phát" before "DNTN Minh Phát" for "cty minh phat", never enough to outweigh
# a distinctive word.
_K1, _B = 1.2, 0.75
EXACT_WEIGHT = 0.5
LEGAL_WEIGHT = 0.1
FUZZY_WEIGHT = 0.5
FUZZY_MAX_WORDS = 6  # a typo is looked for in a name typed, not in a paragraph pasted
# Names holding the query's words side by side, in its order ("duc truong" in "Đức Trường") rise
# above names holding them apart; checked on the best PHRASE_CANDIDATES distinct names only, whose
# stored names are read, so the cost stays a few milliseconds.
PHRASE_WEIGHT = 2.0
PHRASE_CANDIDATES = 200   # distinct names: 450 namesakes "… khu vực An Nhơn" hid "… Nhơn Nhơn" at 1,000,000
PHRASE_READ_LIMIT = 2_000  # stored names read at most, namesakes included (about 20 ms)
_SCORE_SCALE = 1 << 24   # scores are quantised and combined with a rank (< 16M documents) in one int64 key
CACHE_BYTES = 48 * 2 ** 20   # per cache (postings, filter masks, matches) and per process


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

    def doc_frequency(self, fieldname: str, text: str) -> int:
        with self.reader() as reader:
            return reader.doc_frequency(fieldname, text)

    def _match(self, analysed: Analysed, fuzzy: bool):
        pairs = list(dict.fromkeys(zip(analysed.exact, analysed.folded)))
        if fuzzy and len(pairs) > FUZZY_MAX_WORDS:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        if not fuzzy and pairs and not len(self._rarest_first(pairs)):
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        required = []   # per word: [(docs, weight)] alternatives, the first being the main one
        for exact, folded in pairs:
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

    def _rarest_first(self, pairs) -> np.ndarray:
        """The documents having every word, intersected from the rarest word on and given up as soon
        as it is empty: a long query (a pasted paragraph, 200 characters) that no name holds whole is
        answered from its two or three rarest words' short postings, never reading the long ones of
        "công", "ty", "tnhh"."""
        ranked = sorted((self.doc_frequency("name_fold", folded), folded) for _, folded in pairs)
        if ranked[0][0] == 0:
            return np.zeros(0, dtype=np.int32)
        matched = self.postings("name_fold", ranked[0][1])
        for _, folded in ranked[1:]:
            if not len(matched):
                break
            matched = matched[_sorted_contains(self.postings("name_fold", folded), matched)]
        return matched

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
