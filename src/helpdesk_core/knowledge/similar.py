"""Similar solved tickets and knowledge articles, offered to the agent working a ticket.

:class:`SimilarityIndex` is an in-memory Okapi BM25 index over the words of subjects and
descriptions (titles and bodies for documents), plus boosts for the same category, the same
asset, the same requester organization, the same problem (a ticket's ``caused_by`` links, a
document's problems) and shared tags. Every :class:`Match` says why it was chosen:
``("same category 'network'", "shared words: vpn, timeout")``.

Words are case-folded runs of letters, digits and combining marks of the NFC-normalised
text (see :func:`tokenize`); a short list of English stopwords, one-character words and
words longer than :data:`MAX_WORD_LENGTH` are left out, as the stores' word indexes
leave them out.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, Final

from attrs import field, frozen

from helpdesk_core.errors import NotFound, ValidationError
from helpdesk_core.model import ANONYMISED, LinkKind, Ticket
from helpdesk_core.model import _validate as v

__all__ = ["STOPWORDS", "Match", "SimilarityIndex", "ticket_text", "tokenize"]

#: Words too common to tell tickets apart.
STOPWORDS = frozenset(
    """a about after again all also am an and any are as at be been before but by can
    could did do does doesn don for from get got had has have he her hi hello his how i if
    in into is isn it its just me my no not now of on or our out please she should so
    some still than thank thanks that the their them then there these they this to too
    up us was we were what when where which while who why will with won would you your""".split()  # noqa: SIM905
)


#: Words longer than this are not searchable (:mod:`helpdesk_core.knowledge.articles`
#: re-exports it): the word indexes of the stores leave them out, and so does the
#: similarity index.
MAX_WORD_LENGTH: Final = 64


def _mark_class(*spans: range) -> str:
    """The combining marks (categories Mn, Mc, Me) of this Python's Unicode database
    among the code points of ``spans``, as the ranges of a regular-expression character
    class: ``re`` has no category classes, and its ``\\w`` leaves marks out."""
    is_mark = frozenset({"Mn", "Mc", "Me"}).__contains__
    points = itertools.chain(*spans)
    found = map(is_mark, map(unicodedata.category, map(chr, itertools.chain(*spans))))
    ranges: list[list[int]] = []
    for point in itertools.compress(points, found):
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    return "".join(
        f"\\U{low:08x}" if low == high else f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges
    )


# A word starts with a letter or digit (``[^\W_]``: ``\w`` without the underscore) and
# goes on over letters, digits and combining marks: a mark belongs to the character
# before it (as in UAX #29's word boundaries), so it never starts a word. The pattern is
# runs of letters and digits, each after the first led by marks, matched possessively
# (it never backtracks). ``re`` tests a class of Basic Multilingual Plane characters
# against a bitmap but a class with characters beyond it range by range, so the few
# hundred ranges of marks beyond the BMP are only tried on a character beyond it, and
# nothing is tried on an ASCII character (the end of most words). ASCII text has no
# marks at all: the plain pattern splits it.
_LETTER = r"[^\W_]"
# Unicode assigns marks in planes 0 and 1 and among the variation selectors of plane 14
# only (planes 2 and 3 hold ideographs, 15 and 16 private use, the others nothing):
# scanning those takes a few hundredths of a second, the whole code space ten times as
# long. A test checks the whole code space of the running Python.
_BMP_MARKS = _mark_class(range(0x10000))
_ASTRAL_MARKS = _mark_class(range(0x10000, 0x20000), range(0xE0000, 0xE1000))
_WORD = re.compile(
    f"{_LETTER}++(?:(?![\\x00-\\x7f])(?:[{_BMP_MARKS}]++{_LETTER}*+"
    f"|(?=[\\U00010000-\\U0010ffff])[{_ASTRAL_MARKS}]{_LETTER}*+))*+"
)
_ASCII_WORD = re.compile(f"{_LETTER}+")


def _words(text: str) -> list[str]:
    """The words of ``text``, NFC-normalised (so a word typed precomposed and one sent
    decomposed, as some mail clients do, are one word), case-folded and NFC-normalised
    again (folding may decompose: ``ǰ`` folds to ``j`` and a combining caron)."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower())
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())
    return _WORD.findall(folded)


def tokenize(text: str) -> list[str]:
    """Case-folded words of ``text`` (``Straße`` and ``STRASSE`` are one word) without
    punctuation, stopwords or one-letter words.

    The text is NFC-normalised first, so ``café`` written with a combining acute
    (``cafe\\u0301``) is ``café``. A word is a run of letters, digits and combining marks
    that starts with a letter or digit: ``नमस्ते`` (whose vowel signs and virama are marks)
    is one word. Underscores and everything else separate words. Scripts written without
    spaces between words (Thai, Chinese, Japanese) are not split into words: a run of
    them is one word."""
    v.require(text, str, "text", field="text")
    return [w for w in _words(text) if len(w) > 1 and w not in STOPWORDS]


@frozen(kw_only=True)
class Match:
    """An indexed ticket or document similar to the query, with its score and the reasons
    it was chosen (``kind`` is ``"ticket"``, or the kind a document was added with:
    ``"document"`` by default, ``"article"`` for knowledge-base articles)."""

    id: str
    score: float
    reasons: tuple[str, ...]
    kind: str = "ticket"


_NO_WORDS: dict[str, float] = {}


def _key(value: str | None) -> str | None:
    if value is None:
        return None
    key = value.strip().lower()
    return key or None


class _Doc:
    __slots__ = (
        "asset",
        "category",
        "id",
        "kind",
        "length",
        "organization",
        "problems",
        "tags",
        "terms",
    )

    def __init__(
        self,
        *,
        id: str,
        kind: str,
        text: str,
        category: str | None,
        asset: str | None = None,
        organization: str | None = None,
        tags: Iterable[str] = (),
        problems: Iterable[str] = (),
    ) -> None:
        words = [w for w in tokenize(text) if len(w) <= MAX_WORD_LENGTH]
        self.id = id
        self.kind = kind
        self.terms = Counter(words)
        self.length = len(words)
        self.category = _key(category)
        self.asset = _key(asset)
        self.organization = _key(organization)
        self.tags = frozenset(t for t in (_key(tag) for tag in tags) if t is not None)
        self.problems = frozenset(problems)


def _weight(value: Any, name: str) -> float:
    bad = isinstance(value, bool) or not isinstance(value, int | float)
    if bad or not math.isfinite(float(value) if abs(value) < 2**1023 else math.inf):
        raise ValidationError(f"expected a finite number, got {value!r}", field=name)
    if value < 0:
        raise ValidationError(f"must not be negative, got {value!r}", field=name)
    return float(value)


def ticket_text(ticket: Ticket) -> str:
    """The words a ticket is found by: its subject and description, without what an
    anonymisation put in their place."""
    if ticket.anonymised:
        return ""
    return "\n".join(
        part for part in (ticket.subject, ticket.description) if part and part != ANONYMISED
    )


def _to_problems(value: Any) -> tuple[str, ...]:
    try:
        return v.to_id_tuple(value)
    except ValidationError as exc:
        raise ValidationError(exc.message, field="problems") from None


@frozen(kw_only=True)
class _Document:
    """A knowledge document as given, validated like the model's values."""

    id: str = field(validator=v.identifier)
    title: str = field(validator=v.non_empty_text)
    body: str = field(validator=v.text)
    category: str | None = field(default=None, validator=v.optional_text)
    tags: tuple[str, ...] = field(default=(), converter=v.to_tag_tuple, validator=v.tag_tuple)
    problems: tuple[str, ...] = field(default=(), converter=_to_problems, validator=v.id_tuple)
    kind: str = field(default="document", validator=v.identifier)


@frozen(kw_only=True)
class _Weights:
    k1: float
    b: float
    category: float
    asset: float
    organization: float
    problem: float
    tag: float


class SimilarityIndex:
    """In-memory index of solved tickets and knowledge documents.

    ``k1`` and ``b`` are the BM25 parameters; the boosts are added to the text score when
    the query ticket and an indexed entry share a category, an asset, an organization, a
    problem or (per shared tag) a tag. A ticket's problems are its own id and the tickets
    it is linked ``caused_by`` to, so incidents of one problem find each other, the problem
    and its documents. Adding an id again replaces the entry.
    """

    def __init__(
        self,
        *,
        k1: float = 1.2,
        b: float = 0.75,
        category_boost: float = 2.0,
        asset_boost: float = 3.0,
        organization_boost: float = 1.0,
        tag_boost: float = 0.5,
        max_shared_words: int = 5,
        problem_boost: float = 4.0,
    ) -> None:
        self._weights = _Weights(
            k1=_weight(k1, "k1"),
            b=_weight(b, "b"),
            category=_weight(category_boost, "category_boost"),
            asset=_weight(asset_boost, "asset_boost"),
            organization=_weight(organization_boost, "organization_boost"),
            problem=_weight(problem_boost, "problem_boost"),
            tag=_weight(tag_boost, "tag_boost"),
        )
        if self._weights.b > 1:
            raise ValidationError(f"b is between 0 and 1, got {b}", field="b")
        if isinstance(max_shared_words, bool) or not isinstance(max_shared_words, int):
            raise ValidationError(
                f"expected a whole number, got {max_shared_words!r}", field="max_shared_words"
            )
        if max_shared_words < 1:
            raise ValidationError("must be at least 1", field="max_shared_words")
        self._max_words = max_shared_words
        self._docs: dict[str, _Doc] = {}
        self._postings: dict[str, dict[str, int]] = {}
        self._by: dict[str, dict[str, set[str]]] = {
            "category": {},
            "asset": {},
            "organization": {},
            "problems": {},
            "tags": {},
        }
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._docs)

    def __contains__(self, id: object) -> bool:
        return id in self._docs

    def add(self, ticket: Ticket) -> None:
        """Index a solved (or closed) ticket by its subject, description, category, asset,
        organization and tags. An anonymised ticket is indexed without its text."""
        if not isinstance(ticket, Ticket):
            raise ValidationError(f"expected a Ticket, got {type(ticket).__name__}", field="ticket")
        if ticket.is_active:
            raise ValidationError(
                f"ticket {ticket.id!r} is {ticket.status_category.value}: only solved or "
                "closed tickets are offered as similar",
                field="ticket",
            )
        text = ticket_text(ticket)
        self._put(
            _Doc(
                id=ticket.id,
                kind="ticket",
                text=text,
                category=ticket.category,
                asset=ticket.asset,
                organization=ticket.organization,
                tags=ticket.tags,
                problems=(*ticket.linked(LinkKind.CAUSED_BY), ticket.id),
            )
        )

    def add_document(
        self,
        id: str,
        title: str,
        body: str,
        category: str | None = None,
        tags: Iterable[str] = (),
        *,
        problems: Iterable[str] = (),
        kind: str = "document",
    ) -> None:
        """Index a knowledge document (a KB article, a known error) by its title and body;
        ``problems`` are the ids of the problem tickets it documents, ``kind`` what its
        matches are called."""
        doc = _Document(
            id=id,
            title=title,
            body=body,
            category=category,
            tags=tags,
            problems=problems,
            kind=kind,
        )
        self._put(
            _Doc(
                id=doc.id,
                kind=doc.kind,
                text=f"{doc.title}\n{doc.body}",
                category=doc.category,
                tags=doc.tags,
                problems=doc.problems,
            )
        )

    def remove(self, id: str) -> None:
        """Forget an entry; NotFound if it is not indexed."""
        v.require(id, str, "an entry id (text)", field="id")
        doc = self._docs.pop(id, None)
        if doc is None:
            raise NotFound("similar entry", id)
        for term in doc.terms:
            posting = self._postings[term]
            del posting[id]
            if not posting:
                del self._postings[term]
        for name, values in self._facets(doc):
            for value in values:
                bucket = self._by[name][value]
                bucket.discard(id)
                if not bucket:
                    del self._by[name][value]
        self._total_length -= doc.length

    def _put(self, doc: _Doc) -> None:
        if doc.id in self._docs:
            self.remove(doc.id)
        self._docs[doc.id] = doc
        for term, count in doc.terms.items():
            self._postings.setdefault(term, {})[doc.id] = count
        for name, values in self._facets(doc):
            for value in values:
                self._by[name].setdefault(value, set()).add(doc.id)
        self._total_length += doc.length

    @staticmethod
    def _facets(doc: _Doc) -> list[tuple[str, Iterable[str]]]:
        return [
            ("category", () if doc.category is None else (doc.category,)),
            ("asset", () if doc.asset is None else (doc.asset,)),
            ("organization", () if doc.organization is None else (doc.organization,)),
            ("problems", doc.problems),
            ("tags", doc.tags),
        ]

    def query(
        self, ticket: Ticket, limit: int = 5, *, hidden_tickets: Iterable[str] = ()
    ) -> list[Match]:
        """The ``limit`` entries most similar to ``ticket``, best first (ties by id); the
        ticket itself is never returned.

        ``hidden_tickets`` are the ids of the tickets the reader may not view (as
        :func:`~helpdesk_core.privacy.visible_events` takes them): no match names them.
        An indexed ticket among them is not offered (the ``limit`` counts the matches
        offered; a document is offered whatever its id), and a ``same problem`` reason
        leaves their ids out: a problem shared through one of them still counts, scored
        as before, and the reason reads ``same problem`` when it names no other. A list
        of non-empty ids; one id alone (a ``str``) is refused, as it would be read as its
        characters."""
        if not isinstance(ticket, Ticket):
            raise ValidationError(f"expected a Ticket, got {type(ticket).__name__}", field="ticket")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit < 2**63:
            raise ValidationError(
                f"limit is a whole number >= 1 (64-bit), got {limit!r}", field="limit"
            )
        hidden = v.ticket_id_set(hidden_tickets, field="hidden_tickets")
        ranking = self._ranking(ticket, unnamed=hidden, unoffered=hidden)
        return list(itertools.islice(ranking, limit))

    def _ranking(
        self,
        ticket: Ticket,
        *,
        unnamed: frozenset[str] = frozenset(),
        unoffered: frozenset[str] = frozenset(),
    ) -> Iterator[Match]:
        """Every entry similar to ``ticket``, best first (ties by id), as :meth:`query`
        orders them: the candidates are scored at once, but each :class:`Match`, with its
        reasons, is built only when it is taken (a caller that keeps the first few of
        many candidates pays for those). What is taken stays as the index was at the
        call, whatever is added or removed meanwhile. The reasons never name the
        problems ``unnamed`` holds (tickets the reader may not view): a shared problem
        among those still counts, and its reason reads ``same problem`` without them.
        The indexed tickets ``unoffered`` holds are left out (documents stay)."""
        if not isinstance(ticket, Ticket):
            raise ValidationError(f"expected a Ticket, got {type(ticket).__name__}", field="ticket")
        text = ticket_text(ticket)
        probe = _Doc(
            id=ticket.id,
            kind="ticket",
            text=text,
            category=ticket.category,
            asset=ticket.asset,
            organization=ticket.organization,
            tags=ticket.tags,
            problems=(*ticket.linked(LinkKind.CAUSED_BY), ticket.id),
        )
        words = self._text_scores(probe)
        candidates = set(words)
        for name, values in self._facets(probe):
            for value in values:
                candidates |= self._by[name].get(value, set())
        candidates.discard(ticket.id)
        docs = self._docs
        entries: list[tuple[float, str, _Doc, dict[str, float]]] = []
        for i in candidates:
            doc = docs[i]
            if doc.kind == "ticket" and i in unoffered:
                continue
            shared = words.get(i, _NO_WORDS)
            entries.append((-round(self._score(probe, doc, shared), 6), i, doc, shared))
        return self._taken(probe, ticket, entries, unnamed)

    def _taken(
        self,
        probe: _Doc,
        ticket: Ticket,
        entries: list[tuple[float, str, _Doc, dict[str, float]]],
        unnamed: frozenset[str],
    ) -> Iterator[Match]:
        heapq.heapify(entries)  # ids differ: no two entries compare past the id
        while entries:
            _, _, doc, shared = heapq.heappop(entries)
            yield self._match(probe, ticket, doc, shared, unnamed)

    def _score(self, probe: _Doc, doc: _Doc, words: dict[str, float]) -> float:
        """The score :meth:`_match` gives ``doc``, added up in the same order (the same
        float), without the reasons."""
        weights = self._weights
        score = sum(words.values())
        if probe.category is not None and probe.category == doc.category:
            score += weights.category
        if probe.asset is not None and probe.asset == doc.asset:
            score += weights.asset
        if probe.organization is not None and probe.organization == doc.organization:
            score += weights.organization
        if not probe.problems.isdisjoint(doc.problems):
            score += weights.problem
        tags = len(probe.tags & doc.tags)
        if tags:
            score += weights.tag * tags
        return score

    def _text_scores(self, probe: _Doc) -> dict[str, dict[str, float]]:
        """Per candidate id, the BM25 contribution of each query word it shares."""
        count = len(self._docs)
        if not count:
            return {}
        k1, b = self._weights.k1, self._weights.b
        average = self._total_length / count or 1.0
        out: dict[str, dict[str, float]] = {}
        for term in probe.terms:
            posting = self._postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (count - len(posting) + 0.5) / (len(posting) + 0.5))
            for doc_id, tf in posting.items():
                norm = k1 * (1 - b + b * self._docs[doc_id].length / average)
                out.setdefault(doc_id, {})[term] = idf * tf * (k1 + 1) / (tf + norm)
        return out

    def _match(
        self,
        probe: _Doc,
        ticket: Ticket,
        doc: _Doc,
        words: dict[str, float],
        unnamed: frozenset[str] = frozenset(),
    ) -> Match:
        weights = self._weights
        score = sum(words.values())
        reasons: list[str] = []
        if probe.category is not None and probe.category == doc.category:
            score += weights.category
            reasons.append(f"same category {ticket.category!r}")
        if probe.asset is not None and probe.asset == doc.asset:
            score += weights.asset
            reasons.append(f"same asset {ticket.asset!r}")
        if probe.organization is not None and probe.organization == doc.organization:
            score += weights.organization
            reasons.append(f"same organization {ticket.organization!r}")
        problems = sorted(probe.problems & doc.problems)
        if problems:
            score += weights.problem
            named = [repr(p) for p in problems if p not in unnamed]
            reasons.append(f"same problem {', '.join(named)}" if named else "same problem")
        tags = sorted(probe.tags & doc.tags)
        if tags:
            score += weights.tag * len(tags)
            reasons.append("shared tags: " + ", ".join(tags))
        if words:
            best = sorted(words, key=lambda w: (-words[w], w))[: self._max_words]
            reasons.append("shared words: " + ", ".join(best))
        return Match(id=doc.id, score=round(score, 6), reasons=tuple(reasons), kind=doc.kind)
