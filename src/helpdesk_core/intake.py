"""Intake: the questions a category needs answered before work can start.

A category declares typed questions (custom fields). When a ticket is opened, answers are
checked and converted; a missing required answer either refuses the ticket or is listed in
the acknowledgement so the requester can answer it at once (per category).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from attrs import field, frozen

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model._validate import (
    FieldValue,
    as_tuple,
    boolean,
    identifier,
    text,
    to_str_tuple,
    to_text_set,
)

__all__ = ["Category", "IntakeResult", "MissingAnswers", "Question", "QuestionType"]


class QuestionType(StrEnum):
    """The type of an intake answer."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    CHOICE = "choice"


class MissingAnswers(StrEnum):
    """What to do when a required answer is missing."""

    REFUSE = "refuse"
    ASK = "ask"


def _to_question_type(value: Any) -> QuestionType:
    try:
        return QuestionType(value)
    except ValueError as exc:
        choices = ", ".join(t.value for t in QuestionType)
        raise ConfigError(
            f"unknown question type {value!r} (choose from {choices})", path="type"
        ) from exc


def _to_missing(value: Any) -> MissingAnswers:
    try:
        return MissingAnswers(value)
    except ValueError as exc:
        raise ConfigError(
            f"on_missing must be 'refuse' or 'ask', got {value!r}", path="on_missing"
        ) from exc


@frozen(kw_only=True)
class Question:
    """One intake question: the custom field ``name`` it fills, its ``type``, the allowed
    ``choices`` (for ``choice``), whether it is ``required``, the ``prompt`` shown to the
    requester, and whether the answer is ``personal`` data (anonymised on retention)."""

    name: str = field(validator=identifier)
    type: QuestionType = field(default=QuestionType.TEXT, converter=_to_question_type)
    prompt: str = field(default="", validator=text)
    required: bool = field(default=False, validator=boolean)
    choices: tuple[str, ...] = field(default=(), converter=to_str_tuple)
    personal: bool = field(default=False, validator=boolean)

    def __attrs_post_init__(self) -> None:
        if self.type is QuestionType.CHOICE and not self.choices:
            raise ConfigError(f"question {self.name!r} of type choice needs choices")
        if self.type is not QuestionType.CHOICE and self.choices:
            raise ConfigError(f"question {self.name!r} has choices but is of type {self.type}")
        for choice in self.choices:
            if not choice.strip():
                # a blank answer is no answer: the choice could never be picked
                raise ConfigError(
                    f"question {self.name!r} has a blank choice, which no answer can pick",
                    path="choices",
                )
        # Choices are told apart as answers are (see convert): one that another reads as
        # could never be picked.
        keys = [_choice_key(c) for c in self.choices]
        if len(set(keys)) != len(keys):
            pairs = zip(self.choices, keys, strict=True)
            twice = sorted({c for c, k in pairs if keys.count(k) > 1})
            raise ConfigError(
                f"question {self.name!r} lists the choice(s) {', '.join(map(repr, twice))} "
                "more than once",
                path="choices",
            )

    def convert(self, value: Any) -> FieldValue:
        """Check and convert one answer; raise ValidationError naming the question."""
        where = f"fields.{self.name}"
        if self.type is QuestionType.TEXT:
            if not isinstance(value, str):
                raise ValidationError(f"expected text, got {type(value).__name__}", field=where)
            return value
        if self.type is QuestionType.BOOL:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("yes", "true", "no", "false"):
                return value.strip().lower() in ("yes", "true")
            raise ValidationError(f"expected yes/no, got {value!r}", field=where)
        if self.type is QuestionType.INT:
            if isinstance(value, bool):
                raise ValidationError(f"expected a whole number, got {value!r}", field=where)
            if isinstance(value, int):
                return value
            if isinstance(value, str):
                try:
                    return int(value.strip())
                except ValueError:
                    pass
            raise ValidationError(f"expected a whole number, got {value!r}", field=where)
        if self.type is QuestionType.FLOAT:
            number: float | None = None
            if isinstance(value, float):
                number = value
            elif isinstance(value, int) and not isinstance(value, bool):
                number = float(value) if abs(value) < 2**1023 else None
            elif isinstance(value, str):
                try:
                    number = float(value.strip())
                except (ValueError, OverflowError):
                    number = None
            if number is None or not math.isfinite(number):
                raise ValidationError(f"expected a number, got {value!r}", field=where)
            return number
        if isinstance(value, str):
            # Read as the other types are: without surrounding blanks, and the same text
            # whichever Unicode form it comes in ("è" as one character or as "e" and a
            # combining grave accent); the answer is the choice as configured.
            typed = _choice_key(value)
            for choice in self.choices:
                if _choice_key(choice) == typed:
                    return choice
        raise ValidationError(
            f"{value!r} is not one of {', '.join(map(repr, self.choices))}", field=where
        )


def _choice_key(text: str) -> str:
    """What a choice answer is matched by: its text without surrounding blanks, in NFC."""
    return unicodedata.normalize("NFC", text.strip())


@frozen
class IntakeResult:
    """Converted answers and the required questions still unanswered."""

    fields: Mapping[str, FieldValue] = field(hash=False)
    missing: tuple[Question, ...]


def _to_questions(value: Any) -> tuple[Question, ...]:
    items = as_tuple(value, field="questions", what="a list of questions")
    for item in items:
        if not isinstance(item, Question):
            raise ValidationError(
                f"expected a Question, got {type(item).__name__}", field="questions"
            )
    return items


@frozen(kw_only=True)
class Category:
    """A ticket category with its intake questions and missing-answer policy."""

    name: str = field(validator=identifier)
    questions: tuple[Question, ...] = field(default=(), converter=_to_questions)
    on_missing: MissingAnswers = field(default=MissingAnswers.ASK, converter=_to_missing)
    skills: frozenset[str] = field(factory=frozenset, converter=to_text_set)

    def __attrs_post_init__(self) -> None:
        names = [q.name for q in self.questions]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ConfigError(
                f"category {self.name!r} asks {', '.join(duplicates)} more than once"
            )

    def check(self, answers: Mapping[str, Any]) -> IntakeResult:
        """Convert the answers this category asks for (other fields pass through) and list
        the required questions left unanswered. Raises ValidationError when answers are
        missing and the category refuses such tickets."""
        if not isinstance(answers, Mapping):
            raise ValidationError(
                f"answers map question names to values, got {type(answers).__name__}",
                field="fields",
            )
        converted: dict[str, FieldValue] = dict(answers)
        missing: list[Question] = []
        for question in self.questions:
            value = answers.get(question.name)
            if value is None or (isinstance(value, str) and not value.strip()):
                converted.pop(question.name, None)
                if question.required:
                    missing.append(question)
                continue
            converted[question.name] = question.convert(value)
        if missing and self.on_missing is MissingAnswers.REFUSE:
            names = ", ".join(q.name for q in missing)
            raise ValidationError(
                f"category {self.name!r} needs an answer to: {names}",
                field=f"fields.{missing[0].name}",
            )
        return IntakeResult(fields=converted, missing=tuple(missing))

    @classmethod
    def from_dict(cls, name: str, doc: Any, *, path: str = "categories") -> Category:
        """Build from ``{"questions": [...], "on_missing": "ask", "skills": [...]}``."""
        where = f"{path}.{name}"
        if doc is None:
            doc = {}
        if not isinstance(doc, Mapping):
            raise ConfigError("a category is a mapping", path=where)
        unknown = set(doc) - {"questions", "on_missing", "skills"}
        if unknown:
            raise ConfigError(f"unknown key(s) {', '.join(sorted(map(str, unknown)))}", path=where)
        questions: list[Question] = []
        raw_questions = doc.get("questions", [])
        if not isinstance(raw_questions, Sequence) or isinstance(raw_questions, str):
            raise ConfigError("questions must be a list", path=f"{where}.questions")
        for index, raw in enumerate(raw_questions):
            qpath = f"{where}.questions[{index}]"
            if not isinstance(raw, Mapping):
                raise ConfigError("a question is a mapping", path=qpath)
            unknown = set(raw) - {"name", "type", "prompt", "required", "choices", "personal"}
            if unknown:
                keys = ", ".join(sorted(map(str, unknown)))
                raise ConfigError(f"unknown key(s) {keys}", path=qpath)
            if "name" not in raw:
                raise ConfigError("a question needs a name", path=f"{qpath}.name")
            try:
                questions.append(Question(**raw))
            except ValidationError as exc:
                raise ConfigError(exc.message, path=_join(qpath, exc.field)) from exc
            except TypeError as exc:
                raise ConfigError(str(exc), path=qpath) from exc
        try:
            skills = to_text_set(doc.get("skills", ()))
        except ValidationError as exc:
            raise ConfigError(exc.message, path=f"{where}.skills") from exc
        try:
            return cls(
                name=name,
                questions=tuple(questions),
                on_missing=doc.get("on_missing", "ask"),
                skills=skills,
            )
        except ValidationError as exc:
            raise ConfigError(exc.message, path=_join(where, exc.field)) from exc

    def to_dict(self) -> dict[str, Any]:
        """Plain data form (see :meth:`from_dict`)."""
        out: dict[str, Any] = {"on_missing": self.on_missing.value}
        if self.skills:
            out["skills"] = sorted(self.skills)
        out["questions"] = [
            {
                "name": q.name,
                "type": q.type.value,
                "prompt": q.prompt,
                "required": q.required,
                **({"choices": list(q.choices)} if q.choices else {}),
                **({"personal": True} if q.personal else {}),
            }
            for q in self.questions
        ]
        return out


def _join(path: str, field: str | None) -> str:
    return f"{path}.{field}" if field else path
