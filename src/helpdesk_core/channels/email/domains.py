"""The two spellings of an internationalised mail domain (private to the email channel).

``müller.de`` travels as ``xn--mller-kva.de``: each label that is not ASCII is written as
``xn--`` and its Punycode. The labels are converted as they are (in NFC, lower case),
without the mapping of Python's ``idna`` codec (IDNA 2003), which turns ``straße`` into
``strasse``, drops soft hyphens and joiners and folds full-width letters into ASCII, and so
would make one mailbox of addresses in different domains, owned by different people.
"""

from __future__ import annotations

import unicodedata

__all__ = ["ascii_domain", "unicode_domain"]


def _ascii_label(label: str) -> str | None:
    if label.isascii():
        return label
    try:
        return "xn--" + label.encode("punycode").decode("ascii")
    except UnicodeError:
        return None


def ascii_domain(domain: str) -> str | None:
    """``domain`` with each label that is not ASCII written as ``xn--`` and its Punycode
    (after NFC and lower case); None when a label cannot be so written."""
    labels = []
    for label in unicodedata.normalize("NFC", domain).lower().split("."):
        written = _ascii_label(label)
        if written is None:
            return None
        labels.append(written)
    return ".".join(labels)


def unicode_domain(domain: str) -> str | None:
    """``domain`` with each ``xn--`` label read back (the reverse of :func:`ascii_domain`);
    None when a label does not read back to one that is written so again (a label that
    is not Punycode, or decodes to ASCII or to text not in NFC lower case)."""
    labels = []
    for label in domain.lower().split("."):
        if not label.startswith("xn--"):
            labels.append(label)
            continue
        try:
            read = label[4:].encode("ascii").decode("punycode")
        except UnicodeError:
            return None
        if read.isascii() or _ascii_label(unicodedata.normalize("NFC", read).lower()) != label:
            return None
        labels.append(read)
    return ".".join(labels)
