"""One delivery pass now, then exit: what beat runs every 30 seconds, in
this process and in order (connected.services)."""

from django.core.management.base import BaseCommand

from connected.services.delivery import deliver_system, systems_to_deliver
from connected.services.dispatch import outbox_dispatch


class Command(BaseCommand):
    help = "Dispatch new events and deliver what is due to each connected system, once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="ignore the backoff: try every pending delivery now"
        )

    def handle(self, *args, all: bool, **options):
        dispatched = outbox_dispatch()
        self.stdout.write(f"{dispatched} new events dispatched")
        for system_id in systems_to_deliver():
            report = deliver_system(system_id=system_id, ignore_backoff=all)
            self.stdout.write(report.line())
