"""What every page's layout needs: the navigation for the viewer's role and, for staff, how many
of their notifications are unread (one indexed count, made only when the page shows it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from deskpilot.accounts.models import AGENT_ROLES, STAFF_ROLES, Role, User
from deskpilot.core.models import Notification


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    # The first path segment(s) that mark this item as the current one.
    prefixes: tuple[str, ...]


def _items(role: str) -> list[NavItem]:
    if role == Role.CUSTOMER:
        return [
            NavItem("My requests", reverse("portal:tickets"), ("/portal/tickets",)),
            NavItem("New request", reverse("portal:new"), ("/portal/new",)),
        ]
    items = []
    if role in STAFF_ROLES:
        items.append(NavItem("Inbox", reverse("tickets:inbox"), ("/inbox", "/tickets")))
        items.append(NavItem("Search", reverse("tickets:search"), ("/search",)))
    if role in (Role.MANAGER, Role.ADMIN):
        items.append(NavItem("Operations", reverse("analytics:operations"), ("/analytics/operations",)))
        # Everything else of analytics and reports: the performance page leads to the others.
        items.append(NavItem("Performance", reverse("analytics:performance"), ("/analytics/", "/reports/")))
        items.append(NavItem("Manage", reverse("core:manage"), ("/manage",)))
    if role in AGENT_ROLES and role != Role.AGENT:
        items.append(NavItem("Admin", reverse("admin:index"), ("/admin",)))
    return items


def _unread(user: User) -> Callable[[], int]:
    # Templates call a callable when they read it: the count is made only on pages that show it.
    return lambda: Notification.objects.filter(user=user, read_at__isnull=True).count()


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    path = request.path
    context: dict[str, Any] = {
        "nav_items": [
            {"label": item.label, "url": item.url, "current": path.startswith(item.prefixes)}
            for item in _items(user.role)
        ]
    }
    if user.role in STAFF_ROLES:
        context["show_notifications"] = True
        context["unread_notifications"] = _unread(user)
    return context
