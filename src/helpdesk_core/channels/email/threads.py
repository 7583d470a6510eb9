"""Threading: deterministic Message-IDs and the ticket-number token in subjects.

Every message the desk sends to a requester for event ``version`` of ticket ``ticket_id``
has the Message-ID ``<ticket-{id}-{version}@{domain}>``; notifications to agents (SLA
alerts, escalations) use ``<note-{id}-{version}.{n}@{domain}>`` with ``n`` numbering the
recipients, so an agent answering one by mail writes an internal note, never a public
reply. A reply's ``In-Reply-To`` / ``References`` therefore name the ticket without any
lookup table: :func:`parse_message_id` reads it back. Ticket-id
characters outside ``[A-Za-z0-9_+-]`` are written as ``=XX`` so the id survives as a
valid RFC 5322 dot-atom.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from attrs import field, frozen

from helpdesk_core.errors import ConfigError, ValidationError

__all__ = [
    "SubjectToken",
    "ThreadRef",
    "check_domain",
    "message_id_for",
    "message_ids_in",
    "parse_message_id",
    "root_message_id",
]

_SAFE = re.compile(r"[A-Za-z0-9_+-]")
_LOCAL = re.compile(
    r"^(?P<kind>ticket|note)-(?P<id>[A-Za-z0-9_+=-]+)-(?P<version>\d{1,12})"
    r"(?:\.(?P<n>\d{1,6}))?$"
)
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\Z")
_ANGLE = re.compile(r"<([^<>\s]{1,998})>")
_BARE = re.compile(r"^[^@\s()<>\[\]\\,;:\"]+@[^@\s()<>\\,;:\"]+$")


def _encode(ticket_id: str) -> str:
    return "".join(ch if _SAFE.match(ch) else f"={ord(ch):02X}" for ch in ticket_id)


def _decode(text: str) -> str | None:
    out: list[str] = []
    index = 0
    while index < len(text):
        ch = text[index]
        if ch == "=":
            code = text[index + 1 : index + 3]
            if len(code) != 2 or not all(c in "0123456789ABCDEF" for c in code):
                return None
            out.append(chr(int(code, 16)))
            index += 3
        else:
            out.append(ch)
            index += 1
    return "".join(out)


def check_domain(domain: str, *, field: str = "domain") -> str:
    """A host name usable on the right of a Message-ID."""
    if not isinstance(domain, str) or not _DOMAIN.match(domain):
        raise ValidationError(f"{domain!r} is not a host name", field=field)
    return domain.lower()


@frozen(kw_only=True)
class ThreadRef:
    """What a desk-made Message-ID says: the ticket, the event version, and whether it was
    an internal notification (to agents)."""

    ticket_id: str
    version: int
    internal: bool = False


def message_id_for(
    ticket_id: str, version: int, *, domain: str, n: int = 0, internal: bool = False
) -> str:
    """``<ticket-{id}-{version}@{domain}>`` (``note-`` when ``internal``); ``n`` > 0 tells
    apart several messages sent for the same event (one per recipient)."""
    if not isinstance(ticket_id, str) or not ticket_id:
        raise ValidationError("a ticket id is non-empty text", field="ticket_id")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError(f"version is a whole number >= 1, got {version!r}", field="version")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValidationError(f"n is a whole number >= 0, got {n!r:.40}", field="n")
    if not isinstance(internal, bool):
        raise ValidationError(f"internal is true or false, got {internal!r:.40}", field="internal")
    suffix = f".{n}" if n else ""
    kind = "note" if internal else "ticket"
    return f"<{kind}-{_encode(ticket_id)}-{version}{suffix}@{check_domain(domain)}>"


def root_message_id(ticket_id: str, *, domain: str) -> str:
    """The Message-ID of the ticket's first message (its acknowledgement): what every later
    message of the ticket refers to."""
    return message_id_for(ticket_id, 1, domain=domain)


def parse_message_id(value: str, *, domain: str) -> ThreadRef | None:
    """The :class:`ThreadRef` of a Message-ID this desk made for ``domain``, else None
    (other domains, other shapes, garbage)."""
    if not isinstance(domain, str):
        raise ValidationError(f"{domain!r} is not a host name", field="domain")
    if not isinstance(value, str):
        return None
    match = _ANGLE.search(value)
    inner = match.group(1) if match else value.strip()
    local, sep, host = inner.rpartition("@")
    if not sep or host.lower() != domain.lower():
        return None
    found = _LOCAL.match(local)
    if not found:
        return None
    ticket_id = _decode(found.group("id"))
    if not ticket_id:
        return None
    return ThreadRef(
        ticket_id=ticket_id,
        version=int(found.group("version")),
        internal=found.group("kind") == "note",
    )


def message_ids_in(values: Iterable[str | None]) -> list[str]:
    """Every ``<…>`` Message-ID in the given header values, in order. A value with no
    angle brackets at all (some mailers, and messages rebuilt from a mail provider's
    webhook) is read as blank-separated bare ids, each ``local@domain``."""
    out: list[str] = []
    for value in values:
        if not value:
            continue
        found = _ANGLE.findall(value)
        if not found and "<" not in value and ">" not in value:
            found = [
                word
                for word in value.replace(",", " ").split()
                if _BARE.match(word) and len(word) <= 998
            ]
        out.extend(f"<{m}>" for m in found)
    return out


def _check_format(instance: SubjectToken, attribute: object, value: str) -> None:
    if not isinstance(value, str) or "{number}" not in value:
        raise ConfigError(f"subject token format must contain {{number}}, got {value!r}")


def _compile(value: str | re.Pattern[str]) -> re.Pattern[str]:
    if not isinstance(value, str | re.Pattern) or isinstance(getattr(value, "pattern", ""), bytes):
        raise ConfigError(f"subject token pattern is a regular expression, got {value!r:.80}")
    try:
        pattern = re.compile(value) if isinstance(value, str) else value
    except (re.error, OverflowError, RecursionError) as exc:
        raise ConfigError(f"subject token pattern {value!r} is not a valid regex: {exc}") from None
    if "number" not in pattern.groupindex:
        raise ConfigError(
            f"subject token pattern {pattern.pattern!r} needs a named group (?P<number>…)"
        )
    return pattern


@frozen(kw_only=True)
class SubjectToken:
    """The ticket-number token in subjects: written with ``format`` (``"[#{number}]"``),
    found with ``pattern`` (a regex with a ``number`` group). Checked when built: the
    pattern must find what the format writes."""

    format: str = field(default="[#{number}]", validator=_check_format)
    pattern: re.Pattern[str] = field(default=r"\[#(?P<number>\d{1,12})\]", converter=_compile)

    def __attrs_post_init__(self) -> None:
        sample = self.render(4711)
        found = self.pattern.search(sample)
        if found is None or found.group("number") != "4711":
            raise ConfigError(
                f"subject token pattern {self.pattern.pattern!r} does not find the number in "
                f"{sample!r} written by format {self.format!r}"
            )

    def render(self, number: int) -> str:
        """The token for ticket ``number``."""
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValidationError(
                f"a ticket number is a whole number >= 0, got {number!r}", field="number"
            )
        return self.format.format(number=number)

    def find(self, subject: str) -> int | None:
        """The ticket number in ``subject`` (the first token), or None."""
        _check_subject(subject)
        found = self.pattern.search(subject)
        if found is None:
            return None
        try:
            return int(found.group("number"))
        except ValueError:
            return None

    def strip(self, subject: str, *, desk_prefixes: Iterable[re.Pattern[str]] = ()) -> str:
        """``subject`` without tokens and leading ``Re:``/``Fwd:``/``AW:``/``WG:`` prefixes
        (in the languages mail clients write them: ``RES:``, ``Odp:``, ``回复:`` ...);
        when it carries a token, also without the leading ``desk_prefixes`` (what the
        desk's own subjects put before the token, see
        :meth:`~helpdesk_core.channels.email.Templates.subject_prefixes`)."""
        _check_subject(subject)
        found = self.pattern.search(subject)
        if found is not None:
            # The desk's prefixes stand before the token: the text after it is the
            # requester's, whatever words it starts with.
            head = _strip_prefixes(subject[: found.start()], [_PREFIX, *desk_prefixes])
            subject = head + " " + subject[found.end() :]
        text = _strip_prefixes(self.pattern.sub("", subject), [_PREFIX])
        return re.sub(r"\s{2,}", " ", text).strip()


def _strip_prefixes(text: str, prefixes: Iterable[re.Pattern[str]]) -> str:
    """``text`` without any run of the ``prefixes`` at its start."""
    patterns = list(prefixes)
    text = text.strip()
    previous = None
    while previous != text:
        previous = text
        for prefix in patterns:
            text = prefix.sub("", text, count=1).strip()
    return text


# Reply and forward prefixes as mail clients write them in their users' languages
# (Outlook's Portuguese RES/ENC, Spanish RV, Polish Odp/PD, Hungarian VÁ/Tov, Turkish
# YNT/İLT, Finnish VL, Dutch Antw/Doorst, Chinese, Greek), before a colon or a full-width
# one. Single letters (Italian R and I) are not among them: "I: drive missing" is a subject.
_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|aw|wg|sv|vs|tr|antw|doorst|res|enc|rv|odp|pd|vá|tov|ynt|[iİ]lt|vl"
    r"|回复|答复|转发|回覆|轉寄|απ|πρθ)\s*(?:\[\d+\])?\s*[:\uff1a]\s*",
    re.IGNORECASE,
)


def _check_subject(subject: object) -> None:
    if not isinstance(subject, str):
        raise ValidationError(
            f"a subject is text, got {type(subject).__name__}", field="subject"
        )
