"""Routing and assignment: conditions, rules with explainable decisions, and assignment
strategies. Pure domain code: time, loads and calendars come in as arguments."""

from helpdesk_core.routing.actions import Actions
from helpdesk_core.routing.assignment import (
    DEFAULT_PRIORITY_WEIGHTS,
    STRATEGIES,
    AgentLoad,
    AssignmentDecision,
    AssignSpec,
    agent_loads,
    assign,
    queue_order,
)
from helpdesk_core.routing.builder import F, FieldRef
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.routing.decision import RoutingDecision, RuleMatch
from helpdesk_core.routing.fields import FieldKind, FieldSpec, field_spec, field_table
from helpdesk_core.routing.rules import Rule, RuleSet

__all__ = [
    "DEFAULT_PRIORITY_WEIGHTS",
    "STRATEGIES",
    "Actions",
    "AgentLoad",
    "AssignSpec",
    "AssignmentDecision",
    "Condition",
    "F",
    "FieldKind",
    "FieldRef",
    "FieldSpec",
    "RoutingDecision",
    "Rule",
    "RuleMatch",
    "RuleSet",
    "agent_loads",
    "assign",
    "field_spec",
    "field_table",
    "queue_order",
]
