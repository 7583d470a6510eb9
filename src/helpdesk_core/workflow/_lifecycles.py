"""Several lifecycles, one per ticket type (private; re-exported by ``workflow``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from helpdesk_core.errors import ConfigError, NotFound, ValidationError
from helpdesk_core.model import Ticket
from helpdesk_core.model._validate import require
from helpdesk_core.workflow import _config as cfg
from helpdesk_core.workflow.guards import Guard
from helpdesk_core.workflow.lifecycle import Lifecycle

__all__ = ["Lifecycles", "lifecycle_for"]


def lifecycle_for(ticket_type: str, mapping: Mapping[str, str], default: str) -> str:
    """The lifecycle name for ``ticket_type``: ``mapping[ticket_type]``, else ``default``."""
    require(ticket_type, str, "text", field="ticket_type")
    if not isinstance(mapping, Mapping):
        raise ValidationError(
            f"mapping maps ticket types to lifecycle names, got {type(mapping).__name__}",
            field="mapping",
        )
    require(default, str, "text", field="default")
    return mapping.get(ticket_type, default)


def _to_lifecycles(value: Any) -> Mapping[str, Lifecycle]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ConfigError("lifecycles is a list or mapping of lifecycles", path="lifecycles")
    items: Iterable[Any] = value.values() if isinstance(value, Mapping) else value
    out: dict[str, Lifecycle] = {}
    for i, item in enumerate(items):
        if not isinstance(item, Lifecycle):
            raise ConfigError(
                f"expected a Lifecycle, got {type(item).__name__}", path=f"lifecycles[{i}]"
            )
        if item.name in out:
            raise ConfigError(f"two lifecycles named {item.name!r}", path=f"lifecycles[{i}]")
        out[item.name] = item
    return MappingProxyType(out)


def _to_by_type(value: Mapping[str, str]) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(name, str) for k, name in value.items()
    ):
        raise ConfigError("by_type maps ticket types to lifecycle names", path="by_type")
    return MappingProxyType(dict(value))


def _default_lifecycles() -> tuple[Lifecycle, ...]:
    return (Lifecycle.default(),)


@frozen(kw_only=True)
class Lifecycles:
    """Named lifecycles, which ticket type uses which (``by_type``), and the ``default``
    for the other types. ``Lifecycles()`` holds only :meth:`Lifecycle.default`."""

    lifecycles: Mapping[str, Lifecycle] = field(
        factory=_default_lifecycles, converter=_to_lifecycles, hash=False
    )
    by_type: Mapping[str, str] = field(factory=dict, converter=_to_by_type, hash=False)
    default: str = "default"

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.default, str) or self.default not in self.lifecycles:
            raise ConfigError(
                f"default lifecycle {self.default!r} is not defined "
                f"(lifecycles: {', '.join(self.lifecycles)})",
                path="default",
            )
        for ticket_type, name in self.by_type.items():
            if name not in self.lifecycles:
                raise ConfigError(
                    f"ticket type {ticket_type!r} uses undefined lifecycle {name!r} "
                    f"(lifecycles: {', '.join(self.lifecycles)})",
                    path=f"by_type.{ticket_type}",
                )

    def get(self, name: str) -> Lifecycle:
        """The lifecycle called ``name``; NotFound if there is none."""
        found = self.lifecycles.get(name)
        if found is None:
            raise NotFound("lifecycle", name)
        return found

    def name_for_type(self, ticket_type: str) -> str:
        """The lifecycle name a new ticket of ``ticket_type`` gets."""
        return lifecycle_for(ticket_type, self.by_type, self.default)

    def for_type(self, ticket_type: str) -> Lifecycle:
        """The lifecycle a new ticket of ``ticket_type`` follows."""
        return self.lifecycles[self.name_for_type(ticket_type)]

    def for_ticket(self, ticket: Ticket) -> Lifecycle:
        """The lifecycle ``ticket`` follows (by its ``lifecycle`` name)."""
        return self.get(ticket.lifecycle)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"lifecycles": {name: ...}, "by_type": {...}, "default": name}``."""
        return {
            "lifecycles": {name: lc.to_dict() for name, lc in self.lifecycles.items()},
            "by_type": dict(self.by_type),
            "default": self.default,
        }

    @classmethod
    def from_dict(
        cls, doc: Any, *, path: str = "lifecycles", guards: Mapping[str, Guard] | None = None
    ) -> Lifecycles:
        """Build from :meth:`to_dict` data. A lifecycle's ``name`` defaults to its key."""
        data = cfg.mapping(doc, path, "lifecycles")
        cfg.check_keys(data, path, required=("lifecycles",), optional=("by_type", "default"))
        docs = cfg.mapping(data["lifecycles"], f"{path}.lifecycles", "lifecycles")
        built = []
        for key, item in docs.items():
            where = f"{path}.lifecycles.{key}"
            body = dict(cfg.mapping(item, where, "a lifecycle"))
            body.setdefault("name", key)
            if body["name"] != key:
                raise ConfigError(
                    f"lifecycle under key {key!r} is named {body['name']!r}", path=f"{where}.name"
                )
            built.append(Lifecycle.from_dict(body, path=where, guards=guards))
        by_type = cfg.mapping(data.get("by_type", {}), f"{path}.by_type", "by_type")
        with cfg.relative(path):
            return cls(
                lifecycles=built, by_type=by_type, default=data.get("default", "default")
            )
