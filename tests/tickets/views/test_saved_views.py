"""Saved views: created from the current filters, validated like the URL's, renamed, shared by
managers, deleted; each visible only to whom it should be."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from deskpilot.accounts.models import Role, User
from deskpilot.tickets import saved_views
from deskpilot.tickets.models import Priority, SavedView, Via
from tests import factories
from tests.pages import client_for
from tests.pages import row_numbers as numbers

pytestmark = pytest.mark.django_db


def save(client: Client, name: str, **fields: Any) -> Any:
    """POST the save form as the page /inbox/all-open?<filters> renders it."""
    query = "&".join(f"{k}={v}" for k, v in fields.items() if k in ("priority", "tag", "status"))
    data = {"name": name, "view": "all-open", "next": f"/inbox/all-open?{query}".rstrip("?"), **fields}
    return client.post("/inbox/saved", data)


@pytest.fixture
def agent() -> User:
    return factories.user(Role.AGENT)


def test_save_the_current_filters_and_use_the_view(agent: User) -> None:
    from deskpilot.tickets import actions

    urgent = factories.ticket(subject="Site down", priority=Priority.URGENT)
    factories.ticket(subject="Question")
    actions.update_ticket(urgent, actor=agent, via=Via.WEB, changes={"add_tags": ["outage"]})
    client = client_for(agent)
    page = client.get("/inbox/all-open?priority=urgent&tag=outage&sort=-created_at").content.decode()
    # The form carries the filters being looked at.
    assert '<input type="hidden" name="priority" value="urgent">' in page
    assert '<input type="hidden" name="tag" value="outage">' in page
    assert '<input type="hidden" name="sort" value="-created_at">' in page

    response = save(client, "  Urgent   outages ", priority="urgent", tag="outage", sort="-created_at")
    view = SavedView.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/inbox/saved/{view.pk}"
    assert (view.name, view.owner, view.shared, view.sort) == ("Urgent outages", agent, False, "-created_at")
    assert view.filters == {"view": "all-open", "priority": ["urgent"], "tag": ["outage"]}

    body = client.get(response["Location"]).content.decode()
    assert "Saved the view" in body
    assert numbers(body) == [urgent.pk]
    assert "<h1>Urgent outages" in body
    assert re.search(r"<span>Urgent outages</span><span class=\"count\">1</span>", body)
    # URL filters replace the stored ones for a look around.
    assert numbers(client.get(f"/inbox/saved/{view.pk}?priority=normal").content.decode()) != [urgent.pk]


@pytest.mark.parametrize(("name", "problem"), [("", "must not be empty"), ("   ", "must not be empty")])
def test_empty_name_is_an_error_next_to_the_field(agent: User, name: str, problem: str) -> None:
    response = save(client_for(agent), name, priority="urgent")
    assert response.status_code == 422
    body = response.content.decode()
    assert re.search(rf'<p class="error" id="id_name_error" role="alert">{problem}</p>', body)
    assert 'aria-invalid="true"' in body
    assert '<details class="inbox-save" open>' in body
    assert not SavedView.objects.exists()
    # The page is the one the form came from: its filters, links and forms still work.
    assert '<option value="urgent" selected>' in body
    assert 'action="/inbox/all-open"' in body
    assert '<input type="hidden" name="next" value="/inbox/all-open?priority=urgent">' in body


def test_duplicate_name_for_the_same_owner_is_an_error(agent: User) -> None:
    client = client_for(agent)
    assert save(client, "Mine").status_code == 302
    response = save(client, "Mine", priority="high")
    assert response.status_code == 422
    assert "you already have a view named" in response.content.decode()
    assert SavedView.objects.count() == 1
    # Another person may use the same name.
    assert save(client_for(factories.user(Role.AGENT)), "Mine").status_code == 302


def test_stored_filters_are_validated_like_the_urls(agent: User) -> None:
    response = save(client_for(agent), "Broken", status="bogus")
    assert response.status_code == 422
    assert "is not one of" in response.content.decode()
    assert not SavedView.objects.exists()
    with pytest.raises(saved_views.InvalidInput):
        saved_views.create_saved_view(agent, name="x", filters={"view": "nowhere"}, sort=None)
    with pytest.raises(saved_views.InvalidInput):
        saved_views.create_saved_view(agent, name="x", filters={"assignee": "someone"}, sort=None)
    with pytest.raises(saved_views.InvalidInput):
        saved_views.create_saved_view(agent, name="x", filters={}, sort="subject")


def test_only_managers_and_admins_share(agent: User) -> None:
    response = save(client_for(agent), "Everyone's", shared="on")
    assert response.status_code == 302  # agents have no share box: the field is ignored
    assert SavedView.objects.get().shared is False
    with pytest.raises(saved_views.InvalidInput):
        saved_views.create_saved_view(agent, name="Shared", filters={}, sort=None, shared=True)

    manager = factories.user(Role.MANAGER)
    assert "Share with everyone" in client_for(manager).get("/inbox").content.decode()
    assert save(client_for(manager), "Team queue", shared="on").status_code == 302
    shared = SavedView.objects.get(name="Team queue")
    assert shared.shared is True
    # Shared views appear for all staff; private ones only for their owner.
    private = SavedView.objects.get(name="Everyone's")
    other = client_for(factories.user(Role.AGENT))
    sidebar = other.get("/inbox").content.decode()
    assert "Team queue" in sidebar
    assert "Everyone&#x27;s" not in sidebar
    assert other.get(f"/inbox/saved/{shared.pk}").status_code == 200
    assert other.get(f"/inbox/saved/{private.pk}").status_code == 404
    collaborator = client_for(factories.user(Role.COLLABORATOR))
    assert collaborator.get(f"/inbox/saved/{shared.pk}").status_code == 200
    assert client_for(factories.customer_user()).get(f"/inbox/saved/{shared.pk}").status_code == 404


def test_rename_and_delete_by_the_owner(agent: User) -> None:
    client = client_for(agent)
    save(client, "Old name")
    save(client, "Taken")
    view = SavedView.objects.get(name="Old name")
    page = client.get(f"/inbox/saved/{view.pk}").content.decode()
    assert "Edit view" in page
    response = client.post(f"/inbox/saved/{view.pk}/edit", {"edit-name": "Taken"})
    assert response.status_code == 422
    assert 'id="id_edit-name_error"' in response.content.decode()
    response = client.post(f"/inbox/saved/{view.pk}/edit", {"edit-name": ""})
    assert response.status_code == 422
    response = client.post(f"/inbox/saved/{view.pk}/edit", {"edit-name": "New name"})
    assert response.status_code == 302
    view.refresh_from_db()
    assert view.name == "New name"
    response = client.post(f"/inbox/saved/{view.pk}/delete")
    assert response["Location"] == "/inbox"
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_others_cannot_change_a_view(agent: User) -> None:
    manager = factories.user(Role.MANAGER)
    save(client_for(manager), "Shared queue", shared="on")
    shared = SavedView.objects.get()
    other_agent = client_for(agent)
    page = other_agent.get(f"/inbox/saved/{shared.pk}").content.decode()
    assert "Edit view" not in page
    assert other_agent.post(f"/inbox/saved/{shared.pk}/edit", {"edit-name": "Mine now"}).status_code == 403
    assert other_agent.post(f"/inbox/saved/{shared.pk}/delete").status_code == 403
    shared.refresh_from_db()
    assert shared.name == "Shared queue"
    # Another manager may tidy up a shared view...
    admin = client_for(factories.user(Role.ADMIN))
    assert (
        admin.post(f"/inbox/saved/{shared.pk}/edit", {"edit-name": "Renamed", "edit-shared": "on"}).status_code == 302
    )
    # ...but a private view is nobody else's business.
    save(other_agent, "Private")
    private = SavedView.objects.get(name="Private")
    assert admin.post(f"/inbox/saved/{private.pk}/delete").status_code == 404
    assert other_agent.get(f"/inbox/saved/{private.pk}").status_code == 200


def test_saved_view_pages_need_post_and_csrf(agent: User) -> None:
    client = client_for(agent)
    save(client, "Mine")
    view = SavedView.objects.get()
    assert client.get(f"/inbox/saved/{view.pk}/delete").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(agent)
    assert strict.post(f"/inbox/saved/{view.pk}/delete").status_code == 403
    assert strict.post("/inbox/saved", {"name": "x", "view": "all-open"}).status_code == 403
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_collaborators_save_views_on_their_own_queue() -> None:
    collaborator = factories.user(Role.COLLABORATOR)
    client = client_for(collaborator)
    response = client.post("/inbox/saved", {"name": "Mine", "view": "following", "priority": "high"})
    assert response.status_code == 302
    assert SavedView.objects.get().filters == {"view": "following", "priority": ["high"]}
    assert client.get(response["Location"]).status_code == 200
