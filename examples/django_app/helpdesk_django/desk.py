"""The project's ``Helpdesk``: built once per process from ``settings.HELPDESK``.

:func:`get_desk` returns the desk the views and commands share. Its store is a
:class:`~helpdesk_django.store.DjangoStore` on ``HELPDESK["DATABASE"]``, and it forwards
every event to the :data:`~helpdesk_django.signals.ticket_event` signal with
``transaction.on_commit``, so receivers never see changes that are rolled back. Changing
``settings.HELPDESK`` (``override_settings`` in tests) builds a new desk on next use.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, transaction

from helpdesk_core import Clock, ConfigError, DeskConfig, Event, Helpdesk
from helpdesk_core.demo import example_config
from helpdesk_django.signals import ticket_event
from helpdesk_django.store import DjangoStore

__all__ = ["desk_database", "get_desk", "helpdesk_settings", "reset_desk"]

_lock = threading.Lock()
_desk: Helpdesk | None = None


def helpdesk_settings() -> dict[str, Any]:
    """``settings.HELPDESK`` with its defaults filled in."""
    values = getattr(settings, "HELPDESK", {})
    if not isinstance(values, Mapping):
        raise ConfigError("settings.HELPDESK must be a dict", path="HELPDESK")
    return {
        "CONFIG": None,
        "DATABASE": DEFAULT_DB_ALIAS,
        "CLOCK": None,
        "EMAIL_ADDRESS": "help@desk.example.com",
        **values,
    }


def desk_database() -> str:
    """The database alias of the desk's tables (``HELPDESK["DATABASE"]``)."""
    alias = helpdesk_settings()["DATABASE"]
    if not isinstance(alias, str):
        raise ConfigError("HELPDESK['DATABASE'] must be a database alias", path="DATABASE")
    return alias


def _config(source: object) -> DeskConfig:
    if source is None:
        return example_config()
    if isinstance(source, DeskConfig):
        return source
    if isinstance(source, Mapping):
        return DeskConfig.from_dict(source)
    if isinstance(source, str | Path):
        path = Path(source)
        if path.suffix == ".toml":
            return DeskConfig.from_toml(path)
        if path.suffix == ".json":
            return DeskConfig.from_json(path)
    raise ConfigError(
        f"HELPDESK['CONFIG'] must be a .toml or .json path, a dict, a DeskConfig or None, "
        f"got {source!r}",
        path="CONFIG",
    )


def _build() -> Helpdesk:
    values = helpdesk_settings()
    clock = values["CLOCK"]
    if clock is not None and not isinstance(clock, Clock):
        raise ConfigError("HELPDESK['CLOCK'] must be a helpdesk_core Clock", path="CLOCK")
    alias = desk_database()
    desk = Helpdesk(config=_config(values["CONFIG"]), store=DjangoStore(alias), clock=clock)

    def after_commit(event: Event) -> None:
        # robust: a failing receiver is logged; it cannot undo what is committed.
        send = partial(ticket_event.send, sender=Helpdesk, event=event)
        transaction.on_commit(send, using=alias, robust=True)

    desk.subscribe(after_commit)
    return desk


def get_desk() -> Helpdesk:
    """The project's desk (built on first use, then shared by every thread)."""
    global _desk
    with _lock:
        if _desk is None:
            _desk = _build()
        return _desk


def reset_desk(**kwargs: object) -> None:
    """Forget the desk; the next :func:`get_desk` builds a new one from the settings."""
    global _desk
    if kwargs.get("setting", "HELPDESK") != "HELPDESK":
        return
    with _lock:
        _desk = None


setting_changed.connect(reset_desk, dispatch_uid="helpdesk_django.reset_desk")
