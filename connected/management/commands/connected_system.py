"""Register and manage connected systems from the shell: a thin shell over
connected.services.systems. The secret and key are printed once, by `add`
and `rotate`; nothing else ever shows them."""

import json

from django.core.management.base import BaseCommand, CommandError

from connected.events import EVENT_TYPES
from connected.selectors import systems_with_backlog
from connected.services.systems import (
    SystemRefused,
    system_enable,
    system_get,
    system_register,
    system_rotate,
)


def _csv(value: str) -> list[str]:
    return [part for part in value.split(",") if part.strip()]


class Command(BaseCommand):
    help = "Add, list, rotate the secret and key of, or disable a connected system."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        add = commands.add_parser("add", help="register a system; prints its secret and key once")
        add.add_argument("name")
        add.add_argument(
            "--url", default="", help="webhook endpoint; none: the system pulls the feed"
        )
        add.add_argument(
            "--events", required=True, help=f"comma-separated, of: {', '.join(EVENT_TYPES)}"
        )
        add.add_argument("--confirms-erasure", action="store_true")
        add.add_argument("--scopes", help="comma-separated key scopes (default: all)")
        add.add_argument("--json", action="store_true", help="last line: one JSON object")
        commands.add_parser("list", help="one line per system")
        rotate = commands.add_parser("rotate", help="new secret and key; prints them once")
        rotate.add_argument("name")
        rotate.add_argument("--json", action="store_true", help="last line: one JSON object")
        disable = commands.add_parser("disable", help="send nothing more, refuse its keys")
        disable.add_argument("name")

    def handle(self, *args, action: str, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except SystemRefused as exc:
            raise CommandError(str(exc)) from None

    def _print_credentials(self, credentials, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(credentials.as_dict()))
            return
        self.stdout.write(f"signing secret: {credentials.signing_secret}")
        self.stdout.write(f"API key:        {credentials.api_key}")
        self.stdout.write("Store both now: they are not shown again.")

    def _add(self, *, name, url, events, confirms_erasure, scopes, json, **_):
        system, credentials = system_register(
            name=name,
            url=url,
            events=_csv(events),
            confirms_erasure=confirms_erasure,
            scopes=None if scopes is None else _csv(scopes),
        )
        self.stdout.write(f"Connected system {system.name!r} added (id {system.pk}).")
        self._print_credentials(credentials, json)

    def _list(self, **_):
        for system in systems_with_backlog().order_by("name"):
            self.stdout.write(
                f"{system.name}\t{'enabled' if system.enabled else 'disabled'}\t"
                f"{system.url or '(pulls the feed)'}\t{','.join(system.events)}\t"
                f"{'confirms erasure' if system.confirms_erasure else '-'}\t"
                f"backlog {system.backlog}\tdead {system.dead_letters}"
            )

    def _rotate(self, *, name, json, **_):
        credentials = system_rotate(system_id=system_get(name=name).pk)
        self.stdout.write(f"Connected system {name!r}: new signing secret and key.")
        self._print_credentials(credentials, json)

    def _disable(self, *, name, **_):
        system_enable(system_id=system_get(name=name).pk, enabled=False)
        self.stdout.write(f"Connected system {name!r} disabled.")
