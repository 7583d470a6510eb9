"""The SQLite stores find an article by tag exactly when ``ArticleQuery.matches`` does
(MemoryStore's rule), whatever quotes, commas, backslashes, brackets or NULs the tags hold
(the SQLite filter matches the JSON text of the tag list)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from helpdesk_core.knowledge import Article, ArticleQuery
from helpdesk_core.storage import SqliteStore

T0 = datetime(2024, 1, 1, tzinfo=UTC)
# The characters JSON escapes or the filter's needles are made of, and one plain letter.
tag_texts = st.text(alphabet=',"\\[]\x00!b', min_size=1, max_size=3).filter(
    lambda tag: tag == tag.strip()
)
# Single characters, which more often than longer tags occur inside other tags.
characters = st.sampled_from(',"\\[]\x00!b')


@settings(max_examples=200, deadline=None)
@given(
    carried=st.lists(st.lists(tag_texts, max_size=4), min_size=1, max_size=6),
    wanted=st.lists(characters | tag_texts, min_size=1, max_size=3),
)
@example(carried=[["!,", ",b"]], wanted=[","])  # '["!,",",b"]' holds the JSON text of ","
def test_sqlite_finds_the_articles_memory_finds_by_tag(
    carried: list[list[str]], wanted: list[str]
) -> None:
    articles = [
        Article(id=f"KB-{n}", title="t", tags=tags, author="a", created_at=T0, updated_at=T0)
        for n, tags in enumerate(carried)
    ]
    query = ArticleQuery(tag=wanted, limit=100)
    expected = sorted(a.id for a in articles if query.matches(a))
    with SqliteStore(":memory:") as store:
        for article in articles:
            store.save_article(article, expected_version=0)
        assert sorted(a.id for a in store.list_articles(query).items) == expected
