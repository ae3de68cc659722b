"""Pages of the end-user privacy dashboard, one module per page.

Plain function views: validate, call one selector or service, render. Every
page works without JavaScript (forms POST and redirect); with htmx a view
renders only its fragment ("page.html#partial").
"""

from dashboard.views.account import account_delete, account_deleted
from dashboard.views.auto_delete import auto_delete
from dashboard.views.consent import consent
from dashboard.views.conversations import (
    conversation_delete,
    conversation_detail,
    conversation_list,
    conversations_delete_all,
    conversations_delete_selected,
)
from dashboard.views.deleted import deleted, feedback
from dashboard.views.errors import csrf_failure
from dashboard.views.export import export, export_response
from dashboard.views.overview import overview, policy_notice_read
from dashboard.views.policy import policy

__all__ = [
    "account_delete",
    "account_deleted",
    "auto_delete",
    "consent",
    "conversation_delete",
    "conversation_detail",
    "conversation_list",
    "conversations_delete_all",
    "conversations_delete_selected",
    "csrf_failure",
    "deleted",
    "export",
    "export_response",
    "feedback",
    "overview",
    "policy",
    "policy_notice_read",
]
