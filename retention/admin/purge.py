"""Admin of what the purge did: deletion receipts, de-identified statistics
and the runs, with deletion health on top of the runs' list."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import is_privacy_admin
from retention.models import DeletionReceipt, PurgeRun, PurgeStatistic, Rule
from retention.policy.promises import duration_text, receipt_late_by
from retention.purge import deletion_health, due_counts, purge_due
from retention.purge.health import deletion_promise_terms
from retention.selectors.accounts import accounts_erasable
from retention.tasks import enforce_retention
from staff.admin_tools import PortalModelAdmin, ReadOnlyAdminMixin


@admin.register(DeletionReceipt)
class DeletionReceiptAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    exact_search_fields = ("conversation_external_id", "receipt_hash")
    list_display = (
        "sequence",
        "conversation_external_id",
        "user",
        "kind",
        "rule",
        "retain_until",
        "purged_at",
        "messages_removed",
    )
    list_filter = ("rule", "kind")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    ordering = ("-sequence",)

    def get_list_display(self, request):
        # The terms are read once per page, not once per row.
        days, tolerance = deletion_promise_terms()

        @admin.display(description=f"Late (past the article's {days} days)")
        def late(receipt) -> str:
            late_by = receipt_late_by(
                rule=receipt.rule,
                deleted_at=receipt.deleted_at,
                retain_until=receipt.retain_until,
                purged_at=receipt.purged_at,
                deleted_days=days,
                tolerance=tolerance,
            )
            return f"late by {duration_text(late_by)}" if late_by else "-"

        return (*self.list_display, late)


@admin.register(PurgeStatistic)
class PurgeStatisticAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    account_lookup = None
    list_display = ("day", "rule", "plan", "kind", "conversations", "messages")
    list_filter = ("rule", "plan", "kind")
    ordering = ("-day", "rule", "plan", "kind")


# --- Deletion health and the purge actions ---------------------------------
# The figures come from retention.purge.deletion_health(), the same function
# the purge job logs with; the admin holds no logic of its own.


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    """Deletion health: the runs of the purge job, with a summary above."""

    account_lookup = None
    change_list_template = "admin/retention/purgerun/change_list.html"
    list_display = (
        "started_at",
        "finished_at",
        "status",
        "cutoff",
        "conversations_purged",
        "messages_purged",
        "scores_purged",
        "feedback_purged",
        "took",
        "max_delay",
    )
    list_filter = ("status",)
    ordering = ("-started_at",)

    @admin.display(description="Took")
    def took(self, run) -> str:
        if run.finished_at is None:
            return "-"
        return duration_text(run.finished_at - run.started_at)

    @admin.display(description="Largest delay past retain-until", ordering="max_delay_seconds")
    def max_delay(self, run) -> str:
        return duration_text(run.max_delay_seconds)

    def changelist_view(self, request, extra_context=None):
        context = {**(extra_context or {}), "health": deletion_health()}
        return super().changelist_view(request, context)

    def get_urls(self):
        guarded = self.admin_site.admin_view
        return [
            path("run-now/", guarded(self.run_now_view), name="retention_purgerun_run_now"),
            path("preview/", guarded(self.preview_view), name="retention_purgerun_preview"),
            *super().get_urls(),
        ]

    def _may_run_purge(self, request) -> bool:
        return is_privacy_admin(request.user)

    def run_now_view(self, request):
        """Queue a purge run now (the worker runs it; the run lock keeps it
        single). POST only: a link crawler must never start a purge. A POST
        without confirm=yes answers the confirmation page (what is due now,
        counted as the purge counts it); with it, the run is queued."""
        if request.method != "POST" or not self._may_run_purge(request):
            raise PermissionDenied
        if request.POST.get("confirm") != "yes":
            return self._run_now_confirmation(request)
        enforce_retention.delay_on_commit()
        self.message_user(
            request, "A purge run was queued; it appears in this list when a worker has run it."
        )
        return redirect("admin:retention_purgerun_changelist")

    def _run_now_confirmation(self, request):
        now = timezone.now()
        counts = due_counts(cutoff=now)
        labels = dict(Rule.choices)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Run the purge now?"),
            "now": now,
            "counts": counts,
            "by_rule": [
                (labels.get(rule, rule), n) for rule, n in sorted(counts.by_rule.items()) if n
            ],
            "accounts": accounts_erasable().count(),
            "nothing_due": not (counts.conversations or counts.scores or counts.feedback),
        }
        return TemplateResponse(
            request, "admin/retention/purgerun/run_now_confirmation.html", context
        )

    def preview_view(self, request):
        """Dry run: what a purge now would remove, per rule. Nothing is deleted."""
        if request.method != "POST" or not self._may_run_purge(request):
            raise PermissionDenied
        report = purge_due(dry_run=True)
        by_rule = ", ".join(
            f"{rule}: {n}" for rule, n in sorted(report.conversations_by_rule.items())
        )
        self.message_user(
            request,
            f"Dry run: {report.conversations} conversations ({by_rule or 'none'}), "
            f"{report.messages} messages, {report.scores} score sets and {report.feedback} "
            "feedback submissions would be purged now. Nothing was deleted.",
        )
        return redirect("admin:retention_purgerun_changelist")
