"""URLs of the helpdesk JSON API."""

from __future__ import annotations

from django.urls import path

from helpdesk_django import views

app_name = "helpdesk"
urlpatterns = [
    path("tickets/", views.tickets, name="tickets"),
    path("tickets/<str:ticket_id>/", views.ticket, name="ticket"),
    path("tickets/<str:ticket_id>/replies/", views.reply, name="reply"),
    path("tickets/<str:ticket_id>/transitions/", views.transition, name="transition"),
]
