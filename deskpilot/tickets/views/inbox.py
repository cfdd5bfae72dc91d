"""Inbox views (queues), saved views and bulk changes. (Being built; see issue 3.)"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from deskpilot.accounts.access import staff_required


@staff_required
def inbox(request: HttpRequest, view: str = "") -> HttpResponse:
    return HttpResponse("inbox", status=501)


urlpatterns = [path("inbox", inbox, name="inbox")]
