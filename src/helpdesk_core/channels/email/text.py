"""Mail text: HTML → plain text, and stripping quoted history and signatures from replies.

Everything here is a pure function of its input. The rules follow what common clients
write: ``>`` quoting, "On … wrote:" attributions (Gmail, Apple Mail, Thunderbird; German
"Am … schrieb …:"), Outlook's "-----Original Message-----" and "From: … Sent: …" header
blocks, Gmail/Apple/Thunderbird quote containers in HTML, the ``-- `` signature delimiter and
mobile footers ("Sent from my iPhone").
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

from helpdesk_core.errors import ValidationError

__all__ = ["clean_reply", "html_to_text", "normalize_text", "strip_quotes", "strip_signature"]

_PARAGRAPH_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "table", "pre", "hr",
     "dl", "section", "article", "header", "footer"}
)  # fmt: skip
_LINE_TAGS = frozenset({"div", "li", "tr", "dt", "dd", "center", "address"})
_CELL_TAGS = frozenset({"td", "th"})
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template"})
_QUOTE_CLASSES = frozenset(
    {"gmail_quote", "gmail_extra", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote"}
)
_SIGNATURE_CLASSES = frozenset({"gmail_signature", "moz-signature"})
_QUOTE_IDS = frozenset({"divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container"})
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})


class _TextExtractor(HTMLParser):
    """Collects text; block boundaries become pending line breaks (1: new line, 2: blank
    line) that are written only when more text follows."""

    def __init__(self, *, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._drop_quotes = drop_quotes
        self._parts: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, starts a skipped subtree)
        self._open: dict[str, int] = {}  # tag -> how many of it are on the stack
        self._skipping = 0
        self._href: list[str | None] = []
        self._cut = False  # Outlook: everything after the reply header block is history
        self._pre = 0
        self._pending = 0
        self._prefix = ""

    def _block(self, level: int) -> None:
        self._pending = max(self._pending, level)

    def _cell(self) -> None:
        """A table cell after another on its row: a tab between them, as a browser's
        ``innerText`` has it (cells "HP 4050" and "42" do not read "HP 405042")."""
        if self._parts and not self._pending:
            if self._parts[-1] == " ":
                self._parts[-1] = "\t"
            elif not self._parts[-1].endswith("\t"):
                self._parts.append("\t")

    def _emit(self, text: str) -> None:
        if self._parts and self._pending:
            self._parts.append("\n" * self._pending)
        self._pending = 0
        if self._prefix:
            self._parts.append(self._prefix)
            self._prefix = ""
        self._parts.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._cut:
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        classes = set(values.get("class", "").lower().split())
        element_id = values.get("id", "").lower()
        if self._drop_quotes and element_id in _QUOTE_IDS:
            self._cut = True
            return
        skip = tag in _SKIP_TAGS or (
            self._drop_quotes
            and (
                tag == "blockquote"
                or bool(classes & _QUOTE_CLASSES)
                or bool(classes & _SIGNATURE_CLASSES)
            )
        )
        if tag not in _VOID_TAGS:
            self._stack.append((tag, skip))
            self._open[tag] = self._open.get(tag, 0) + 1
            if skip:
                self._skipping += 1
        if self._skipping:
            return
        if tag == "br":
            self._pending += 1
        elif tag in _PARAGRAPH_TAGS:
            self._block(2)
        elif tag in _LINE_TAGS:
            self._block(1)
        elif tag in _CELL_TAGS:
            self._cell()
        if tag == "pre":
            self._pre += 1
        elif tag == "li":
            self._prefix = "- "
        elif tag == "a":
            self._href.append(values.get("href") or None)
        elif tag == "img" and values.get("alt"):
            self._emit(f"[{values['alt']}]")

    def handle_endtag(self, tag: str) -> None:
        if self._cut:
            return
        # Close up to the matching open tag (HTML in mail is often unbalanced). An end tag
        # that matches nothing is dropped at once: scanning the stack for it would make
        # a run of stray end tags cost quadratic time.
        if not self._open.get(tag):
            return
        closing: list[tuple[str, bool]] = []
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                closing = self._stack[index:]
                del self._stack[index:]
                for name, _ in closing:
                    self._open[name] -= 1
                was_skipping = self._skipping
                self._skipping -= sum(1 for _, skip in closing if skip)
                if was_skipping:
                    if not self._skipping:
                        self._block(1)
                    return
                break
        else:
            return
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag == "a" and self._href:
            href = self._href.pop()
            if href and href.startswith(("http:", "https:", "mailto:")):
                shown = self._parts[-1].strip() if self._parts else ""
                target = href.removeprefix("mailto:")
                if shown not in (target, href):
                    self._emit(f" ({target})")
        closed = {name for name, _ in closing}
        if closed & _PARAGRAPH_TAGS:
            self._block(2)
        elif closed & _LINE_TAGS:
            self._block(1)

    def handle_data(self, data: str) -> None:
        if self._cut or self._skipping:
            return
        if self._pre:
            self._emit(data)
            return
        text = re.sub(r"[ \t\r\n\f]+", " ", data)
        if text.strip():
            at_start = self._pending or not self._parts or self._parts[-1].endswith("\t")
            self._emit(text.lstrip() if at_start else text)
        elif self._parts and not self._pending and not self._parts[-1].endswith("\t"):
            self._parts.append(" ")

    def text(self) -> str:
        joined = "".join(self._parts).replace("\xa0", " ")
        lines = [line.strip() for line in joined.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    """Readable plain text of an HTML mail body: block elements become line breaks, table
    cells of a row are parted by a tab, list items get ``- ``, links show their target,
    scripts and styles vanish. With ``drop_quotes`` the quoted history containers
    (``<blockquote>``, Gmail's ``gmail_quote``, Outlook's ``divRplyFwdMsg`` and what
    follows it) and signature containers are left out."""
    _check_text(html, "html")
    parser = _TextExtractor(drop_quotes=bool(drop_quotes))
    try:
        parser.feed(html)
        # What feed() could not parse is the text from the first construct that never
        # ends (a tag without ">", a comment without "-->" ...) to the end. close()
        # would retry it at every "<" that follows, each retry reading to the end: a
        # hostile body ("<a/" repeated, 120 KB) kept it busy for minutes. That text is
        # read here in one pass instead, its unfinished tags left out.
        tail = parser.rawdata
        if tail:
            parser.rawdata = ""
            parser.handle_data(unescape(_UNFINISHED_TAG.sub("", tail)))
        parser.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is lenient
        pass
    return parser.text()


# A tag, comment or declaration in text the parser left unparsed (up to its ">", or to
# the next "<" when it has none). A "<" before a space or a digit is text.
_UNFINISHED_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>?")


def normalize_text(text: str) -> str:
    """Unix line ends, no NUL or lone surrogates, no trailing blanks, no edge blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


_ATTRIBUTION = re.compile(
    r"^\s*(?:On\s.{1,400}\swrote|Am\s.{1,400}\sschrieb\s.{0,200}|Le\s.{1,400}\sa\s[ée]crit"
    r"|El\s.{1,400}\sescribi[óo]|Op\s.{1,400}\sschreef\s.{0,200}"
    # Italian, Portuguese and Swedish attributions carry the date (a digit), which keeps
    # a sentence such as "Il collega ha scritto:" in the reply. A Swedish one starts with
    # it and names the writer after the verb: "Den mån 2 mars 2026 kl 10:15 skrev Desk:".
    r"|Il\s(?=.*\d).{1,400}\sha\sscritto|Em\s(?=.*\d).{1,400}\sescreveu"
    r"|Den\s(?:\w+\.?,?\s+)?\d.{0,400}\sskrev(?:\s.{0,200})?"
    r"|.{1,200}\swrote\s+on\s.{1,200})"
    r"\s*:\s*$",
    re.IGNORECASE,
)
# The rule above a quoted original (a forwarded message's rules are _FORWARD).
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}\s*$",
    re.IGNORECASE,
)
# Outlook's header block of the quoted message, in English, German, French, Spanish,
# Italian, Portuguese, Dutch, Swedish, Danish and Norwegian, Finnish, Polish, Czech,
# Russian, Turkish, Hungarian, Japanese, Chinese and Korean (a colon may be full-width).
_HEADER_FROM = re.compile(
    r"^\s*\**(?:From|Von|De|Da|Van|Från|Fra|Lähettäjä|Od|От|Kimden|Feladó|差出人|发件人"
    r"|寄件者|보낸 사람)\s*[:\uff1a]\**\s*\S",
    re.IGNORECASE,
)
_SENT_LABELS = (
    r"Sent|Date|Gesendet|Datum|Envoyé|Enviado|Inviato|Verzonden|Skickat|Fecha|Data|Sendt"
    r"|Lähetetty|Wysłano|Odesláno|Отправлено|Gönderildi|Elküldve|送信日時|发送时间|寄件日期"
    r"|보낸 날짜"
)
_SUBJECT_LABELS = (
    r"Subject|Betreff|Objet|Asunto|Oggetto|Assunto|Onderwerp|Ämne|Emne|Aihe|Temat|Předmět"
    r"|Тема|Konu|Tárgy|件名|主题|主旨|제목"
)
_HEADER_NEXT = re.compile(
    rf"^\s*\**(?:{_SENT_LABELS}|{_SUBJECT_LABELS}|To|An|À|Para|A|Aan|Till|Til"
    r"|Vastaanottaja|Do|Komu|Кому|Kime|Címzett|宛先|收件人|收件者|받는 사람)\s*\**\s*[:\uff1a]",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
# A phone's footer, in the languages whose attributions are read (Samsung's ends with a
# full stop).
_MOBILE = re.compile(
    r"^\s*(?:(?:Sent from my|Enviado desde mi|Inviato da(?:l mio)?|Enviado do meu"
    r"|Verstuurd vanaf mijn|Skickat från min) \w[\w ]{0,30}\.?"
    r"|Sent from (?:Outlook|Mail|Yahoo Mail)\b.*"
    r"|Get Outlook for \w+.*|Von meinem \w[\w ]{0,30} gesendet\.?"
    r"|Envoyé (?:de|depuis) mon \w+.*)\s*$",
    re.IGNORECASE,
)


def _attribution_at(lines: list[str], index: int) -> bool:
    return _attribution_span(lines, index) > 0


def _attribution_span(lines: list[str], index: int) -> int:
    """How many lines the attribution at ``index`` takes (0: there is none)."""
    # Matched without its indent: the pattern's leading \s* gave a run of blanks back one
    # at a time, trying every alternative after each (2 MB of blanks: seconds).
    line = lines[index].lstrip()
    if _ATTRIBUTION.match(line):
        return 1
    # Gmail wraps long attributions over two (rarely three) lines.
    if index + 1 < len(lines) and re.match(
        r"^\s*(?:On|Am|Le|El|Op|Il|Em|Den)\s", line, re.IGNORECASE
    ):
        for end in range(2, 4):
            candidate = " ".join(part.strip() for part in lines[index : index + end])
            if _ATTRIBUTION.match(candidate):
                return end
    # Any other language (Gmail writes the attribution in the reader's): a date and an
    # address in angle brackets, ending with a colon, right above lines quoted with ">";
    # Gmail wraps it after the "<".
    span = 2 if line.endswith("<") and index + 1 < len(lines) else 1
    candidate = "".join(part.strip() for part in lines[index : index + span])
    if (
        len(candidate) <= 1000
        and candidate.endswith((":", "\uff1a"))
        and _ADDRESSED.search(candidate)
        and any(ch.isdigit() for ch in candidate)
        and _quote_follows(lines, index + span)
    ):
        return span
    return 0


_ADDRESSED = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")


def _quote_follows(lines: list[str], index: int) -> bool:
    """The first line from ``index`` that is not blank is quoted with ``>``."""
    for line in lines[index:]:
        if line.strip():
            return line.lstrip().startswith(">")
    return False


_HEADER_SENT = re.compile(rf"^\s*\**(?:{_SENT_LABELS})\s*\**\s*[:\uff1a]", re.IGNORECASE)
_HEADER_SUBJECT = re.compile(rf"^\s*\**(?:{_SUBJECT_LABELS})\s*\**\s*[:\uff1a]", re.IGNORECASE)


def _outlook_header_at(lines: list[str], index: int) -> bool:
    """A quoted message's header block: a From line naming an address and another header
    line, or, without an address, both a sent-date and a subject line ("De: 9:00 / A:
    17:00" in a reply is prose)."""
    if not _HEADER_FROM.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 5] if line.strip()]
    if "@" in lines[index]:
        return any(_HEADER_NEXT.match(line) for line in following[:3])
    return any(_HEADER_SENT.match(line) for line in following) and any(
        _HEADER_SUBJECT.match(line) for line in following
    )


def strip_quotes(text: str, *, marker: str | None = None) -> str:
    """The new part of a reply: everything before the first quoted-history boundary (a
    reply marker line, an attribution, an Outlook header block, an original-message rule),
    without remaining ``>``-quoted lines. A forwarded message at that boundary ("----------
    Forwarded message ----------", "Begin forwarded message:") is no history but what the
    sender passes on: it is kept, whole, after the new part. A reply with nothing above an
    attribution whose history below is quoted with ``>`` was written below the quote or
    between its lines (Thunderbird, mutt): its lines that are not quoted are the new part,
    up to the next boundary."""
    _check_text(text, "text")
    if marker is not None:
        _check_text(marker, "marker")
    lines = normalize_text(text).split("\n")
    new_text, end = _new_part(lines, marker)
    if new_text or end is None:
        return new_text
    span = _attribution_span(lines, end)
    below = lines[end + span :]
    if span and any(line.lstrip().startswith(">") for line in below):
        new_text, _ = _new_part(below, marker, below_quote=True)
    return new_text


def _new_part(
    lines: list[str], marker: str | None, *, below_quote: bool = False
) -> tuple[str, int | None]:
    """The text before the first history boundary of ``lines``, without ``>``-quoted
    lines, and the index of that boundary (None: there is none, or it is a forwarded
    message, kept with the text). ``below_quote``: the ``>`` lines are the history
    answered in between, so the reply marker in one of them ends nothing."""
    for index, line in enumerate(lines):
        if marker and marker in line and not (below_quote and line.lstrip().startswith(">")):
            return _unquoted(lines[:index]), index
        if _FORWARD.match(line):
            forwarded = "\n".join(lines[index:])
            return f"{_unquoted(lines[:index])}\n\n{forwarded}".strip(), None
        if (
            _ORIGINAL.match(line)
            or (_RULE.match(line) and _header_block_follows(lines, index + 1))
            or _attribution_at(lines, index)
            or _outlook_header_at(lines, index)
            or (_UNDERSCORES.match(line) and index + 1 < len(lines) and _next_is_from(lines, index))
        ):
            return _unquoted(lines[:index]), index
    return _unquoted(lines), None


def _unquoted(lines: list[str]) -> str:
    return "\n".join(line for line in lines if not line.lstrip().startswith(">")).strip()


# A rule of dashes around a few words: Outlook's above the message answered, in its
# user's language ("-----Mensaje original-----"), when a header block follows it.
_RULE = re.compile(r"^\s*-{2,}\s*[^\s-][^-]{0,60}-{2,}\s*$")


def _header_block_follows(lines: list[str], index: int) -> bool:
    """The first line from ``index`` that is not blank starts an Outlook header block."""
    for at in range(index, min(index + 3, len(lines))):
        if lines[at].strip():
            return _outlook_header_at(lines, at)
    return False


def _next_is_from(lines: list[str], index: int) -> bool:
    for line in lines[index + 1 : index + 3]:
        if line.strip():
            return bool(_HEADER_FROM.match(line))
    return False


# The rules above a forwarded message (not those above a quoted original).
_FORWARD = re.compile(
    r"^\s*(?:-{2,}\s*(?:Forwarded message|Weitergeleitete Nachricht|Message transféré"
    r"|Mensaje reenviado)\s*-{2,}|Begin forwarded message\s*:"
    r"|Anfang der weitergeleiteten Nachricht\s*:|Début du message réexpédié\s*:)\s*$",
    re.IGNORECASE,
)


def strip_signature(text: str) -> str:
    """Text without its signature: from the ``-- `` delimiter line (also a bare ``--``) or
    a mobile footer ("Sent from my iPhone") to the end, or to a forwarded message that
    follows it (which is kept: it is what the sender passes on)."""
    _check_text(text, "text")
    lines = normalize_text(text).split("\n")
    for index, line in enumerate(lines):
        if line.rstrip() == "--" or _MOBILE.match(line):
            forward = next(
                (
                    i
                    for i in range(index + 1, len(lines))
                    if _FORWARD.match(lines[i]) or _ORIGINAL.match(lines[i])
                ),
                None,
            )
            head = "\n".join(lines[:index]).rstrip().split("\n")
            lines = head if forward is None else [*head, "", *lines[forward:]]
            break
    return "\n".join(lines).strip()


def clean_reply(text: str, *, marker: str | None = None) -> str:
    """The reply as the person wrote it: quoted history and signature removed."""
    return strip_signature(strip_quotes(text, marker=marker))


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def one_line(text: str) -> str:
    """``text`` on one line: line breaks and other controls (a NUL a ticket kept, a
    terminal escape) become spaces, runs of spaces one, no space at either end."""
    return " ".join(_CONTROLS.sub(" ", text).split())


def _check_text(value: Any, field: str) -> None:
    """The text helpers take text (a mail body already decoded), nothing else."""
    if not isinstance(value, str):
        raise ValidationError(f"expected text, got {type(value).__name__}", field=field)
