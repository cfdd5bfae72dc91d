from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from deskpilot.accounts import views as account_views
from deskpilot.api import api


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    # The front door: sign in, then agents to their inbox and customers to the portal.
    path("", account_views.front_door, name="home"),
    path("", include("deskpilot.accounts.urls")),
    path("", include("deskpilot.tickets.urls")),
    path("", include("deskpilot.portal.urls")),
    path("", include("deskpilot.mail.urls")),
    path("", include("deskpilot.mail.urls_inbound")),
    path("", include("deskpilot.core.urls")),
    path("manage/", include("deskpilot.policies.urls")),
    path("", include("deskpilot.automation.routing_urls")),
    path("", include("deskpilot.automation.rule_urls")),
    path("", include("deskpilot.automation.webhook_urls")),
    path("", include("deskpilot.analytics.urls")),
    path("", include("deskpilot.analytics.target_urls")),
    path("", include("deskpilot.reports.urls")),
    path("", include("deskpilot.feedback.urls")),
    path("", include("deskpilot.feedback.manage_urls")),
    path("", include("deskpilot.feedback.followup_urls")),
    path("", include("deskpilot.feedback.score_urls")),
    path("", include("deskpilot.feedback.insight_urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("healthz", healthz, name="healthz"),
]
