"""The search page. (Being built; see issue 3.)"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from deskpilot.accounts.access import staff_required


@staff_required
def search(request: HttpRequest) -> HttpResponse:
    return HttpResponse("search", status=501)


urlpatterns = [path("search", search, name="search")]
