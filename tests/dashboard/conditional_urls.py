"""The product's routes with the overview and the list behind
@conditional_page, as the lead will apply it to the views
(tests/dashboard/test_conditional_get.py)."""

from django.urls import path

from dashboard import views
from dashboard.caching import conditional_page
from privacy_portal.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("", conditional_page(views.overview)),
    path("conversations/", conditional_page(views.conversation_list)),
    *product_urlpatterns,
]
