"""Mail text: HTML → plain text, and stripping quoted history and signatures from replies.

Everything here is a pure function of its input. The rules follow what common clients
write: ``>`` quoting, "On … wrote:" attributions (Gmail, Apple Mail, Thunderbird; German
"Am … schrieb …:"), Outlook's "-----Original Message-----" and "From: … Sent: …" header
blocks, Gmail/Apple/Thunderbird quote containers in HTML, the ``-- `` signature delimiter and
mobile footers ("Sent from my iPhone").
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["clean_reply", "html_to_text", "normalize_text", "strip_quotes", "strip_signature"]

_BLOCK_TAGS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5",
        "h6", "pre", "blockquote", "hr", "section", "article", "header", "footer", "dl",
        "dt", "dd",
    }
)  # fmt: skip
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "template"})
_QUOTE_CLASSES = frozenset(
    {"gmail_quote", "gmail_extra", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote"}
)
_SIGNATURE_CLASSES = frozenset({"gmail_signature", "moz-signature"})
_QUOTE_IDS = frozenset({"divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container"})
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})


class _TextExtractor(HTMLParser):
    def __init__(self, *, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._drop_quotes = drop_quotes
        self._parts: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, starts a skipped subtree)
        self._skipping = 0
        self._href: list[str | None] = []
        self._cut = False  # Outlook: everything after the reply header block is history
        self._pre = 0

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
            if skip:
                self._skipping += 1
        if self._skipping:
            return
        if tag == "pre":
            self._pre += 1
        if tag in _BLOCK_TAGS:
            self._parts.append("\n")
        if tag == "li":
            self._parts.append("- ")
        if tag == "a":
            self._href.append(values.get("href") or None)
        if tag == "img" and values.get("alt"):
            self._parts.append(f"[{values['alt']}]")

    def handle_endtag(self, tag: str) -> None:
        if self._cut:
            return
        # Close up to the matching open tag (HTML in mail is often unbalanced).
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                closing = self._stack[index:]
                del self._stack[index:]
                was_skipping = self._skipping
                self._skipping -= sum(1 for _, skip in closing if skip)
                if was_skipping and not self._skipping:
                    self._parts.append("\n")
                    return
                break
        else:
            return
        if self._skipping:
            return
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag == "a" and self._href:
            href = self._href.pop()
            if href and href.startswith(("http:", "https:", "mailto:")):
                shown = self._parts[-1].strip() if self._parts else ""
                target = href.removeprefix("mailto:")
                if shown != target and shown != href:
                    self._parts.append(f" ({target})")
        if tag in _BLOCK_TAGS:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._cut or self._skipping:
            return
        if self._pre:
            self._parts.append(data)
        else:
            self._parts.append(re.sub(r"[ \t\r\n\f]+", " ", data))

    def text(self) -> str:
        lines = [line.strip() for line in "".join(self._parts).replace("\xa0", " ").split("\n")]
        out: list[str] = []
        for line in lines:
            if not line and (not out or not out[-1]):
                continue
            out.append(line)
        return "\n".join(out).strip()


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    """Readable plain text of an HTML mail body: block elements become line breaks, list
    items get ``- ``, links show their target, scripts and styles vanish. With
    ``drop_quotes`` the quoted history containers (``<blockquote>``, Gmail's
    ``gmail_quote``, Outlook's ``divRplyFwdMsg`` and what follows it) and signature
    containers are left out."""
    parser = _TextExtractor(drop_quotes=drop_quotes)
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # pragma: no cover - html.parser is lenient
        pass
    return parser.text()


def normalize_text(text: str) -> str:
    """Unix line ends, no NUL or lone surrogates, no trailing blanks, no edge blank lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


_ATTRIBUTION = re.compile(
    r"^\s*(?:On\s.{1,400}\swrote|Am\s.{1,400}\sschrieb\s.{0,200}|Le\s.{1,400}\sa\s[ée]crit"
    r"|El\s.{1,400}\sescribi[óo]|Op\s.{1,400}\sschreef\s.{0,200}|.{1,200}\swrote\s+on\s.{1,200})"
    r"\s*:\s*$",
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine"
    r"|Forwarded message|Weitergeleitete Nachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\**(?:From|Von|De)\s*:\**\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\**(?:Sent|Date|Gesendet|Datum|Envoyé|To|An|Subject|Betreff)\s*:", re.IGNORECASE
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_MOBILE = re.compile(
    r"^\s*(?:Sent from my \w[\w ]{0,30}|Sent from (?:Outlook|Mail|Yahoo Mail)\b.*"
    r"|Get Outlook for \w+.*|Von meinem \w[\w ]{0,30} gesendet|Envoyé de mon \w+.*)\s*$",
    re.IGNORECASE,
)


def _attribution_at(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _ATTRIBUTION.match(line):
        return True
    # Gmail wraps long attributions over two (rarely three) lines.
    if index + 1 < len(lines) and re.match(r"^\s*(?:On|Am|Le|El|Op)\s", line, re.IGNORECASE):
        joined = " ".join(part.strip() for part in lines[index : index + 3] if part.strip())
        for end in range(2, 4):
            candidate = " ".join(p.strip() for p in lines[index : index + end])
            if _ATTRIBUTION.match(candidate):
                return True
        return bool(_ATTRIBUTION.match(joined))
    return False


def _outlook_header_at(lines: list[str], index: int) -> bool:
    if not _HEADER_FROM.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 5] if line.strip()]
    return any(_HEADER_NEXT.match(line) for line in following[:3])


def strip_quotes(text: str, *, marker: str | None = None) -> str:
    """The new part of a reply: everything before the first quoted-history boundary (a
    reply marker line, an attribution, an Outlook header block, a forwarded-message rule),
    without remaining ``>``-quoted lines."""
    lines = normalize_text(text).split("\n")
    end = len(lines)
    for index, line in enumerate(lines):
        if marker and marker in line:
            end = index
            break
        if (
            _ORIGINAL.match(line)
            or _attribution_at(lines, index)
            or _outlook_header_at(lines, index)
            or (_UNDERSCORES.match(line) and index + 1 < len(lines) and _next_is_from(lines, index))
        ):
            end = index
            break
    kept = [line for line in lines[:end] if not line.lstrip().startswith(">")]
    return "\n".join(kept).strip()


def _next_is_from(lines: list[str], index: int) -> bool:
    for line in lines[index + 1 : index + 3]:
        if line.strip():
            return bool(_HEADER_FROM.match(line))
    return False


def strip_signature(text: str) -> str:
    """Text without its signature: from the ``-- `` delimiter line (also a bare ``--``) or
    a mobile footer ("Sent from my iPhone") to the end."""
    lines = normalize_text(text).split("\n")
    for index, line in enumerate(lines):
        if line.rstrip() == "--" or _MOBILE.match(line):
            lines = lines[:index]
            break
    return "\n".join(lines).strip()


def clean_reply(text: str, *, marker: str | None = None) -> str:
    """The reply as the person wrote it: quoted history and signature removed."""
    return strip_signature(strip_quotes(text, marker=marker))
