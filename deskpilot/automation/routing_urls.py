"""Managers' and agents' routing pages: team routing settings, agent skills, capacity and availability."""

from django.urls import URLPattern, path

from deskpilot.automation import routing_views

app_name = "routing"

urlpatterns: list[URLPattern] = [
    path("availability", routing_views.availability, name="availability"),
    path("manage/routing", routing_views.teams, name="teams"),
    path("manage/routing/<int:team_id>", routing_views.team, name="team"),
    path("manage/routing/<int:team_id>/members/<int:user_id>", routing_views.member, name="member"),
]
