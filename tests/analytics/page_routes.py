"""The analytics pages in the page permission matrix: managers and admins only."""

from __future__ import annotations

from django.urls import reverse

from tests.page_matrix import Route, manager_page

PAGES: dict[str, Route] = {
    "analytics:operations": Route(lambda w: reverse("analytics:operations"), manager_page()),
    "analytics:operations_live": Route(lambda w: reverse("analytics:operations_live"), manager_page()),
}
PAGES.update(
    {
        "analytics:performance": Route(lambda w: reverse("analytics:performance"), manager_page()),
        "analytics:performance_pdf": Route(lambda w: reverse("analytics:performance_pdf"), manager_page()),
        "analytics:drilldown": Route(lambda w: f"{reverse('analytics:drilldown')}?measure=created", manager_page()),
        "analytics:scorecards": Route(lambda w: reverse("analytics:scorecards"), manager_page()),
    }
)
