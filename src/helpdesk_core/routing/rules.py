"""Routing rules: ordered (condition → actions) pairs, evaluated fast and explained.

Every rule of a :class:`RuleSet` is evaluated against the ticket **as it came in**, not as
changed by earlier rules: a rule that sets ``category`` does not make a later rule on
``category`` match. This keeps matching independent of the order of actions and lets the
rule set index its rules by the equality tests they need (``category eq network``,
``channel in [email, web]``, ``tags contains vip``): a ticket is only tested against the
rules its own field values can satisfy, plus the rules that cannot be indexed. Order
still decides the outcome: matched rules apply in order (a later rule's value wins) and
the first matching ``stop`` rule ends the evaluation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from attrs import NOTHING, field, frozen

from helpdesk_core.errors import ConfigError, NotFound, ValidationError
from helpdesk_core.model import Changes, Requester, Ticket
from helpdesk_core.routing.actions import Actions
from helpdesk_core.routing.conditions import Condition, compiled, index_specs
from helpdesk_core.routing.decision import Plan, RoutingDecision, RuleMatch, decide
from helpdesk_core.routing.fields import Env, FieldKind, FieldSpec, OpenHours, check_inputs

__all__ = ["Rule", "RuleSet"]

MAX_RULE_NAME = 200
_RULE_KEYS = ("name", "when", "actions", "stop")


def _name(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_RULE_NAME:
        raise ValidationError(
            f"a rule name is 1-{MAX_RULE_NAME} characters of text, got {value!r}", field="name"
        )


def _when(value: Any) -> Condition:
    return Condition.from_dict(value, path="when")


def _instance(kind: type) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if not isinstance(value, kind):
            raise ValidationError(
                f"expected {kind.__name__}, got {type(value).__name__}", field=attribute.name
            )

    return check


@frozen(kw_only=True)
class Rule:
    """A named routing rule: when the condition matches, the actions apply; ``stop``
    ends the evaluation after this rule."""

    name: str = field(validator=_name)
    when: Condition = field(factory=Condition.always, converter=_when)
    actions: Actions = field(factory=Actions, validator=_instance(Actions))
    stop: bool = field(default=False, validator=_instance(bool))

    def __attrs_pre_init__(self, *, name: Any, when: Any = NOTHING, **_: Any) -> None:
        # ``when`` in its dict form is built by the converter, which cannot see the name:
        # build it here first, so that an error in it names the rule as from_dict does.
        if when is NOTHING or isinstance(when, Condition) or not isinstance(name, str):
            return
        try:
            Condition.from_dict(when, path="when")
        except ConfigError as exc:
            raise ConfigError(f"rule {name!r}: {exc.message}", path=exc.path) from exc

    @classmethod
    def from_dict(cls, doc: Any, *, path: str = "rule") -> Rule:
        """From ``{"name": ..., "when": {...}, "actions": {...}, "stop": true}``.

        Errors are ConfigErrors whose path names the part (``rules[2].when.all[0].op``)
        and whose message names the rule.
        """
        if not isinstance(doc, Mapping):
            raise ConfigError(f"expected a rule mapping, got {type(doc).__name__}", path=path)
        name = doc.get("name")
        label = f"rule {name!r}: " if isinstance(name, str) else ""
        try:
            for key in doc:
                if key not in _RULE_KEYS:
                    raise ConfigError(
                        f"unknown key {key!r} (use {', '.join(_RULE_KEYS)})",
                        path=f"{path}.{key}",
                    )
            if "name" not in doc:
                raise ConfigError("a rule needs a 'name'", path=f"{path}.name")
            when = Condition.from_dict(doc.get("when", True), path=f"{path}.when")
            actions = Actions.from_dict(doc.get("actions"), path=f"{path}.actions")
            stop = doc.get("stop", False)
            if not isinstance(stop, bool):
                raise ConfigError(f"'stop' must be true or false, got {stop!r}",
                                  path=f"{path}.stop")
            try:
                return cls(name=doc["name"], when=when, actions=actions, stop=stop)
            except ValidationError as exc:
                raise ConfigError(exc.message, path=f"{path}.{exc.field or 'name'}") from exc
        except ConfigError as exc:
            raise ConfigError(label + exc.message, path=exc.path) from exc

    def to_dict(self) -> dict[str, Any]:
        """The plain-dict form."""
        out: dict[str, Any] = {"name": self.name, "when": self.when.to_dict()}
        out["actions"] = self.actions.to_dict()
        if self.stop:
            out["stop"] = True
        return out


Lookup = tuple[Callable[[Ticket, Env], Any], dict[Any, tuple[int, ...]], bool]


def _selectivity(spec: FieldSpec, values: frozenset[Any], seen: set[Any]) -> float:
    universe = max(len(seen), len(spec.choices), 2 if spec.kind is FieldKind.BOOL else 1)
    return len(values) / universe


def _to_rules(value: Iterable[Rule]) -> tuple[Rule, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ConfigError(f"expected a list of rules, got {type(value).__name__}", path="rules")
    return tuple(value)


@frozen
class RuleSet:
    """An ordered list of uniquely named rules, indexed for evaluation."""

    rules: tuple[Rule, ...] = field(converter=_to_rules)
    _fns: tuple[Callable[[Ticket, Env], bool], ...] = field(
        init=False, eq=False, hash=False, repr=False
    )
    _lookups: tuple[Lookup, ...] = field(init=False, eq=False, hash=False, repr=False)
    _unindexed: tuple[int, ...] = field(init=False, eq=False, hash=False, repr=False)
    _matches: tuple[RuleMatch, ...] = field(init=False, eq=False, hash=False, repr=False)
    _plans: tuple[Plan, ...] = field(init=False, eq=False, hash=False, repr=False)
    _memo: dict[Any, Changes] = field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        seen: dict[str, int] = {}
        for i, rule in enumerate(self.rules):
            if not isinstance(rule, Rule):
                raise ConfigError(
                    f"expected a Rule, got {type(rule).__name__}", path=f"rules[{i}]"
                )
            if rule.name in seen:
                raise ConfigError(
                    f"duplicate rule name {rule.name!r} (also rules[{seen[rule.name]}])",
                    path=f"rules[{i}].name",
                )
            seen[rule.name] = i
        object.__setattr__(self, "_fns", tuple(compiled(r.when) for r in self.rules))
        matches = tuple(
            RuleMatch(name=r.name, position=i, actions=r.actions, stopped=r.stop)
            for i, r in enumerate(self.rules)
        )
        object.__setattr__(self, "_matches", matches)
        object.__setattr__(self, "_plans", tuple(Plan(r.actions) for r in self.rules))
        object.__setattr__(self, "_memo", {})
        self._build_index()

    def _build_index(self) -> None:
        options = [index_specs(rule.when) for rule in self.rules]
        distinct: dict[str, set[Any]] = {}
        for opts in options:
            for spec, values in opts:
                distinct.setdefault(spec.name, set()).update(values)
        tables: dict[str, tuple[FieldSpec, dict[Any, list[int]]]] = {}
        unindexed: list[int] = []
        for i, opts in enumerate(options):
            if not opts:
                unindexed.append(i)
                continue
            spec, values = min(
                opts, key=lambda o: _selectivity(o[0], o[1], distinct[o[0].name])
            )
            table = tables.setdefault(spec.name, (spec, {}))[1]
            for value in values:
                table.setdefault(value, []).append(i)
        lookups = tuple(
            (spec.get, {k: tuple(v) for k, v in table.items()}, spec.kind is FieldKind.TAGS)
            for spec, table in tables.values()
        )
        object.__setattr__(self, "_lookups", lookups)
        object.__setattr__(self, "_unindexed", tuple(unindexed))

    @classmethod
    def from_dict(cls, doc: Any, *, path: str = "rules") -> RuleSet:
        """From a list of rule mappings (see :meth:`Rule.from_dict`)."""
        if isinstance(doc, str | bytes | Mapping) or not isinstance(doc, Iterable):
            raise ConfigError(f"expected a list of rules, got {type(doc).__name__}", path=path)
        rules = [
            item if isinstance(item, Rule) else Rule.from_dict(item, path=f"{path}[{i}]")
            for i, item in enumerate(doc)
        ]
        try:
            return cls(rules)
        except ConfigError as exc:  # the set's own checks name "rules[i]": rebase them
            where = exc.path or "rules"
            if path != "rules" and where.startswith("rules"):
                where = path + where[len("rules") :]
            message = exc.message.replace("(also rules[", f"(also {path}[")
            raise ConfigError(message, path=where) from exc

    def to_dict(self) -> list[dict[str, Any]]:
        """The plain form: a list of rule mappings."""
        return [rule.to_dict() for rule in self.rules]

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def rule(self, name: str) -> Rule:
        """The rule called ``name``."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise NotFound("rule", name)

    def fields(self) -> frozenset[str]:
        """Every field the rules test (for configuration checks)."""
        return frozenset().union(*(r.when.fields() for r in self.rules))

    def calendar_names(self) -> frozenset[str]:
        """Every calendar the rules' business-hours tests need."""
        return frozenset().union(*(r.when.calendar_names() for r in self.rules))

    def evaluate(
        self,
        ticket: Ticket,
        *,
        requester: Requester | None = None,
        now: datetime | None = None,
        calendars: Mapping[str, OpenHours] | None = None,
    ) -> RoutingDecision:
        """Route ``ticket``: every rule is tested against the ticket as it came in; the
        matched rules' actions combine in order; the first matching ``stop`` rule ends
        the evaluation."""
        check_inputs(ticket, requester, now, calendars)
        env = Env(requester, now, calendars)
        fns = self._fns
        matches = self._matches
        hits: list[int] = []
        for i in self._candidates(ticket, env):
            if fns[i](ticket, env):
                hits.append(i)
                if matches[i].stopped:
                    break
        plans = self._plans
        return decide(
            ticket,
            [matches[i] for i in hits],
            [plans[i] for i in hits],
            rule_count=len(matches),
            memo=self._memo,
        )

    def _candidates(self, ticket: Ticket, env: Env) -> Iterable[int]:
        """Positions of the rules the ticket might match, in rule order."""
        if not self._lookups:
            return range(len(self.rules))
        found: list[int] = []
        for get, table, many in self._lookups:
            value = get(ticket, env)
            if many:
                for item in value:
                    hit = table.get(item)
                    if hit:
                        found.extend(hit)
            else:
                hit = table.get(value)
                if hit:
                    found.extend(hit)
        if not found:
            return self._unindexed
        found.extend(self._unindexed)
        return sorted(set(found))
