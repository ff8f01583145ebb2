"""The public badge routes: no login, the key in the URL is the credential."""

from django.urls import re_path

from reports.pages import badges

urlpatterns = [
    re_path(
        r"^badges/(?P<key>[A-Za-z0-9_-]{16,128})\.(?P<kind>svg|json)$",
        badges.feed_badge,
        name="feed-badge",
    ),
]
