"""Back-fill: apply a JSON Lines file of chat-service events, the same events
and rules as POST /api/internal/events (ingest.services.events_import)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ingest.services import MAX_EVENTS, ImportRejected, IngestBusy, events_import


class Command(BaseCommand):
    help = (
        "Apply events from a JSON Lines file (one event per line, '-' for standard input) "
        f"in chunks of up to {MAX_EVENTS}, each all or nothing. Events seen before are skipped, "
        "so an interrupted or failed import can simply be run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the .jsonl file, or - to read standard input")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=MAX_EVENTS,
            help=f"events per transaction (1 to {MAX_EVENTS}, default {MAX_EVENTS})",
        )

    def handle(self, *args, file: str, chunk_size: int, **options):
        if not 1 <= chunk_size <= MAX_EVENTS:
            raise CommandError(f"--chunk-size must be between 1 and {MAX_EVENTS}")
        try:
            stream = sys.stdin.buffer if file == "-" else Path(file).open("rb")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        try:
            result = events_import(lines=stream, chunk_size=chunk_size)
        except ImportRejected as exc:
            raise CommandError(str(exc)) from None
        except IngestBusy as exc:
            raise CommandError(str(exc)) from None
        finally:
            if file != "-":
                stream.close()
        self.stdout.write(
            f"{result.events} events read from {file}: "
            f"{result.accepted} accepted, {result.duplicates} duplicates"
        )
