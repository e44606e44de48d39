"""Search over a release's employers, behind a small facade so the engine can change.

Whoosh (whoosh-reloaded, pure Python, no longer developed) keeps what it is good at: the inverted
index (which employers contain a word), the term dictionary for fuzzy expansion of mistyped words,
incremental updates with deletions, and the few stored fields a result line needs (key, name, tax
code).

What Whoosh is slow at in pure Python -- counting, faceting, range filters and sorting over a
million employers, and writing a million one-document terms for their tax and unit codes -- is
done on numpy columns saved beside the Whoosh files (`columns.npz`, one value per employer:
status, province, ownership type, sector, arrears, months, name sort key, key and unit code).
Every search is then a few vector operations over boolean masks: counts and facets are exact at
any result size, and no query loops over Whoosh postings one document at a time. Legal forms are
a bit column too, since "công ty" is in most names and its posting list would be the longest read.

Analysis (the same at index and query time): NFC first (decomposed input would split words at
each combining mark), lower case, then two forms of every word: exact (with its marks) and folded
(`congkhai.text.fold`: no marks, đ -> d). Legal-form words ("công ty", "TNHH", "cổ phần"...) are
turned into one canonical abbreviation each and kept apart from the distinctive words, so "cty"
finds "công ty" and both weigh little: a query must match every distinctive word; legal forms
only add a small bonus. Exact-diacritic matches score above folded ones.

Ranking is BM25 with a term frequency of one (names seldom repeat a word), computed in numpy over
the matched set: folded idf for every matched word, an extra exact-form idf when the marks
agree, a small legal-form bonus, all scaled by the name's length.

The package, one module a subject: `analysis` (words, folding, legal forms), `identifiers` (tax and
unit codes typed by people), `documents` (what of an employer enters the index), `schema` (the
Whoosh side), `columns` (the numpy side), `build` (writing an index), `query` (what a person asks
for, cleaned and bounded), `index` (an open index: matching, scoring, filters, facets), `results`,
`cache` and `opening` (an index opened once per process, and `search`). Outside this package only
its tests import Whoosh.
"""
from .analysis import analyse
from .build import build_index, dead_share, updatable, update_index
from .documents import document
from .identifiers import parse_code, parse_identifier
from .index import PHRASE_CANDIDATES, SearchIndex
from .opening import open_index, search
from .query import MAX_PER_PAGE, MAX_QUERY_CHARS, MAX_RESULT_WINDOW
from .results import Bucket, SearchResult
from .schema import AnalysedWords  # the path every index's pickled schema names (schema.py)

# What the portal, the publisher, the benchmarks and the tests use; the rest stays inside the package.
__all__ = [
    # building and updating a release's index
    "document", "build_index", "dead_share", "updatable", "update_index",
    # reading it
    "open_index", "search", "SearchIndex", "SearchResult", "Bucket",
    "MAX_PER_PAGE", "MAX_QUERY_CHARS", "MAX_RESULT_WINDOW", "PHRASE_CANDIDATES",
    # words and codes
    "analyse", "parse_identifier", "parse_code",
    # named by every index's pickled schema
    "AnalysedWords",
]
