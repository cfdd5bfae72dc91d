"""The ticket page. (Being built; see issue 3.)"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from deskpilot.accounts.access import staff_required


@staff_required
def ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return HttpResponse("ticket", status=501)


urlpatterns = [path("tickets/<int:ticket_id>", ticket, name="ticket")]
