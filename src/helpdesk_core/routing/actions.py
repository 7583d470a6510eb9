"""What a routing rule does when it matches: :class:`Actions`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from attrs import field, frozen

from helpdesk_core.errors import ConfigError, ValidationError
from helpdesk_core.model import Changes, Priority
from helpdesk_core.model import _validate as v
from helpdesk_core.routing.assignment import AssignSpec

__all__ = ["SCALAR_ACTIONS", "Actions"]

#: The actions that set one ticket field (a later rule's value wins).
SCALAR_ACTIONS = ("team", "tier", "priority", "type", "category", "sla_policy")

_KEYS = (*SCALAR_ACTIONS, "add_tags", "remove_tags", "fields", "assign")


def _priority(value: Any) -> Priority | None:
    return None if value is None else Priority.parse(value, field="priority")


def _tags(value: Any, name: str) -> tuple[str, ...]:
    """Tags, their errors naming the action (``add_tags``, not ``tags``)."""
    try:
        return v.to_tag_tuple(value)
    except ValidationError as exc:
        raise ValidationError(exc.message, field=name) from exc


def _add_tags(value: Any) -> tuple[str, ...]:
    return _tags(value, "add_tags")


def _remove_tags(value: Any) -> tuple[str, ...]:
    return _tags(value, "remove_tags")


def _assign(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not isinstance(value, AssignSpec):
        raise ValidationError(
            f"expected an AssignSpec, got {type(value).__name__}", field="assign"
        )


def _category(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and not value.strip():
        raise ValidationError("a category is non-blank text", field="category")


@frozen(kw_only=True)
class Actions:
    """Changes a rule makes: set team, tier, priority, type, category, SLA policy and
    custom ``fields``; add and remove tags; ask for assignment with a strategy."""

    team: str | None = field(default=None, validator=v.optional_identifier)
    tier: str | None = field(default=None, validator=v.optional_identifier)
    priority: Priority | None = field(default=None, converter=_priority)
    type: str | None = field(default=None, validator=v.optional_identifier)
    category: str | None = field(default=None, validator=[v.optional_text, _category])
    add_tags: tuple[str, ...] = field(
        default=(), converter=_add_tags, validator=v.tag_tuple
    )
    remove_tags: tuple[str, ...] = field(
        default=(), converter=_remove_tags, validator=v.tag_tuple
    )
    fields: Mapping[str, v.FieldValue] = field(
        factory=dict, converter=v.to_field_dict, validator=v.field_dict, hash=False
    )
    sla_policy: str | None = field(default=None, validator=v.optional_identifier)
    assign: AssignSpec | None = field(default=None, validator=_assign)

    def __attrs_post_init__(self) -> None:
        both = set(self.add_tags) & set(self.remove_tags)
        if both:
            raise ValidationError(
                f"tags {', '.join(sorted(both))} are both added and removed",
                field="remove_tags",
            )

    @classmethod
    def from_dict(cls, doc: Any, *, path: str = "actions") -> Actions:
        """Build from the dict form, raising ConfigError naming the bad part."""
        if doc is None:
            return cls()
        if not isinstance(doc, Mapping):
            raise ConfigError(
                f"expected a mapping of actions, got {type(doc).__name__}", path=path
            )
        for key in doc:
            if key not in _KEYS:
                raise ConfigError(
                    f"unknown action {key!r} (use {', '.join(_KEYS)})", path=f"{path}.{key}"
                )
        kwargs = dict(doc)
        if kwargs.get("assign") is not None:
            kwargs["assign"] = AssignSpec.from_dict(kwargs["assign"], path=f"{path}.assign")
        try:
            return cls(**kwargs)
        except ConfigError:
            raise
        except ValidationError as exc:
            where = f"{path}.{exc.field}" if exc.field else path
            raise ConfigError(exc.message, path=where) from exc

    def to_dict(self) -> dict[str, Any]:
        """The plain-dict form, with only the actions that do something."""
        out: dict[str, Any] = {}
        for name in SCALAR_ACTIONS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value.value if isinstance(value, Priority) else value
        if self.add_tags:
            out["add_tags"] = list(self.add_tags)
        if self.remove_tags:
            out["remove_tags"] = list(self.remove_tags)
        if self.fields:
            out["fields"] = dict(self.fields)
        if self.assign is not None:
            out["assign"] = self.assign.to_dict()
        return out

    @property
    def is_empty(self) -> bool:
        """True when the actions change nothing."""
        return not self.to_dict()

    def as_changes(self) -> Changes:
        """The field changes these actions set on their own (tags not included: they
        depend on the ticket's tags)."""
        return Changes(
            team=self.team,
            tier=self.tier,
            priority=self.priority,
            type=self.type,
            category=self.category,
            fields=dict(self.fields) if self.fields else None,
            sla_policy=self.sla_policy,
        )

    def describe(self) -> list[str]:
        """One short text per action, e.g. ``team = network``, ``tags + vpn``."""
        parts = []
        for name in SCALAR_ACTIONS:
            value = getattr(self, name)
            if value is not None:
                shown = value.value if isinstance(value, Priority) else value
                parts.append(f"{name} = {shown}")
        parts.extend(f"fields.{key} = {value!r}" for key, value in self.fields.items())
        if self.add_tags:
            parts.append("tags + " + ", ".join(self.add_tags))
        if self.remove_tags:
            parts.append("tags - " + ", ".join(self.remove_tags))
        if self.assign is not None:
            parts.append("assign " + self.assign.describe())
        return parts
