"""Run the purge job once, now (a thin shell over retention.purge.purge_due)."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

from retention.purge import DEFAULT_BATCH_SIZE, PurgeInFuture, due_counts, purge_due


class Command(BaseCommand):
    help = (
        "Purge conversations, classification scores and feedback past their retain-until. "
        "Safe to run at any time and to re-run; an overlapping run ends at once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="cutoff as ISO 8601 (default: the clock); a time without an offset is UTC. "
            "Later than the clock only with --dry-run.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="count, per rule, what would be purged; delete nothing",
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args, now=None, dry_run=False, batch_size=DEFAULT_BATCH_SIZE, **options):
        cutoff = self._cutoff(now)
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        bar = None
        if not dry_run and self.stdout.isatty():
            from tqdm import tqdm

            counts = due_counts(cutoff=cutoff)
            bar = tqdm(
                total=counts.conversations + counts.scores + counts.feedback,
                unit="item",
                desc="purging",
            )
        try:
            report = purge_due(
                now=cutoff,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=bar.update if bar else None,
            )
        except PurgeInFuture as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            # Logged in full by purge_due; the operator gets one line.
            reason = (str(exc).strip().splitlines() or [""])[0]
            raise CommandError(
                f"the purge stopped: {type(exc).__name__}: {reason}. Committed batches stand, "
                "with their receipts; run it again to finish."
            ) from exc
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(self._summary(report))

    @staticmethod
    def _cutoff(value: str | None) -> datetime:
        if not value:
            return timezone.now()
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise CommandError(
                f"--now: {value!r} is not an ISO 8601 date-time (e.g. 2026-04-01T12:00:00+00:00)"
            ) from None
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, timezone.UTC)

    @staticmethod
    def _summary(report) -> str:
        rules = ", ".join(f"{rule} {n}" for rule, n in sorted(report.conversations_by_rule.items()))
        totals = (
            f"{report.conversations} conversations ({report.messages} messages), "
            f"{report.scores} classification scores, {report.feedback} feedback"
        )
        at = report.cutoff.isoformat()
        if report.skipped_because_locked:
            return f"Skipped: another purge run holds the lock; nothing done (run {report.run_id})."
        if report.dry_run:
            return (
                f"Dry run at {at}: would purge {totals}. By rule: {rules or 'none'}. "
                "Nothing was deleted."
            )
        return (
            f"Purged at {at}: {totals} in {report.batches} batches. By rule: {rules or 'none'}. "
            f"Run {report.run_id}."
        )
