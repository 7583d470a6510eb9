"""Reading an RFC 5322 message tolerantly: headers (RFC 2047 decoded), the body as text
(plain preferred, HTML converted), and the attachments.

Mail in the wild is broken in every way a parser can imagine; everything here degrades to
"unknown" rather than raising, except what makes a message unusable (too big, not parseable,
no sender address), which is a :class:`~helpdesk_core.errors.ValidationError`.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import itertools
import re
from email import policy
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from attrs import field, frozen

from helpdesk_core.channels.email.text import html_to_text, normalize_text, one_line
from helpdesk_core.errors import ValidationError

__all__ = ["Attachment", "MailText", "body_text", "header", "load_message", "sender_of"]

#: The most MIME parts a message may have (the message itself and every part inside it,
#: those of attached messages too).
_MAX_PARTS = 1000

# Charset labels read as mail clients read them (the WHATWG encoding labels): Latin-1 and
# ASCII as Windows-1252, Shift_JIS, EUC-KR and Big5 as the Windows code pages and the
# Hong Kong set that extend them, which is what they are in practice, under any spelling
# of their labels (``_SUPERSETS``, by the codecs they name); and the labels mailers
# write that Python does not know by name.
_SUPERSETS = {"iso8859-1": "cp1252", "ascii": "cp1252", "shift_jis": "cp932",
              "euc_kr": "cp949", "big5": "big5hkscs"}  # fmt: skip
_ALIASES = {"iso-8859-6-i": "iso-8859-6", "iso-8859-6-e": "iso-8859-6",
            "iso-8859-8-i": "iso-8859-8", "iso-8859-8-e": "iso-8859-8",
            "windows-874": "cp874", "x-sjis": "shift_jis", "windows-31j": "shift_jis",
            "windows-949": "cp949", "cseuckr": "euc_kr", "cn-big5": "big5",
            "x-x-big5": "big5", "x-mac-roman": "mac_roman",
            "x-mac-cyrillic": "mac_cyrillic", "x-gbk": "gbk", "gb2312": "gbk",
            "x-euc-jp": "euc_jp", "ks_c_5601-1987": "cp949", "x-windows-949": "cp949",
            "x-cp1252": "windows-1252", "unicode-1-1-utf-8": "utf-8",
            "x-unicode20utf8": "utf-8", "unknown-8bit": "", "x-unknown": "",
            "x-user-defined": ""}  # fmt: skip


def decode_text(data: bytes, charset: str | None) -> str:
    """``data`` as text in ``charset`` (a MIME label, or None when the message gave none).

    Labels are read as mail clients read them (see ``_SUPERSETS`` and ``_ALIASES``).
    Without a label, or with one no codec knows, the text is UTF-8 if it is valid UTF-8,
    else Windows-1252. Text labelled UTF-8 in which no byte beyond ASCII forms a valid
    UTF-8 character is Windows-1252 mislabelled (``Grüße`` written by a Latin-1 mailer),
    and read as such; otherwise invalid bytes become U+FFFD."""
    label = (charset or "").strip().lower()
    label = _ALIASES.get(label, label)
    if label:
        try:
            name = codecs.lookup(label).name
        except (LookupError, ValueError):  # unknown, or not a name at all (a NUL in it)
            name = ""
        name = _SUPERSETS.get(name, name)
    else:
        name = ""
    if name in ("", "utf-8"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", "replace")
            if name and any(ord(ch) > 127 and ch != "\ufffd" for ch in text):
                return text  # UTF-8 with a few broken bytes
            return data.decode("windows-1252", "replace")
    if name == "iso2022_jp":
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            return _windows_iso_2022_jp(data)
    try:
        return data.decode(name, "replace")
    except (LookupError, ValueError):
        return data.decode("windows-1252", "replace")


# An escape to another set in ISO-2022-JP; the bytes of JIS X 0208 pairs. Text with more
# escapes than a long letter has (each line of it two) is read by Python's codec alone.
_JIS_ESCAPE = re.compile(rb"\x1b(\$[@B]|\$?\(?[\x20-\x2f]*[\x30-\x7e])")
_JIS_BYTES = bytes(range(0x21, 0x7F))
_MAX_JIS_ESCAPES = 100_000


def _windows_iso_2022_jp(data: bytes) -> str:
    """ISO-2022-JP as Windows writes it and mail clients read it: its JIS X 0208 has the
    NEC and IBM rows (circled digits, the kanji of names such as 髙橋), which Python's
    codec refuses. That text is read as code page 932, which has the same rows, once its
    byte pairs are in Shift_JIS form (text that is no byte pairs is read by Python's
    codec); the text of a set other than ASCII, JIS X 0201 Roman and JIS X 0208 is
    U+FFFD."""
    if data.count(b"\x1b") > _MAX_JIS_ESCAPES:
        return data.decode("iso2022_jp", "replace")
    out: list[str] = []
    mode = b"(B"
    for index, piece in enumerate(_JIS_ESCAPE.split(data)):
        if index % 2:
            mode = piece
        elif mode in (b"$@", b"$B"):
            if len(piece) % 2 or piece.translate(None, _JIS_BYTES):  # not pairs alone
                out.append((b"\x1b$B" + piece).decode("iso2022_jp", "replace"))
            else:
                out.append(_shift_jis_form(piece).decode("cp932", "replace"))
        elif mode in (b"(B", b"(J"):
            out.append(piece.decode("ascii", "replace"))
        elif piece:
            out.append("\ufffd")
    return "".join(out)


def _jis_tables() -> tuple[bytes, bytes, bytes, bytes]:
    """``bytes.translate`` tables from a JIS X 0208 byte pair (0x21-0x7e each) to
    Shift_JIS: the lead byte of a first byte, the trail byte of a second byte after an
    odd and after an even first byte, and 0xff for an odd first byte."""
    lead, odd, even, odd_row = bytearray(256), bytearray(256), bytearray(256), bytearray(256)
    for byte in range(0x21, 0x7F):
        lead[byte] = (byte + 1) // 2 + (0x70 if byte <= 0x5E else 0xB0)
        # Odd rows take the lower half of the trail bytes (skipping 0x7f), even the upper.
        odd[byte] = byte + (0x1F if byte < 0x60 else 0x20)
        even[byte] = byte + 0x7E
        odd_row[byte] = 0xFF if byte % 2 else 0
    return bytes(lead), bytes(odd), bytes(even), bytes(odd_row)


_JIS_LEAD, _JIS_ODD_TRAIL, _JIS_EVEN_TRAIL, _JIS_ODD_ROW = _jis_tables()


def _shift_jis_form(pairs: bytes) -> bytes:
    """JIS X 0208 byte pairs as Shift_JIS, byte-wise in C (a message may hold megabytes
    of them): each trail byte is picked by the parity of its lead with big-number
    masks."""
    firsts, seconds = pairs[0::2], pairs[1::2]
    odd = int.from_bytes(seconds.translate(_JIS_ODD_TRAIL), "big")
    even = int.from_bytes(seconds.translate(_JIS_EVEN_TRAIL), "big")
    mask = int.from_bytes(firsts.translate(_JIS_ODD_ROW), "big")
    out = bytearray(len(pairs))
    out[0::2] = firsts.translate(_JIS_LEAD)
    out[1::2] = ((odd & mask) | (even & ~mask)).to_bytes(len(seconds), "big")
    return bytes(out)


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
        data = _message_bytes(raw)
        _check_size(len(data), max_bytes)
        # Read again from its bytes, as bytes are read: a message parsed with another
        # policy (``policy.default``) has already decoded raw 8-bit headers, losing text.
        try:
            return BytesParser(policy=policy.compat32).parsebytes(data)
        except Exception:
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


def _message_bytes(message: Message) -> bytes:
    """The bytes of a parsed message. Headers are written as UTF-8, the way they came (or
    would come) over the wire: written as ASCII, an internationalised address
    (jo@müller.de) would become an RFC 2047 word, which names another mailbox. A message
    parsed from text (``email.message_from_string``) may hold 8-bit text as characters,
    which have no bytes: that text is written as UTF-8."""
    try:
        return message.as_bytes(policy=policy.SMTPUTF8)
    except UnicodeEncodeError:
        pass
    except Exception as exc:
        raise ValidationError(
            f"malformed message: cannot serialize it ({exc})", field="message"
        ) from None
    try:
        return message.as_string(policy=policy.SMTPUTF8).encode("utf-8", "surrogateescape")
    except Exception as exc:
        raise ValidationError(
            f"malformed message: cannot serialize it ({exc})", field="message"
        ) from None


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise ValidationError(
            f"message of {size} bytes is larger than the limit of {max_bytes} bytes",
            field="message",
        )


def _clean(text: str) -> str:
    """Undo surrogate escapes (raw 8-bit headers: UTF-8, else Windows-1252, the usual
    8-bit charset of such mail), drop NUL and control line breaks."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeError:
        return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("windows-1252", "replace")
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
        out.append(" ".join(_clean(_decoded(_header_str(value))).split()))
    return ", ".join(out)


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def _decoded(text: str) -> str:
    """``text`` with its RFC 2047 encoded words decoded, also those beside raw 8-bit text
    (which ``decode_header`` leaves as they are, or writes as ``\\uXXXX`` escapes beyond
    Latin-1: such text is decoded word by word)."""
    if text.isascii():
        # Each word's charset label is read as a body part's is (decode_text).
        with contextlib.suppress(Exception):
            text = "".join(
                chunk if isinstance(chunk, str) else decode_text(chunk, charset)
                for chunk, charset in decode_header(text)
            )
    return _ENCODED_WORD.sub(_decode_word, text) if "=?" in text else text


def _decode_word(match: re.Match[str]) -> str:
    try:
        parts = decode_header(match.group(0))
        return "".join(
            chunk if isinstance(chunk, str) else decode_text(chunk, charset)
            for chunk, charset in parts
        )
    except Exception:
        return match.group(0)


def _header_str(value: object) -> str:
    """A header value as text. Raw 8-bit bytes in a header (which the parser keeps as
    ``unknown-8bit``) are read as UTF-8, else as Windows-1252; RFC 2047 words stay for
    the caller to decode."""
    if not isinstance(value, Header):
        return str(value)
    try:
        parts = decode_header(value)
    except Exception:
        return str(value)
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        out.append(decode_text(chunk, charset))
    return "".join(out)


def raw_header(message: Message, name: str) -> str | None:
    """A header as written (no RFC 2047 decoding), joined like :func:`header`."""
    try:
        values = message.get_all(name)
    except Exception:
        return None
    if not values:
        return None
    return ", ".join(" ".join(_clean(_header_str(v)).split()) for v in values)


def sender_of(message: Message) -> tuple[str, str]:
    """``(address, display name)`` of the sender: the one address of ``From``;
    ValidationError if it holds none that is usable, or several (two ``From`` headers
    too). ``Sender`` and ``Reply-To`` are never read: mail servers check SPF, DKIM and
    DMARC against the ``From`` domain, so a message whose ``From`` holds no usable address
    (``x@localhost``), or that one beside another, could otherwise name any requester or
    agent and write on their tickets as them."""
    raw = raw_header(message, "From")
    if raw:
        try:
            pairs = getaddresses([raw])
        except Exception:
            pairs = [parseaddr(raw)]
        # A display name a mailer did not quote can hold a comma ("Doe, John") or the
        # address itself: its words are no mailbox (no "@"), and the address again is the
        # same one; what is left must be one mailbox, one domain for DMARC to check.
        found: dict[str, tuple[str, str]] = {}
        for d, a in pairs:
            mailbox = a.strip().strip("<>").strip()
            if "@" in mailbox:
                found.setdefault(mailbox.lower(), (d, mailbox))
        if len(found) == 1 and _ok(next(iter(found))):
            [(display, address)] = found.values()
            if len(pairs) > 1 and "<" in raw:  # the name as written, not the parser's piece
                display = raw.rpartition("<")[0]
            display = _decoded(display)
            return address.lower(), " ".join(_clean(display).split()).strip("\"' ")
    raise ValidationError("the message has no usable sender address (From)", field="From")


def _ok(address: str) -> bool:
    local, _, domain = address.rpartition("@")
    return (
        bool(local)
        and bool(domain)
        and "." in domain
        and len(address) <= 254
        and not any(ch.isspace() or ch in '<>,;"\\\x7f' or ord(ch) < 32 for ch in address)
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
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _clean(decode_text(payload, charset))


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
    except Exception:
        return False
    if disposition == "attachment" or filename:
        return True
    return part.get_content_maintype() not in ("text", "multipart", "message")


def body_text(message: Message) -> tuple[MailText, list[Attachment]]:
    """The message's text and its attachments, in MIME order.

    The text is its ``text/plain`` body parts, joined (a client that puts an image between
    two paragraphs sends two); else its ``text/html`` parts, converted. A text part with a
    file name is an attachment, and so is an attached message (``message/rfc822``, kept
    whole as ``.eml``): its text is not the sender's. Text of other kinds is an attachment
    too (an invitation's ``text/calendar``, unnamed, as ``part-N.ics``), unless it is the
    whole message (a Markdown mail is its own body) or another rendering of the body
    beside it in a ``multipart/alternative`` (enriched text, an Apple Watch or AMP
    version), which is left out."""
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    try:
        parts = list(itertools.islice(message.walk(), _MAX_PARTS + 1))
    except Exception as exc:
        raise ValidationError(f"malformed MIME structure: {exc}", field="message") from None
    if len(parts) > _MAX_PARTS:
        # Ten megabytes of empty parts are a hundred thousand attachments: seconds of
        # work here, and as many files for the application to store.
        raise ValidationError(
            f"the message has more than {_MAX_PARTS:,} MIME parts", field="message"
        )
    inside: set[int] = set()  # the parts of attached messages
    alternatives = _alternatives(parts)
    for index, part in enumerate(parts):
        if id(part) in inside:
            continue
        try:
            content_type = _content_type(part)
            if content_type == "message/rfc822" and index:
                inside.update(id(sub) for sub in part.walk() if sub is not part)
                attachments.append(_attached_message(part, index))
                continue
            if part.is_multipart():
                continue
        except Exception:
            continue
        if _is_attachment(part) and not (index == 0 and _is_body_text(part)):
            attachments.append(_attachment(part, index))
            continue
        if content_type == "text/plain":
            plain.append(_unflowed(part, _decode_part(part)))
        elif content_type == "text/html":
            html.append(_decode_part(part))
        elif part.get_content_maintype() == "multipart":
            # A multipart that lost its boundary: its text is the body, unless it holds
            # the parts themselves (headers, base64), which no reader wants as text.
            text = _decode_part(part)
            if not _MIME_HEADER.search(text):
                plain.append(text)
        elif part.get_content_maintype() == "text":
            # Text of another kind: a message that is nothing else (Markdown, enriched
            # text) is its own body; an invitation, or such a part beside the body, is a
            # file the reader opens (an Outlook invitation's text/calendar alternative).
            # Any other text alternative renders the body again: it is no file.
            if content_type != "text/calendar" and id(part) in alternatives:
                continue
            if index == 0 and content_type != "text/calendar":
                plain.append(_decode_part(part))
            else:
                attachments.append(_attachment(part, index))
    text = normalize_text("\n\n".join(t.strip("\r\n") for t in plain if t.strip()))
    if not text and html:
        source = "\n".join(html)
        full = normalize_text(html_to_text(source))
        reply = normalize_text(html_to_text(source, drop_quotes=True))
        return MailText(text=full, reply=reply, from_html=True), attachments
    return MailText(text=text, reply=text), attachments


def _unflowed(part: Message, text: str) -> str:
    """``text`` of a ``format=flowed`` part (RFC 3676) as the lines it was written in: a
    line that ends in a space (other than the signature line ``-- ``) goes on in the next
    one of the same quote depth, its space dropped with ``delsp=yes``; a line's leading
    space is stuffing. Other text as it is."""
    try:
        if str(part.get_param("format") or "").lower() != "flowed":
            return text
        delsp = str(part.get_param("delsp") or "").lower() == "yes"
    except Exception:
        return text
    lines: list[str] = []
    run: list[str] = []  # the pieces of the flowed line being joined
    depth_of_run = 0  # and its quote depth
    for line in text.replace("\r\n", "\n").split("\n"):
        content = line.lstrip(">")
        depth = len(line) - len(content)
        content = content.removeprefix(" ")
        signature = content == "-- "
        soft = content.endswith(" ") and not signature
        if soft and delsp:
            content = content[:-1]
        if run and (depth != depth_of_run or signature):  # a signature line ends it too
            lines.append(_quoted(depth_of_run, "".join(run)))
            run = []
        depth_of_run = depth
        run.append(content)
        if not soft:
            lines.append(_quoted(depth, "".join(run)))
            run = []
    if run:
        lines.append(_quoted(depth_of_run, "".join(run)))
    return "\n".join(lines)


def _quoted(depth: int, text: str) -> str:
    return f"{'>' * depth} {text}" if depth else text


#: The file name extension of an unnamed text part kept as an attachment.
_TEXT_EXTENSIONS = {
    "text/calendar": ".ics",
    "text/csv": ".csv",
    "text/markdown": ".md",
    "text/plain": ".txt",
    "text/html": ".html",
}

_TYPE = re.compile(r"[^\s/;,]+/[^\s/;,]+")


def _content_type(part: Message) -> str:
    """The part's ``type/subtype``, also when its header lacks the ``;`` before the
    parameters (``text/plain charset=utf-8``, which the parser keeps whole)."""
    content_type = part.get_content_type()
    found = _TYPE.match(content_type)
    return found.group(0) if found else content_type


def _alternatives(parts: list[Message]) -> set[int]:
    """The ids of the parts that are alternatives of one text (children of a
    ``multipart/alternative``)."""
    found: set[int] = set()
    for part in parts:
        try:
            if _content_type(part) != "multipart/alternative" or not part.is_multipart():
                continue
            children = part.get_payload()
        except Exception:
            continue
        if isinstance(children, list):
            found.update(id(child) for child in children)
    return found


_MIME_HEADER = re.compile(r"^content-(?:type|transfer-encoding)\s*:", re.IGNORECASE | re.MULTILINE)


def _is_body_text(part: Message) -> bool:
    """A message that is one text part is its own body, file name or not (unless it says
    it is an attachment)."""
    try:
        disposition = (part.get_content_disposition() or "").lower()
        return part.get_content_maintype() == "text" and disposition != "attachment"
    except Exception:
        return False


# What no file name needs besides controls (a terminal escape in a log line; a tab or a
# line break is a space): the marks that reorder text (``U+202E`` shows
# ``invoice\u202efdp.exe`` as ``invoiceexe.pdf``).
_REORDERING = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAME_LIMIT = 100


def _file_name(text: str) -> str:
    """A sender's file name as one path component the application can store a file
    under: no separators, controls or reordering marks, not ``.`` or ``..``, at most
    ``_NAME_LIMIT`` characters (the extension kept); empty when nothing usable is left."""
    name = one_line(_REORDERING.sub("", _clean(text)))
    name = name.replace("/", "_").replace("\\", "_")
    if not name.strip("."):
        return ""
    if len(name) > _NAME_LIMIT:
        stem, dot, extension = name.rpartition(".")
        if dot and stem.strip() and len(extension) <= 10:
            name = f"{stem[: _NAME_LIMIT - len(extension) - 1].rstrip()}.{extension}"
        else:
            name = name[:_NAME_LIMIT].rstrip()
    return name


def _filename(part: Message) -> str | None:
    """The part's file name (``Content-Disposition``'s ``filename``, else
    ``Content-Type``'s ``name``). A name written as raw 8-bit text is read as UTF-8, else
    as Windows-1252, like every header: the parser would hand it over with each such
    byte made a replacement character."""
    try:
        headers = [
            (key, value)
            for key, value in part.raw_items()
            if key.lower() in ("content-disposition", "content-type")
        ]
        if any(isinstance(v, str) and _has_raw_8bit(v) for _, v in headers):
            probe = Message()
            for key, value in headers:
                probe[key] = _clean(value)
            return probe.get_filename()
        return part.get_filename()
    except Exception:
        return None


# Blanks between two encoded words, which RFC 2047 says are no text.
_BETWEEN_WORDS = re.compile(r"(?<=\?=)\s+(?==\?)")


def _decoded_file_name(name: str) -> str:
    """A file name with the RFC 2047 words some mailers write in it decoded where they
    stand: ``=?utf-8?b?5pel5pys6Kqe?=.pdf`` is ``日本語.pdf`` (``make_header`` would put a
    blank before the extension), and a word of a charset label Python does not know is
    read as a label of a body part is."""
    if "=?" not in name:
        return name
    return _ENCODED_WORD.sub(_decode_word, _BETWEEN_WORDS.sub("", name))


def _has_raw_8bit(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


def _attached_message(part: Message, index: int) -> Attachment:
    """An attached message, whole, as an ``.eml`` file named after its subject."""
    inner = part.get_payload()
    message = inner[0] if isinstance(inner, list) and inner else None
    try:
        data = message.as_bytes(policy=policy.SMTP) if isinstance(message, Message) else b""
    except Exception:
        data = b""
    # Its subject is read as the message's own is (raw 8-bit text, charset labels).
    subject = (header(message, "Subject") if isinstance(message, Message) else None) or ""
    stem = _file_name(subject)
    # Named as every file is: within the limit, its extension kept.
    name = _file_name(f"{stem}.eml") if stem else f"message-{index}.eml"
    return Attachment(
        name=name,
        content_type="message/rfc822",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
    )


def _attachment(part: Message, index: int) -> Attachment:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    clean_name = _file_name(_decoded_file_name(_filename(part) or ""))
    try:
        content_type = _content_type(part)
    except Exception:
        content_type = "application/octet-stream"
    return Attachment(
        name=clean_name or f"part-{index}{_TEXT_EXTENSIONS.get(content_type, '')}",
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
    )
