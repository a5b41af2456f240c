"""Text analysis for search: text -> terms, queries -> clauses, matches -> highlighted HTML.

Pure functions, no database: the index writer (`models.search_index`), the query side
(`models.search`) and bulk loaders all analyse text here, so both engines see the same terms.
Text is split into words (letters and digits; apostrophes inside a word are dropped, so
"nurse's" is "nurses"), case and diacritics are folded, and English words are stemmed with the
Snowball English stemmer ("handovers" -> "handov"). Every term is ASCII `[a-z0-9]+`.
Changing how text is analysed needs `models.search.reindex_all` (or a migration that runs it).
"""

from __future__ import annotations

import bisect
import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, compress, count

import nh3
import snowballstemmer

MAX_TERM_LENGTH = 48  # longer words are stored as a short hash
MAX_POSITIONS = 16383  # PostgreSQL tsvector positions run 1..16383
MAX_OCCURRENCES = 256  # PostgreSQL keeps at most 256 positions per lexeme
HEAD_POSITIONS = 12000  # of an over-long body, the words kept in order before the tail
MAX_ANALYSED_CHARS = 2_000_000  # text past this is not indexed at all
# A term `analyse` never yields (longer than MAX_TERM_LENGTH): pads positions that must not match.
FILLER = "z" * (MAX_TERM_LENGTH + 8)

MAX_QUERY_CHARS = 500
MAX_CLAUSES = 16
MAX_PHRASE_TERMS = 16
SNIPPET_WORDS = 30

_APOSTROPHES = "'\u2019"
_WORD = re.compile(rf"[^\W_]+(?:[{_APOSTROPHES}][^\W_]+)*")
_NO_APOSTROPHES = str.maketrans("", "", _APOSTROPHES)
_WORD_PIECES = re.compile(f"({_WORD.pattern})")  # split() keeps the words, between the rest
_PLAIN_WORD = re.compile(r"[^\W_]+")
# PostgreSQL's parser reads "12e3x" as the number 12e3 and then "x"; a leading letter stops that.
_SPLIT_BY_POSTGRES = re.compile(r"\d+e\d+[a-z]")
_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """The terms of one word as matched by `_WORD` (usually one; NFKD can split a word)."""
    folded = unicodedata.normalize("NFKD", word.translate(_NO_APOSTROPHES))
    folded = "".join(char for char in folded if not unicodedata.combining(char)).casefold()
    terms = []
    for part in _PLAIN_WORD.findall(folded):
        if part.isascii():
            term = _STEMMER.stemWord(part) if part.isalpha() else part
            if _SPLIT_BY_POSTGRES.match(term):
                term = "n" + term
        else:
            term = "u" + part.encode("utf-8").hex()  # other scripts: exact match, no stemming
        if len(term) > MAX_TERM_LENGTH:
            term = "h" + hashlib.blake2b(term.encode(), digest_size=8).hexdigest()
        terms.append(term)
    return tuple(terms)


def normalise(value: str) -> str:
    """Unicode NFC: how every analysed and displayed text is compared."""
    return unicodedata.normalize("NFC", value)


def _tokens(value: str, limit: int = MAX_ANALYSED_CHARS) -> Iterator[tuple[int, int, str]]:
    """(start, end, term) for each term of `value`, in order; a word can give several."""
    for match in _WORD.finditer(value, 0, min(len(value), limit)):
        for term in _word_terms(match.group()):
            yield match.start(), match.end(), term


def analyse(value: str) -> list[str]:
    """The terms of a text, in order: what the index stores and what queries are made of."""
    return [term for _start, _end, term in _tokens(normalise(value))]


def index_terms(title: str, body: str) -> tuple[str, str]:
    """The (title_terms, body_terms) streams stored for an entry, within PostgreSQL's limits."""
    title_list = analyse(title)[: MAX_POSITIONS // 4]
    budget = MAX_POSITIONS - len(title_list) - 1  # one position for the title/body filler
    body_list = analyse(body)
    if len(body_list) > budget:
        head = body_list[: min(HEAD_POSITIONS, budget - 1)]
        seen = set(head)
        tail = []
        for term in body_list[len(head) :]:
            if term not in seen:
                seen.add(term)
                tail.append(term)
        body_list = [*head, FILLER, *tail][:budget]
    counts: dict[str, int] = {}
    streams = []
    for terms in (title_list, body_list):
        capped = []
        for term in terms:
            seen_count = counts.get(term, 0) + 1
            counts[term] = seen_count
            capped.append(term if seen_count <= MAX_OCCURRENCES else FILLER)
        streams.append(" ".join(capped))
    return streams[0], streams[1]


_BLOCK_END = re.compile(r"(?i)</(p|div|h[1-6]|li|blockquote|pre|tr|td|th)>|<br\s*/?>")


def html_text(value: str) -> str:
    """Plain text of an HTML fragment (scripts and styles dropped), one line per block."""
    with_breaks = _BLOCK_END.sub("\n", value)
    return html.unescape(nh3.clean(with_breaks, tags=set()))


def entry_terms(title: str, body: str) -> tuple[str, str]:
    """The (title, body) term streams indexed for a text (used by writers and bulk loaders)."""
    return index_terms(normalise(" ".join(title.split())), normalise(body))


STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with".split()
)


@dataclass(frozen=True)
class Clause:
    """One part of a query: a word (one term) or a phrase (several), maybe excluded."""

    terms: tuple[str, ...]
    excluded: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """A user's query as clauses that every positive must match and no exclusion may."""

    required: tuple[Clause, ...] = ()
    excluded: tuple[Clause, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing can be searched (no words, or only exclusions)."""
        return not self.required

    @property
    def highlight(self) -> frozenset[str]:
        """The terms to mark in titles and snippets."""
        return frozenset(term for clause in self.required for term in clause.terms)


# Characters that separate words in a query (operators in other syntaxes); "-", ".", "/" and
# apostrophes join the parts of one word ("COVID-19", "3.5", "24/7", "don't") into a phrase.
_QUERY_PART = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"()\[\]{}<>&|!*:^~+=,;?]+)')


def parse_query(query: str) -> ParsedQuery:
    """Words, "quoted phrases" (an unclosed quote runs to the end) and -exclusions.

    Anything else (operators, `*`, `:`, brackets...) is only a word separator. A word that
    analyses to several terms ("COVID-19", "3.5") is a phrase. Common English words are
    dropped outside phrases unless nothing else is left.
    """
    parts: list[tuple[bool, bool, tuple[str, ...], str]] = []
    for match in _QUERY_PART.finditer(query[:MAX_QUERY_CHARS]):
        if match.group(2) is not None:
            excluded, raw, quoted = match.group(1) == "-", match.group(2), True
        else:
            excluded, raw, quoted = match.group(3) == "-", match.group(4), False
            if raw.startswith("-"):  # "--word" or "-" alone
                raw = raw.lstrip("-")
        terms = tuple(analyse(raw))[:MAX_PHRASE_TERMS]
        if terms:
            parts.append((excluded, quoted, terms, raw.casefold()))
    has_content = any(
        not excluded and (quoted or len(terms) > 1 or raw not in STOPWORDS)
        for excluded, quoted, terms, raw in parts
    )
    required: list[Clause] = []
    excluded_clauses: list[Clause] = []
    for excluded, quoted, terms, raw in parts:
        if has_content and not quoted and len(terms) == 1 and raw in STOPWORDS:
            continue
        clause = Clause(terms, excluded)
        target = excluded_clauses if excluded else required
        if clause not in target and len(required) + len(excluded_clauses) < MAX_CLAUSES:
            target.append(clause)
    return ParsedQuery(tuple(required), tuple(excluded_clauses))


# ---------------------------------------------------------------------------------------------
# Highlighting

_SPACE = re.compile(r"\s+")


def _marked(value: str, spans: Iterable[tuple[int, int]], start: int, end: int) -> str:
    """Escaped `value[start:end]` with the `spans` (of matching words, in order, inside it)
    wrapped in <mark>, spaces collapsed."""
    out = []
    position = start
    for span_start, span_end in spans:
        out.append(html.escape(_SPACE.sub(" ", value[position:span_start])))
        out.append(f"<mark>{html.escape(value[span_start:span_end])}</mark>")
        position = span_end
    out.append(html.escape(_SPACE.sub(" ", value[position:end])))
    return "".join(out)


@dataclass(frozen=True)
class _Words:
    """The words of a text, where each starts and ends, and which match the terms."""

    text: list[str]
    starts: list[int]
    ends: list[int]
    marked: list[int]  # the indices of the matching words
    terms_of: dict[str, frozenset[str]]  # matching word -> the terms it matches

    def spans(self, indices: Iterable[int]) -> Iterator[tuple[int, int]]:
        return ((self.starts[index], self.ends[index]) for index in indices)


def _words(value: str, terms: frozenset[str], limit: int) -> _Words:
    """The words of `value[:limit]`. Splitting, summing lengths and picking the matches run in
    C, and each distinct word is analysed once: a long document's snippet took 12 ms when
    every word made a match object and a tuple."""
    pieces = _WORD_PIECES.split(value[:limit])  # text between words, a word, text between...
    ends = list(accumulate(map(len, pieces)))
    words = pieces[1::2]
    terms_of = {word: terms.intersection(_word_terms(word)) for word in set(words)}
    terms_of = {word: found for word, found in terms_of.items() if found}
    marked = list(compress(count(), map(terms_of.__contains__, words)))
    return _Words(words, ends[0:-1:2], ends[1::2], marked, terms_of)


def mark_all(value: str, terms: frozenset[str]) -> str:
    """The whole (short) text escaped, with matching words in <mark>."""
    words = _words(value, terms, len(value))
    return _marked(value, words.spans(words.marked), 0, len(value)).strip()


SNIPPET_SCAN_CHARS = 60_000


def snippet_html(value: str, terms: frozenset[str], words: int = SNIPPET_WORDS) -> str:
    """About `words` words of `value` around its best cluster of matching words, escaped,
    with the matches in <mark> and an ellipsis where text was cut."""
    scanned = _words(value, terms, SNIPPET_SCAN_CHARS)
    total = len(scanned.text)
    if not total:
        return ""
    marked = scanned.marked
    first = 0
    if marked:
        found = [scanned.terms_of[scanned.text[index]] for index in marked]
        best = (-1, -1)
        lead = min(3, words // 4)
        for position, index in enumerate(marked):
            stop = bisect.bisect_left(marked, index + words - lead, position)
            score = (len(set().union(*found[position:stop])), stop - position)
            if score > best:
                best, first = score, max(0, index - lead)
        first = max(0, min(first, total - words))  # near the end: show a full window
    last = min(total, first + words) - 1
    start = 0 if first == 0 else scanned.starts[first]
    end = len(value) if last == total - 1 and len(value) <= SNIPPET_SCAN_CHARS else None
    if end is None:
        end = scanned.ends[last]
    shown = marked[bisect.bisect_left(marked, first) : bisect.bisect_right(marked, last)]
    body = _marked(value, scanned.spans(shown), start, end).strip()
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(value.rstrip()) else ""
    return prefix + body + suffix
