"""``manage.py helpdesk_tick``: the desk's clock-driven work, and the outbox as email."""

from __future__ import annotations

import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from helpdesk_core import HelpdeskError
from helpdesk_django.desk import get_desk
from helpdesk_django.mail import deliver_outbox


class Command(BaseCommand):
    help = (
        "Record due SLA warnings and breaches, escalations and auto-closes (desk.tick()), "
        "then send the email for every undelivered event of the outbox. Run it from cron, "
        "or with --every to keep it running; several copies may run at once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--consumer", default="email", help="outbox consumer name (default: email)"
        )
        parser.add_argument(
            "--limit", type=int, default=100, help="outbox items per batch (default: 100)"
        )
        parser.add_argument(
            "--every",
            type=float,
            default=None,
            metavar="SECONDS",
            help="repeat every SECONDS until interrupted (default: run once)",
        )

    def handle(
        self, *args: Any, consumer: str, limit: int, every: float | None, **options: Any
    ) -> None:
        if every is not None and every <= 0:
            raise CommandError("--every takes a positive number of seconds")
        desk = get_desk()
        stop = threading.Event()
        while True:
            try:
                events = desk.tick()
                report = deliver_outbox(desk, consumer=consumer, limit=limit)
            except HelpdeskError as exc:
                raise CommandError(f"{type(exc).__name__}: {exc}") from exc
            self.stdout.write(
                f"tick: {len(events)} event(s) recorded; outbox: {report.sent} message(s) "
                f"sent, {len(report.acked)} item(s) done, {len(report.released)} to retry, "
                f"{len(report.dropped)} dropped"
            )
            if every is None:
                return
            stop.wait(every)
