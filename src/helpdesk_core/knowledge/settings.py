"""The ``knowledge`` section of a desk configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from attrs import field, frozen

from helpdesk_core.errors import ConfigError

__all__ = ["ON_PROBLEM_SOLVED", "KnowledgeSettings"]

#: What solving a problem does to the active tickets linked ``caused_by`` to it.
ON_PROBLEM_SOLVED: Final = ("solve", "notify", "none")
_KEYS: Final = ("on_problem_solved", "problem_type", "similar_candidates")


def _choice(instance: Any, attribute: Any, value: Any) -> None:
    if value not in ON_PROBLEM_SOLVED:
        raise ConfigError(
            f"{value!r} is not one of {', '.join(ON_PROBLEM_SOLVED)}",
            path="knowledge.on_problem_solved",
        )


def _type_name(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("a ticket type name is non-empty text", path="knowledge.problem_type")


def _candidates(instance: Any, attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ConfigError(
            f"a whole number from 1 to 1000, got {value!r}", path="knowledge.similar_candidates"
        )


@frozen(kw_only=True)
class KnowledgeSettings:
    """Problem management and similar-ticket settings.

    ``on_problem_solved``: when a problem ticket is solved, ``solve`` its active incidents
    (through their lifecycle; those that cannot be solved are notified, with the reason),
    ``notify`` them (the default), or ``none``. ``problem_type`` is the ticket type that
    carries known-error records. ``similar_candidates`` is how many solved tickets (and
    articles) a store's full-text search hands to the ranking of :meth:`Helpdesk.similar`.
    """

    on_problem_solved: Literal["solve", "notify", "none"] = field(
        default="notify", validator=_choice
    )
    problem_type: str = field(default="problem", validator=_type_name)
    similar_candidates: int = field(default=50, validator=_candidates)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, path: str = "knowledge") -> KnowledgeSettings:
        """Build from ``{"on_problem_solved", "problem_type", "similar_candidates"}``."""
        if not isinstance(doc, Mapping):
            raise ConfigError("the knowledge section is a mapping", path=path)
        unknown = sorted(str(k) for k in set(doc) - set(_KEYS))
        if unknown:
            raise ConfigError(
                f"unknown key(s) {', '.join(unknown)} (known: {', '.join(_KEYS)})", path=path
            )
        return cls(**{str(k): value for k, value in doc.items()})

    def to_dict(self) -> dict[str, Any]:
        """The settings that differ from the defaults, as a plain document."""
        default = KnowledgeSettings()
        return {k: getattr(self, k) for k in _KEYS if getattr(self, k) != getattr(default, k)}
