"""Input limits that protect a desk and its store: how long texts may be, how many tags and
custom fields a ticket may carry, and how costly a routing condition may be.

:class:`Limits` is the ``limits`` section of a desk configuration. The facade
(:class:`~helpdesk_core.service.Helpdesk`) checks every command's input against it before
anything is stored; configuration loading checks every condition (routing rules, SLA
policies, escalation triggers) against it.

Every limit has an outer bound that the library keeps whatever a desk says (the ``MAX_*``
constants of the model and of the condition language): a configuration may lower a
limit, and a value above its bound is a :class:`~helpdesk_core.errors.ConfigError`.
Lengths are counted in characters (Unicode code points, ``len(text)``); UTF-8 takes one
to four bytes per character, so a text's stored size is at most four times its length.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
from attrs import field, frozen

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model._validate import (
    MAX_BODY_LENGTH,
    MAX_FIELD_TEXT_LENGTH,
    MAX_FIELDS,
    MAX_TAGS,
)
from helpdesk_core.model.ticket import MAX_SUBJECT_LENGTH
from helpdesk_core.routing import _tree

__all__ = ["Limits"]

#: The outer bound of each limit (a configuration may not go above it).
BOUNDS: dict[str, int] = {
    "max_subject_length": MAX_SUBJECT_LENGTH,
    "max_body_length": MAX_BODY_LENGTH,
    "max_tags": MAX_TAGS,
    "max_fields": MAX_FIELDS,
    "max_field_length": MAX_FIELD_TEXT_LENGTH,
    "max_condition_depth": _tree.MAX_DEPTH,
    "max_regex_length": _tree.MAX_REGEX_LENGTH,
    "max_regex_cost": _tree.MAX_REGEX_COST,
    "regex_scan_length": _tree.MAX_REGEX_SCAN_LENGTH,
}
#: The smallest value of each limit (0 for counts and depth: "none allowed").
_LOWEST = {"max_tags": 0, "max_fields": 0, "max_condition_depth": 0}


def _bounded(instance: Any, attribute: Any, value: Any) -> None:
    name = attribute.name
    lowest = _LOWEST.get(name, 1)
    highest = BOUNDS[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"a limit is a whole number, got {value!r}", path=f"limits.{name}")
    if not lowest <= value <= highest:
        raise ConfigError(
            f"{name} is {lowest} to {highest:,} (the library's outer bound), got {value:,}",
            path=f"limits.{name}",
        )


def _limit(default: int) -> Any:
    return field(default=default, validator=_bounded)


@frozen(kw_only=True)
class Limits:
    """The ``limits`` section of a desk (every field is optional; defaults in brackets).

    - ``max_subject_length`` (1,000): characters of a ticket subject or an article title.
    - ``max_body_length`` (100,000): characters of a description, a reply or note body, a
      resolution, a reason, a rating comment, a known error's symptom, workaround and
      root cause, and an article body.
    - ``max_tags`` (100): tags on one ticket.
    - ``max_fields`` (100): custom fields on one ticket.
    - ``max_field_length`` (10,000): characters of one custom field's text.
    - ``max_condition_depth`` (32): nesting of ``all`` / ``any`` / ``not`` in a condition.
    - ``max_regex_length`` (500): characters of a ``matches`` pattern.
    - ``max_regex_cost`` (100,000,000): the estimated worst-case number of steps a
      ``matches`` pattern may take on ``regex_scan_length`` characters (patterns that can
      take exponential time are refused whatever this says).
    - ``regex_scan_length`` (1,000): characters of a value a ``matches`` test reads (the
      first ones, and the last ones too for patterns that test the end of the text with
      ``$`` or ``\\Z``; anchors keep their meaning where reading stops).

    Each is at most its outer bound (:data:`BOUNDS`); see the module docstring.
    """

    max_subject_length: int = _limit(MAX_SUBJECT_LENGTH)
    max_body_length: int = _limit(100_000)
    max_tags: int = _limit(100)
    max_fields: int = _limit(100)
    max_field_length: int = _limit(10_000)
    max_condition_depth: int = _limit(_tree.MAX_DEPTH)
    max_regex_length: int = _limit(_tree.MAX_REGEX_LENGTH)
    max_regex_cost: int = _limit(_tree.DEFAULT_REGEX_COST)
    regex_scan_length: int = _limit(_tree.DEFAULT_REGEX_SCAN_LENGTH)

    # -- documents --------------------------------------------------------------------

    @classmethod
    def from_dict(cls, doc: Any, *, path: str = "limits") -> Limits:
        """Build from ``{"max_body_length": 50000, ...}`` (unknown keys are refused)."""
        if not isinstance(doc, Mapping):
            raise ConfigError("the limits section is a mapping", path=path)
        names = [a.name for a in attrs.fields(cls)]
        unknown = sorted(str(k) for k in doc if k not in names)
        if unknown:
            raise ConfigError(
                f"unknown limit(s) {', '.join(unknown)} (known: {', '.join(names)})", path=path
            )
        try:
            return cls(**{str(k): v for k, v in doc.items()})
        except ConfigError as exc:
            where = exc.path.replace("limits", path, 1) if exc.path else path
            raise ConfigError(exc.message, path=where) from exc

    def to_dict(self) -> dict[str, int]:
        """The limits that differ from the defaults, as a plain document."""
        default = Limits()
        return {
            a.name: getattr(self, a.name)
            for a in attrs.fields(Limits)
            if getattr(self, a.name) != getattr(default, a.name)
        }

    # -- conditions -------------------------------------------------------------------

    @property
    def bounds(self) -> _tree.Bounds:
        """The condition limits, as the condition language takes them."""
        return _tree.Bounds(
            max_depth=self.max_condition_depth,
            max_regex_length=self.max_regex_length,
            max_regex_cost=self.max_regex_cost,
            regex_scan_length=self.regex_scan_length,
        )

    @contextmanager
    def active(self) -> Iterator[None]:
        """Build conditions under these limits inside the block. Loading a desk
        configuration does this for the conditions of its document; use it for
        conditions built in Python, since ``regex_scan_length`` is fixed when a
        condition is built::

            with limits.active():
                rules = RuleSet.from_dict([...])
        """
        with _tree.using(self.bounds):
            yield

    def check_condition(self, doc: Any, *, path: str) -> None:
        """Raise ConfigError naming the part of the condition (its plain form) that is
        nested too deeply or whose pattern is too long or too costly."""
        with self.active():
            _tree.parse(doc, path)

    # -- input ------------------------------------------------------------------------

    def check_subject(self, value: Any, *, field: str = "subject") -> None:
        """ValidationError when the text is longer than ``max_subject_length``."""
        if value.__class__ is str and len(value) <= self.max_subject_length:
            return  # the usual case, without a call
        _length(value, self.max_subject_length, "max_subject_length", field)

    def check_body(self, value: Any, *, field: str) -> None:
        """ValidationError when the text is longer than ``max_body_length`` (None and
        non-text values pass: the model refuses those with its own message)."""
        if value is None or (value.__class__ is str and len(value) <= self.max_body_length):
            return  # the usual cases, without a call
        _length(value, self.max_body_length, "max_body_length", field)

    def check_tags(self, tags: Any, *, field: str = "tags") -> None:
        """ValidationError when there are more than ``max_tags`` tags (a tag tuple as
        the model holds it)."""
        if isinstance(tags, tuple) and len(tags) > self.max_tags:
            raise ValidationError(
                f"{len(tags):,} tags; the limit is {self.max_tags:,} (limits.max_tags)",
                field=field,
            )

    def check_fields(self, fields: Any, *, field: str = "fields") -> None:
        """ValidationError when there are more than ``max_fields`` custom fields, or a
        field's text (or a whole number's digits) is longer than ``max_field_length``."""
        if not isinstance(fields, Mapping):
            return
        if len(fields) > self.max_fields:
            raise ValidationError(
                f"{len(fields):,} custom fields; the limit is {self.max_fields:,} "
                "(limits.max_fields)",
                field=field,
            )
        for name, value in fields.items():
            where = f"{field}.{name}"
            _length(value, self.max_field_length, "max_field_length", where)
            if isinstance(value, int) and not isinstance(value, bool):
                # Digits are counted without writing them out (a million-digit number
                # would take seconds); a bound, not a count: 1 + bits * log10(2).
                digits = 1 + value.bit_length() * 30103 // 100000
                if digits > min(self.max_field_length, _MAX_DIGITS):
                    raise ValidationError(
                        f"{where} is a whole number of about {digits:,} digits; the limit "
                        f"is {min(self.max_field_length, _MAX_DIGITS):,} digits "
                        "(limits.max_field_length, and what JSON stores hold)",
                        field=where,
                    )


#: The most digits of a whole-number field any store writes (Python's JSON refuses
#: integers of more than 4,300 digits).
_MAX_DIGITS = 4000


def _length(value: Any, limit: int, name: str, field: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        raise ValidationError(
            f"{field} is {len(value):,} characters long; the limit is {limit:,} (limits.{name})",
            field=field,
        )
