"""Result tables as DataFrames, merging, and how the accumulator treats odd input."""

from __future__ import annotations

import sys
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pendulum
import pytest

from helpdesk_core.errors import ValidationError
from helpdesk_core.model import (
    Actor,
    CommentAdded,
    CsatRequested,
    Event,
    Rated,
    StatusChanged,
    Ticket,
    TicketOpened,
    apply_event,
)
from helpdesk_core.reporting import (
    AgentRow,
    CountRow,
    CountTable,
    DurationStats,
    Rate,
    RepeatRow,
    Report,
    ReportResult,
    ResponseTimes,
    SlaRow,
    Table,
    TierRow,
    build_report,
)
from helpdesk_core.sla.calendar import BusinessCalendar
from helpdesk_core.storage import MemoryStore, SqliteStore, Store

T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)  # a Monday


def small_history(prefix: str = "T", count: int = 3) -> list[Event]:
    events: list[Event] = []
    for i in range(count):
        tid = f"{prefix}{i}"
        opened = T0 + timedelta(hours=i)
        events += [
            TicketOpened(
                ticket_id=tid,
                at=opened,
                by=Actor.requester("r1"),
                number=i,
                requester="r1",
                subject="mail down",
                category="mail",
                asset="SRV-1",
            ),
            CommentAdded(
                ticket_id=tid,
                at=opened + timedelta(minutes=10),
                by=Actor.agent("a1"),
                comment_id=f"{tid}c",
                body="looking",
            ),
        ]
        if i % 2 == 0:
            events += [
                StatusChanged(
                    ticket_id=tid,
                    at=opened + timedelta(hours=1),
                    by=Actor.agent("a1"),
                    transition="solve",
                    from_status="open",
                    to_status="solved",
                    category="solved",
                ),
                Rated(
                    ticket_id=tid, at=opened + timedelta(hours=2), by=Actor.requester("r1"), score=4
                ),
            ]
    events.sort(key=lambda e: e.at)
    return events


@pytest.fixture
def result() -> ReportResult:
    return build_report(
        small_history(), calendar=BusinessCalendar.always("UTC"), repeat_threshold=2
    )


def test_tables_become_dataframes(result: ReportResult) -> None:
    pytest.importorskip("pandas")
    channel = result.volume.by_channel.to_pandas()
    assert list(channel.columns) == ["channel", "count"]
    assert channel.to_dict("records") == [{"channel": "web", "count": 3}]
    grid = result.volume.by_hour_of_week.to_pandas()
    assert grid.shape == (7, 24)
    assert int(grid.loc["mon", 9]) == 1
    assert int(grid.to_numpy().sum()) == 3
    times = result.times.to_pandas()
    assert list(times["metric"]) == ["first_response"] * 2 + ["resolution"] * 2
    assert times.loc[0, "median"] == timedelta(minutes=10)
    sla = result.sla.by_metric.to_pandas()
    assert list(sla.columns) == ["policy", "metric", "week", "met", "breached", "total", "rate"]
    assert sla.empty
    ages = result.backlog.by_age.to_pandas()
    assert list(ages["count"]) == [1, 0, 0, 0, 0]
    assert list(result.csat.to_pandas()["count"]) == [0, 0, 0, 2, 0]
    agents = result.agents.to_pandas()
    assert agents.to_dict("records") == [{"agent": "a1", "assigned": 0, "solved": 2, "open": 0}]
    assert list(result.tiers.to_pandas().columns) == [
        "tier",
        "tickets",
        "solved",
        "escalated",
        "escalation_rate",
    ]
    repeats = result.repeat_requesters.to_pandas()
    assert repeats.to_dict("records") == [{"requester": "r1", "category": "mail", "tickets": 3}]
    assert result.top_assets.to_pandas().to_dict("records") == [{"asset": "SRV-1", "count": 3}]


def test_empty_tables_have_the_dtypes_of_filled_ones() -> None:
    pytest.importorskip("pandas")
    empty = Report().result()
    rows: list[tuple[Any, Any]] = [
        (empty.agents, AgentRow(agent="a", assigned=2, solved=1, open=1)),
        (empty.tiers, TierRow(tier="L1", tickets=2, solved=1, escalated=1)),
        (empty.repeat_requesters, RepeatRow(requester="r", category="c", tickets=3)),
        (empty.sla.by_week, SlaRow(policy=None, metric="m", week=T0.date(), met=1, breached=1)),
    ]
    filled = [(table, Table.of(table.name, type(row), [row])) for table, row in rows]
    one = (CountRow(key="k", count=2),)
    for table in (empty.volume.by_channel, empty.top_assets):
        filled.append((table, CountTable(dimension=table.dimension, rows=one)))
    for table, other in filled:
        frame, full = table.to_pandas(), other.to_pandas()
        assert frame.empty and list(frame.columns) == list(full.columns)
        numbers = [c for c in full.columns if full[c].dtype.kind in "ifm"]
        assert numbers, table
        assert frame[numbers].dtypes.to_dict() == full[numbers].dtypes.to_dict()
    stats = DurationStats(count=1, mean=timedelta(1), median=timedelta(1), p90=timedelta(1))
    measured = ResponseTimes(
        first_response=stats,
        resolution=stats,
        first_response_business=stats,
        resolution_business=stats,
    ).to_pandas()
    nothing = empty.times.to_pandas()  # nothing measured: NaT, still durations
    assert nothing.dtypes.to_dict() == measured.dtypes.to_dict()
    assert nothing["mean"].isna().all()
    assert (nothing["count"].dtype.kind, measured["mean"].dtype.kind) == ("i", "m")


def test_to_pandas_without_pandas_names_the_extra(
    result: ReportResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"helpdesk-core\[analysis\]"):
        result.volume.by_channel.to_pandas()
    with pytest.raises(ImportError, match="analysis"):
        result.agents.to_pandas()


def test_rate_of_an_empty_population_is_none() -> None:
    assert Rate(count=0, total=0).value is None
    assert Rate(count=1, total=4).value == 0.25
    empty = Report().result()
    assert empty.tickets == 0
    assert empty.first_contact_resolution.value is None
    assert empty.times.resolution.mean is None
    assert empty.backlog.as_of is None
    assert empty.csat.average is None


def test_merge_refuses_other_settings_and_shared_tickets() -> None:
    a, b = Report(), Report(timezone="Europe/Berlin")
    with pytest.raises(ValidationError, match="different settings"):
        a.merge(b)
    a.extend(small_history())
    c = Report()
    c.extend(small_history())
    with pytest.raises(ValidationError, match="'T0'"):
        a.merge(c)
    with pytest.raises(ValidationError):
        a.merge("report")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "zone",
    [ZoneInfo.no_cache("Europe/Berlin"), pendulum.timezone("Europe/Berlin")],
    ids=["uncached ZoneInfo", "pendulum"],
)
def test_reports_in_one_zone_merge_however_the_zone_was_given(zone: ZoneInfo) -> None:
    # A zone object other than the cached ZoneInfo("Europe/Berlin") (pendulum's, say) is
    # the same zone: the reports have the same settings and merge.
    history = small_history("A") + small_history("B")
    a, b = Report(timezone="Europe/Berlin"), Report(timezone=zone)
    a.extend(small_history("A"))
    b.extend(small_history("B"))
    a.merge(b)
    assert a.result() == build_report(history, timezone="Europe/Berlin")
    assert b.result().timezone == "Europe/Berlin"


def test_a_zone_of_a_file_with_a_name_of_its_own_is_kept(tmp_path: Path) -> None:
    """A zone read from a file under a name the time zone database lacks is no unknown
    zone: the report keeps it."""
    source = Path(zoneinfo.TZPATH[0]) / "Europe" / "Berlin"
    if not source.exists():
        pytest.skip("no system time zone data")
    with source.open("rb") as data:
        zone = ZoneInfo.from_file(data, key="Acme/HQ")
    report = Report(timezone=zone)
    report.extend(small_history("A"))
    assert report.result().tickets == 3


@pytest.mark.parametrize("other", ["report", None, [Report()], build_report([])])
def test_merge_of_what_is_not_a_report_names_the_argument(other: object) -> None:
    report = Report()
    report.extend(small_history())
    before = report.result()
    with pytest.raises(ValidationError, match="can only merge a Report") as refused:
        report.merge(other)  # type: ignore[arg-type]
    assert refused.value.field == "other"
    assert report.result() == before


@pytest.mark.parametrize("since", [None, T0 + timedelta(days=30)])
def test_merge_refuses_the_report_itself(since: datetime | None) -> None:
    report = Report(since=since)  # with tickets, and with only ignored events
    paired = list(enumerate(small_history(), start=1))
    report.extend(paired)
    before = (report.result(), report.events, report.position)
    with pytest.raises(ValidationError, match="itself") as refused:
        report.merge(report)
    assert refused.value.field == "other"
    assert (report.result(), report.events, report.position) == before
    empty = Report()
    with pytest.raises(ValidationError, match="itself"):
        empty.merge(empty)


def test_merge_keeps_the_other_report_independent() -> None:
    a, b = Report(), Report()
    a.extend(small_history("A"))
    b.extend(small_history("B"))
    a.merge(b)
    before = a.result()
    b.add(
        StatusChanged(
            ticket_id="B1",
            at=T0 + timedelta(days=1),
            by=Actor.agent("a1"),
            transition="solve",
            from_status="open",
            to_status="solved",
            category="solved",
        )
    )
    assert a.result() == before
    assert a.tickets == 6
    assert before.volume.by_requester.as_dict() == {"r1": 6}


def test_events_without_figures_are_read_and_counted() -> None:
    report = Report()
    events = [*small_history(), CsatRequested(ticket_id="T0", at=T0, by=Actor.system())]
    report.extend(events)
    assert report.events == len(events)
    assert report.result().ignored_events == 0


def test_events_of_unknown_tickets_are_ignored() -> None:
    orphan = CommentAdded(
        ticket_id="X9", at=T0, by=Actor.agent("a1"), comment_id="c1", body="who am I"
    )
    result = build_report([*small_history(), orphan])
    assert result.ignored_events == 1
    assert result.tickets == 3


def test_subclassed_events_use_their_base_class_handler() -> None:
    class LoudComment(CommentAdded):
        pass

    events = small_history(count=1)
    events.insert(
        1,
        LoudComment(
            ticket_id="T0",
            at=T0 + timedelta(minutes=1),
            by=Actor.agent("a2"),
            comment_id="loud",
            body="HELLO",
        ),
    )
    result = build_report(events)
    assert result.times.first_response.median == timedelta(minutes=1)



def test_a_subclassed_opening_opens_the_ticket_like_its_base_class() -> None:
    class ImportedOpening(TicketOpened):
        pass

    events = small_history(count=2)
    first = events[0]
    assert isinstance(first, TicketOpened)
    events[0] = ImportedOpening(
        ticket_id=first.ticket_id,
        at=first.at,
        by=first.by,
        number=first.number,
        requester=first.requester,
        subject=first.subject,
        category=first.category,
        asset=first.asset,
    )
    result = build_report(events)
    assert result == build_report(small_history(count=2))
    assert (result.tickets, result.ignored_events) == (2, 0)

def _append(store: MemoryStore, tickets: dict[str, Ticket], event: Event) -> None:
    before = tickets.get(event.ticket_id)
    after = apply_event(before, event)
    store.append(
        event.ticket_id,
        expected_version=0 if before is None else before.version,
        events=[event],
        snapshot=after,
    )
    tickets[event.ticket_id] = after


def test_a_report_follows_a_stores_event_stream() -> None:
    history = small_history()
    store = MemoryStore()
    tickets: dict[str, Ticket] = {}
    for event in history[:4]:
        _append(store, tickets, event)
    following = Report()
    following.extend(store.event_stream())
    assert following.position == 4
    for event in history[4:]:
        _append(store, tickets, event)
    following.extend(store.event_stream(after=following.position))
    assert following.position == len(history)
    assert following.result() == build_report(history)


def test_pairs_read_already_are_skipped() -> None:
    history = small_history()
    paired = list(enumerate(history, start=1))
    once = build_report(paired)
    report = Report()
    report.extend(paired[:5])
    report.extend(paired[2:])  # a batch read again from an older position
    report.add(paired[0])
    assert report.position == len(history)
    assert report.events == len(history)
    assert report.result() == once


def test_a_batch_that_failed_part_way_can_be_read_again() -> None:
    paired = list(enumerate(small_history(), start=1))

    def flaky() -> Iterator[tuple[int, Event]]:
        yield from paired[:4]
        raise ConnectionError("the store went away")

    report = Report()
    with pytest.raises(ConnectionError):
        report.extend(flaky())
    assert report.position == 4
    report.extend(paired)  # the retry reads the whole batch again
    assert report.result() == build_report(paired)


def test_a_refused_pair_is_refused_again_when_read_again() -> None:
    paired = list(enumerate(small_history(), start=1))
    opening = paired[0][1]
    batch = [*paired[:3], (4, opening)]  # T0 opened twice
    report = Report()
    for _ in range(2):
        with pytest.raises(ValidationError, match="opened twice"):
            report.extend(batch)
        assert (report.position, report.events) == (3, 3)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_following_a_store_that_is_empty_at_first(kind: str, tmp_path: Path) -> None:
    store: Store = MemoryStore() if kind == "memory" else SqliteStore(tmp_path / "desk.db")
    following = Report()
    following.extend(store.event_stream())
    assert following.position == 0  # after=0 reads the stream from its start
    following.extend(store.event_stream(after=following.position))
    assert (following.position, following.events) == (0, 0)
    history = small_history()
    tickets: dict[str, Ticket] = {}
    for event in history:
        _append(store, tickets, event)
    following.extend(store.event_stream(after=following.position))
    assert following.position == len(history)
    assert following.result() == build_report(history)
    store.close()


def test_a_merged_report_reads_on_from_the_higher_position() -> None:
    history = small_history()
    paired = list(enumerate(history, start=1))
    a, b, plain = Report(), Report(), Report()
    for position, event in paired:
        (a if event.ticket_id == "T0" else b).add((position, event))
    plain.merge(a)
    assert plain.position == max(p for p, e in paired if e.ticket_id == "T0")
    plain.merge(b)
    assert plain.position == len(history)
    assert Report().position == 0
