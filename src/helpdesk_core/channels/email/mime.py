"""Reading an RFC 5322 message tolerantly: headers (RFC 2047 decoded), the body as text
(plain preferred, HTML converted), and the attachments.

Mail in the wild is broken in every way a parser can imagine; everything here degrades to
"unknown" rather than raising, except what makes a message unusable (too big, not parseable,
no sender address), which is a :class:`~helpdesk_core.errors.ValidationError`.
"""

from __future__ import annotations

import contextlib
import hashlib
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from attrs import field, frozen

from helpdesk_core.channels.email.text import html_to_text, normalize_text
from helpdesk_core.errors import ValidationError

__all__ = ["Attachment", "MailText", "body_text", "header", "load_message", "sender_of"]

_ALIASES = {"iso-8859-1": "windows-1252", "latin-1": "windows-1252", "us-ascii": "windows-1252",
            "ascii": "windows-1252", "latin1": "windows-1252"}  # fmt: skip


@frozen(kw_only=True)
class Attachment:
    """A file that came with a message, for the application to store: ``name``,
    ``content_type``, ``size`` in bytes, ``sha256`` hex digest and the ``content``."""

    name: str
    content_type: str
    size: int
    sha256: str
    content: bytes = field(repr=False, eq=False)


@frozen(kw_only=True)
class MailText:
    """The text of a message body: ``text`` in full, ``reply`` without the quote
    containers HTML marks up (the same as ``text`` for plain text), and whether it came
    from HTML."""

    text: str
    reply: str
    from_html: bool = False


def load_message(raw: bytes | Message, *, max_bytes: int) -> Message:
    """Parse ``raw`` (bytes or an already parsed message) and check its size."""
    if isinstance(raw, Message):
        try:
            data = raw.as_bytes(policy=policy.SMTP)
        except Exception as exc:
            raise ValidationError(
                f"malformed message: cannot serialize it ({exc})", field="message"
            ) from None
        _check_size(len(data), max_bytes)
        return raw
    if isinstance(raw, bytearray | memoryview):
        raw = bytes(raw)
    if not isinstance(raw, bytes):
        raise ValidationError(
            f"expected the message as bytes or an email.message.Message, got {type(raw).__name__}",
            field="message",
        )
    _check_size(len(raw), max_bytes)
    if not raw.strip():
        raise ValidationError("malformed message: it is empty", field="message")
    try:
        return BytesParser(policy=policy.compat32).parsebytes(raw)
    except Exception as exc:
        raise ValidationError(f"malformed message: {exc}", field="message") from None


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ValidationError(
            f"message of {size} bytes is larger than the limit of {max_bytes} bytes",
            field="message",
        )


def _clean(text: str) -> str:
    """Undo surrogate escapes (raw 8-bit headers), drop NUL and control line breaks."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text.replace("\x00", "")


def header(message: Message, name: str) -> str | None:
    """A header's decoded text (RFC 2047 words decoded, folding removed), or None. Several
    occurrences are joined with ``, ``; undecodable parts are kept as they were."""
    try:
        values = message.get_all(name)
    except Exception:
        return None
    if not values:
        return None
    out: list[str] = []
    for value in values:
        raw = str(value)
        try:
            text = str(make_header(decode_header(raw)))
        except Exception:
            text = raw
        out.append(" ".join(_clean(text).split()))
    return ", ".join(out)


def raw_header(message: Message, name: str) -> str | None:
    """A header as written (no RFC 2047 decoding), joined like :func:`header`."""
    try:
        values = message.get_all(name)
    except Exception:
        return None
    if not values:
        return None
    return ", ".join(" ".join(_clean(str(v)).split()) for v in values)


def sender_of(message: Message) -> tuple[str, str]:
    """``(address, display name)`` of the sender: ``From`` (then ``Sender``, then
    ``Reply-To`` when those hold no usable address); ValidationError if there is none."""
    for name in ("From", "Sender", "Reply-To"):
        raw = raw_header(message, name)
        if not raw:
            continue
        try:
            pairs = getaddresses([raw])
        except Exception:
            pairs = [parseaddr(raw)]
        for display, address in pairs:
            address = address.strip().strip("<>").strip()
            if _ok(address):
                with contextlib.suppress(Exception):
                    display = str(make_header(decode_header(display)))
                return address.lower(), " ".join(_clean(display).split()).strip("\"' ")
    raise ValidationError("the message has no usable sender address (From)", field="From")


def _ok(address: str) -> bool:
    local, _, domain = address.rpartition("@")
    return (
        bool(local)
        and bool(domain)
        and "." in domain
        and len(address) <= 254
        and not any(ch.isspace() or ch in '<>,;"\\' or ord(ch) < 32 for ch in address)
    )


def _decode_part(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return _clean(raw) if isinstance(raw, str) else ""
    try:
        charset = (part.get_content_charset() or "").strip().lower()
    except Exception:
        charset = ""
    charset = _ALIASES.get(charset, charset)
    if not charset:
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            charset = "windows-1252"
    try:
        return _clean(payload.decode(charset, "replace"))
    except (LookupError, ValueError):
        return _clean(payload.decode("utf-8", "replace"))


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
    except Exception:
        return False
    if disposition == "attachment":
        return True
    if filename and part.get_content_maintype() != "text":
        return True
    return part.get_content_maintype() not in ("text", "multipart", "message")


def body_text(message: Message) -> tuple[MailText, list[Attachment]]:
    """The message's text (first ``text/plain`` body part; else the first ``text/html``
    converted) and its attachments, in MIME order."""
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    try:
        parts = list(message.walk())
    except Exception as exc:
        raise ValidationError(f"malformed MIME structure: {exc}", field="message") from None
    for index, part in enumerate(parts):
        try:
            if part.is_multipart():
                continue
            content_type = part.get_content_type()
        except Exception:
            continue
        if _is_attachment(part):
            attachments.append(_attachment(part, index))
            continue
        if content_type == "text/plain" and plain is None:
            plain = _decode_part(part)
        elif content_type == "text/html" and html is None:
            html = _decode_part(part)
    if (plain is None or not plain.strip()) and html is not None:
        full = normalize_text(html_to_text(html))
        reply = normalize_text(html_to_text(html, drop_quotes=True))
        return MailText(text=full, reply=reply, from_html=True), attachments
    text = normalize_text(plain or "")
    return MailText(text=text, reply=text), attachments


def _attachment(part: Message, index: int) -> Attachment:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name:
        with contextlib.suppress(Exception):
            name = str(make_header(decode_header(name)))
    clean_name = " ".join(_clean(name or "").split()).replace("/", "_").replace("\\", "_")
    try:
        content_type = part.get_content_type()
    except Exception:
        content_type = "application/octet-stream"
    return Attachment(
        name=clean_name or f"part-{index}",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
    )
