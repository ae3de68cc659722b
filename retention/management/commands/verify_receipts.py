"""Check the deletion-receipt hash chain; exit non-zero at the first break."""

from django.core.management.base import BaseCommand, CommandError

from retention.purge import verify_receipt_chain


class Command(BaseCommand):
    help = (
        "Walk the deletion receipts in sequence order and check every hash link. "
        "Exits 1 naming the first edited or removed receipt."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=2000)

    def handle(self, *args, chunk_size=2000, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        checked, broken = verify_receipt_chain(chunk_size=chunk_size)
        if broken is not None:
            raise CommandError(f"{broken} ({checked} receipts verified before it)")
        self.stdout.write(f"Receipt chain intact: {checked} receipts verified.")
