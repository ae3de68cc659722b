"""Which fields are content, and the one check that keeps Django admin from
reading them outside a change page opened with a logged reason.

A model declares its content (conversation titles, message text, feedback
text, ...) as a class attribute, `content_fields = ("title",)`; nothing else
names them. Django admin lets a staff member filter, search and sort a list by
query-string lookups (`?content__icontains=`, `?conversation__title__regex=`,
`?o=`...), and a filter that answers "some rows" or "none" reads the content
as surely as a page that shows it. So every admin request is asked
`content_query_refusal` first (staff.admin_site): a query string that reaches
a content field, through any relation and with any lookup, is refused and
logged. `content_config_errors` (a system check) refuses an admin that would
filter, search or sort on content by its own configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl

from django.contrib.admin.views.main import (
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    SOURCE_MODEL_VAR,
    TO_FIELD_VAR,
)
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Model
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest

# Query parameters of admin pages whose names are not lookups; their values
# are looked at below where they can name a field (ordering, to-field, filters
# kept for the way back to the list).
NOT_LOOKUPS = frozenset(
    {SEARCH_VAR, PAGE_VAR, IS_FACETS_VAR, IS_POPUP_VAR, SOURCE_MODEL_VAR, "e", "all"}
)
CHANGELIST_FILTERS = "_changelist_filters"


def content_fields_of(model: type[Model]) -> frozenset[str]:
    """The content fields `model` declares (none when it declares none)."""
    return frozenset(getattr(model, "content_fields", ()))


def content_in_path(model: type[Model], path: str, *, _hops: int = 0) -> str | None:
    """ "app.Model.field" when the lookup path `path` (e.g.
    "conversation__title__icontains", "-messages__content") reads a content
    field, following relations from `model`; else None. The first part that
    is no field ends the walk (the rest are lookups and transforms)."""
    for part in path.lstrip("-").split(LOOKUP_SEP):
        if part == "pk":
            part = model._meta.pk.name
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if field.name in content_fields_of(model):
            return f"{model._meta.label}.{field.name}"
        if not field.is_relation or field.related_model is None:
            return None
        model = field.related_model
    # A relation last: ordering by it sorts by the related model's ordering
    # (which Django follows a few models deep at most, refusing loops).
    if _hops >= 3:
        return None
    return _content_in_ordering(model, model._meta.ordering, _hops=_hops + 1)


def _content_in_ordering(model: type[Model], ordering: Iterable, *, _hops: int = 0) -> str | None:
    for item in ordering:
        for name in _ordering_names(item):
            if found := content_in_path(model, name, _hops=_hops):
                return found
    return None


def _ordering_names(item) -> list[str]:
    """The field paths an ordering item (a name, F(), OrderBy or any
    expression such as Lower("title")) refers to."""
    if isinstance(item, str):
        return [item]
    if isinstance(item, F):
        return [item.name]
    if hasattr(item, "get_source_expressions"):
        return [
            name for source in item.get_source_expressions() for name in _ordering_names(source)
        ]
    return []


def _column_orderings(model_admin, column) -> list[str]:
    """What sorting the changelist by `column` of list_display orders by
    (as django.contrib.admin.views.main.ChangeList.get_ordering_field)."""
    if isinstance(column, str):
        try:
            return [model_admin.model._meta.get_field(column).name]
        except FieldDoesNotExist:
            pass
        attr = getattr(model_admin, column, None) or getattr(model_admin.model, column, None)
        if attr is None:
            return [column]  # "relation__field"
    else:
        attr = column
    if isinstance(attr, property):
        attr = attr.fget
    return _ordering_names(getattr(attr, "admin_order_field", None))


def _ordering_refusal(model_admin, request: HttpRequest, value: str) -> str | None:
    columns = list(model_admin.get_list_display(request))
    for item in value.split("."):
        index = item.lstrip("-")
        if index.isascii() and index.isdigit():
            # int() refuses more than 4,300 digits; no list has that many columns.
            position = int(index) if len(index) < 10 else len(columns)
            paths = (
                _column_orderings(model_admin, columns[position]) if position < len(columns) else []
            )
        else:
            paths = [item]
        for path in paths:
            if found := content_in_path(model_admin.model, path):
                return found
    return None


def content_query_refusal(model_admin, request: HttpRequest) -> str | None:
    """Why this admin request would read content through its query string
    ("app.Model.field"), or None when it reads none."""
    return _params_refusal(model_admin, request, request.GET.lists())


def _params_refusal(model_admin, request: HttpRequest, params) -> str | None:
    model = model_admin.model
    for key, values in params:
        if key == ORDER_VAR:
            found = next(
                filter(None, (_ordering_refusal(model_admin, request, v) for v in values)), None
            )
        elif key == TO_FIELD_VAR:
            found = next(filter(None, (content_in_path(model, v) for v in values)), None)
        elif key == CHANGELIST_FILTERS:
            found = next(
                filter(
                    None,
                    (_params_refusal(model_admin, request, _pairs(v)) for v in values),
                ),
                None,
            )
        elif key == SEARCH_VAR:
            found = _search_refusal(model_admin, request) if any(values) else None
        elif key in NOT_LOOKUPS:
            found = None
        else:
            found = content_in_path(model, key)
        if found:
            return found
    return None


def _pairs(query: str) -> list[tuple[str, list[str]]]:
    return [(key, [value]) for key, value in parse_qsl(query, keep_blank_values=True)]


def _search_refusal(model_admin, request: HttpRequest) -> str | None:
    fields = [
        *model_admin.get_search_fields(request),
        *getattr(model_admin, "exact_search_fields", ()),
    ]
    for name in fields:
        if found := content_in_path(model_admin.model, str(name).lstrip("^=@")):
            return found
    return None


def content_config_errors(model_admin) -> list[str]:
    """What in `model_admin`'s own configuration would filter, search, sort
    or edit by content (for the system check; empty when nothing does)."""
    model = model_admin.model
    named: list[tuple[str, object]] = []
    named += [("list_display", c) for c in model_admin.list_display]
    named += [("list_display_links", c) for c in (model_admin.list_display_links or ())]
    named += [("list_editable", c) for c in model_admin.list_editable]
    named += [("search_fields", c) for c in model_admin.search_fields]
    named += [("exact_search_fields", c) for c in getattr(model_admin, "exact_search_fields", ())]
    named += [("ordering", c) for c in (model_admin.ordering or ())]
    named += [("sortable_by", c) for c in (model_admin.sortable_by or ())]
    named += [("date_hierarchy", model_admin.date_hierarchy)] if model_admin.date_hierarchy else []
    for item in model_admin.list_filter:
        if isinstance(item, (list, tuple)):
            item = item[0]
        named += [("list_filter", item)] if isinstance(item, str) else []
    errors = []
    for option, item in named:
        paths = [item.lstrip("^=@")] if isinstance(item, str) else _ordering_names(item)
        if option in ("list_display", "sortable_by"):
            paths += _column_orderings(model_admin, item)
        found = next(filter(None, (content_in_path(model, p) for p in paths if p)), None)
        if found:
            errors.append(f"{type(model_admin).__name__}.{option} reads content ({found}).")
    return errors
