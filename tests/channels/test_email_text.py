"""HTML to text, quote and signature stripping."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from helpdesk_core import Helpdesk
from helpdesk_core.channels.email import clean_reply, html_to_text, strip_quotes, strip_signature
from helpdesk_core.errors import ValidationError


def test_html_blocks_lists_links_and_entities() -> None:
    html = (
        "<h1>Title</h1><p>One &amp; two</p><div>a</div><div>b<br>c</div>"
        "<ol><li>first</li><li>second</li></ol>"
        '<a href="mailto:x@example.org">x@example.org</a> <a href="https://e.org">site</a>'
        "<pre>  keep   spacing</pre>"
    )
    assert html_to_text(html) == (
        "Title\n\nOne & two\n\na\nb\nc\n\n- first\n- second\n\n"
        "x@example.org site (https://e.org)\n\nkeep   spacing"
    )


def test_html_drops_scripts_styles_and_on_request_quotes() -> None:
    html = (
        "<style>p{}</style><script>x()</script><p>New text</p>"
        '<div class="gmail_quote">On Mon wrote:<blockquote>old</blockquote></div>'
        '<blockquote type="cite">older</blockquote><div class="moz-signature">sig</div>'
    )
    assert html_to_text(html, drop_quotes=True) == "New text"
    assert "old" in html_to_text(html)


def test_outlook_html_history_after_the_reply_header_is_cut() -> None:
    html = '<p>Answer</p><div id="divRplyFwdMsg">From: x</div><p>history</p>'
    assert html_to_text(html, drop_quotes=True) == "Answer"


def test_html_table_cells_stay_apart() -> None:
    """A minified table (a form mail, a monitoring alert, a pasted spreadsheet) has no
    blank between its cells: they are joined with a tab, as a browser's innerText joins
    them, not run together ("HP 4050" and "42" are no "HP 405042")."""
    html = (
        "<table><tr><th>Printer</th><th>Error</th></tr>"
        "<tr><td>HP 4050</td><td>42</td></tr></table><p>Please help</p>"
    )
    assert html_to_text(html) == "Printer\tError\nHP 4050\t42\n\nPlease help"
    spaced = "<table>\n<tr>\n  <td>a</td>\n  <td> b</td>\n</tr>\n</table>"
    assert html_to_text(spaced) == "a\tb"
    assert html_to_text("<table><tr><td></td><td>x</td><td></td></tr></table>") == "x"


def test_unbalanced_html_does_not_lose_text() -> None:
    assert html_to_text("<div><p>a<b>b</div>c</i>") == "ab\n\nc"


@pytest.mark.parametrize(
    "history",
    [
        "On Mon, 2 Mar 2026 at 10:15, Desk <help@desk.example.com> wrote:\n> old",
        "On Mon, 2 Mar 2026 at 10:15, Desk <\nhelp@desk.example.com> wrote:\n\n> old",
        "On 2 Mar 2026, at 10:15, Desk <help@desk.example.com> wrote:\n> old",
        "Am 02.03.26 um 10:15 schrieb Desk:\n> old",
        "-----Original Message-----\nFrom: Desk\nSent: Monday\n\nold",
        "________________________________\nFrom: Desk <help@desk.example.com>\nSent: Monday\n"
        "To: Ada\nSubject: x\n\nold",
        "From: Desk <help@desk.example.com>\nSent: Monday, March 2, 2026 10:15\nTo: Ada\n\nold",
        "Desk wrote on 2 March 2026:\nold",
        "##- Please type your reply above this line -##\nold",
        "De: Desk <help@desk.example.com>\nEnviado: lunes, 2 de marzo de 2026\nPara: Ana\n\nold",
        "Da: Desk <help@desk.example.com>\nInviato: lunedì 2 marzo 2026\nA: Gio\n\nold",
        "Van: Desk <help@desk.example.com>\nVerzonden: maandag 2 maart 2026\n\nold",
        "Från: Desk <help@desk.example.com>\nSkickat: den 2 mars 2026\n\nold",
        "De : Desk <help@desk.example.com>\nEnvoyé : lundi 2 mars 2026\n\nold",
        "Il giorno lun 2 mar 2026 alle ore 10:15 Desk <help@desk.example.com> ha scritto:\nold",
        "Em seg., 2 de mar. de 2026 às 10:15, Desk <help@desk.example.com> escreveu:\nold",
        "Den mån 2 mars 2026 kl 10:15 skrev Desk <help@desk.example.com>:\n> old",
        "Den 2026-03-02 kl. 10:15, skrev Desk:\n> old",
        "Den mån 2 mars 2026 kl 10:15 skrev Example IT desk <\nhelp@desk.example.com>:\n\n> old",
    ],
)
def test_quoted_history_is_stripped(history: str) -> None:
    text = f"New answer.\n\nSecond line.\n\n{history}\nmore old"
    assert strip_quotes(text, marker="##- Please type your reply above this line -##") == (
        "New answer.\n\nSecond line."
    )


@pytest.mark.parametrize(
    "block",
    [
        "Fra: Desk <help@desk.example.com>\nSendt: 2. marts 2026 10:15\nTil: Ada\nEmne: x",
        "L\u00e4hett\u00e4j\u00e4: Desk <help@desk.example.com>\nL\u00e4hetetty: maanantai"
        "\nVastaanottaja: Ada\nAihe: x",
        "Od: Desk <help@desk.example.com>\nWys\u0142ano: poniedzia\u0142ek, 2 marca 2026"
        "\nDo: Ada\nTemat: x",
        "Od: Desk <help@desk.example.com>\nOdesl\u00e1no: pond\u011bl\u00ed 2. b\u0159ezna"
        "\nKomu: Ada\nP\u0159edm\u011bt: x",
        "\u041e\u0442: Desk <help@desk.example.com>\n\u041e\u0442\u043f\u0440\u0430\u0432"
        "\u043b\u0435\u043d\u043e: 2 \u043c\u0430\u0440\u0442\u0430 2026 \u0433.\n"
        "\u041a\u043e\u043c\u0443: Ada\n\u0422\u0435\u043c\u0430: x",
        "Kimden: Desk <help@desk.example.com>\nG\u00f6nderildi: 2 Mart 2026\nKime: Ada\nKonu: x",
        "Felad\u00f3: Desk <help@desk.example.com>\nElk\u00fcldve: 2026. m\u00e1rcius 2."
        "\nC\u00edmzett: Ada\nT\u00e1rgy: x",
        "\u5dee\u51fa\u4eba: Desk <help@desk.example.com>\n\u9001\u4fe1\u65e5\u6642: "
        "2026\u5e743\u67082\u65e5\n\u5b9b\u5148: Ada\n\u4ef6\u540d: x",
        "\u53d1\u4ef6\u4eba: Desk <help@desk.example.com>\n\u53d1\u9001\u65f6\u95f4\uff1a"
        "2026\u5e743\u67082\u65e5\n\u6536\u4ef6\u4eba: Ada\n\u4e3b\u9898: x",
        "\u5bc4\u4ef6\u8005: Desk <help@desk.example.com>\n\u5bc4\u4ef6\u65e5\u671f: "
        "2026\u5e743\u67082\u65e5\n\u6536\u4ef6\u8005: Ada\n\u4e3b\u65e8: x",
        "\ubcf4\ub0b8 \uc0ac\ub78c: Desk <help@desk.example.com>\n\ubcf4\ub0b8 \ub0a0\uc9dc:"
        " 2026\ub144 3\uc6d4 2\uc77c\n\ubc1b\ub294 \uc0ac\ub78c: Ada\n\uc81c\ubaa9: x",
    ],
    ids=["da-no", "fi", "pl", "cs", "ru", "tr", "hu", "ja", "zh-hans", "zh-hant", "ko"],
)
def test_an_outlook_header_block_in_more_languages_is_history(block: str) -> None:
    """Outlook writes the header block above the message it answers in its user's
    language; without ``>`` quoting, everything below it is history."""
    text = f"New answer.\n\n{block}\n\nHello Ada,\nwe have solved ticket [#1]."
    assert strip_quotes(text) == "New answer."


@pytest.mark.parametrize(
    "rule",
    [
        "-----Mensaje original-----",
        "-----Messaggio originale-----",
        "-----Mensagem original-----",
        "-----Oorspronkelijk bericht-----",
        "-----Ursprungligt meddelande-----",
        "-----Wiadomo\u015b\u0107 oryginalna-----",
        "-----\u0418\u0441\u0445\u043e\u0434\u043d\u043e\u0435 \u0441\u043e\u043e\u0431"
        "\u0449\u0435\u043d\u0438\u0435-----",
    ],
)
def test_the_rule_above_an_original_in_any_language_goes_with_it(rule: str) -> None:
    """Outlook writes a rule in its user's language above the header block of the
    message answered: it is history too, not the last line of the reply."""
    block = "De: Desk <help@desk.example.com>\nEnviado: lunes\nPara: Ana\nAsunto: x"
    assert strip_quotes(f"Nuevo\n\n{rule}\n{block}\n\nold") == "Nuevo"


def test_a_rule_in_the_text_is_kept() -> None:
    text = "Steps:\n----- step one -----\nFrom: the start menu, open Settings"
    assert strip_quotes(text) == text


def test_inline_quote_lines_are_removed_but_answers_between_them_kept() -> None:
    text = "> Which client?\nAnyConnect\n> Since when?\nMonday"
    assert strip_quotes(text) == "AnyConnect\nMonday"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("On 02.03.26 10:15, Desk wrote:\n> Which client?\nAnyConnect\n> Since when?\nMonday",
         "AnyConnect\nMonday"),
        ("Am 02.03.26 um 10:15 schrieb Desk:\n> ##- Please type your reply above this line -##"
         "\n>\n> Which client?\n\nAnyConnect", "AnyConnect"),
        ("On Mon, 2 Mar 2026 at 10:15, Example IT desk <\nhelp@desk.example.com> wrote:\n\n"
         "> old\n\nBelow the quote", "Below the quote"),
        ("On Mon, Desk wrote:\n> old\nmy answer\n\nOn Sun, Bob wrote:\n> older\nold answer",
         "my answer"),
        # Nothing tells an answer from history that is not quoted with ">".
        ("On Mon, Desk wrote:\nold text", ""),
        ("From: Desk <help@desk.example.com>\nSent: Monday\nTo: Ada\n\nold text", ""),
        ("On Mon, Desk wrote:\n> old text", ""),
        ("New text\n\nOn Mon, Desk wrote:\n> old\nbelow", "New text"),
    ],
)
def test_an_answer_below_or_inside_the_quote_is_the_new_part(text: str, kept: str) -> None:
    marker = "##- Please type your reply above this line -##"
    assert strip_quotes(text, marker=marker) == kept


def test_a_from_line_in_the_text_is_not_history_without_a_header_block() -> None:
    text = "From: my point of view it is broken.\nPlease check."
    assert strip_quotes(text) == text


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nAda\nPhone",
        "--\nAda",
        "Sent from my iPhone",
        "Von meinem iPad gesendet",
        "Get Outlook for iOS",
        # Samsung's, with its full stop, and the phones' footers in the languages whose
        # attributions are read.
        "Sent from my Samsung Galaxy smartphone.",
        "Von meinem Samsung Galaxy Smartphone gesendet.",
        "Envoyé depuis mon appareil Galaxy",
        "Enviado desde mi iPhone",
        "Inviato da iPhone",
        "Inviato dal mio Samsung Galaxy",
        "Enviado do meu iPhone",
        "Verstuurd vanaf mijn iPhone",
        "Skickat från min iPhone",
    ],
)
def test_signatures_are_stripped(signature: str) -> None:
    assert strip_signature(f"Body text.\n\n{signature}") == "Body text."


def test_clean_reply_combines_both_and_normalizes_line_ends() -> None:
    text = "Thanks!\r\n\r\n-- \r\nAda\r\n\r\nOn Mon, Desk wrote:\r\n> x\r\n"
    assert clean_reply(text) == "Thanks!"
    assert clean_reply("\x00Hi\ud800") == "Hi?"


@pytest.mark.parametrize(
    "boundary",
    [
        "Begin forwarded message:",
        "-------- Forwarded Message --------",
        "---------- Weitergeleitete Nachricht ---------",
    ],
)
def test_a_forwarded_message_after_the_signature_is_kept(boundary: str) -> None:
    forwarded = f"{boundary}\n\nFrom: c@x.example\n\nIt fails."
    text = f"Please handle.\n\nSent from my iPhone\n\n{forwarded}"
    assert strip_signature(text) == f"Please handle.\n\n{forwarded}"


@pytest.mark.parametrize(
    "attribution",
    [
        "\u043f\u043d, 2 \u043c\u0430\u0440. 2026 \u0433. \u0432 10:15, Desk "
        "<help@desk.example.com>:",
        "pon., 2 mar 2026 o 10:15 Desk <help@desk.example.com> napisa\u0142(a):",
        "Desk <help@desk.example.com> \u4e8e2026\u5e743\u67082\u65e5\u5468\u4e00 10:15"
        "\u5199\u9053\uff1a",
        "2026\u5e743\u67082\u65e5(\u6708) 10:15 Desk <help@desk.example.com>:",
        "po 2. 3. 2026 v 10:15 odes\u00edlatel Desk <help@desk.example.com> napsal:",
        "Desk <help@desk.example.com>, 2 Mar 2026 Pzt, 10:15 tarihinde \u015funu yazd\u0131:",
        "\u043f\u043d, 2 \u043c\u0430\u0440. 2026 \u0433. \u0432 10:15, Desk <\n"
        "help@desk.example.com>:",
    ],
    ids=["ru", "pl", "zh", "ja", "cs", "tr", "ru-wrapped"],
)
def test_an_attribution_in_any_language_is_cut_above_quoted_history(attribution: str) -> None:
    """Gmail writes its attribution in the reader's language: whatever the words, a line
    with a date and an address in angle brackets that ends with a colon, above lines
    quoted with ``>``, is history, not what the sender wrote."""
    text = f"Neuer Text\n\n{attribution}\n\n> old\n> older"
    assert clean_reply(text) == "Neuer Text"
    below = f"{attribution}\n> old\n\nMy answer below\n\n> older"
    assert clean_reply(below) == "My answer below"


@pytest.mark.parametrize(
    "prose",
    [
        "See what Bob <bob@example.org> said:\n> the server is down\nPlease fix it.",
        "Since 2 March write to <it@example.org>:\nroom 2.14, please.",
    ],
)
def test_a_line_naming_an_address_is_no_attribution_without_date_or_quote(prose: str) -> None:
    assert strip_quotes(prose) == "\n".join(
        line for line in prose.split("\n") if not line.startswith(">")
    )


@pytest.mark.parametrize(
    "prose",
    [
        "Horario de la oficina:\nDe: 9:00\nA: 17:00\nSaludos",
        "Il trasferimento va fatto così.\nDa: Milano\nA: Roma\nData: 12 marzo\nGrazie",
        "Verhuizing werkplek.\nVan: kamer 2.14\nAan: kamer 3.01\nBedankt",
        "Please move my desk.\nFrom: room 2.14\nTo: room 3.01\nThanks",
        "Ho riavviato.\nIl tecnico di ieri mi ha scritto:\n\"riavviare\"\nma non va.",
        "Reiniciei.\nEm resposta, o técnico escreveu:\n\"reinicie\"\nmas falha.",
        "Den nya skrivaren skrev ut 3 sidor:\n- en\n- två",
    ],
)
def test_prose_that_looks_like_a_header_is_kept(prose: str) -> None:
    assert strip_quotes(prose) == prose


class _CountingStack(list):  # type: ignore[type-arg]
    """A tag stack that counts how often it is read by index."""

    reads = 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        _CountingStack.reads += 1
        return super().__getitem__(index)


def test_stray_end_tags_cost_no_stack_scans(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hostile mail: thousands of end tags that close nothing. Each is dropped without
    walking the stack of open tags (a walk per tag made parsing quadratic: a 140 KB body
    took half a minute)."""
    from helpdesk_core.channels.email import text

    original = text._TextExtractor.__init__

    def init(self: text._TextExtractor, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        self._stack = _CountingStack()

    monkeypatch.setattr(text._TextExtractor, "__init__", init)
    _CountingStack.reads = 0
    n = 2_000
    assert html_to_text("<b>" * n + "Hello" + "</i>" * n) == "Hello"
    assert _CountingStack.reads < 10 * n  # a walk per stray tag: n * n reads
    _CountingStack.reads = 0
    assert html_to_text("<div>" + "<b><i>" * n + "Hi" + "</b>" * n + "</div>") == "Hi"
    assert _CountingStack.reads < 10 * n


@pytest.mark.parametrize(
    "html",
    [
        pytest.param("<a/" * 20_000, id="unclosed-tags"),
        pytest.param("<!--x>" * 10_000, id="unclosed-comments"),
        pytest.param("<![CDATA[>" * 10_000, id="unclosed-cdata"),
        pytest.param("<p>Hello</p>" + "<a" * 30_000, id="text-then-unclosed"),
    ],
)
def test_unfinished_markup_is_read_in_one_pass(html: str) -> None:
    """Hostile mail: markup that never ends. The parser's close() retried it at every
    "<" that followed, each time reading to the end (60 KB of "<a/" took 40 s)."""
    started = time.perf_counter()
    text = html_to_text(html)
    assert time.perf_counter() - started < 2.0
    assert "<" not in text


def _best_time(work: Any, text: str) -> float:
    """The best of three timings of ``work(text)`` (a busy machine slows some)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        work(text)
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(" " * 3_000_000 + "x", id="one-indented-line"),
        pytest.param((" " * 999 + "x\n") * 3_000, id="indented-lines"),
    ],
)
def test_indented_lines_cost_one_pass(text: str) -> None:
    """Hostile mail: lines indented by long runs of blanks, each tried as an attribution
    ("On ... wrote:") once per blank of its indent (3 MB took six seconds). Measured
    against one strip of every line of the same text, in the same run, so a busy machine
    slows both: about 150 times that now, over 2,000 times when each blank was tried."""
    assert clean_reply(text).endswith("x")
    strip = _best_time(lambda t: [line.strip() for line in t.splitlines()], text)
    assert _best_time(clean_reply, text) < 600 * strip + 0.05


def test_indented_attribution_still_ends_the_reply() -> None:
    assert clean_reply("Thanks!\n    On Mon, Ada wrote:\n> old") == "Thanks!"


def test_unfinished_markup_at_the_end_is_left_out() -> None:
    assert html_to_text("<p>Hello</p><p>world <!-- a note <b>kept</b> text") == (
        "Hello\n\nworld kept text"
    )
    assert html_to_text("<div>Hi <a href='https://exa") == "Hi"
    assert html_to_text("<p>5 < 6 &amp 7 <") == "5 < 6 & 7 <"


# --- the public helpers refuse what is not theirs, by name --------------------------------


def _bad_helper_calls() -> list[Any]:
    from helpdesk_core.channels import email as mail

    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    settings = mail.EmailSettings(address="help@example.org")
    token = mail.SubjectToken()
    message = EmailMessage()
    return [
        pytest.param(lambda: clean_reply(None), "text", id="clean_reply-None"),
        pytest.param(lambda: clean_reply(b"hi"), "text", id="clean_reply-bytes"),
        pytest.param(lambda: clean_reply("hi", marker=1), "marker", id="clean_reply-marker"),
        pytest.param(lambda: strip_quotes(None), "text", id="strip_quotes"),
        pytest.param(lambda: strip_signature(1), "text", id="strip_signature"),
        pytest.param(lambda: html_to_text(None), "html", id="html_to_text-None"),
        pytest.param(lambda: html_to_text(b"<p>x</p>"), "html", id="html_to_text-bytes"),
        pytest.param(
            lambda: mail.parse_message_id("<a@b.org>", domain=None), "domain",
            id="parse_message_id-domain",
        ),
        pytest.param(lambda: token.find(None), "subject", id="token-find"),
        pytest.param(lambda: token.strip(None), "subject", id="token-strip"),
        pytest.param(lambda: token.render("x"), "number", id="token-render"),
        pytest.param(lambda: mail.requester_id_for(1), "address", id="requester_id_for"),
        pytest.param(lambda: mail.requester_id_for("  "), "address", id="requester_id_for-blank"),
        pytest.param(
            lambda: mail.automatic_reason(None, lambda name: None), "message",
            id="automatic_reason-message",
        ),
        pytest.param(
            lambda: mail.automatic_reason(message, None), "header", id="automatic_reason-header"
        ),
        pytest.param(
            lambda: mail.read_mail(b"From: a@b.org\r\n\r\nhi", max_bytes="x"), "max_bytes",
            id="read_mail-max_bytes",
        ),
        pytest.param(
            lambda: mail.automatic_reason(message, lambda name: None, domain="no domain"),
            "domain", id="automatic_reason-domain",
        ),
        pytest.param(
            lambda: mail.read_mail(b"From: a@b.org\r\n\r\nhi", max_bytes=99, domain=1),
            "domain", id="read_mail-domain",
        ),
        pytest.param(
            lambda: mail.message_id_for("T-1", 1, domain="example.org", n=-1), "n",
            id="message_id_for-n",
        ),
        pytest.param(
            lambda: mail.message_id_for("T-1", 1, domain="example.org", n=True), "n",
            id="message_id_for-n-bool",
        ),
        pytest.param(
            lambda: mail.message_id_for("T-1", 1, domain="example.org", internal="no"),
            "internal", id="message_id_for-internal",
        ),
        pytest.param(
            lambda: mail.free_requester_id(None, "ada@example.org"), "desk",
            id="free_requester_id-desk",
        ),
        pytest.param(
            lambda: mail.compose(Helpdesk(), None, key="T-000001:1", settings=settings),
            "event", id="compose-event",
        ),
        pytest.param(
            lambda: mail.EmailChannel(Helpdesk(), settings, limiter=5), "limiter",
            id="channel-limiter",
        ),
        pytest.param(
            lambda: mail.Templates().render("ack.subject", None, language="en", team=None),
            "values", id="templates-render-values",
        ),
        pytest.param(
            lambda: mail.describe_due(None, at=at, zone=ZoneInfo("UTC"), settings=settings),
            "due", id="describe_due-due",
        ),
        pytest.param(
            lambda: mail.describe_due(at, at=at.replace(tzinfo=None), zone=ZoneInfo("UTC"),
                                      settings=settings),
            "at", id="describe_due-naive",
        ),
        pytest.param(
            lambda: mail.describe_due(at, at=at, zone="UTC", settings=settings), "zone",
            id="describe_due-zone",
        ),
        pytest.param(
            lambda: mail.describe_due(at, at=at, zone=ZoneInfo("UTC"), settings=None),
            "settings", id="describe_due-settings",
        ),
    ]


@pytest.mark.parametrize(("call", "field"), _bad_helper_calls())
def test_the_mail_helpers_refuse_bad_arguments_by_name(call: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.field == field
