"""Benchmark: routing generated tickets through rule sets of 10, 100 and 1,000 rules.

    python benchmarks/bench_routing.py            # 100,000 tickets
    python benchmarks/bench_routing.py --quick    # 5,000 tickets

Rule sets model desks whose vocabulary grows with their rules (about one category per two
rules, one team per ten): most rules are equality tests on category, team and channel;
one in five is scoped to a category and adds a regular expression or a case-insensitive
``contains`` on the subject; three desk-wide rules (a VIP tag, an "urgent" subject regex,
the phone channel) apply to every ticket. No rule stops the evaluation. For comparison,
one more run routes the 100-rule desk's tickets through 1,000 rules over that same
vocabulary: then each ticket matches about eight times as many rules, and the cost follows
the number of matches (reported, no target).

Compared, on the same 100-rule set and the same tickets:
- ``RuleSet.evaluate`` (conditions compiled once, rules indexed by their equality tests);
- a naive interpreter that walks each rule's dict tree per ticket;
- the ``business-rules`` package (``run_all`` over the same rules, translated to its
  operators; actions record the changes). It is optional: reported as missing when absent.

The peers are slow, so they route the first ``peer_tickets`` tickets; every figure is
microseconds per ticket, best of several runs (interleaved for the 100-rule comparison).
Before timing, the three engines are checked to match exactly the same rules on those
tickets.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from helpdesk_core.model import Channel, Priority, Ticket
from helpdesk_core.routing import RuleSet

SIZES = (10, 100, 1000)
TARGETS = {"vs_business_rules": 10.0, "vs_naive": 5.0, "cost_100_to_1000": 3.0}
NOW = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
CHANNELS = [c.value for c in Channel]
WORDS = ["vpn", "printer", "password", "laptop", "email", "wifi", "invoice", "access"]
REGEXES = [r"(?i)^re:", r"\b\d{4,}\b", r"(?i)not (working|responding)", r"(?i)down$"]


# --- generated rules and tickets -----------------------------------------------------------


def _vocabulary(size: int) -> tuple[list[str], list[str]]:
    categories = [f"cat-{i}" for i in range(max(5, size // 2))]
    teams = [f"team-{i}" for i in range(max(3, size // 10))]
    return categories, teams


def make_rules(size: int, seed: int = 7, vocabulary: int | None = None) -> list[dict[str, Any]]:
    """A rule set of ``size`` rules in the dict form, over the vocabulary of a desk with
    ``vocabulary`` rules (default: ``size``)."""
    rng = random.Random(seed)
    categories, teams = _vocabulary(vocabulary or size)
    rules: list[dict[str, Any]] = [
        {"name": "vip", "when": {"field": "tags", "op": "contains", "value": "vip"},
         "actions": {"priority": "high"}},
        {"name": "urgent", "when": {"field": "subject", "op": "matches", "value": r"(?i)^urgent"},
         "actions": {"add_tags": ["urgent"]}},
        {"name": "phone", "when": {"field": "channel", "op": "eq", "value": "phone"},
         "actions": {"add_tags": ["phone"]}},
    ]
    for i in range(size - len(rules)):
        kind = rng.random()
        category = rng.choice(categories)
        if kind < 0.6:
            when: dict[str, Any] = {"field": "category", "op": "eq", "value": category}
            actions: dict[str, Any] = {"team": rng.choice(teams)}
        elif kind < 0.8:
            when = {"all": [
                {"field": "team", "op": "eq", "value": rng.choice(teams)},
                {"field": "channel", "op": "eq", "value": rng.choice(CHANNELS)},
            ]}
            actions = {"priority": rng.choice(["critical", "high", "low"])}
        elif kind < 0.9:
            when = {"all": [
                {"field": "category", "op": "eq", "value": category},
                {"field": "subject", "op": "matches", "value": rng.choice(REGEXES)},
            ]}
            actions = {"add_tags": [f"rx-{i % 7}"]}
        else:
            when = {"all": [
                {"field": "category", "op": "eq", "value": category},
                {"field": "subject", "op": "contains", "value": rng.choice(WORDS).upper()},
            ]}
            actions = {"add_tags": [f"word-{i % 5}"], "fields": {"checked": True}}
        rules.append({"name": f"rule-{i}", "when": when, "actions": actions})
    return rules


def make_tickets(count: int, size: int, seed: int = 11) -> list[Ticket]:
    """``count`` tickets drawn over the vocabulary of a ``size``-rule desk."""
    rng = random.Random(seed)
    categories, teams = _vocabulary(size)
    out = []
    for n in range(count):
        words = rng.sample(WORDS, 2)
        subject = rng.choice([
            f"{words[0]} not working",
            f"Re: {words[0]} and {words[1]}",
            f"urgent: {words[0]} down",
            f"order {rng.randrange(100, 99999)} {words[1]}",
        ])
        out.append(Ticket(
            id=f"T-{n}",
            number=n,
            requester="r1",
            subject=subject,
            channel=rng.choice(CHANNELS),
            category=rng.choice(categories),
            team=rng.choice(teams),
            priority=rng.choice(list(Priority)),
            tags=["vip"] if rng.random() < 0.05 else [],
            created_at=NOW,
            updated_at=NOW,
        ))
    return out


# --- the naive interpreter -----------------------------------------------------------------


def _naive_value(field: str, ticket: Ticket) -> Any:
    if field.startswith("fields."):
        return ticket.fields.get(field[7:])
    return getattr(ticket, field)


def naive_matches(doc: dict[str, Any], ticket: Ticket) -> bool:
    """Walk the dict tree for one ticket (what a non-compiling engine does)."""
    if "all" in doc:
        return all(naive_matches(d, ticket) for d in doc["all"])
    if "any" in doc:
        return any(naive_matches(d, ticket) for d in doc["any"])
    if "not" in doc:
        return not naive_matches(doc["not"], ticket)
    value = _naive_value(doc["field"], ticket)
    op, wanted = doc["op"], doc.get("value")
    if op == "eq":
        return bool(value == wanted)
    if op == "ne":
        return bool(value != wanted)
    if op == "in":
        return value in wanted
    if op == "contains":
        if isinstance(value, tuple):
            return wanted in value
        return isinstance(value, str) and wanted.casefold() in value.casefold()
    if op == "matches":
        return isinstance(value, str) and re.search(wanted, value) is not None
    if op == "exists":
        return value not in (None, "", ())
    raise ValueError(op)


def naive_route(rules: list[dict[str, Any]], ticket: Ticket) -> tuple[list[str], dict[str, Any]]:
    """Matched rule names and the combined changes, by walking every rule."""
    matched: list[str] = []
    changes: dict[str, Any] = {}
    tags = set(ticket.tags)
    for rule in rules:
        if naive_matches(rule["when"], ticket):
            matched.append(rule["name"])
            for key, value in rule["actions"].items():
                if key == "add_tags":
                    tags.update(value)
                elif key == "fields":
                    changes.setdefault("fields", {}).update(value)
                else:
                    changes[key] = value
    if tags != set(ticket.tags):
        changes["tags"] = tuple(sorted(tags))
    return matched, changes


# --- business-rules ------------------------------------------------------------------------


def business_rules_engine(rules: list[dict[str, Any]]) -> Callable[[Ticket], list[str]] | None:
    """The same rules run by the business-rules package (None when not installed)."""
    if importlib.util.find_spec("business_rules") is None:
        return None
    from business_rules import run_all
    from business_rules.actions import BaseActions, rule_action
    from business_rules.fields import FIELD_NO_INPUT, FIELD_TEXT
    from business_rules.variables import (
        BaseVariables,
        select_multiple_rule_variable,
        string_rule_variable,
    )

    class TicketVariables(BaseVariables):  # type: ignore[misc]
        def __init__(self, ticket: Ticket) -> None:
            self.ticket = ticket

        @string_rule_variable
        def category(self) -> str:
            return self.ticket.category or ""

        @string_rule_variable
        def team(self) -> str:
            return self.ticket.team or ""

        @string_rule_variable
        def channel(self) -> str:
            return self.ticket.channel.value

        @string_rule_variable
        def subject(self) -> str:
            return self.ticket.subject

        @string_rule_variable
        def subject_folded(self) -> str:
            return self.ticket.subject.casefold()

        @select_multiple_rule_variable()
        def tags(self) -> list[str]:
            return list(self.ticket.tags)

    class TicketActions(BaseActions):  # type: ignore[misc]
        def __init__(self) -> None:
            self.matched: list[str] = []
            self.changes: dict[str, Any] = {}

        @rule_action(params={"rule": FIELD_TEXT})
        def matched_rule(self, rule: str) -> None:
            self.matched.append(rule)

        @rule_action(params={"name": FIELD_TEXT, "value": FIELD_TEXT})
        def set_field(self, name: str, value: Any) -> None:
            self.changes[name] = value

        @rule_action(params={})
        def noop(self) -> None:
            assert FIELD_NO_INPUT

    def condition(doc: dict[str, Any]) -> dict[str, Any]:
        if "all" in doc:
            return {"all": [condition(d) for d in doc["all"]]}
        field, op, value = doc["field"], doc["op"], doc["value"]
        if field == "tags":
            return {"name": "tags", "operator": "contains_all", "value": [value]}
        if op == "eq":
            return {"name": field, "operator": "equal_to", "value": value}
        if op == "matches":
            return {"name": field, "operator": "matches_regex", "value": value}
        if op == "contains":
            return {"name": "subject_folded", "operator": "contains", "value": value.casefold()}
        raise ValueError(op)

    translated = []
    for rule in rules:
        when = rule["when"]
        translated.append({
            "conditions": when if "all" in when else {"all": [when]},
            "actions": [{"name": "matched_rule", "params": {"rule": rule["name"]}}]
            + [{"name": "set_field", "params": {"name": k, "value": v}}
               for k, v in rule["actions"].items()],
        })
    for rule in translated:
        rule["conditions"] = condition(rule["conditions"])

    def route(ticket: Ticket) -> list[str]:
        actions = TicketActions()
        run_all(translated, TicketVariables(ticket), actions, stop_on_first_trigger=False)
        return actions.matched

    return route


# --- timing --------------------------------------------------------------------------------


def _best_us_per_ticket(fn: Callable[[Ticket], object], tickets: Sequence[Ticket],
                        rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for ticket in tickets:
            fn(ticket)
        best = min(best, time.perf_counter() - start)
    return best / len(tickets) * 1e6


def run(quick: bool = False) -> dict[str, Any]:
    """Time every engine; return the figures (µs per ticket) and the ratios."""
    count = 5_000 if quick else 100_000
    peer_count = 1_000 if quick else 10_000
    rounds = 2 if quick else 3
    ours: dict[int, float] = {}
    matched_per_ticket: dict[int, float] = {}
    for size in SIZES:
        docs = make_rules(size)
        rules = RuleSet.from_dict(docs)
        tickets = make_tickets(count, size)
        ours[size] = _best_us_per_ticket(rules.evaluate, tickets, rounds)
        matched_per_ticket[size] = sum(len(rules.evaluate(t).matched) for t in tickets) / count
    dense = RuleSet.from_dict(make_rules(1000, vocabulary=100))
    dense_tickets = make_tickets(count, 100)
    ours_dense = _best_us_per_ticket(dense.evaluate, dense_tickets, rounds)
    matched_per_ticket["1000_same_vocabulary"] = (
        sum(len(dense.evaluate(t).matched) for t in dense_tickets) / count
    )

    docs = make_rules(100)
    rules = RuleSet.from_dict(docs)
    sample = make_tickets(count, 100)[:peer_count]
    business = business_rules_engine(docs)
    for ticket in sample:  # all engines do the same work
        names = list(rules.evaluate(ticket).rules)
        assert names == naive_route(docs, ticket)[0], ticket
        if business is not None:
            assert names == business(ticket), ticket
    # interleaved rounds, so a busy moment on the machine hits every engine alike
    ours_sample = naive = float("inf")
    peer: float | None = None
    for _ in range(rounds):
        ours_sample = min(ours_sample, _best_us_per_ticket(rules.evaluate, sample, 1))
        naive = min(naive, _best_us_per_ticket(lambda t: naive_route(docs, t), sample, 1))
        if business is not None:
            took = _best_us_per_ticket(business, sample, 1)
            peer = took if peer is None else min(peer, took)
    return {
        "tickets": count,
        "peer_tickets": peer_count,
        "us_per_ticket": {f"ours_{size}": ours[size] for size in SIZES}
        | {
            "ours_1000_same_vocabulary": ours_dense,
            "ours_100_peer_sample": ours_sample,
            "naive_100": naive,
            "business_rules_100": peer,
        },
        "matched_per_ticket": matched_per_ticket,
        "ratios": {
            "vs_business_rules": None if peer is None else peer / ours_sample,
            "vs_naive": naive / ours_sample,
            "cost_100_to_1000": ours[1000] / ours[100],
            "cost_10_to_100": ours[100] / ours[10],
            "cost_100_to_1000_same_vocabulary": ours_dense / ours[100],
        },
        "targets": TARGETS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer tickets")
    result = run(quick=parser.parse_args().quick)
    us = result["us_per_ticket"]
    print(f"routing {result['tickets']:,} tickets (peers: first {result['peer_tickets']:,})")
    print(f"{'engine':<34}{'rules':>7}{'µs/ticket':>12}{'tickets/s':>12}")
    rows = [("helpdesk_core RuleSet.evaluate", size, us[f"ours_{size}"]) for size in SIZES]
    rows += [
        ("helpdesk_core, 100-rule vocabulary", 1000, us["ours_1000_same_vocabulary"]),
        ("helpdesk_core (peer sample)", 100, us["ours_100_peer_sample"]),
        ("naive dict-walking interpreter", 100, us["naive_100"]),
        ("business-rules 1.1", 100, us["business_rules_100"]),
    ]
    for name, size, value in rows:
        if value is None:
            print(f"{name:<34}{size:>7}{'not installed':>24}")
        else:
            print(f"{name:<34}{size:>7}{value:>12.2f}{1e6 / value:>12,.0f}")
    print("matched rules per ticket: " + ", ".join(
        f"{size}: {m:.2f}" for size, m in result["matched_per_ticket"].items()))
    print()
    for key, value in result["ratios"].items():
        target = TARGETS.get(key)
        if value is None:
            print(f"{key:<34} n/a (peer not installed)")
            continue
        if target is None:
            print(f"{key:<34}{value:>8.2f}x")
            continue
        sign = "<=" if key.startswith("cost") else ">="
        ok = value <= target if sign == "<=" else value >= target
        verdict = "met" if ok else "MISSED"
        print(f"{key:<34}{value:>8.2f}x   target {sign} {target:g}x: {verdict}")


if __name__ == "__main__":
    main()
