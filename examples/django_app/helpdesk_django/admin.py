"""The helpdesk tables in Django's admin, read-only: the desk changes them through its
commands only (a hand-edited row would no longer match the ticket's events)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from helpdesk_django.models import ArticleRecord, EventRecord, RequesterRecord, TicketRecord


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists and shows rows; adds, changes and deletes nothing."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TicketRecord)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ("number", "id", "status", "priority", "team", "assignee", "updated_at")
    list_filter = ("status_category", "priority", "team")
    search_fields = ("id", "requester", "assignee")
    ordering = ("-number",)


@admin.register(EventRecord)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("position", "ticket_id", "version", "type", "at")
    list_filter = ("type",)
    ordering = ("-position",)


@admin.register(RequesterRecord)
class RequesterAdmin(ReadOnlyAdmin):
    list_display = ("id", "email_key")
    search_fields = ("id", "email_key")


@admin.register(ArticleRecord)
class ArticleAdmin(ReadOnlyAdmin):
    list_display = ("id", "status", "category", "author", "version", "updated_at")
    list_filter = ("status", "category")
    search_fields = ("id", "author")
    ordering = ("-updated_at",)
