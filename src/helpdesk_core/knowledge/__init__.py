"""Knowledge offered to agents: similar solved tickets and knowledge documents."""

from helpdesk_core.knowledge.similar import STOPWORDS, Match, SimilarityIndex, tokenize

__all__ = ["STOPWORDS", "Match", "SimilarityIndex", "tokenize"]
