"""The customer portal and the public request form; views.py declares the pages."""

from deskpilot.portal.views import urlpatterns as urlpatterns

app_name = "portal"
