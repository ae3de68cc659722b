"""Reads behind the dashboard pages and the /api/me/ endpoints.

Every function here answers for one signed-in user and issues a fixed number
of queries whatever the size of their history: lists are keyset-paginated on
(moment, id) descending, counts come from one aggregate. A legal hold is never
visible here: only the public_* columns and the masked decision are read.

The package is split by page (overview, conversations, consent, deleted,
feedback, policy, api); views and the API import the functions from here.
"""

from dashboard.selectors.api import api_conversation_page, api_deleted
from dashboard.selectors.auto_delete import auto_delete_preview, auto_delete_state
from dashboard.selectors.consent import consent_history, consent_preview
from dashboard.selectors.conversations import conversation_detail, conversation_page
from dashboard.selectors.deleted import deleted_page, receipt_page
from dashboard.selectors.feedback import feedback_page
from dashboard.selectors.overview import consent_state, overview
from dashboard.selectors.policy import policy_notice, policy_page

__all__ = [
    "api_conversation_page",
    "api_deleted",
    "auto_delete_preview",
    "auto_delete_state",
    "consent_history",
    "consent_preview",
    "consent_state",
    "conversation_detail",
    "conversation_page",
    "deleted_page",
    "feedback_page",
    "overview",
    "policy_notice",
    "policy_page",
    "receipt_page",
]
