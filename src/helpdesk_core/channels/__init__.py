"""Channels: adapters that turn what arrives on a medium (email …) into desk commands and
desk events into what goes back out. Each channel lives in its own subpackage and imports
only the standard library on top of the core."""

__all__: list[str] = []
