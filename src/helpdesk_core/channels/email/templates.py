"""Message templates: ``str.format`` strings with named fields, per language and per team.

Defaults exist in English and German. Override any template for a language
(``languages={"fr": {...}}``) or for a team in a language
(``teams={"network": {"en": {...}}}``). Lookup for (team, language) tries the team's
template in that language, the desk template in that language, then both in the fallback
language. Every template is checked when built: an unknown key, a field the template
cannot have, or a conversion or format spec the field's value cannot take is a
``ConfigError`` naming the language, team and key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Formatter
from typing import Any

from attrs import field, frozen

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model._validate import require

__all__ = ["DEFAULT_TEMPLATES", "FIELDS", "Templates", "normalize_language"]

_COMMON = frozenset(
    {"desk_name", "number", "token", "subject", "ticket_id", "requester_name", "marker"}
)

#: The fields each template may use.
FIELDS: Mapping[str, frozenset[str]] = {
    "ack.subject": _COMMON,
    "ack.body": _COMMON | {"due_text", "questions"},
    "ack.questions": frozenset({"items"}),
    "ack.no_due": frozenset(),
    "due": frozenset({"weekday", "date", "time", "duration"}),
    "due.far": frozenset({"weekday", "date", "time", "duration"}),
    "weekdays": frozenset(),
    "reply.subject": _COMMON | {"author"},
    "reply.body": _COMMON | {"author", "body"},
    "solved.subject": _COMMON,
    "solved.body": _COMMON | {"resolution", "csat_url"},
    "problem.subject": _COMMON | {"problem_number"},
    "problem.body": _COMMON | {"problem_number", "resolution"},
    "problem.resolution": frozenset({"resolution"}),
    "alert.subject": _COMMON | {"alert", "metric", "priority"},
    "alert.body": _COMMON | {"alert", "metric", "priority", "deadline", "team", "agent_name"},
    "alert.warning": frozenset(),
    "alert.breached": frozenset(),
    "escalation.subject": _COMMON | {"level"},
    "escalation.body": _COMMON | {"level", "reason", "team", "agent_name"},
}

_EN: dict[str, str] = {
    "ack.subject": "{token} {subject}",
    "ack.body": (
        "{marker}\n\n"
        "Hello {requester_name},\n\n"
        'thank you for your message. We opened ticket {token} "{subject}" for it.\n'
        "You can expect a first answer {due_text}.\n"
        "{questions}\n"
        "Reply to this email to add anything; keep {token} in the subject.\n\n"
        "{desk_name}"
    ),
    "ack.questions": "\nTo help us get going, please answer in your reply:\n{items}\n",
    "ack.no_due": "as soon as possible",
    "due": "by {weekday} {time} (in {duration})",
    "due.far": "by {weekday} {date} {time} (in {duration})",
    "weekdays": "Mon Tue Wed Thu Fri Sat Sun",
    "reply.subject": "Re: {token} {subject}",
    "reply.body": "{marker}\n\n{body}\n\n{author}\n{desk_name}",
    "solved.subject": "Solved: {token} {subject}",
    "solved.body": (
        "Hello {requester_name},\n\n"
        'we have solved ticket {token} "{subject}":\n\n{resolution}\n\n'
        "If the problem persists, reply to this email and the ticket reopens.\n"
        "How did we do? Rate our help: {csat_url}\n\n"
        "{desk_name}"
    ),
    "problem.subject": "Cause solved: {token} {subject}",
    "problem.body": (
        "{marker}\n\n"
        "Hello {requester_name},\n\n"
        'we have solved the underlying problem that caused your ticket {token} "{subject}".\n'
        "{resolution}\n"
        "Please check whether everything works for you again. If it does not, reply to this "
        "email and keep {token} in the subject.\n\n"
        "{desk_name}"
    ),
    "problem.resolution": "\nWhat we did:\n\n{resolution}\n",
    "alert.subject": "SLA {alert}: {token} {subject} ({metric})",
    "alert.body": (
        "Hello {agent_name},\n\n"
        'ticket {token} "{subject}" (team {team}, priority {priority}): the {metric} '
        "target {alert}.\nDeadline: {deadline}\n\n{desk_name}"
    ),
    "alert.warning": "is close",
    "alert.breached": "was breached",
    "escalation.subject": "Escalation level {level}: {token} {subject}",
    "escalation.body": (
        "Hello {agent_name},\n\n"
        'ticket {token} "{subject}" of team {team} was raised to escalation level '
        "{level}.\nReason: {reason}\n\n{desk_name}"
    ),
}

_DE: dict[str, str] = {
    "ack.subject": "{token} {subject}",
    "ack.body": (
        "{marker}\n\n"
        "Hallo {requester_name},\n\n"
        'danke für Ihre Nachricht. Wir haben dafür das Ticket {token} "{subject}" '
        "angelegt.\nEine erste Antwort erhalten Sie {due_text}.\n"
        "{questions}\n"
        "Antworten Sie auf diese E-Mail, um etwas zu ergänzen; lassen Sie {token} im "
        "Betreff stehen.\n\n"
        "{desk_name}"
    ),
    "ack.questions": "\nDamit wir gleich loslegen können, beantworten Sie bitte:\n{items}\n",
    "ack.no_due": "so bald wie möglich",
    "due": "bis {weekday} {time} (in {duration})",
    "due.far": "bis {weekday} {date} {time} (in {duration})",
    "weekdays": "Mo Di Mi Do Fr Sa So",
    "reply.subject": "AW: {token} {subject}",
    "reply.body": "{marker}\n\n{body}\n\n{author}\n{desk_name}",
    "solved.subject": "Gelöst: {token} {subject}",
    "solved.body": (
        "Hallo {requester_name},\n\n"
        'wir haben das Ticket {token} "{subject}" gelöst:\n\n{resolution}\n\n'
        "Besteht das Problem weiter, antworten Sie auf diese E-Mail; das Ticket wird dann "
        "wieder geöffnet.\nWie zufrieden waren Sie? Bewerten Sie uns: {csat_url}\n\n"
        "{desk_name}"
    ),
    "problem.subject": "Ursache behoben: {token} {subject}",
    "problem.body": (
        "{marker}\n\n"
        "Hallo {requester_name},\n\n"
        'wir haben das Problem behoben, das Ihr Ticket {token} "{subject}" verursacht hat.\n'
        "{resolution}\n"
        "Bitte prüfen Sie, ob bei Ihnen wieder alles funktioniert. Falls nicht, antworten Sie "
        "auf diese E-Mail und lassen Sie {token} im Betreff stehen.\n\n"
        "{desk_name}"
    ),
    "problem.resolution": "\nWas wir getan haben:\n\n{resolution}\n",
    "alert.subject": "SLA {alert}: {token} {subject} ({metric})",
    "alert.body": (
        "Hallo {agent_name},\n\n"
        'Ticket {token} "{subject}" (Team {team}, Priorität {priority}): das Ziel '
        "{metric} {alert}.\nFrist: {deadline}\n\n{desk_name}"
    ),
    "alert.warning": "läuft bald ab",
    "alert.breached": "wurde verletzt",
    "escalation.subject": "Eskalationsstufe {level}: {token} {subject}",
    "escalation.body": (
        "Hallo {agent_name},\n\n"
        'Ticket {token} "{subject}" des Teams {team} wurde auf Eskalationsstufe {level} '
        "angehoben.\nGrund: {reason}\n\n{desk_name}"
    ),
}

#: The built-in templates by language.
DEFAULT_TEMPLATES: Mapping[str, Mapping[str, str]] = {"en": _EN, "de": _DE}

_FORMATTER = Formatter()


def _check_template(key: str, text: Any, where: str) -> str:
    if key not in FIELDS:
        raise ConfigError(f"{where}: unknown template {key!r} (known: {', '.join(sorted(FIELDS))})")
    if not isinstance(text, str):
        raise ConfigError(f"{where}.{key}: a template is text, got {type(text).__name__}")
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ConfigError(f"{where}.{key}: {exc} in {text!r}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name or not name.isidentifier():
            raise ConfigError(
                f"{where}.{key}: use named fields only ({{name}}), got {{{name}}} in {text!r}"
            )
        if name not in FIELDS[key]:
            allowed = ", ".join(sorted(FIELDS[key])) or "none"
            raise ConfigError(f"{where}.{key}: unknown field {{{name}}} (allowed: {allowed})")
        if spec and "{" in spec:
            raise ConfigError(f"{where}.{key}: nested fields are not allowed in {text!r}")
        _check_format(key, name, spec, conversion, text, where)
    if key == "weekdays" and len(text.split()) != 7:
        raise ConfigError(f"{where}.weekdays: give seven day names, got {text!r}")
    return text


#: The fields whose values are whole numbers; every other field is text.
_NUMBER_FIELDS = frozenset({"number", "level"})


def _check_format(
    key: str, name: str, spec: str | None, conversion: str | None, text: str, where: str
) -> None:
    """A field's conversion (``!r``) and format spec (``:>6``) must apply to the value it
    is given (a whole number or text), or every message of the template would fail."""
    if conversion is not None and conversion not in ("r", "s", "a"):
        raise ConfigError(
            f"{where}.{key}: unknown conversion !{conversion} of {{{name}}} in {text!r} "
            "(use !r, !s or !a)"
        )
    if not spec:
        return
    sample: object = 4711 if name in _NUMBER_FIELDS and conversion is None else "text"
    try:
        format(sample, spec)
    except ValueError as exc:
        raise ConfigError(f"{where}.{key}: {{{name}}}: {exc} in {text!r}") from None


def _language_map(value: Any, where: str) -> dict[str, dict[str, str]]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a mapping of language to templates")
    out: dict[str, dict[str, str]] = {}
    for language, templates in value.items():
        if not isinstance(language, str) or not language.strip():
            raise ConfigError(f"{where}: a language is a code like 'en', got {language!r}")
        if not isinstance(templates, Mapping):
            raise ConfigError(f"{where}.{language}: expected a mapping of template name to text")
        code = normalize_language(language)
        out[code] = {
            key: _check_template(key, text, f"{where}.{language}")
            for key, text in templates.items()
        }
    return out


def _to_languages(value: Any) -> dict[str, dict[str, str]]:
    return _language_map(value, "templates.languages")


def _to_teams(value: Any) -> dict[str, dict[str, dict[str, str]]]:
    if not isinstance(value, Mapping):
        raise ConfigError("templates.teams: expected a mapping of team id to languages")
    return {
        str(team): _language_map(languages, f"templates.teams.{team}")
        for team, languages in value.items()
    }


def _prefix_pattern(text: str) -> re.Pattern[str] | None:
    """The literal text a subject template puts before ``{token}`` as a pattern (its
    blanks match any blanks), or None when there is none, or when a field comes before
    the token (``SLA {alert}:``, ``{desk_name}:``): a field would match whatever a
    requester wrote there."""
    parts: list[str] = []
    literal = ""
    for text_part, name, _, _ in _FORMATTER.parse(text):
        literal += text_part
        parts.extend(
            r"\s+" if piece.isspace() else re.escape(piece)
            for piece in re.split(r"(\s+)", text_part)
            if piece
        )
        if name == "token":
            break
        if name is not None:
            return None
    else:
        return None  # no token in this template
    if not literal.strip():
        return None
    while parts and parts[0] == r"\s+":
        parts.pop(0)
    while parts and parts[-1] == r"\s+":
        parts.pop()
    return re.compile(r"^\s*" + "".join(parts) + r"\s*", re.IGNORECASE)


def normalize_language(language: str) -> str:
    """``'de-DE'`` / ``'de_AT'`` / ``'DE'`` → ``'de'``."""
    return language.strip().replace("_", "-").split("-")[0].lower()


def _to_fallback(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"templates.fallback: a language is a code like 'en', got {value!r:.80}")
    return normalize_language(value)


@frozen(kw_only=True)
class Templates:
    """The templates of a desk: ``languages`` (overrides merged over the defaults),
    ``teams`` (per-team overrides by language) and the ``fallback`` language."""

    languages: Mapping[str, Mapping[str, str]] = field(
        factory=dict, converter=_to_languages, hash=False
    )
    teams: Mapping[str, Mapping[str, Mapping[str, str]]] = field(
        factory=dict, converter=_to_teams, hash=False
    )
    fallback: str = field(default="en", converter=_to_fallback)
    _merged: dict[str, dict[str, str]] = field(
        init=False, factory=dict, eq=False, repr=False, hash=False
    )
    _prefixes: tuple[re.Pattern[str], ...] | None = field(
        init=False, default=None, eq=False, repr=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        merged = {code: dict(templates) for code, templates in DEFAULT_TEMPLATES.items()}
        for code, templates in self.languages.items():
            merged.setdefault(code, {}).update(templates)
        missing = sorted(set(FIELDS) - set(merged.get(self.fallback, {})))
        if missing:
            raise ConfigError(
                f"templates: the fallback language {self.fallback!r} lacks {', '.join(missing)}"
            )
        self._merged.update(merged)

    def supports(self, language: str) -> bool:
        """True when templates exist for ``language`` (built in or given)."""
        require(language, str, "a language (text)", field="language")
        return normalize_language(language) in self._merged

    def template(self, key: str, *, language: str | None = None, team: str | None = None) -> str:
        """The template text for ``key`` in this team and language (see the lookup order)."""
        require(key, str, "a template key (text)", field="key")
        for name, value in (("language", language), ("team", team)):
            if value is not None:
                require(value, str, "text", field=name)
        if key not in FIELDS:
            raise ConfigError(f"unknown template {key!r}")
        merged = self._merged
        team_map = self.teams.get(team, {}) if team is not None else {}
        for code in dict.fromkeys((normalize_language(language or self.fallback), self.fallback)):
            for source in (team_map.get(code, {}), merged.get(code, {})):
                if key in source:
                    return source[key]
        raise ConfigError(f"no template {key!r}")  # pragma: no cover - checked when built

    def render(
        self, key: str, values: Mapping[str, object], *, language: str | None, team: str | None
    ) -> str:
        """Fill the template ``key`` with ``values``."""
        text = self.template(key, language=language, team=team)
        if not isinstance(values, Mapping):
            raise ValidationError(
                f"values is a mapping of field names to values, got {type(values).__name__}",
                field="values",
            )
        return _FORMATTER.vformat(text, (), {name: values.get(name, "") for name in FIELDS[key]})

    def subject_prefixes(self) -> tuple[re.Pattern[str], ...]:
        """The literal text the desk's subject templates write before the ticket token
        (``Solved:``, ``Gelöst:``), in every language and team, as patterns anchored at
        the start: a requester's answer to such a mail that opens a follow-up ticket
        does not carry them into its subject. Templates with a field before the token
        give none (the field would match anything)."""
        if self._prefixes is None:
            sources: list[Mapping[str, str]] = [*self._merged.values()]
            sources.extend(langs for team in self.teams.values() for langs in team.values())
            found: dict[str, re.Pattern[str]] = {}
            for templates in sources:
                for key, text in templates.items():
                    if key.endswith(".subject"):
                        pattern = _prefix_pattern(text)
                        if pattern is not None:
                            found.setdefault(pattern.pattern, pattern)
            object.__setattr__(self, "_prefixes", tuple(found.values()))
        assert self._prefixes is not None
        return self._prefixes

    def weekday(self, index: int, *, language: str | None, team: str | None) -> str:
        """The short name of weekday ``index`` (0 = Monday)."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 6:
            raise ValidationError(f"a weekday is 0 (Monday) to 6, got {index!r:.40}", field="index")
        return self.template("weekdays", language=language, team=team).split()[index]
