"""The app configuration."""

from __future__ import annotations

from django.apps import AppConfig


class HelpdeskConfig(AppConfig):
    """Tables are named ``helpdesk_*``; the app label is ``helpdesk``."""

    name = "helpdesk_django"
    label = "helpdesk"
    verbose_name = "Helpdesk"
    default_auto_field = "django.db.models.BigAutoField"
