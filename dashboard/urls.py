"""URLs of the end-user dashboard (mounted at /) and of /api/me/."""

from django.urls import path

from dashboard import api, views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("conversations/", views.conversation_list, name="conversations"),
    path("delete/selected/", views.conversations_delete_selected, name="delete_selected"),
    path("delete/all/", views.conversations_delete_all, name="delete_all"),
    path("conversations/<str:external_id>/", views.conversation_detail, name="conversation"),
    path(
        "conversations/<str:external_id>/delete/",
        views.conversation_delete,
        name="conversation_delete",
    ),
    path("consent/", views.consent, name="consent"),
    path("auto-delete/", views.auto_delete, name="auto_delete"),
    path("deleted/", views.deleted, name="deleted"),
    path("feedback/", views.feedback, name="feedback"),
    path("policy/", views.policy, name="policy"),
    path(
        "policy/notice/<str:version>/read/",
        views.policy_notice_read,
        name="policy_notice_read",
    ),
    path("export/", views.export, name="export"),
    path("api/me/conversations", api.conversations, name="api_conversations"),
    path(
        "api/me/conversations/<str:external_id>",
        api.conversation_delete,
        name="api_conversation_delete",
    ),
    path("api/me/deleted", api.deleted, name="api_deleted"),
    path("api/me/export", api.export, name="api_export"),
    path("api/me/consent", api.consent, name="api_consent"),
    path("api/me/auto-delete", api.auto_delete, name="api_auto_delete"),
    path("api/me/account", api.account, name="api_account"),
    path("account/delete/", views.account_delete, name="account_delete"),
    path("account/deleted/", views.account_deleted, name="account_deleted"),
]
