"""Shared helpers of the email channel tests (a desk with mail addresses, the corpus),
and checks that the corpus itself is what the other tests assume."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from attrs import evolve

from helpdesk_core import Helpdesk, ManualClock, MemoryStore, SequentialIds
from helpdesk_core.channels.email import EmailChannel, EmailSettings, read_mail
from helpdesk_core.demo import example_config
from helpdesk_core.storage import Store

CORPUS = Path(__file__).parent / "corpus"
BERLIN = ZoneInfo("Europe/Berlin")
ADDRESS = "help@desk.example.com"
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def make_desk(
    *, store: Store | None = None, start: datetime = MONDAY_9, csat: bool = True
) -> Helpdesk:
    """The bundled example desk with an address for every agent, on a manual clock."""
    config = example_config()
    agents = tuple(evolve(a, email=f"{a.id}@desk.example.com") for a in config.agents)
    config = config.replace(agents=agents, settings=evolve(config.settings, csat_on_solve=csat))
    return Helpdesk(
        config=config,
        store=store if store is not None else MemoryStore(),
        clock=ManualClock(start),
        ids=SequentialIds(),
    )


def make_channel(desk: Helpdesk | None = None, **settings: object) -> EmailChannel:
    values: dict[str, object] = {"address": ADDRESS, "category": "network"}
    values.update(settings)
    return EmailChannel(desk or make_desk(), EmailSettings(**values))  # type: ignore[arg-type]


def outbound(channel: EmailChannel) -> list[EmailMessage]:
    """Deliver the channel's outbox into a list."""
    sent: list[EmailMessage] = []
    report = channel.deliver(sent.append)
    assert not report.released
    return sent


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


def test_every_corpus_message_reads() -> None:
    names = sorted(p.name for p in CORPUS.glob("*.eml"))
    assert len(names) >= 15
    for name in names:
        mail = read_mail(corpus(name), max_bytes=1_000_000)
        assert mail.message_id is not None, name


def test_the_helper_desk_has_agent_addresses() -> None:
    desk = make_desk()
    assert desk.config.agent("lena").email == "lena@desk.example.com"
