"""The agent workspace's pages; each views module declares its own routes."""

from deskpilot.tickets.views import inbox, search, ticket

app_name = "tickets"

urlpatterns = [*inbox.urlpatterns, *ticket.urlpatterns, *search.urlpatterns]
