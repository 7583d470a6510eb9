"""URLs of the example project: the helpdesk API under ``/api/`` and Django's admin."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("helpdesk_django.urls")),
]
