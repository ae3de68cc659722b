"""System check: no ModelAdmin of the site filters, searches, sorts or shows
content by its own configuration (staff.content names what is content).
A new content field declared on a model is held to this at once."""

from django.contrib import admin
from django.core import checks

from staff.admin_tools import ContentAccessMixin
from staff.content import content_config_errors, content_fields_of


@checks.register(checks.Tags.admin)
def content_stays_behind_a_reason(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for model, model_admin in admin.site._registry.items():
        messages = content_config_errors(model_admin)
        if content_fields_of(model) and not isinstance(model_admin, ContentAccessMixin):
            messages.append(
                f"{type(model_admin).__name__} shows {model._meta.label}, which has content, "
                "without ContentAccessMixin."
            )
        errors += [checks.Error(message, obj=model_admin, id="staff.E001") for message in messages]
    return errors
