"""Helpdesk simulation and queueing analysis."""

__all__: list[str] = []
