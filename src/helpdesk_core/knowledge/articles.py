"""Knowledge-base articles: the value, the query, and the word rules every store shares.

An :class:`Article` is written by agents (``author``), may document problem tickets
(``problems``: their ids), and is ``published`` (requesters may read it) or ``retired``
(kept, shown to agents only). Stores keep articles (``Store.save_article`` ...) with an
optimistic ``version`` check like tickets.

Search works on **words**: case-folded runs of letters, digits and combining marks of the
NFC-normalised title, body and tags (``Straße`` and ``STRASSE`` are one word, so are
``café`` typed precomposed and decomposed, and ``नमस्ते`` is one word), without stopwords,
one-character words or words longer than :data:`MAX_WORD_LENGTH`; see :func:`search_words`.
An :class:`ArticleQuery` with ``text`` matches the articles that have all (``match="all"``)
or any (``match="any"``) of the text's words, exactly, in every store; stores rank the
matches with their own full-text ranking (SQLite FTS5 ``bm25()``, PostgreSQL
``ts_rank``, Okapi BM25 in memory).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Literal

from attrs import field, frozen

from helpdesk_core.errors import AccessDenied, ValidationError
from helpdesk_core.knowledge.similar import MAX_WORD_LENGTH, tokenize
from helpdesk_core.model import Actor, ActorKind, Agent
from helpdesk_core.model import _validate as v
from helpdesk_core.model.enums import _ParseMixin

__all__ = [
    "MAX_ARTICLE_BODY",
    "MAX_ARTICLE_PROBLEMS",
    "MAX_ARTICLE_TAGS",
    "MAX_ARTICLE_TITLE",
    "MAX_QUERY_WORDS",
    "MAX_WORD_LENGTH",
    "Article",
    "ArticleQuery",
    "ArticleStatus",
    "article_words",
    "check_article_access",
    "rank_articles",
    "search_words",
]

#: Longest title, in characters.
MAX_ARTICLE_TITLE: Final = 300
#: Longest body, in characters.
MAX_ARTICLE_BODY: Final = 100_000
#: Most tags and most linked problems an article may have.
MAX_ARTICLE_TAGS: Final = 50
MAX_ARTICLE_PROBLEMS: Final = 100
#: Only the first distinct words of a query text are searched for.
MAX_QUERY_WORDS: Final = 32


def search_words(text: str) -> list[str]:
    """The searchable words of ``text``, in order (repeats kept): its words as
    :func:`~helpdesk_core.knowledge.tokenize` splits them, up to
    :data:`MAX_WORD_LENGTH` characters long."""
    v.require(text, str, "text", field="text")
    return [w for w in tokenize(text) if len(w) <= MAX_WORD_LENGTH]


class ArticleStatus(_ParseMixin):
    """``published``: everybody may read it; ``retired``: kept for agents only."""

    PUBLISHED = "published"
    RETIRED = "retired"


def to_article_status(value: Any) -> ArticleStatus:
    """Parse an article status."""
    return ArticleStatus.parse(value, field="status")


def _limit_length(limit: int) -> Any:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None and len(value) > limit:
            raise ValidationError(
                f"{len(value)} long; at most {limit}", field=attribute.name.lstrip("_")
            )

    return check


def _to_problems(value: Any) -> tuple[str, ...]:
    try:
        items = v.to_id_tuple(value)
    except ValidationError as exc:
        raise ValidationError(exc.message, field="problems") from None
    for item in items:
        if not isinstance(item, str):
            raise ValidationError(f"a problem is a ticket id, got {item!r}", field="problems")
    return tuple(sorted(items))


def _version(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"version is a whole number >= 1, got {value!r}", field="version")


@frozen(kw_only=True)
class Article:
    """A knowledge-base article.

    ``problems`` are the ids of the problem tickets it documents (sorted); ``author`` the
    agent who wrote it; ``version`` counts its saved versions (1 when published).
    """

    id: str = field(validator=v.identifier)
    title: str = field(validator=[v.non_empty_text, _limit_length(MAX_ARTICLE_TITLE)])
    body: str = field(default="", validator=[v.text, _limit_length(MAX_ARTICLE_BODY)])
    tags: tuple[str, ...] = field(
        default=(),
        converter=v.to_tag_tuple,
        validator=[v.tag_tuple, _limit_length(MAX_ARTICLE_TAGS)],
    )
    category: str | None = field(
        default=None, validator=[v.optional_text, _limit_length(v.MAX_ID_LENGTH)]
    )
    problems: tuple[str, ...] = field(
        default=(),
        converter=_to_problems,
        validator=[v.id_tuple, _limit_length(MAX_ARTICLE_PROBLEMS)],
    )
    status: ArticleStatus = field(default=ArticleStatus.PUBLISHED, converter=to_article_status)
    author: str = field(validator=v.identifier)
    created_at: datetime = field(converter=v.to_utc, validator=v.aware)
    updated_at: datetime = field(converter=v.to_utc, validator=v.aware)
    version: int = field(default=1, validator=_version)

    def __attrs_post_init__(self) -> None:
        if self.updated_at < self.created_at:
            raise ValidationError(
                "an article is updated at or after it was created", field="updated_at"
            )

    @property
    def is_published(self) -> bool:
        """True when requesters may read it."""
        return self.status is ArticleStatus.PUBLISHED


def article_words(article: Article) -> list[str]:
    """The searchable words of an article: its title, body and tags."""
    v.require(article, Article, "an Article", field="article")
    return search_words(f"{article.title}\n{article.body}\n{' '.join(article.tags)}")


# ---------------------------------------------------------------------------- queries


def text_filter(value: Any, name: str) -> tuple[str, ...] | None:
    """A query filter on text values (the filters of :class:`ArticleQuery` and
    :class:`~helpdesk_core.storage.TicketQuery`): None for any, one text or a non-empty
    list of texts as a tuple; ValidationError naming ``name`` otherwise."""
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else value
    try:
        out = tuple(items)
    except TypeError:
        raise ValidationError(
            f"expected text or a list of text, got {type(value).__name__}", field=name
        ) from None
    if not out:
        raise ValidationError("an empty list matches nothing; use None for any", field=name)
    for item in out:
        if not isinstance(item, str):
            raise ValidationError(f"expected text, got {item!r}", field=name)
        v.check_unicode(item, name)
    return out


def _categories(value: Any) -> tuple[str, ...] | None:
    return text_filter(value, "category")


def _tags(value: Any) -> tuple[str, ...] | None:
    return text_filter(value, "tag")


def _problem_ids(value: Any) -> tuple[str, ...] | None:
    return text_filter(value, "problem")


def _authors(value: Any) -> tuple[str, ...] | None:
    return text_filter(value, "author")


def _statuses(value: Any) -> tuple[ArticleStatus, ...] | None:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else value
    try:
        out = tuple(ArticleStatus.parse(item, field="status") for item in items)
    except TypeError:
        raise ValidationError(
            f"expected a status or a list of them, got {type(value).__name__}", field="status"
        ) from None
    if not out:
        raise ValidationError("an empty list matches nothing; use None for any", field="status")
    return out


def _query_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"expected text, got {type(value).__name__}", field="text")
    if len(value) > MAX_ARTICLE_BODY:
        raise ValidationError(f"at most {MAX_ARTICLE_BODY} characters", field="text")
    v.check_unicode(value, "text")
    return value


def _match(instance: Any, attribute: Any, value: Any) -> None:
    if value not in ("all", "any"):
        raise ValidationError(f"match is 'all' or 'any', got {value!r}", field="match")


def _bounded(low: int, high: int | None) -> Any:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            span = f"{low} to {high}" if high is not None else f">= {low}"
            raise ValidationError(
                f"{attribute.name} is a whole number {span}, got {value!r}", field=attribute.name
            )

    return check


@frozen(kw_only=True)
class ArticleQuery:
    """Which articles to find, and which page.

    ``text`` keeps the articles having all (``match="all"``, the default) or any
    (``match="any"``) of its words (:func:`search_words`; a text without searchable words
    matches nothing). ``status`` defaults to published articles only (None: any status).
    ``category``, ``tag``, ``problem`` and ``author`` match any of their values (``tag``
    and ``problem``: articles carrying any of them). ``limit`` is 1 to 1000; ``offset``
    fits in 64 bits, as every store can take it.
    """

    text: str | None = field(default=None, converter=_query_text)
    match: Literal["all", "any"] = field(default="all", validator=_match)
    status: tuple[ArticleStatus, ...] | None = field(
        default=(ArticleStatus.PUBLISHED,), converter=_statuses
    )
    category: tuple[str, ...] | None = field(default=None, converter=_categories)
    tag: tuple[str, ...] | None = field(default=None, converter=_tags)
    problem: tuple[str, ...] | None = field(default=None, converter=_problem_ids)
    author: tuple[str, ...] | None = field(default=None, converter=_authors)
    limit: int = field(default=50, validator=_bounded(1, 1000))
    offset: int = field(default=0, validator=_bounded(0, 2**63 - 1))

    @property
    def words(self) -> tuple[str, ...]:
        """The distinct searchable words of ``text`` (at most :data:`MAX_QUERY_WORDS`)."""
        if self.text is None:
            return ()
        return tuple(dict.fromkeys(search_words(self.text)))[:MAX_QUERY_WORDS]

    def matches(self, article: Article, words: Iterable[str] | None = None) -> bool:
        """True when ``article`` passes every filter (the reference semantics).
        ``words`` are the article's searchable words when already at hand."""
        if self.status is not None and article.status not in self.status:
            return False
        if self.category is not None and article.category not in self.category:
            return False
        if self.author is not None and article.author not in self.author:
            return False
        if self.tag is not None and not any(t in article.tags for t in self.tag):
            return False
        if self.problem is not None and not any(p in article.problems for p in self.problem):
            return False
        if self.text is None:
            return True
        wanted = self.words
        if not wanted:
            return False
        have = set(article_words(article) if words is None else words)
        if self.match == "all":
            return all(w in have for w in wanted)
        return any(w in have for w in wanted)


def rank_articles(
    words: Sequence[str], docs: Mapping[str, Counter[str]], candidates: Iterable[str]
) -> list[str]:
    """Okapi BM25 order (best first, ties by id) of the ``candidates`` among ``docs`` (id →
    word counts of every article of the store, the corpus) for the query ``words``."""
    count = len(docs)
    if not count:
        return []
    average = sum(sum(c.values()) for c in docs.values()) / count or 1.0
    k1, b = 1.2, 0.75
    frequency = {w: sum(1 for c in docs.values() if w in c) for w in words}
    scored: list[tuple[float, str]] = []
    for doc_id in candidates:
        terms = docs[doc_id]
        length = sum(terms.values())
        score = 0.0
        for word in words:
            tf = terms.get(word, 0)
            if not tf:
                continue
            df = frequency[word]
            idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average))
        scored.append((-score, doc_id))
    scored.sort()
    return [doc_id for _, doc_id in scored]


# ---------------------------------------------------------------------------- access


def check_article_access(
    actor: Actor, *, action: Literal["read", "write"], article: Article | None, agent: Agent | None
) -> None:
    """Agents write and read every article; requesters read published ones only;
    automation does everything. ``agent`` is the acting agent's record (for agents).
    Raise AccessDenied naming the identity and the action otherwise."""
    if not isinstance(actor, Actor):
        raise ValidationError(f"expected an Actor, got {type(actor).__name__}", field="actor")
    if action not in ("read", "write"):
        raise ValidationError(f"action is 'read' or 'write', got {action!r}", field="action")
    if article is not None and not isinstance(article, Article):
        raise ValidationError(
            f"expected an Article or None, got {type(article).__name__}", field="article"
        )
    if actor.kind is ActorKind.SYSTEM:
        return
    target = f"article {article.id!r}" if article is not None else "articles"
    if actor.kind is ActorKind.AGENT:
        if agent is None or agent.id != actor.id:
            reason = f"agent {actor.id!r} is not known"
        elif not agent.active:
            reason = f"agent {agent.id!r} is inactive"
        else:
            return
    elif action == "write":
        reason = "only agents write articles"
    elif article is not None and not article.is_published:
        reason = f"article {article.id!r} is {article.status.value}"
    else:
        return
    raise AccessDenied(
        f"{actor} may not {action} {target}: {reason}", identity=str(actor), action=action
    )
