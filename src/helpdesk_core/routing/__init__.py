"""Routing: conditions, rules and assignment."""

from helpdesk_core.routing.builder import F, FieldRef
from helpdesk_core.routing.conditions import Condition
from helpdesk_core.routing.fields import FieldKind, FieldSpec, field_spec, field_table

__all__ = ["Condition", "F", "FieldKind", "FieldRef", "FieldSpec", "field_spec", "field_table"]
