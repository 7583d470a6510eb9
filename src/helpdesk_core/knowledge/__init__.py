"""Knowledge offered to agents and requesters: known errors on problem tickets, knowledge-base
articles, and similar solved tickets."""

from helpdesk_core.knowledge.articles import (
    Article,
    ArticleQuery,
    ArticleStatus,
    article_words,
    check_article_access,
    search_words,
)
from helpdesk_core.knowledge.problems import (
    KNOWLEDGE_ACTOR,
    KnownErrorEntry,
    KnownErrorRecorded,
    KnownErrorUpdated,
    LinkedProblemSolved,
    caused_by,
    known_error_entries,
    record_known_error,
    reopen_known_error,
    resolve_known_error,
    solving_transition,
    update_known_error,
)
from helpdesk_core.knowledge.settings import ON_PROBLEM_SOLVED, KnowledgeSettings
from helpdesk_core.knowledge.similar import STOPWORDS, Match, SimilarityIndex, tokenize
from helpdesk_core.model import KnownError, KnownErrorStatus

__all__ = [
    "KNOWLEDGE_ACTOR",
    "ON_PROBLEM_SOLVED",
    "STOPWORDS",
    "Article",
    "ArticleQuery",
    "ArticleStatus",
    "KnowledgeSettings",
    "KnownError",
    "KnownErrorEntry",
    "KnownErrorRecorded",
    "KnownErrorStatus",
    "KnownErrorUpdated",
    "LinkedProblemSolved",
    "Match",
    "SimilarityIndex",
    "article_words",
    "caused_by",
    "check_article_access",
    "known_error_entries",
    "record_known_error",
    "reopen_known_error",
    "resolve_known_error",
    "search_words",
    "solving_transition",
    "tokenize",
    "update_known_error",
]
