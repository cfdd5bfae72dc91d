"""Customer portal pages. (Being built; see issue 3.)"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from deskpilot.accounts.access import customer_required


@customer_required
def tickets(request: HttpRequest) -> HttpResponse:
    return HttpResponse("portal", status=501)


@customer_required
def new(request: HttpRequest) -> HttpResponse:
    return HttpResponse("portal", status=501)


def public_request(request: HttpRequest) -> HttpResponse:
    return HttpResponse("request", status=501)


urlpatterns = [
    path("portal/tickets", tickets, name="tickets"),
    path("portal/new", new, name="new"),
    path("request", public_request, name="public_request"),
]
