"""Desk events become the right messages, with threading headers, and the outbox
consumer delivers them at least once."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from attrs import evolve
from test_email_support import ADDRESS, body_of, corpus, make_channel, make_desk, outbound

from helpdesk_core import Helpdesk, MemoryStore, SequentialIds, SqliteStore
from helpdesk_core.channels.email import (
    EmailChannel,
    Templates,
    compose,
    parse_message_id,
)
from helpdesk_core.errors import ConfigError
from helpdesk_core.model import Requester
from helpdesk_core.routing import RuleSet


def _open(channel: EmailChannel) -> str:
    result = channel.receive(corpus("new_ticket.eml"))
    assert result.ticket_id is not None
    return result.ticket_id


def test_encoded_words_in_names_and_subjects_add_no_header() -> None:
    from email import message_from_bytes
    from email import policy as email_policy

    channel = make_channel(category=None)
    word = "=?utf-8?q?x=0D=0ABcc:_eve@evil.example?="
    channel.desk.open(
        requester=Requester(id="eve", name=f"Eve {word}", email="eve@example.org"),
        subject=f"Printer {word}",
    )
    [ack] = outbound(channel)
    sent = message_from_bytes(ack.as_bytes(), policy=email_policy.default)
    assert sent["Bcc"] is None
    assert sent["To"].addresses[0].addr_spec == "eve@example.org"
    # The text reads as it was written (an invisible word joiner after the "=").
    assert str(sent["Subject"]).replace("\u2060", "") == f"[#1] Printer {word}"
    name = sent["To"].addresses[0].display_name
    assert "".join(name.replace("\u2060", "").split()) == "".join(f"Eve {word}".split())


def test_acknowledgement_names_number_deadline_and_open_questions() -> None:
    channel = make_channel()
    ticket_id = _open(channel)
    [ack] = outbound(channel)
    assert ack["To"] == "Ada Lovelace <ada@example.org>"
    assert ack["From"] == f"Example IT desk <{ADDRESS}>"
    assert ack["Subject"] == "[#1] VPN drops every few minutes"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["X-Helpdesk-Event"] == f"{ticket_id}:1"
    assert ack["Message-ID"] == "<ticket-T-000001-1@desk.example.com>"
    assert ack["In-Reply-To"] is None
    text = body_of(ack)
    # Opened Monday 09:00 Berlin; medium priority first response 4h on the EMEA calendar
    # with a lunch break 12:30-13:15 -> 13:45, i.e. in 4h 45m of wall time.
    assert "You can expect a first answer by Mon 13:45 (in 4h 45m)." in text
    assert "- Where are you working from?" in text
    assert "- Which VPN client do you use?" in text
    assert text.startswith("##- Please type your reply above this line -##")


def test_acknowledgement_asks_the_questions_of_a_category_a_rule_set() -> None:
    from helpdesk_core.routing import RuleSet

    desk = make_desk()
    rule = {"name": "printers", "when": {"field": "subject", "op": "contains",
            "value": "printer"}, "actions": {"category": "hardware"}}  # fmt: skip
    desk.reconfigure(desk.config.replace(routing=RuleSet.from_dict([rule])))
    channel = make_channel(desk, category=None)
    ada = Requester(id="ada", name="Ada", email="ada@example.org", attributes={"region": "emea"})
    ticket = desk.open(requester=ada, subject="Printer jams")
    assert ticket.category == "hardware"
    [ack] = outbound(channel)
    assert "- Which device model is it?" in body_of(ack)


def test_acknowledgement_without_a_deadline_and_without_questions() -> None:
    desk = make_desk()
    desk = Helpdesk(
        config=desk.config.replace(sla_policies=(), escalation_policies=()),
        store=MemoryStore(),
        clock=desk.clock,
        ids=SequentialIds(),
    )
    channel = make_channel(desk, category=None)
    desk.open(
        requester=Requester(id="bob", name="Bob", email="bob@example.org"),
        subject="Question",
        channel="phone",
    )
    [ack] = outbound(channel)
    text = body_of(ack)
    assert "To help us" not in text
    assert "You can expect a first answer as soon as possible." in text


def test_acknowledgement_in_german_for_a_german_requester() -> None:
    desk = make_desk()
    channel = make_channel(desk, category=None)
    desk.open(
        requester=Requester(id="jo", name="Jo", email="jo@example.de", language="de-DE"),
        subject="Drucker",
        channel="email",
    )
    [ack] = outbound(channel)
    text = body_of(ack)
    assert "Hallo Jo" in text
    assert "bis Mo 13:45 (in 4h 45m)" in text


def test_no_acknowledgement_for_a_requester_without_address_or_when_switched_off() -> None:
    desk = make_desk()
    channel = make_channel(desk)
    desk.open(requester=Requester(id="nomail", name="No Mail"), subject="Phone call")
    assert outbound(channel) == []
    quiet = make_channel(make_desk(), acknowledge=False)
    _open(quiet)
    assert outbound(quiet) == []


def test_agent_public_replies_are_sent_with_the_author_and_internal_notes_never() -> None:
    channel = make_channel()
    ticket_id = _open(channel)
    outbound(channel)
    channel.desk.reply(
        ticket_id, author="lena", body="Internal: check the VPN gateway.", public=False
    )
    channel.desk.reply(ticket_id, author="lena", body="Could you send the client log?")
    messages = outbound(channel)
    assert len(messages) == 1
    [reply] = messages
    assert reply["Subject"] == "Re: [#1] VPN drops every few minutes"
    assert reply["From"] == f'"Lena Fischer (Example IT desk)" <{ADDRESS}>'
    assert reply["Auto-Submitted"] is None
    assert reply["In-Reply-To"] == "<ticket-T-000001-1@desk.example.com>"
    assert reply["References"] == "<ticket-T-000001-1@desk.example.com>"
    text = body_of(reply)
    assert "Could you send the client log?" in text
    assert "Lena Fischer" in text
    assert "Internal" not in text
    ref = parse_message_id(reply["Message-ID"], domain="desk.example.com")
    assert ref is not None and ref.ticket_id == ticket_id and not ref.internal


def test_requesters_own_replies_are_not_echoed() -> None:
    channel = make_channel()
    ticket_id = _open(channel)
    outbound(channel)
    channel.desk.reply(ticket_id, author="ada@example.org", body="More details")
    assert outbound(channel) == []


def test_solve_notice_carries_the_resolution_and_the_csat_link() -> None:
    channel = make_channel(csat_url="https://desk.example.com/rate/{number}?t={ticket_id}")
    ticket_id = _open(channel)
    channel.desk.reply(ticket_id, author="lena", body="Fixed on our side.")
    channel.desk.solve(ticket_id, by="lena", resolution="Gateway firmware updated.")
    messages = outbound(channel)
    solved = [m for m in messages if str(m["Subject"]).startswith("Solved:")]
    assert len(solved) == 1
    text = body_of(solved[0])
    assert "Gateway firmware updated." in text
    assert "https://desk.example.com/rate/1?t=T-000001" in text
    assert solved[0]["Auto-Submitted"] == "auto-replied"


def test_sla_alerts_go_to_team_contacts_as_internal_notifications() -> None:
    desk = make_desk()
    channel = make_channel(desk)
    ticket_id = _open(channel)
    outbound(channel)
    desk.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    desk.tick()
    messages = outbound(channel)
    alerts = [m for m in messages if str(m["Subject"]).startswith("SLA ")]
    assert alerts, [m["Subject"] for m in messages]
    recipients = {str(m["To"]) for m in alerts}
    team = desk.get(ticket_id).team
    contacts = desk.config.team(team or "").contacts
    assert {f"{desk.config.agent(c).name} <{c}@desk.example.com>" for c in contacts} <= recipients
    for message in alerts:
        assert message["Auto-Submitted"] == "auto-replied"
        ref = parse_message_id(message["Message-ID"], domain="desk.example.com")
        assert ref is not None and ref.internal
    assert len({m["Message-ID"] for m in messages}) == len(messages)
    assert any("was breached" in str(m["Subject"]) for m in alerts)


def test_an_alert_for_a_team_this_worker_does_not_know_still_reaches_the_assignee() -> None:
    """A delivery worker whose configuration lacks the ticket's team (another process's
    desk, or one reconfigured since) mails the assignee, not nobody after ten tries."""
    desk = make_desk()
    channel = make_channel(desk)
    ticket_id = _open(channel)
    outbound(channel)
    ticket = desk.get(ticket_id)
    assert ticket.team is not None and ticket.assignee is not None
    desk.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    desk.tick()
    config = desk.config
    other = config.replace(
        teams=tuple(t for t in config.teams if t.id != ticket.team),
        tiers=tuple(evolve(t, teams=tuple(x for x in t.teams if x != ticket.team))
                    for t in config.tiers),
        agents=tuple(evolve(a, teams=tuple(x for x in a.teams if x != ticket.team))
                     for a in config.agents),
        routing=RuleSet(()),
    )
    worker = Helpdesk(config=other, store=desk.store, clock=desk.clock, ids=SequentialIds())
    alerts = [m for m in outbound(make_channel(worker)) if str(m["Subject"]).startswith("SLA ")]
    assignee = other.agent(ticket.assignee)
    assert {str(m["To"]) for m in alerts} == {f"{assignee.name} <{assignee.email}>"}


def test_an_agent_answering_an_alert_by_mail_writes_an_internal_note() -> None:
    desk = make_desk()
    channel = make_channel(desk)
    ticket_id = _open(channel)
    desk.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    desk.tick()
    alert = next(m for m in outbound(channel) if str(m["Subject"]).startswith("SLA "))
    agent = str(alert["To"].addresses[0].addr_spec)
    answer = EmailMessage()
    answer["From"] = agent
    answer["To"] = ADDRESS
    answer["Subject"] = "Re: " + str(alert["Subject"])
    answer["Message-ID"] = "<agent-answer@desk.example.com>"
    answer["In-Reply-To"] = alert["Message-ID"]
    answer.set_content("Looking into it now.")
    result = channel.receive(answer)
    assert (result.action, result.reason) == ("replied", "internal note")
    last = desk.history(ticket_id)
    notes = [e for e in last if type(e).__name__ == "CommentAdded"]
    assert notes[-1].by.is_agent and not notes[-1].public  # type: ignore[attr-defined]
    assert all(not str(m["Subject"]).startswith("Re:") for m in outbound(channel))


def test_escalation_notice_goes_to_the_level_contact() -> None:
    desk = make_desk()
    channel = make_channel(desk)
    ticket_id = _open(channel)
    outbound(channel)
    desk.raise_level(ticket_id, by="lena", reason="VIP waiting")
    messages = outbound(channel)
    [notice] = [m for m in messages if str(m["Subject"]).startswith("Escalation")]
    team = desk.config.team(desk.get(ticket_id).team or "")
    assert notice["To"].addresses[0].addr_spec == f"{team.contacts[0]}@desk.example.com"
    assert "VIP waiting" in body_of(notice)


def test_team_and_language_overrides() -> None:
    templates = Templates(
        languages={"fr": {"ack.subject": "Reçu {token} {subject}"}},
        teams={"service-desk-emea": {"en": {"ack.subject": "EMEA got {token}"}}},
    )
    assert templates.template("ack.subject", language="en", team="service-desk-emea") == (
        "EMEA got {token}"
    )
    assert templates.template("ack.subject", language="fr", team="service-desk-emea") == (
        "Reçu {token} {subject}"
    )
    assert templates.template("ack.body", language="fr").startswith("{marker}")
    assert templates.template("ack.subject", language="de", team="network") == "{token} {subject}"
    channel = make_channel(templates=templates)
    _open(channel)
    [ack] = outbound(channel)
    assert ack["Subject"] == "EMEA got [#1]"


@pytest.mark.parametrize(
    ("languages", "message"),
    [
        ({"en": {"ack.sbject": "x"}}, "unknown template 'ack.sbject'"),
        ({"en": {"ack.subject": "{numbr}"}}, "unknown field {numbr}"),
        ({"en": {"ack.subject": "{0}"}}, "named fields only"),
        ({"en": {"ack.subject": "{subject.__class__}"}}, "named fields only"),
        ({"en": {"ack.subject": "{"}}, "ack.subject"),
        ({"en": {"weekdays": "Mo Di"}}, "seven day names"),
        ({"en": {"ack.subject": "{token!x} {subject}"}}, "unknown conversion !x of {token}"),
        ({"en": {"ack.subject": "{token} {subject:d}"}}, "{subject}: Unknown format code 'd'"),
        ({"de": {"solved.body": "{resolution:%Y}"}}, "templates.languages.de.solved.body"),
        ({"en": {"ack.subject": "{number:q} {token}"}}, "{number}: Unknown format code 'q'"),
    ],
)
def test_bad_templates_fail_when_built(languages: dict[str, dict[str, str]], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace(".", r"\.")):
        Templates(languages=languages)


def test_templates_with_format_specs_that_fit_their_values_render() -> None:
    """A conversion or a format spec is checked against the value the field gets (the
    ticket number is a whole number, the subject text), not refused outright."""
    templates = Templates(
        languages={"en": {"ack.subject": "{number:06d} {token!s} {subject:.40}"}},
        teams={"network": {"en": {"escalation.subject": "L{level:>2} {token}"}}},
    )
    channel = make_channel(templates=templates)
    _open(channel)
    [ack] = outbound(channel)
    assert ack["Subject"].startswith("000001 [#1] ")


def test_compose_checks_the_key_belongs_to_the_event() -> None:
    channel = make_channel()
    ticket_id = _open(channel)
    event = channel.desk.history(ticket_id)[0]
    with pytest.raises(Exception, match="does not belong"):
        compose(channel.desk, event, key="T-9:1", settings=channel.settings)
    again = compose(channel.desk, event, key=f"{ticket_id}:1", settings=channel.settings)
    first = compose(channel.desk, event, key=f"{ticket_id}:1", settings=channel.settings)
    assert [m.as_bytes() for m in again] == [m.as_bytes() for m in first]


def test_deliver_releases_on_failure_and_sends_again_later() -> None:
    channel = make_channel()
    _open(channel)
    calls: list[EmailMessage] = []

    def flaky(message: EmailMessage) -> None:
        calls.append(message)
        raise OSError("connection refused")

    report = channel.deliver(flaky)
    assert report.sent == 0 and report.released == ("T-000001:1",)
    assert "connection refused" in report.errors[0][1]
    sent: list[EmailMessage] = []
    report = channel.deliver(sent.append)
    assert report.sent == 1 and "T-000001:1" in report.acked
    assert sent[0]["Message-ID"] == calls[0]["Message-ID"]
    assert channel.deliver(sent.append).sent == 0


def test_deliver_drops_an_item_after_max_attempts() -> None:
    channel = make_channel()
    _open(channel)

    def broken(message: EmailMessage) -> None:
        raise RuntimeError("rejected by relay")

    for _ in range(2):
        report = channel.deliver(broken, max_attempts=3)
        assert report.released == ("T-000001:1",)
    report = channel.deliver(broken, max_attempts=3)
    assert report.dropped == ("T-000001:1",)
    assert channel.deliver(broken, max_attempts=3).errors == ()


@pytest.mark.parametrize("fails", [False, True], ids=["acked", "released"])
def test_deliver_goes_on_when_a_claimed_items_ticket_is_purged(fails: bool) -> None:
    """A retention pass elsewhere purges a ticket whose items this call already claimed:
    they are gone (neither ack nor release can reach them), and the batch goes on."""
    desk = make_desk()
    channel = make_channel(desk)
    first = desk.open(requester=Requester(id="bob", email="bob@example.org"), subject="One")
    doomed = desk.open(requester=Requester(id="cy", email="cy@example.org"), subject="Two")
    last = desk.open(requester=Requester(id="dee", email="dee@example.org"), subject="Three")
    sent: list[str] = []

    def send(message: EmailMessage) -> None:
        sent.append(str(message["To"]))
        if str(message["To"]) == "cy@example.org":  # purged while its mail goes out
            desk.store.purge(doomed.id, expected_version=desk.get(doomed.id).version)
            if fails:
                raise OSError("relay down")

    report = channel.deliver(send)
    assert {item.split(":")[0] for item in report.gone} == {doomed.id}
    assert sent == ["bob@example.org", "cy@example.org", "dee@example.org"]
    assert report.released == ()
    assert {item.split(":")[0] for item in report.acked} == {first.id, last.id}
    assert channel.deliver(send).sent == 0


def test_delivery_from_a_sqlite_outbox_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    desk = make_desk(store=SqliteStore(path))
    channel = make_channel(desk)
    _open(channel)

    def down(message: EmailMessage) -> None:
        raise OSError("relay down")

    assert channel.deliver(down).released == ("T-000001:1",)
    desk.store.close()
    reopened = make_channel(make_desk(store=SqliteStore(path)))
    [ack] = outbound(reopened)
    assert ack["Subject"] == "[#1] VPN drops every few minutes"
    reopened.desk.store.close()


def test_nul_and_line_breaks_a_web_form_stored_never_reach_a_message() -> None:
    channel = make_channel(category=None)
    desk = channel.desk
    requester = Requester(id="ada", name="Ada\x00\x1b[2J Lovelace", email="ada@example.org")
    ticket = desk.open(requester=requester, subject="VPN\x00 drops\r\nagain", channel="web")
    desk.reply(ticket.id, author="lena", body="Restart\x00 the client.")
    ack, reply = outbound(channel)
    for message in (ack, reply):
        raw = message.as_bytes()
        headers = raw.split(b"\n\n", 1)[0]
        assert b"\x00" not in raw and b"\x1b" not in headers
    assert ack["To"] == "\"Ada [2J Lovelace\" <ada@example.org>"
    assert ack["Subject"] == "[#1] VPN drops again"
    assert "Restart the client." in body_of(reply)


def test_an_internationalised_address_is_written_so_that_it_can_be_delivered() -> None:
    """A requester who wrote from an internationalised address gets mail that names it:
    a domain such as m\u00fcller.de in its ASCII form (xn--...), which every mail server
    takes, and a local part such as j\u00f6rg as UTF-8 (SMTPUTF8, which such an address
    needs), not an RFC 2047 word that names no mailbox."""
    channel = make_channel(category=None)
    desk = channel.desk
    for rid, address in (("jo", "jo@m\u00fcller.de"), ("joerg", "j\u00f6rg@example.de")):
        desk.open(
            requester=Requester(id=rid, name="J\u00f6rg", email=address),
            subject="Drucker",
            channel="web",
        )
    idn, utf8 = outbound(channel)
    assert idn["To"].addresses[0].addr_spec == "jo@xn--mller-kva.de"
    assert b"<jo@xn--mller-kva.de>" in idn.as_bytes()
    assert utf8["To"].addresses[0].addr_spec == "j\u00f6rg@example.de"
    assert "<j\u00f6rg@example.de>".encode() in utf8.as_bytes()
    assert b"=?" not in utf8.as_bytes().split(b"\n\n", 1)[0]


def test_a_domain_is_written_label_by_label_not_mapped_to_another() -> None:
    """stra\u00dfe.de is written xn--strae-oqa.de: the mapping of Python's idna codec
    would write strasse.de, another domain, and the mail would go to someone else."""
    channel = make_channel(category=None)
    desk = channel.desk
    desk.open(requester=Requester(id="jo", name="Jo", email="jo@stra\u00dfe.de"),
              subject="Drucker", channel="web")
    [ack] = outbound(channel)
    assert ack["To"].addresses[0].addr_spec == "jo@xn--strae-oqa.de"


def test_delivery_without_settings_is_refused_before_it_claims_anything() -> None:
    from helpdesk_core.channels.email import EmailSettings, deliver, receive
    from helpdesk_core.errors import ValidationError

    desk = make_desk()
    desk.open(requester=Requester(id="ada", email="ada@example.org"), subject="Printer")
    settings = EmailSettings(address=ADDRESS)
    opened = desk.history("T-000001")[0]
    for _ in range(12):  # more than max_attempts: no acknowledgement may be dropped
        with pytest.raises(ValidationError, match="settings must be EmailSettings"):
            deliver(desk, send=lambda message: None, settings=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="desk must be a Helpdesk"):
        deliver(None, send=lambda message: None, settings=settings)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="settings must be EmailSettings"):
        receive(desk, corpus("new_ticket.eml"), settings=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="desk must be a Helpdesk"):
        compose(None, opened, key="T-000001:1", settings=settings)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="limiter must be a RateLimiter"):
        receive(desk, corpus("new_ticket.eml"), settings=settings, limiter=10)  # type: ignore[arg-type]
    assert desk.search().total == 1
    sent: list[EmailMessage] = []
    report = deliver(desk, send=sent.append, settings=settings)
    assert report.dropped == () and [str(m["Subject"]) for m in sent] == ["[#1] Printer"]
