"""Scenarios: what to simulate, as data (dict / TOML), validated with paths in errors.

A scenario holds the desk configuration (the same document as :class:`DeskConfig`), the
simulated period and warm-up, arrivals (rate per hour shaped by an hour-of-week profile,
bursts, channel / category / impact / urgency mixes), staffing and absences, work times
and outcomes per tier, requester reply delays, reopen and CSAT behaviour.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from attrs import field, fields, frozen

from helpdesk_core._numbers import real_number, whole_number
from helpdesk_core._time import parse_datetime, to_timedelta
from helpdesk_core.config import DeskConfig, _check_text, load_toml, read_source
from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import Channel, Impact, StatusCategory, Urgency
from helpdesk_core.simulation._asking import ASK, waiting_moves
from helpdesk_core.simulation.distributions import (
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    LogNormal,
    distribution_from,
)
from helpdesk_core.workflow import SHORTCUTS, Lifecycle, shortcut_moves

__all__ = ["Absence", "Arrivals", "Burst", "Scenario", "TierBehaviour"]

HOURS_PER_WEEK = 168
#: The longest simulated period a scenario may ask for: a century.
MAX_DAYS = 36_525
#: The most tickets an hour a scenario may bring at its busiest, and the most requesters.
MAX_RATE_PER_HOUR = 1_000_000
MAX_REQUESTERS = 10_000_000
#: The years a scenario may start in (UTC): room for a century of run and as much again of
#: work, delays or absences after it.
START_YEARS = (1000, 9000)
#: The most agents ``[staffing]`` may give one team (or one tier of a team).
MAX_STAFF = 100_000


@frozen
class Burst:
    """Extra arrivals: from ``start`` (offset from the scenario start) for ``duration``,
    the rate is multiplied by ``multiplier``."""

    start: timedelta
    duration: timedelta
    multiplier: float


@frozen(kw_only=True)
class Arrivals:
    """Ticket arrivals: a Poisson process of ``rate_per_hour`` shaped by an hour-of-week
    ``profile`` (168 multipliers, Monday 00:00 first, in the desk's time zone) and bursts;
    each ticket's channel, category, impact and urgency drawn from the mixes."""

    rate_per_hour: float
    profile: tuple[float, ...] = (1.0,) * HOURS_PER_WEEK
    bursts: tuple[Burst, ...] = ()
    channels: Mapping[str, float] = field(factory=lambda: {"email": 1.0}, hash=False)
    categories: Mapping[str, float] = field(factory=lambda: {"general": 1.0}, hash=False)
    impact: Mapping[str, float] = field(factory=lambda: {"medium": 1.0}, hash=False)
    urgency: Mapping[str, float] = field(factory=lambda: {"medium": 1.0}, hash=False)

    @property
    def peak_rate(self) -> float:
        """The highest instantaneous rate per hour (for thinning): overlapping bursts
        multiply, so the largest product of the bursts active at one instant counts."""
        return self.rate_per_hour * max(self.profile) * self.peak_burst

    @property
    def peak_burst(self) -> float:
        """The largest product of burst multipliers in force at one instant (1 outside
        bursts). The product only changes where a burst starts or ends."""
        best = 1.0
        for at in {b.start for b in self.bursts} | {b.start + b.duration for b in self.bursts}:
            product = 1.0
            for burst in self.bursts:
                if burst.start <= at < burst.start + burst.duration:
                    product *= burst.multiplier
            best = max(best, product)
        return best


@frozen(kw_only=True)
class TierBehaviour:
    """How a tier works a ticket: handle ``work`` time (per category when given), the
    probability it ``solve``\\s (else it escalates; the top tier always solves), the
    probability it asks the requester first (``pending``), and whether a solve at the
    first tier without a question is a first-contact resolution. ``escalate_to`` names,
    per category, the team of the next tier up its agents escalate a ticket to (else the
    next tier's default team, its first)."""

    work: Distribution
    work_by_category: Mapping[str, Distribution] = field(factory=dict, hash=False)
    solve: float = 1.0
    pending: float = 0.0
    escalate_to: Mapping[str, str] = field(factory=dict, hash=False)

    def work_for(self, category: str | None) -> Distribution:
        """The handle-time distribution for a category: its ``work_by_category`` entry,
        else ``work``. A ticket without a category (the arrival mix's ``general``) takes
        the ``general`` entry if there is one."""
        found = self.work_by_category.get(_category_key(category))
        return self.work if found is None else found

    def escalation_team(self, category: str | None) -> str | None:
        """The team of the next tier a ticket of ``category`` is escalated to: its
        ``escalate_to`` entry (``general`` for a ticket without a category), else None
        (the next tier's default team)."""
        return self.escalate_to.get(_category_key(category))


def _category_key(category: Any) -> str:
    """The entry of a ticket's category in a tier's tables: ``general`` for none."""
    if category is None:
        return "general"
    if not isinstance(category, str):
        raise ValidationError(
            f"a category is text or None, got {type(category).__name__}", field="category"
        )
    return category


@frozen
class Absence:
    """An agent away from ``start`` to ``end`` (offsets from the scenario start)."""

    agent: str
    start: timedelta
    end: timedelta


@frozen(kw_only=True)
class Scenario:
    """Everything :func:`~helpdesk_core.simulation.simulate` needs."""

    desk: DeskConfig
    start: datetime
    days: float
    warmup_days: float = 0.0
    arrivals: Arrivals
    tiers: Mapping[str, TierBehaviour] = field(hash=False)
    requester_reply: Distribution = field(factory=lambda: Exponential(timedelta(hours=4)))
    reopen: float = 0.0
    reopen_delay: Distribution = field(factory=lambda: Exponential(timedelta(days=1)))
    csat_response: float = 0.0
    csat: Mapping[int, float] = field(factory=lambda: {5: 1.0}, hash=False)
    absences: tuple[Absence, ...] = ()
    requesters: int = 500
    regions: Mapping[str, float] = field(factory=dict, hash=False)
    document: Mapping[str, Any] = field(factory=dict, hash=False, eq=False, repr=False)
    #: The desk's document as written, before ``[staffing]`` took agents off and cloned
    #: others (the desk file's contents when ``desk`` names one); None without
    #: ``[staffing]``. A sweep staffs its runs from it again.
    unstaffed_desk: Mapping[str, Any] | None = field(
        default=None, hash=False, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        # A scenario built in code, or changed with attrs.evolve (days=..., a CLI's
        # --days, requesters=..., reopen=...), is checked by the rules a document is.
        _check_span(self.start, self.days, self.warmup_days)
        # Held as the floats a document gives: NumPy's numbers or a Fraction, which the
        # checks accept, make no timedelta (the run's end) and print with no :g.
        object.__setattr__(self, "days", float(self.days))
        object.__setattr__(self, "warmup_days", float(self.warmup_days))
        _check_scenario(self)

    @property
    def end(self) -> datetime:
        """When arrivals stop: ``days`` of absolute time after the start."""
        return self.after(timedelta(days=self.days))

    @property
    def measured_from(self) -> datetime:
        """Tickets opened before this instant are warm-up and left out of the KPIs."""
        return self.after(timedelta(days=self.warmup_days))

    def after(self, offset: timedelta) -> datetime:
        """The instant ``offset`` after the start (an absence's or a burst's), counted in
        absolute time as simulated time runs: across a daylight-saving change, not on
        the local clock (which would make a day 23 or 25 hours long)."""
        if not isinstance(offset, timedelta):
            raise ValidationError(
                f"expected a duration (timedelta), got {type(offset).__name__}", field="offset"
            )
        try:
            return (self.start.astimezone(UTC) + offset).astimezone(self.start.tzinfo)
        except OverflowError as exc:
            raise ValidationError(
                f"{offset} from {self.start.isoformat()} is beyond the years 1 to 9999 a "
                "datetime holds",
                field="offset",
            ) from exc

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_toml(cls, source: str | Path) -> Scenario:
        """Load a scenario from a TOML file (or TOML text). A file that is not valid TOML
        is named as the error's path (``$`` for text)."""
        text, path = read_source(source, what="scenario")
        base = Path.cwd() if path is None else path.parent
        return cls.from_dict(load_toml(text, path), base=base)

    @classmethod
    def from_dict(
        cls, doc: Mapping[str, Any], *, base: str | os.PathLike[str] | None = None
    ) -> Scenario:
        """Build and validate a scenario; errors name the path of the bad part. ``base``
        (a path or text; the working folder if not given) is the folder a ``desk`` that
        names a TOML file is read from."""
        base = folder(base)
        if not isinstance(doc, Mapping):
            raise ConfigError("a scenario is a mapping", path="$")
        known = {"simulation", "desk", "arrivals", "tiers", "requesters", "staffing",
                 "absences"}
        unknown = sorted(map(str, set(doc) - known))
        if unknown:
            raise ConfigError(f"unknown section(s) {', '.join(unknown)}", path="$")
        _check_text(doc, "$")  # before the copy: no deeper than a document may nest
        try:
            original = copy.deepcopy(dict(doc))
        except TypeError as exc:  # a generator, a lock ...: the document cannot be kept
            path, value = _uncopyable(doc)
            raise ConfigError(
                f"a document holds data (lists, tables, text, numbers, durations), not a "
                f"{type(value).__name__}: {exc}",
                path=path,
            ) from exc
        desk_doc = doc.get("desk")
        desk_file: Path | None = None  # where the desk configuration was read from
        if isinstance(desk_doc, str):
            desk_path = (base or Path.cwd()) / desk_doc
            try:
                desk_text = desk_path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError, ValueError) as exc:  # (ValueError: a NUL)
                raise ConfigError(
                    f"cannot load desk configuration {_shown(desk_path)!r} (a path is "
                    f"read from the scenario file's folder): {exc}",
                    path="desk",
                ) from exc
            desk_doc = load_toml(desk_text, desk_path)
            desk_file = desk_path
        if not isinstance(desk_doc, Mapping):
            raise ConfigError("the desk configuration is a mapping or a TOML path", path="desk")
        unstaffed = desk_doc
        staffing = _mapping(doc.get("staffing", {}), "staffing")
        if staffing:
            # The desk as written first: staffing takes agents off and adds clones at the
            # end, so an error of the staffed desk would name another agent's place.
            _desk_config(desk_doc, desk_file)
        desk = _desk_config(apply_staffing(desk_doc, staffing), desk_file)
        sim = _mapping(doc.get("simulation", {}), "simulation")
        _known(sim, {"start", "days", "warmup_days"}, "simulation")
        zone = ZoneInfo(desk.settings.timezone)
        start = _start(sim.get("start"), zone)
        days = sim.get("days", 30)
        warmup = sim.get("warmup_days", 0)
        _check_span(start, days, warmup)
        arrivals = _arrivals(_mapping(doc.get("arrivals"), "arrivals"), desk)
        tiers = _tiers(_mapping(doc.get("tiers", {}), "tiers"), desk)
        req = _mapping(doc.get("requesters", {}), "requesters")
        _known(req, {"count", "regions", "reply", "reopen", "reopen_delay", "csat_response",
                     "csat"}, "requesters")
        regions = (
            _weights(req["regions"], "requesters.regions", str) if "regions" in req else {}
        )
        csat = _weights(req.get("csat", {"5": 1.0}), "requesters.csat", _csat_key)
        replaced = _replaced(unstaffed, desk) if "staffing" in doc else {}
        absences = tuple(
            _absence(item, f"absences[{i}]", desk, replaced)
            for i, item in enumerate(_list(doc.get("absences", []), "absences"))
        )
        count = whole_number(req.get("count", 500))
        if count is None or not 1 <= count <= MAX_REQUESTERS:
            raise ConfigError(
                f"count must be a whole number from 1 to {MAX_REQUESTERS:,}",
                path="requesters.count",
            )
        return cls(
            desk=desk,
            start=start,
            days=float(days),
            warmup_days=float(warmup),
            arrivals=arrivals,
            tiers=tiers,
            requester_reply=distribution_from(req.get("reply", "4h"), path="requesters.reply"),
            reopen=_probability(req.get("reopen", 0.0), "requesters.reopen"),
            reopen_delay=distribution_from(
                req.get("reopen_delay", "1d"), path="requesters.reopen_delay"
            ),
            csat_response=_probability(req.get("csat_response", 0.0), "requesters.csat_response"),
            csat={int(k): v for k, v in csat.items()},
            absences=absences,
            requesters=count,
            regions=regions,
            document=original,
            unstaffed_desk=(
                (unstaffed if desk_file is not None else original.get("desk"))
                if staffing
                else None
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The document this scenario was loaded from (for sweeps and reports)."""
        return copy.deepcopy(dict(self.document))


def _desk_config(doc: Mapping[str, Any], desk_file: Path | None) -> DeskConfig:
    """The desk configuration of a scenario's ``desk`` document; its errors are named
    under ``desk`` (and the desk file it was read from, if any)."""
    try:
        return DeskConfig.from_dict(doc)
    except ConfigError as exc:
        inner = exc.path if exc.path not in (None, "", "$") else None
        # (the path is in the desk file, not the scenario's own desk table)
        where = f" (in the desk file {str(desk_file)!r})" if desk_file is not None else ""
        raise ConfigError(
            f"{exc.message}{where}", path=f"desk.{inner}" if inner else "desk"
        ) from exc


def folder(base: str | os.PathLike[str] | None) -> Path | None:
    """The folder a scenario's ``desk = "file.toml"`` is read from, given as a path or
    text (None: the working folder); anything else is a ValidationError on ``base``."""
    if base is None:
        return None
    if not isinstance(base, str | os.PathLike):
        raise ValidationError(f"expected a folder path, got {type(base).__name__}", field="base")
    return Path(base)


def _uncopyable(doc: Mapping[str, Any]) -> tuple[str, Any]:
    """The path and value of the first part of ``doc`` that cannot be copied (``$`` and
    the document when no single part is to blame)."""
    stack: list[tuple[Any, str]] = [(doc, "$")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, Mapping):
            stack.extend(
                (item, f"{path}.{key}" if path != "$" else str(key))
                for key, item in reversed(list(value.items()))
            )
        elif isinstance(value, list | tuple):
            stack.extend(
                (item, f"{path}[{index}]") for index, item in reversed(list(enumerate(value)))
            )
        else:
            try:
                copy.deepcopy(value)
            except TypeError:
                return path, value
    return "$", doc


def apply_staffing(desk_doc: Mapping[str, Any], staffing: Any) -> Mapping[str, Any]:
    """``[staffing] service-desk = 6`` → the team has exactly 6 agents (ids
    ``service-desk-1`` ...), cloned from its active agents in turn, in their written
    order: the team keeps its mix of shifts, capacities and skills. Six agents from
    ``[a, b, c]`` are clones of a, b, c, a, b, c; two are clones of a and b (the first
    ones in order when the count is below the team's size). Its present members leave
    (one who is a team's escalation contact stays, inactive: escalations still reach
    them).

    A team that serves several tiers is staffed per tier with a table,
    ``service-desk = { L1 = 6, L2 = 2 }``: each tier listed gets exactly that many
    agents of that tier (ids ``service-desk-L1-1`` ...), cloned in turn from the team's
    active agents of the tier (or, failing any, from those without a tier); the team's
    agents of the listed tiers and its agents without a tier leave, those of other tiers
    stay."""
    staffing = _mapping(staffing, "staffing")
    if not staffing:
        return desk_doc
    doc = copy.deepcopy(dict(desk_doc))
    agents = list(_list(doc.get("agents", []), "desk.agents"))
    original = [a for a in agents if isinstance(a, Mapping)]
    for index, agent in enumerate(original):
        teams = agent.get("teams", ())
        if isinstance(teams, bytes | Mapping) or not isinstance(teams, str | Iterable):
            raise ConfigError(
                f"expected a list of team ids, got {type(teams).__name__}",
                path=f"desk.agents[{index}].teams",
            )
    if "teams" in doc:
        teams_doc = doc["teams"] if isinstance(doc["teams"], list | tuple) else ()
        known_teams = {t.get("id") for t in teams_doc if isinstance(t, Mapping)}
    else:  # the desk's default team
        known_teams = {t.id for t in fields(DeskConfig).teams.default or ()}
    for team, count in staffing.items():
        if team not in known_teams:
            named = ", ".join(sorted(str(t) for t in known_teams)) or "none"
            raise ConfigError(
                f"unknown team {team!r} (the desk's teams: {named})", path=f"staffing.{team}"
            )
        members = [a for a in original if _in_team(a, team)]
        if isinstance(count, Mapping):
            agents = _staff_tiers(doc, agents, members, str(team), count)
            continue
        _check_staff(count, f"staffing.{team}")
        active = [a for a in members if a.get("active", True) is not False]
        if not active:
            raise ConfigError(
                f"team {team!r} has no active agent to clone (add one to desk.agents)",
                path=f"staffing.{team}",
            )
        tiers = {a.get("tier") for a in active}
        if len(tiers) > 1:
            named = ", ".join(sorted(str(t) if t is not None else "(any tier)" for t in tiers))
            raise ConfigError(
                f"team {team!r} has agents of several tiers ({named}): give a count per "
                f"tier, such as {team} = {{ L1 = 3, L2 = 1 }}",
                path=f"staffing.{team}",
            )
        agents = [a for a in agents if a not in members]
        for n in range(1, count + 1):
            template = active[(n - 1) % len(active)]  # in turn: the team keeps its mix
            agents.append({**template, "id": f"{team}-{n}", "name": f"{team} {n}",
                           "teams": [team]})
    # A member who is a team's escalation contact stays, inactive: escalations still
    # name them, but they take no tickets.
    contacts = {
        c
        for t in (doc.get("teams") or ())
        if isinstance(t, Mapping)
        for c in ((t.get("contacts") or ()) if not isinstance(t.get("contacts"), str)
                  else (t.get("contacts"),))
    }  # fmt: skip
    kept = {a.get("id") for a in agents if isinstance(a, Mapping)}
    for agent in original:
        if agent.get("id") in contacts and agent.get("id") not in kept:
            agents.append({**agent, "active": False})
    doc["agents"] = agents
    return doc


def _staff_tiers(
    doc: Mapping[str, Any],
    agents: list[Any],
    members: list[Mapping[str, Any]],
    team: str,
    counts: Mapping[str, Any],
) -> list[Any]:
    """``agents`` with ``team`` staffed per tier (see :func:`apply_staffing`)."""
    tiers = doc.get("tiers", [])
    known = (
        {t.get("id") for t in tiers if isinstance(t, Mapping)}
        if isinstance(tiers, Sequence) and not isinstance(tiers, str | bytes)
        else set()
    )
    untiered = [a for a in members if a.get("tier") is None]
    leaving = list(untiered)
    clones: list[dict[str, Any]] = []
    for tier, count in counts.items():
        path = f"staffing.{team}.{tier}"
        if tier not in known:
            raise ConfigError(f"the desk has no tier {tier!r}", path=path)
        _check_staff(count, path)
        same = [a for a in members if a.get("tier") == tier]
        active = [a for a in same if a.get("active", True) is not False] or [
            a for a in untiered if a.get("active", True) is not False
        ]
        if not active:
            raise ConfigError(
                f"team {team!r} has no active agent of tier {tier!r} (or without a tier) "
                "to clone (add one to desk.agents)",
                path=path,
            )
        leaving.extend(same)
        for n in range(1, count + 1):
            template = active[(n - 1) % len(active)]  # in turn: the tier keeps its mix
            clones.append({**template, "id": f"{team}-{tier}-{n}",
                           "name": f"{team} {tier} {n}", "teams": [team], "tier": tier})
    return [a for a in agents if not any(a is gone for gone in leaving)] + clones


def _check_staff(count: Any, path: str) -> None:
    count = whole_number(count)
    if count is None or not 0 <= count <= MAX_STAFF:
        raise ConfigError(
            f"staffing is a whole number from 0 to {MAX_STAFF:,}, or a table of them per "
            "tier",
            path=path,
        )


def _in_team(agent: Mapping[str, Any], team: str) -> bool:
    teams = agent.get("teams", ())
    return teams == team if isinstance(teams, str) else team in teams


def _start(value: Any, zone: ZoneInfo) -> datetime:
    if value is None:
        return datetime(2026, 1, 5, tzinfo=zone)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):  # a bare TOML date: midnight in the desk's zone
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(f"not an ISO datetime: {value!r}", path="simulation.start") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
    try:
        return parse_datetime(value, field="simulation.start")
    except ValidationError as exc:
        raise ConfigError(exc.message, path="simulation.start") from exc


def _arrivals(doc: Mapping[str, Any], desk: DeskConfig) -> Arrivals:
    _known(doc, {"rate_per_hour", "profile", "weekdays", "hours", "bursts", "channels",
                 "categories", "impact", "urgency"}, "arrivals")
    rate = _number(doc.get("rate_per_hour"), "arrivals.rate_per_hour", low=0, strict=True)
    if "profile" in doc:
        shaped = [key for key in ("weekdays", "hours") if key in doc]
        if shaped:
            raise ConfigError(
                f"give a profile of {HOURS_PER_WEEK} values or weekdays and hours, not "
                f"both: the profile would replace {' and '.join(shaped)}",
                path="arrivals.profile",
            )
        profile = tuple(
            _number(v, f"arrivals.profile[{i}]", low=0)
            for i, v in enumerate(_list(doc["profile"], "arrivals.profile"))
        )
    else:
        weekdays = [
            _number(v, f"arrivals.weekdays[{i}]", low=0)
            for i, v in enumerate(_list(doc.get("weekdays", [1.0] * 7), "arrivals.weekdays"))
        ]
        hours = [
            _number(v, f"arrivals.hours[{i}]", low=0)
            for i, v in enumerate(_list(doc.get("hours", [1.0] * 24), "arrivals.hours"))
        ]
        if len(weekdays) != 7:
            raise ConfigError("weekdays has 7 values (Monday first)", path="arrivals.weekdays")
        if len(hours) != 24:
            raise ConfigError("hours has 24 values (midnight first)", path="arrivals.hours")
        profile = tuple(w * h for w in weekdays for h in hours)
    bursts = []
    for i, item in enumerate(_list(doc.get("bursts", []), "arrivals.bursts")):
        where = f"arrivals.bursts[{i}]"
        item = _mapping(item, where)
        _known(item, {"start", "duration", "multiplier"}, where)
        bursts.append(
            Burst(
                start=_duration(item.get("start"), f"{where}.start"),
                duration=_duration(item.get("duration"), f"{where}.duration"),
                multiplier=_number(item.get("multiplier"), f"{where}.multiplier", low=0),
            )
        )
    categories = _weights(doc.get("categories", {"general": 1.0}), "arrivals.categories", str)
    arrivals = Arrivals(
        rate_per_hour=rate,
        profile=profile,
        bursts=tuple(bursts),
        channels=_weights(doc.get("channels", {"email": 1.0}), "arrivals.channels",
                          lambda k: Channel.parse(k).value),
        categories=categories,
        impact=_weights(doc.get("impact", {"medium": 1.0}), "arrivals.impact",
                        lambda k: Impact.parse(k).value),
        urgency=_weights(doc.get("urgency", {"medium": 1.0}), "arrivals.urgency",
                         lambda k: Urgency.parse(k).value),
    )
    _check_arrivals(arrivals)
    return arrivals


def _tiers(doc: Mapping[str, Any], desk: DeskConfig) -> dict[str, TierBehaviour]:
    known_tiers = [t.id for t in desk.tiers]
    out: dict[str, TierBehaviour] = {}
    for name, body in doc.items():
        where = f"tiers.{name}"
        if name not in known_tiers:
            raise ConfigError(
                f"unknown tier {name!r} (desk tiers: {', '.join(known_tiers)})", path=where
            )
        body = _mapping(body, where)
        _known(body, {"work", "work_by_category", "solve", "pending", "escalate_to"}, where)
        by_category = {
            str(cat): distribution_from(dist, path=f"{where}.work_by_category.{cat}")
            for cat, dist in _mapping(body.get("work_by_category", {}),
                                      f"{where}.work_by_category").items()
        }
        out[name] = TierBehaviour(
            work=distribution_from(body.get("work", "30m"), path=f"{where}.work"),
            work_by_category=by_category,
            solve=_probability(body.get("solve", 1.0), f"{where}.solve"),
            pending=_probability(body.get("pending", 0.0), f"{where}.pending"),
            escalate_to=dict(_mapping(body.get("escalate_to", {}), f"{where}.escalate_to")),
        )
    for tier in known_tiers:
        out.setdefault(tier, TierBehaviour(work=Exponential(timedelta(minutes=30))))
    return out


def _replaced(unstaffed: Mapping[str, Any], desk: DeskConfig) -> dict[str, list[str]]:
    """The agents of the desk document ``unstaffed`` that ``[staffing]`` took off the
    staffed ``desk``, each with the teams they were in."""
    agents = unstaffed.get("agents", ())
    if not isinstance(agents, Sequence) or isinstance(agents, str | bytes):
        return {}
    out: dict[str, list[str]] = {}
    for agent in agents:
        if (
            isinstance(agent, Mapping)
            and isinstance(agent.get("id"), str)
            and not desk.has_agent(agent["id"])
        ):
            teams = agent.get("teams", ())
            teams = [teams] if isinstance(teams, str) else list(teams)
            out[agent["id"]] = [str(team) for team in teams]
    return out


def _absence(
    item: Any, where: str, desk: DeskConfig, replaced: Mapping[str, list[str]]
) -> Absence:
    item = _mapping(item, where)
    _known(item, {"agent", "start", "end"}, where)
    agent = item.get("agent")
    if isinstance(agent, str) and agent in replaced:
        teams = replaced[agent]
        clones = sorted(
            a.id for a in desk.agents if a.active and any(t in a.teams for t in teams)
        )
        raise ConfigError(
            f"agent {agent!r} is not on the desk: [staffing] replaced the agents of "
            f"{', '.join(teams)} (now: {', '.join(clones) or 'none'}); name one of those",
            path=f"{where}.agent",
        )
    if not isinstance(agent, str) or not desk.has_agent(agent):
        raise ConfigError(f"unknown agent {agent!r}", path=f"{where}.agent")
    start = _duration(item.get("start"), f"{where}.start")
    end = _duration(item.get("end"), f"{where}.end")
    if end <= start:
        raise ConfigError("an absence ends after it starts", path=f"{where}.end")
    return Absence(agent=agent, start=start, end=end)


def _check_moves(s: Scenario) -> None:
    """The simulated desk opens incidents and moves them by the desk's shortcuts
    ``solve`` and ``reopen`` (the moves of those names, or the one move that does what
    they do: :mod:`helpdesk_core.workflow.shortcuts`) and, when a tier asks the
    requester, by ``pending`` (the move of that name or target, or the one move into a
    status of category pending that the requester's public reply leaves by itself:
    :mod:`helpdesk_core.simulation._asking`). An incident lifecycle without one, or with
    a status from which several moves solve (reopen, ask) and none has the name, would
    stop the run half-way (or leave tickets waiting for ever), and so would a desk that
    does not let requesters reply, reopen or rate as the scenario has them do:
    ConfigError naming what is missing, before the run."""
    kinds = s.desk.ticket_types
    if "incident" not in kinds:
        raise ConfigError(
            "the simulation opens incidents: the desk has no ticket type 'incident'",
            path="desk.ticket_types",
        )
    lifecycle = s.desk.lifecycles[kinds["incident"].lifecycle]
    where = f"desk.lifecycles.{lifecycle.name}.transitions"
    moves = {t.name for t in lifecycle.transitions} | {t.to for t in lifecycle.transitions}
    asks = any(
        isinstance(b, TierBehaviour) and b.pending > 0 for b in _mapping(s.tiers, "tiers").values()
    )
    needed = ["solve", *(["pending"] if asks else []), *(["reopen"] if s.reopen > 0 else [])]
    named_ask = ASK in moves
    for name in needed:
        if name in SHORTCUTS and _shortcut_found(lifecycle, name, where):
            moves.add(name)
    if asks and _waiting_found(lifecycle, where):
        moves.add(ASK)
    missing = [name for name in needed if name not in moves]
    if ASK in missing:
        _deaf(lifecycle, _waiting_statuses(lifecycle), where)
    if missing:
        raise ConfigError(
            f"the simulation moves incidents by the moves {', '.join(map(repr, needed))}; "
            f"lifecycle {lifecycle.name!r} has no {', '.join(map(repr, missing))} (add a "
            "transition of that name, or leave out what needs it)",
            path=where,
        )
    acts = [
        *(["reply"] if asks else []),
        *(["reopen"] if s.reopen > 0 else []),
        *(["rate"] if s.csat_response > 0 else []),
    ]
    allowed = s.desk.privacy.access.requester_actions
    refused = [action for action in acts if action not in allowed]
    if refused:
        raise ConfigError(
            f"the simulated requesters {', '.join(acts)}; the desk lets requesters "
            f"{', '.join(sorted(allowed)) or 'do nothing'}, not {', '.join(refused)} "
            "(allow it, or leave out what needs it)",
            path="desk.privacy.requester_actions",
        )
    if asks and named_ask:
        _deaf(
            lifecycle, {t.to for t in lifecycle.transitions if ASK in (t.name, t.to)}, where
        )


def _deaf(lifecycle: Lifecycle, waiting: set[str], where: str) -> None:
    """ConfigError when the requester's public reply leaves none of the ``waiting``
    statuses by itself (none given: nothing to say)."""
    if waiting and not any(
        lifecycle.automatic_transition("requester_public_reply", status) is not None
        for status in waiting
    ):
        raise ConfigError(
            f"a tier asks the requester (pending), but lifecycle {lifecycle.name!r} "
            "moves no ticket on by itself when the requester replies: the asked "
            "tickets would wait for ever (give a transition from "
            f"{', '.join(map(repr, sorted(waiting)))} \"automatic\": "
            '"requester_public_reply")',
            path=where,
        )


def _waiting_statuses(lifecycle: Lifecycle) -> set[str]:
    """The statuses of category pending that a move from an active status enters."""
    return {
        move.to
        for status in lifecycle.status_names
        if lifecycle.category(status).is_active
        for move in lifecycle.transitions_from(status)
        if lifecycle.category(move.to) is StatusCategory.PENDING
    }


def _waiting_found(lifecycle: Lifecycle, where: str) -> bool:
    """Whether some active status of ``lifecycle`` has a move to ask the requester by
    (``pending``, or a waiting move: :func:`~helpdesk_core.simulation._asking.waiting_moves`);
    ConfigError naming the status and the moves when several waiting moves leave it and
    none is ``pending``."""
    found = False
    for status in lifecycle.status_names:
        if not lifecycle.category(status).is_active:
            continue
        if lifecycle.step(status, ASK) is not None:
            found = True
            continue
        candidates = waiting_moves(lifecycle, status)
        if len(candidates) > 1:
            names = ", ".join(repr(t.name) for t in candidates)
            raise ConfigError(
                f"the simulation asks the requester by the move {ASK!r}; in status "
                f"{status!r} of lifecycle {lifecycle.name!r} the moves {names} all lead "
                "to a waiting status that the requester's reply leaves, and none is "
                f"called {ASK!r} (name the one to take so)",
                path=where,
            )
        found = found or bool(candidates)
    return found


def _shortcut_found(lifecycle: Lifecycle, shortcut: str, where: str) -> bool:
    """Whether some status of ``lifecycle`` has a move for ``shortcut``; ConfigError
    naming the status and the moves when several qualify there and none has its name."""
    found = False
    for status in lifecycle.status_names:
        if lifecycle.is_terminal(status):
            continue
        if lifecycle.step(status, shortcut) is not None:
            found = True
            continue
        candidates = shortcut_moves(lifecycle, status, shortcut)
        if len(candidates) > 1:
            names = ", ".join(repr(t.name) for t in candidates)
            raise ConfigError(
                f"the simulation moves incidents by the shortcut {shortcut!r}; in status "
                f"{status!r} of lifecycle {lifecycle.name!r} the moves {names} all "
                f"{shortcut} a ticket and none is called {shortcut!r} (name the one to "
                "take so)",
                path=where,
            )
        found = found or bool(candidates)
    return found


def _check_scenario(s: Scenario) -> None:
    """The parts of a built scenario, by the rules :meth:`Scenario.from_dict` applies to a
    document; ConfigError naming the path of the first bad part."""
    if not isinstance(s.desk, DeskConfig):
        raise ConfigError(f"expected a DeskConfig, got {type(s.desk).__name__}", path="desk")
    arrivals = s.arrivals
    _check_arrivals(arrivals)
    tiers = _mapping(s.tiers, "tiers")
    known_tiers = [t.id for t in s.desk.tiers]
    categories = {*arrivals.categories, *s.desk.categories, "general"}
    for name in known_tiers:
        if name not in tiers:
            raise ConfigError(f"tier {name!r} of the desk has no behaviour", path="tiers")
    for name, behaviour in tiers.items():
        where = f"tiers.{name}"
        if name not in known_tiers:
            raise ConfigError(
                f"unknown tier {name!r} (desk tiers: {', '.join(known_tiers)})", path=where
            )
        if not isinstance(behaviour, TierBehaviour):
            raise ConfigError(
                f"expected a TierBehaviour, got {type(behaviour).__name__}", path=where
            )
        _distribution(behaviour.work, f"{where}.work")
        by_category = _mapping(behaviour.work_by_category, f"{where}.work_by_category")
        for category, work in by_category.items():
            _known_category(category, categories, f"{where}.work_by_category.{category}")
            _distribution(work, f"{where}.work_by_category.{category}")
        _probability(behaviour.solve, f"{where}.solve")
        _probability(behaviour.pending, f"{where}.pending")
        escalate_to = _mapping(behaviour.escalate_to, f"{where}.escalate_to")
        index = known_tiers.index(name)
        above = s.desk.tiers[index + 1] if index + 1 < len(known_tiers) else None
        if above is None and behaviour.solve < 1:
            raise ConfigError(
                f"tier {name!r} is the top tier: it solves every ticket it works, having "
                f"no tier to escalate to, so a solve of {behaviour.solve:g} would be "
                "ignored (leave it out, or add a tier above)",
                path=f"{where}.solve",
            )
        for category, team in escalate_to.items():
            path = f"{where}.escalate_to.{category}"
            _known_category(category, categories, path)
            if above is None:
                raise ConfigError(
                    f"tier {name!r} is the top tier: it escalates to no team", path=path
                )
            if not isinstance(team, str) or team not in above.teams:
                raise ConfigError(
                    f"{team!r} is not a team of tier {above.id!r}, the next one up "
                    f"(its teams: {', '.join(above.teams)})",
                    path=path,
                )
    _distribution(s.requester_reply, "requesters.reply")
    _distribution(s.reopen_delay, "requesters.reopen_delay")
    _probability(s.reopen, "requesters.reopen")
    _probability(s.csat_response, "requesters.csat_response")
    _check_moves(s)  # (after the probabilities it reads)
    csat = _mapping(s.csat, "requesters.csat")
    for key in csat:
        score = whole_number(key)
        if score is None or not 1 <= score <= 5:
            raise ConfigError(
                f"a CSAT score is a whole number 1-5, got {key!r}", path="requesters.csat"
            )
    _weights(csat, "requesters.csat", _csat_key)
    for i, absence in enumerate(_list(s.absences, "absences")):
        where = f"absences[{i}]"
        if not isinstance(absence, Absence):
            raise ConfigError(f"expected an Absence, got {type(absence).__name__}", path=where)
        if not isinstance(absence.agent, str) or not s.desk.has_agent(absence.agent):
            raise ConfigError(f"unknown agent {absence.agent!r}", path=f"{where}.agent")
        _span_part(absence.start, f"{where}.start")
        _span_part(absence.end, f"{where}.end")
        if absence.end <= absence.start:
            raise ConfigError("an absence ends after it starts", path=f"{where}.end")
    count = whole_number(s.requesters)
    if count is None or not 1 <= count <= MAX_REQUESTERS:
        raise ConfigError(
            f"count must be a whole number from 1 to {MAX_REQUESTERS:,}, got {count!r}",
            path="requesters.count",
        )
    if _mapping(s.regions, "requesters.regions"):  # (none: no region attribute)
        _weights(s.regions, "requesters.regions", _text_key)


def _check_arrivals(arrivals: Any) -> None:
    """Arrivals by the rules a document's are built by (ConfigError naming the path)."""
    if not isinstance(arrivals, Arrivals):
        raise ConfigError(
            f"expected Arrivals, got {type(arrivals).__name__}", path="arrivals"
        )
    _number(arrivals.rate_per_hour, "arrivals.rate_per_hour", low=0, strict=True)
    profile = _list(arrivals.profile, "arrivals.profile")
    if len(profile) != HOURS_PER_WEEK:
        raise ConfigError(
            f"an hour-of-week profile has {HOURS_PER_WEEK} values, got {len(profile)}",
            path="arrivals.profile",
        )
    for i, value in enumerate(profile):
        _number(value, f"arrivals.profile[{i}]", low=0)
    if max(profile) <= 0:
        raise ConfigError("the arrival profile is zero everywhere", path="arrivals")
    for i, burst in enumerate(_list(arrivals.bursts, "arrivals.bursts")):
        where = f"arrivals.bursts[{i}]"
        if not isinstance(burst, Burst):
            raise ConfigError(f"expected a Burst, got {type(burst).__name__}", path=where)
        _span_part(burst.start, f"{where}.start")
        _span_part(burst.duration, f"{where}.duration")
        _number(burst.multiplier, f"{where}.multiplier", low=0)
    _weights(arrivals.channels, "arrivals.channels", lambda k: Channel.parse(k).value)
    _weights(arrivals.categories, "arrivals.categories", _text_key)
    _weights(arrivals.impact, "arrivals.impact", lambda k: Impact.parse(k).value)
    _weights(arrivals.urgency, "arrivals.urgency", lambda k: Urgency.parse(k).value)
    if not arrivals.peak_rate <= MAX_RATE_PER_HOUR:
        raise ConfigError(
            f"the busiest hour would bring {arrivals.peak_rate:.3g} tickets (rate x profile x "
            f"bursts); at most {MAX_RATE_PER_HOUR:,} an hour",
            path="arrivals",
        )


def _known_category(category: Any, categories: set[str], path: str) -> None:
    if category not in categories:
        raise ConfigError(
            f"unknown category {category!r}: no arrival brings it and the desk has "
            f"no such category (known: {', '.join(sorted(map(str, categories)))})",
            path=path,
        )


def _text_key(key: Any) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError("a name is non-empty text")
    return key


def _distribution(value: Any, path: str) -> None:
    """A distribution of durations of at most MAX_DAYS, as :func:`distribution_from`
    reads them from a document (an empirical one bounds its samples itself)."""
    if not isinstance(value, Exponential | LogNormal | Fixed | Empirical):
        raise ConfigError(
            f"expected a distribution (Exponential, LogNormal, Fixed, Empirical), got "
            f"{type(value).__name__}",
            path=path,
        )
    given = value.value if isinstance(value, Fixed) else getattr(value, "mean", None)
    if given is not None and given > timedelta(days=MAX_DAYS):
        raise ConfigError(
            f"a duration of at most {MAX_DAYS} days, got {given.days} days", path=path
        )


def _span_part(value: Any, path: str) -> None:
    """An offset or a duration: a timedelta from zero to MAX_DAYS."""
    if not isinstance(value, timedelta):
        raise ConfigError(f"expected a duration, got {value!r}", path=path)
    if value < timedelta(0) or value > timedelta(days=MAX_DAYS):
        raise ConfigError(
            f"a duration from 0 to {MAX_DAYS} days, got {value}", path=path
        )


# -- small validators -------------------------------------------------------------------
def _shown(path: Path) -> str:
    """``path`` as an error shows it: resolved, unless it cannot be (a NUL in it)."""
    try:
        return str(path.resolve())
    except (OSError, ValueError):
        return str(path)


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if value is None:
        raise ConfigError("missing section", path=path)
    if not isinstance(value, Mapping):
        raise ConfigError(f"expected a mapping, got {type(value).__name__}", path=path)
    return value


def _list(value: Any, path: str) -> Sequence[Any]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise ConfigError(f"expected a list, got {type(value).__name__}", path=path)
    return value


def _known(doc: Mapping[str, Any], allowed: set[str], path: str) -> None:
    unknown = sorted(map(str, set(doc) - allowed))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})",
            path=path,
        )


def _check_span(start: Any, days: Any, warmup: Any) -> None:
    """The simulated span: ``days`` in (0, MAX_DAYS], a warm-up shorter than the run, and
    an end (plus a year to drain) that a datetime can hold."""
    try:
        offset = start.utcoffset() if isinstance(start, datetime) else None
    except ValueError:  # pandas' NaT, a datetime that holds no instant
        offset = None
    if offset is None:
        raise ConfigError("the start is a timezone-aware datetime", path="simulation.start")
    days = _number(days, "simulation.days", low=0, strict=True)
    warmup = _number(warmup, "simulation.warmup_days", low=0)
    if days > MAX_DAYS:
        raise ConfigError(
            f"a simulation runs at most {MAX_DAYS} days, got {days:g}", path="simulation.days"
        )
    # Work times, delays and absences may each last up to a century beyond the run: the
    # start must leave room for them on both sides of the calendar.
    try:
        utc = start.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not START_YEARS[0] <= utc.year <= START_YEARS[1]:
        raise ConfigError(
            f"the start must lie between the years {START_YEARS[0]} and {START_YEARS[1]} (UTC), "
            f"got {start.isoformat()}",
            path="simulation.start",
        )
    if warmup >= days:
        raise ConfigError(
            "the warm-up must be shorter than the run", path="simulation.warmup_days"
        )


def _number(value: Any, path: str, *, low: float | None = None, strict: bool = False) -> float:
    given = value
    value = real_number(value)
    if value is None:
        raise ConfigError(f"expected a number, got {given!r}", path=path)
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise ConfigError(f"expected a finite number, got {value!r}", path=path)
    if low is not None and (value < low or (strict and value == low)):
        raise ConfigError(f"must be {'>' if strict else '>='} {low}, got {value!r}", path=path)
    return float(value)


def _probability(value: Any, path: str) -> float:
    number = _number(value, path, low=0)
    if number > 1:
        raise ConfigError(f"a probability is between 0 and 1, got {value!r}", path=path)
    return number


def _duration(value: Any, path: str) -> timedelta:
    try:
        duration = to_timedelta(value, field=path)
    except ValidationError as exc:
        raise ConfigError(exc.message, path=path) from exc
    if duration > timedelta(days=MAX_DAYS):
        raise ConfigError(
            f"a duration of at most {MAX_DAYS} days, got {duration.days} days", path=path
        )
    return duration


def _csat_key(key: Any) -> str:
    # int() would take 4.7 for a 4 (a key of a dict built in code) and True for a 1
    score = whole_number(int(key) if isinstance(key, str) else key)
    if score is None or not 1 <= score <= 5:
        raise ValueError("a CSAT score is a whole number 1-5")
    return str(score)


def _weights(value: Any, path: str, key: Any) -> dict[str, float]:
    doc = _mapping(value, path)
    out: dict[str, float] = {}
    given: dict[str, Any] = {}  # each entry's key as written
    for raw, weight in doc.items():
        try:
            name = key(raw)
        except (TypeError, ValueError, ValidationError) as exc:
            raise ConfigError(f"bad key {raw!r}: {exc}", path=f"{path}.{raw}") from exc
        if name in given:  # ("email" and "Email", "5" and "05"): one would replace the other
            raise ConfigError(
                f"{given[name]!r} and {raw!r} both name {name!r}: give its weight once",
                path=f"{path}.{raw}",
            )
        given[name] = raw
        out[name] = _number(weight, f"{path}.{raw}", low=0)
    if not out or sum(out.values()) <= 0:
        raise ConfigError("the weights must not all be zero", path=path)
    return out
