"""What the stores share to keep knowledge-base articles and search words (private).

Articles are stored as JSON text written through the codec. Their searchable words
(:func:`~helpdesk_core.knowledge.articles.article_words`) are computed here, in Python, and
handed to each database already split: SQLite indexes them with an FTS5 table whose
``ascii`` tokenizer keeps each word whole, PostgreSQL as a ``tsvector`` literal that no
text-search parser touches. So a word matches the same articles in every store. The words
of solved and closed tickets, which ``similar()`` asks the stores for, are split the same
way (:func:`solved_word_list`) and kept alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from helpdesk_core.codec import converter, structure, unstructure
from helpdesk_core.errors import StorageError, ValidationError
from helpdesk_core.knowledge.articles import (
    Article,
    ArticleQuery,
    ArticleStatus,
    article_words,
    search_words,
)
from helpdesk_core.knowledge.similar import ticket_text
from helpdesk_core.model import ANONYMISED, Ticket
from helpdesk_core.storage.codecs import dumps, escape_nul, loads

__all__ = [
    "SOLVED_SQL",
    "article_filters",
    "decode_article",
    "encode_article",
    "fts5_query",
    "snapshot_text",
    "snapshot_words",
    "solved_word_list",
    "solved_word_text",
    "solved_words",
    "tsquery",
    "tsvector",
    "word_counts",
]

converter.register_unstructure_hook(ArticleStatus, lambda status: status.value)

#: The solved status categories as an SQL list literal (fixed identifiers).
SOLVED_SQL = "('solved', 'closed')"

# A lexeme keeps at most 256 positions, each at most 16383 (PostgreSQL's limits).
_MAX_POSITIONS = 256
_MAX_POSITION = 16383


def encode_article(article: Article) -> str:
    """An article as JSON text (through the converter)."""
    return dumps(unstructure(article))


def decode_article(text: str | bytes) -> Article:
    """A stored article back (validated)."""
    try:
        data: Any = loads(text) if isinstance(text, str) else loads(text.decode("utf-8"))
    except ValueError as exc:
        raise StorageError(f"a stored article is not valid JSON: {exc}") from exc
    try:
        return structure(data, Article)
    except ValidationError as exc:
        raise StorageError(f"a stored article cannot be read: {exc}") from exc


def word_counts(article: Article) -> Counter[str]:
    """How often each searchable word occurs in the article."""
    return Counter(article_words(article))


def fts5_query(words: tuple[str, ...] | list[str], match: str) -> str:
    """An FTS5 query for ``words``: each a quoted string, joined by AND or OR."""
    joiner = " AND " if match == "all" else " OR "
    return joiner.join('"' + word.replace('"', '""') + '"' for word in words)


def _lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(words: list[str]) -> str:
    """A PostgreSQL ``tsvector`` literal of ``words`` with their positions (1-based)."""
    positions: dict[str, list[int]] = {}
    for index, word in enumerate(words, start=1):
        found = positions.setdefault(word, [])
        if len(found) < _MAX_POSITIONS:
            found.append(min(index, _MAX_POSITION))
    return " ".join(
        f"{_lexeme(word)}:{','.join(str(p) for p in sorted(set(found)))}"
        for word, found in positions.items()
    )


def solved_word_list(status_category: str, text: str) -> list[str] | None:
    """The words a solved or closed ticket is found by in a store's word index (None for
    other tickets): the :func:`search_words` of the first 100,000 characters of ``text``,
    the ticket's :func:`~helpdesk_core.knowledge.ticket_text` (schema version 15 on; its
    case-folded search text before), which the in-memory index splits too."""
    if status_category not in ("solved", "closed"):
        return None
    return search_words(text[:_MAX_SOLVED_TEXT])


def snapshot_words(snapshot: Ticket, form: Callable[[list[str]], str]) -> str | None:
    """The ``tickets.solved_words`` value of a ticket row, ``form`` (a store's way of
    writing a word list) of :func:`solved_word_list`: None for a ticket neither solved
    nor closed, whose text is not read."""
    category = snapshot.status_category.value
    if category not in ("solved", "closed"):
        return None
    return form(search_words(ticket_text(snapshot)[:_MAX_SOLVED_TEXT]))


def solved_words(status_category: str, text: str) -> str | None:
    """The ``tickets.solved_words`` value of PostgreSQL (schema version 9 on): a tsvector
    literal of :func:`solved_word_list`, so that a host name, an address or a path is
    split into the words :func:`search_words` finds (PostgreSQL's own parser keeps them
    whole)."""
    words = solved_word_list(status_category, text)
    return None if words is None else tsvector(words)


def solved_word_text(status_category: str, text: str) -> str | None:
    """The ``tickets.solved_words`` value of SQLite (schema version 15 on): the words of
    :func:`solved_word_list` joined by spaces, which the FTS5 ``ascii`` tokenizer keeps
    whole (it splits at ASCII spaces and punctuation, which no word holds)."""
    words = solved_word_list(status_category, text)
    return None if words is None else " ".join(words)


def snapshot_text(data: Any) -> str:
    """:func:`~helpdesk_core.knowledge.ticket_text` of a ticket from its stored snapshot
    (decoded JSON, as the migrations read it): the subject and description, nothing of
    an anonymised ticket or of what an anonymisation put in their place."""
    if data.get("anonymised") is True:
        return ""
    parts = (data.get("subject"), data.get("description"))
    return "\n".join(p for p in parts if isinstance(p, str) and p and p != ANONYMISED)


#: The characters of a ticket's text its solved words are taken from.
_MAX_SOLVED_TEXT = 100_000


def tsquery(words: tuple[str, ...] | list[str], match: str) -> str:
    """A PostgreSQL ``tsquery`` literal: the words (as lexemes) joined by ``&`` or ``|``."""
    joiner = " & " if match == "all" else " | "
    return joiner.join(_lexeme(word) for word in words)


def article_filters(
    query: ArticleQuery, *, postgres: bool, prefix: str = ""
) -> tuple[str, list[Any]]:
    """``(sql, params)``: the WHERE clause of the query's filters other than its text
    (``?`` placeholders; ``prefix`` qualifies the article columns)."""
    clauses: list[str] = []
    params: list[Any] = []

    def text(value: str) -> str:
        return escape_nul(value) if postgres else value

    def any_of(column: str, values: tuple[str, ...] | None) -> None:
        if values is not None:
            clauses.append(f"{prefix}{column} IN ({', '.join('?' * len(values))})")
            params.extend(text(value) for value in values)

    def any_in(column: str, values: tuple[str, ...] | None) -> None:
        if values is None:
            return
        if postgres:
            clauses.append(f"{prefix}{column} && ?::text[]")
            params.append([text(value) for value in values])
        else:
            # The column is the JSON list ``dumps`` wrote, its brackets made into '",'
            # and ',"'. A value is looked for as '","' + its JSON text + '","'. The
            # needle's third character is a quote after a comma, so not an escaped one:
            # an element's opening quote, after which the value's text must be the whole
            # element; or an element's closing quote, after which the value must be ","
            # and the next element "," (so the value is there all the same). (Looking for
            # ',"' + text + '",' found "," in an article tagged "!," and ",b".)
            # ``json_each`` of the column would not do: SQLite's JSON functions end a
            # string at ``\u0000``, reading "ab\x00cd" as "ab". The needles hold no NUL
            # (it is escaped), so they are handed over as one JSON list.
            column_text = f"{prefix}{column}"
            listed = f"'\",' || substr({column_text}, 2, length({column_text}) - 2) || ',\"'"
            clauses.append(f"EXISTS (SELECT 1 FROM json_each(?) WHERE instr({listed}, value) > 0)")
            params.append(dumps([f'",{dumps(value)},"' for value in values]))

    statuses = None if query.status is None else tuple(s.value for s in query.status)
    any_of("status", statuses)
    any_of("category", query.category)
    any_of("author", query.author)
    any_in("tags", query.tag)
    any_in("problems", query.problem)
    return (" AND ".join(clauses) or "1 = 1"), params
