"""Solving a problem ticket: the requesters of the incidents linked ``caused_by`` to it get
a notice by mail when the incidents are only notified (``LinkedProblemSolved`` with outcome
``notified``), threaded to their ticket, with the problem's resolution and nothing of the
agents' side."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from test_email_support import ADDRESS, body_of, make_channel, make_desk, outbound

from helpdesk_core import Helpdesk, MemoryStore, SequentialIds
from helpdesk_core.channels.email import (
    EmailChannel,
    Templates,
    compose,
    message_id_for,
    root_message_id,
)
from helpdesk_core.errors import ConfigError
from helpdesk_core.knowledge import KNOWLEDGE_ACTOR, KnowledgeSettings, LinkedProblemSolved
from helpdesk_core.model import Requester
from helpdesk_core.storage.base import item_id

ADA = Requester(id="ada", name="Ada Lovelace", email="ada@example.org")
JO = Requester(id="jo", name="Jo Weber", email="jo@example.de", language="de")
REPORTER = Requester(id="ops", name="Ops", email="ops@example.org")
DOMAIN = "desk.example.com"
#: Text only agents may see: it must never reach a requester's mailbox.
SECRETS = ("WORKAROUND-7f3a", "ROOTCAUSE-91bc", "NOTE-PROBLEM-5d2e", "NOTE-INCIDENT-c4e8")


def _desk(mode: str) -> Helpdesk:
    base = make_desk()
    config = base.config.replace(knowledge=KnowledgeSettings(on_problem_solved=mode))
    return Helpdesk(config=config, store=MemoryStore(), clock=base.clock, ids=SequentialIds())


def _world(desk: Helpdesk, *, answer: bool = True) -> dict[str, str]:
    """A problem with a known error and internal notes, two incidents linked to it (Ada's,
    answered when ``answer``, and Jo's, never answered), and an unrelated ticket."""
    problem = desk.open(requester=REPORTER, subject="Gateway drops VPN sessions", type="problem")
    desk.record_known_error(
        problem.id,
        symptom="The VPN drops every ten minutes",
        workaround=f"Connect to vpn2 ({SECRETS[0]})",
        root_cause=f"Firmware bug ({SECRETS[1]})",
        status="known_error",
        by="lena",
    )
    desk.reply(problem.id, author="lena", body=f"Vendor ticket {SECRETS[2]}", public=False)
    ada = desk.open(requester=ADA, subject="VPN drops at home")
    if answer:
        desk.reply(ada.id, author="lena", body="We are looking into it.")
    desk.reply(ada.id, author="lena", body=f"Same as the gateway {SECRETS[3]}", public=False)
    jo = desk.open(requester=JO, subject="VPN weg")
    other = desk.open(requester=ADA, subject="Printer jam")
    for incident in (ada, jo):
        desk.link(incident.id, kind="caused_by", other=problem.id, by="lena")
    desk.reply(problem.id, author="lena", body="Firmware 2.1 is rolled out.")
    return {"problem": problem.id, "ada": ada.id, "jo": jo.id, "other": other.id}


def _solve(desk: Helpdesk, channel: EmailChannel, ids: dict[str, str]) -> list[EmailMessage]:
    """Deliver what came before, solve the problem, and return what that sends."""
    outbound(channel)
    desk.solve(ids["problem"], by="lena", resolution="Installed gateway firmware 2.1")
    return outbound(channel)


def _notice_version(desk: Helpdesk, ticket_id: str) -> int:
    [notice] = [
        (n, e)
        for n, e in enumerate(desk.history(ticket_id), start=1)
        if isinstance(e, LinkedProblemSolved)
    ]
    return notice[0]


def _to(message: EmailMessage) -> str:
    return str(message["To"])


def _assert_nothing_internal(messages: list[EmailMessage]) -> None:
    for message in messages:
        text = body_of(message) + str(message["Subject"])
        for secret in SECRETS:
            assert secret not in text, (secret, _to(message))


def test_notify_mode_mails_each_incident_requester_once_threaded_to_their_ticket() -> None:
    desk = _desk("notify")
    channel = make_channel(desk)
    ids = _world(desk)
    sent = _solve(desk, channel, ids)

    notices = [m for m in sent if _to(m) != "Ops <ops@example.org>"]
    assert sorted(_to(m) for m in notices) == [
        "Ada Lovelace <ada@example.org>",
        "Jo Weber <jo@example.de>",
    ]
    # The problem's own requester gets the ordinary solve notice, nobody else gets mail.
    assert [str(m["Subject"]) for m in sent if m not in notices] == [
        "Solved: [#1] Gateway drops VPN sessions"
    ]
    by_ticket = {str(m["X-Helpdesk-Ticket"]): m for m in notices}
    ada, jo = by_ticket["2"], by_ticket["3"]

    for message, ticket_id in ((ada, ids["ada"]), (jo, ids["jo"])):
        version = _notice_version(desk, ticket_id)
        assert message["X-Helpdesk-Event"] == item_id(ticket_id, version)
        assert message["Message-ID"] == message_id_for(ticket_id, version, domain=DOMAIN)
        assert message["In-Reply-To"] == root_message_id(ticket_id, domain=DOMAIN)
        assert message["References"] == root_message_id(ticket_id, domain=DOMAIN)
        assert message["Auto-Submitted"] == "auto-replied"
        assert str(message["From"]) == f"Example IT desk <{ADDRESS}>"
        # The incidents stay open: the notice tells, it does not solve.
        assert desk.get(ticket_id).is_active

    assert ada["Subject"] == "Cause solved: [#2] VPN drops at home"
    text = body_of(ada)
    assert text.startswith("##- Please type your reply above this line -##")
    assert "Hello Ada Lovelace," in text
    assert 'we have solved the underlying problem that caused your ticket [#2] "VPN drops' in text
    assert "What we did:\n\nInstalled gateway firmware 2.1\n" in text
    assert "keep [#2] in the subject" in text

    assert jo["Subject"] == "Ursache behoben: [#3] VPN weg"
    text = body_of(jo)
    assert "Hallo Jo Weber," in text
    assert "Was wir getan haben:\n\nInstalled gateway firmware 2.1\n" in text
    _assert_nothing_internal(sent)


def test_delivering_again_sends_nothing_and_composing_again_gives_the_same_message() -> None:
    desk = _desk("notify")
    channel = make_channel(desk)
    ids = _world(desk)
    first = [m for m in _solve(desk, channel, ids) if m["X-Helpdesk-Ticket"] == "2"]
    assert outbound(channel) == []

    version = _notice_version(desk, ids["ada"])
    event = desk.history(ids["ada"])[version - 1]
    key = item_id(ids["ada"], version)
    again = compose(desk, event, key=key, settings=channel.settings)
    twice = compose(desk, event, key=key, settings=channel.settings)
    assert [m.as_bytes() for m in again] == [m.as_bytes() for m in twice]
    assert [m.as_bytes() for m in again] == [m.as_bytes() for m in first]


def test_a_failed_send_is_retried_with_the_same_message_id() -> None:
    desk = _desk("notify")
    channel = make_channel(desk)
    ids = _world(desk)
    outbound(channel)
    desk.solve(ids["problem"], by="lena", resolution="Installed gateway firmware 2.1")

    def refuse_ada(message: EmailMessage) -> None:
        if message["To"].addresses[0].addr_spec == "ada@example.org":
            raise OSError("mailbox full")

    failed = channel.deliver(refuse_ada)
    assert failed.released == (item_id(ids["ada"], _notice_version(desk, ids["ada"])),)
    [retry] = outbound(channel)
    assert retry["Message-ID"] == message_id_for(
        ids["ada"], _notice_version(desk, ids["ada"]), domain=DOMAIN
    )


def test_solve_mode_sends_the_solve_notice_and_tells_only_who_could_not_be_solved() -> None:
    desk = _desk("solve")
    channel = make_channel(desk)
    ids = _world(desk)
    sent = _solve(desk, channel, ids)

    ada = [m for m in sent if m["X-Helpdesk-Ticket"] == "2"]
    jo = [m for m in sent if m["X-Helpdesk-Ticket"] == "3"]
    # Ada's incident was solved with the problem: the usual solve notice, no other mail.
    assert [str(m["Subject"]) for m in ada] == ["Solved: [#2] VPN drops at home"]
    assert "Solved with problem #1: Installed gateway firmware 2.1" in body_of(ada[0])
    # Jo was never answered, so the lifecycle refused to solve the incident: Jo is told
    # that the cause is gone, without the refusal (it is for agents).
    assert desk.get(ids["jo"]).is_active
    [notice] = [e for e in desk.history(ids["jo"]) if isinstance(e, LinkedProblemSolved)]
    assert notice.outcome == "notified" and notice.reason
    assert [str(m["Subject"]) for m in jo] == ["Ursache behoben: [#3] VPN weg"]
    text = body_of(jo[0])
    assert notice.reason not in text
    assert "public_response_or_first_contact" not in text
    _assert_nothing_internal(sent)


def test_none_mode_sends_nothing_to_the_incidents() -> None:
    desk = _desk("none")
    channel = make_channel(desk)
    ids = _world(desk)
    sent = _solve(desk, channel, ids)
    assert [str(m["Subject"]) for m in sent] == ["Solved: [#1] Gateway drops VPN sessions"]
    assert not any(isinstance(e, LinkedProblemSolved) for e in desk.history(ids["ada"]))


def test_switched_off_the_notice_is_not_sent_and_the_events_are_acknowledged() -> None:
    desk = _desk("notify")
    channel = make_channel(desk, problem_notice=False)
    ids = _world(desk)
    outbound(channel)
    desk.solve(ids["problem"], by="lena", resolution="Installed gateway firmware 2.1")
    sent: list[EmailMessage] = []
    report = channel.deliver(sent.append)
    assert [str(m["Subject"]) for m in sent] == ["Solved: [#1] Gateway drops VPN sessions"]
    for name in ("ada", "jo"):
        assert item_id(ids[name], _notice_version(desk, ids[name])) in report.acked
    assert channel.deliver(sent.append).acked == ()


def test_a_problem_gone_from_the_store_gives_a_notice_without_resolution() -> None:
    desk = _desk("notify")
    channel = make_channel(desk)
    ada = desk.open(requester=ADA, subject="VPN drops at home")
    event = LinkedProblemSolved(
        ticket_id=ada.id,
        at=desk.clock.now(),
        by=KNOWLEDGE_ACTOR,
        problem="T-999999",
        outcome="notified",
    )
    key = item_id(ada.id, ada.version + 1)
    [message] = compose(desk, event, key=key, settings=channel.settings)
    assert message["Message-ID"] == message_id_for(ada.id, ada.version + 1, domain=DOMAIN)
    text = body_of(message)
    assert "What we did" not in text
    assert 'caused your ticket [#1] "VPN drops at home".\n\nPlease check' in text


def test_an_outcome_of_solved_composes_no_notice() -> None:
    desk = _desk("solve")
    channel = make_channel(desk)
    ada = desk.open(requester=ADA, subject="VPN drops at home")
    event = LinkedProblemSolved(
        ticket_id=ada.id, at=desk.clock.now(), by=KNOWLEDGE_ACTOR, problem="T-9", outcome="solved"
    )
    key = item_id(ada.id, ada.version + 1)
    assert compose(desk, event, key=key, settings=channel.settings) == []


def test_requesters_without_an_address_get_no_notice() -> None:
    desk = _desk("notify")
    channel = make_channel(desk)
    problem = desk.open(requester=REPORTER, subject="Gateway", type="problem")
    incident = desk.open(requester=Requester(id="walk-in", name="Walk-in"), subject="VPN")
    desk.link(incident.id, kind="caused_by", other=problem.id, by="lena")
    desk.reply(problem.id, author="lena", body="Fixed.")
    outbound(channel)
    desk.solve(problem.id, by="lena", resolution="Fixed")
    assert [m["X-Helpdesk-Ticket"] for m in outbound(channel)] == ["1"]


def test_team_and_language_templates_apply_and_may_name_the_problem() -> None:
    templates = Templates(
        languages={"fr": {"problem.subject": "Cause résolue : {token} {subject}"}},
        teams={
            "service-desk-emea": {
                "en": {
                    "problem.subject": "EMEA: {token} fixed with problem {problem_number}",
                    "problem.resolution": "Fix: {resolution}",
                }
            }
        },
    )
    desk = _desk("notify")
    channel = make_channel(desk, templates=templates)
    ids = _world(desk)
    claude = desk.open(
        requester=Requester(id="cl", name="Claude", email="cl@example.fr", language="fr"),
        subject="Le VPN coupe",
    )
    desk.link(claude.id, kind="caused_by", other=ids["problem"], by="lena")
    sent = _solve(desk, channel, ids)
    subjects = {str(m["X-Helpdesk-Ticket"]): str(m["Subject"]) for m in sent}
    assert desk.get(ids["ada"]).team == "service-desk-emea"
    assert subjects["2"] == "EMEA: [#2] fixed with problem #1"
    assert subjects[str(desk.get(claude.id).number)] == "Cause résolue : [#5] Le VPN coupe"
    [ada] = [m for m in sent if m["X-Helpdesk-Ticket"] == "2"]
    assert "Fix: Installed gateway firmware 2.1" in body_of(ada)


@pytest.mark.parametrize("field", ["workaround", "root_cause", "reason", "symptom"])
def test_templates_cannot_reach_agent_side_text(field: str) -> None:
    with pytest.raises(ConfigError, match=r"problem\.body: unknown field"):
        Templates(languages={"en": {"problem.body": f"{{{field}}}"}})
