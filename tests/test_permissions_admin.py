"""Who may use the Django admin, and what it refuses to everyone.

The admin is for admins and managers (User.is_staff follows the role); everyone else is sent to
the sign-in page. Tickets are read-only there for everybody: every ticket change goes through
tickets.actions, which records its TicketEvent.
"""

from __future__ import annotations

import pytest
from django.test import Client

from deskpilot.accounts.models import ApiToken, Role, Team, User
from deskpilot.customers.models import Customer, CustomerEmail, Organization
from deskpilot.tickets.models import CustomField, Message, Priority, Status, Tag, Ticket, TicketEvent
from tests import factories

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager", "agent", "collaborator", "customer", "anonymous"]
ADMIN_ROLES = {"admin", "manager"}


@pytest.fixture
def world():
    """One ticket with a message, one customer, one organization, one token: enough for every page."""
    org = factories.organization(name="Northwind Traders")
    requester = factories.customer(email="dana@northwind.test", name="Dana Scully", organization=org)
    ticket = factories.ticket(requester=requester, subject="Printer jams on every page")
    staff = factories.user(Role.AGENT)
    factories.token(staff)
    return {"ticket": ticket, "customer": requester, "organization": org, "staff": staff}


def client_for(role: str) -> tuple[Client, User | None]:
    client = Client()
    if role == "anonymous":
        return client, None
    user = factories.customer_user() if role == "customer" else factories.user(role)
    client.force_login(user)
    return client, user


def signed_in(role: str) -> tuple[Client, User]:
    client, user = client_for(role)
    assert user is not None
    return client, user


def assert_sent_to_login(response) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def _pages(world) -> list[str]:
    return [
        "/admin/",
        "/admin/tickets/ticket/",
        f"/admin/tickets/ticket/{world['ticket'].pk}/change/",
        "/admin/tickets/customfield/",
        "/admin/tickets/customfield/add/",
        "/admin/tickets/tag/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        f"/admin/accounts/user/{world['staff'].pk}/change/",
        "/admin/accounts/team/",
        "/admin/accounts/team/add/",
        "/admin/accounts/apitoken/",
        "/admin/customers/customer/",
        f"/admin/customers/customer/{world['customer'].pk}/change/",
        "/admin/customers/organization/",
        f"/admin/customers/organization/{world['organization'].pk}/change/",
    ]


@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_by_role(role, world):
    client, _ = client_for(role)
    for url in _pages(world):
        response = client.get(url)
        if role in ADMIN_ROLES:
            assert response.status_code == 200, (role, url, response.status_code)
        else:
            assert_sent_to_login(response)


@pytest.mark.parametrize("role", ROLES)
def test_ticket_writes_are_refused_to_everyone(role, world):
    ticket = world["ticket"]
    before = (ticket.subject, ticket.status, ticket.version, TicketEvent.objects.count(), Message.objects.count())
    client, _ = client_for(role)
    base = "/admin/tickets/ticket/"
    form = {"subject": "Changed in the admin", "status": Status.SOLVED, "priority": Priority.URGENT}
    attempts = [
        client.get(f"{base}add/"),
        client.post(f"{base}add/", {**form, "requester": ticket.requester_id}),
        client.post(f"{base}{ticket.pk}/change/", form),
        client.get(f"{base}{ticket.pk}/delete/"),
        client.post(f"{base}{ticket.pk}/delete/", {"post": "yes"}),
    ]
    for response in attempts:
        if role in ADMIN_ROLES:
            assert response.status_code == 403
        else:
            assert_sent_to_login(response)
    # The list offers no bulk actions: a forged "delete selected" only shows the list again.
    bulk = client.post(base, {"action": "delete_selected", "_selected_action": [ticket.pk], "post": "yes"})
    if role in ADMIN_ROLES:
        assert bulk.status_code == 200
    else:
        assert_sent_to_login(bulk)
    ticket.refresh_from_db()
    after = (ticket.subject, ticket.status, ticket.version, TicketEvent.objects.count(), Message.objects.count())
    assert after == before
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("role", sorted(ADMIN_ROLES))
def test_ticket_pages_offer_no_editing(role, world):
    client, _ = client_for(role)
    listing = client.get("/admin/tickets/ticket/").content.decode()
    assert "Printer jams on every page" in listing
    assert "/admin/tickets/ticket/add/" not in listing
    assert 'name="_selected_action"' not in listing
    page = client.get(f"/admin/tickets/ticket/{world['ticket'].pk}/change/").content.decode()
    assert 'name="subject"' not in page
    assert 'name="_save"' not in page
    assert "Something does not work." in page


@pytest.mark.parametrize("role", sorted(ADMIN_ROLES))
def test_messages_and_events_have_no_admin_pages_of_their_own(role, world):
    client, _ = client_for(role)
    assert client.get("/admin/tickets/message/").status_code == 404
    assert client.get("/admin/tickets/ticketevent/").status_code == 404


def test_ticket_list_costs_the_same_queries_for_any_number_of_tickets(django_assert_max_num_queries):
    admin_client, _ = client_for("admin")
    agent = factories.user(Role.AGENT)
    team = factories.team(name="Billing", members=[agent])
    factories.ticket(team=team, assignee=agent, actor=agent)
    admin_client.get("/admin/tickets/ticket/")  # warm caches (content types, sessions)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert admin_client.get("/admin/tickets/ticket/").status_code == 200
    for _ in range(12):
        factories.ticket(team=team, assignee=agent, actor=agent, organization=factories.organization())
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get("/admin/tickets/ticket/?status__exact=open").status_code == 200


def test_ticket_search_uses_the_full_text_index_and_ticket_numbers():
    admin_client, _ = client_for("admin")
    printer = factories.ticket(subject="Printer jams", body_text="The tray is stuck.")
    other = factories.ticket(subject="Invoice question")
    found = admin_client.get("/admin/tickets/ticket/", {"q": "tray"}).context["cl"].result_list
    assert [t.pk for t in found] == [printer.pk]
    found = admin_client.get("/admin/tickets/ticket/", {"q": f"#{other.pk}"}).context["cl"].result_list
    assert [t.pk for t in found] == [other.pk]


# --- users: managers cannot reach above themselves -----------------------------------------------


def _user_form(**values):
    base = {"name": "Someone", "role": Role.AGENT, "time_zone": "UTC", "language": "en", "is_active": "on"}
    base.update(values)
    return {k: v for k, v in base.items() if v is not None}


def test_manager_sees_admin_accounts_read_only_and_cannot_change_them():
    manager_client, _ = client_for("manager")
    boss = factories.user(Role.ADMIN)
    page = manager_client.get(f"/admin/accounts/user/{boss.pk}/change/")
    assert page.status_code == 200
    assert 'name="role"' not in page.content.decode()
    response = manager_client.post(
        f"/admin/accounts/user/{boss.pk}/change/", _user_form(name=boss.name, role=Role.AGENT, is_active=None)
    )
    assert response.status_code == 403
    boss.refresh_from_db()
    assert (boss.role, boss.is_active) == (Role.ADMIN, True)


def test_manager_cannot_create_an_admin_or_promote_themselves():
    manager_client, manager = signed_in("manager")
    response = manager_client.post(
        "/admin/accounts/user/add/",
        {"email": "new-admin@example.test", "name": "New", "role": Role.ADMIN, "time_zone": "UTC", "language": "en"},
    )
    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    assert not User.objects.filter(email="new-admin@example.test").exists()

    response = manager_client.post(f"/admin/accounts/user/{manager.pk}/change/", _user_form(role=Role.ADMIN))
    assert response.status_code == 200
    manager.refresh_from_db()
    assert manager.role == Role.MANAGER


def test_admin_creates_users_through_the_action():
    admin_client, _ = client_for("admin")
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "Pat@Example.TEST",
            "name": "Pat  Doe",
            "role": Role.CUSTOMER,
            "time_zone": "Europe/Berlin",
            "language": "de",
            "password1": "correct-horse-battery",
            "password2": "correct-horse-battery",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    pat = User.objects.get(email="pat@example.test")
    assert (pat.name, pat.role, pat.time_zone) == ("Pat Doe", Role.CUSTOMER, "Europe/Berlin")
    assert pat.check_password("correct-horse-battery")
    # create_user links a customer account to its CRM record.
    assert Customer.objects.get(user=pat).primary_email == "pat@example.test"


def test_user_form_reports_the_actions_rules_as_field_errors():
    admin_client, me = signed_in("admin")
    short = admin_client.post(
        "/admin/accounts/user/add/",
        {"email": "x@example.test", "name": "X", "role": "agent", "time_zone": "UTC", "language": "en",
         "password1": "short", "password2": "short"},
    )  # fmt: skip
    assert "password1" in short.context["adminform"].form.errors
    assert not User.objects.filter(email="x@example.test").exists()

    customer = factories.customer_user()
    response = admin_client.post(
        f"/admin/accounts/user/{customer.pk}/change/", _user_form(name=customer.name, role=Role.AGENT)
    )
    assert "role" in response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.role == Role.CUSTOMER

    response = admin_client.post(
        f"/admin/accounts/user/{me.pk}/change/", _user_form(name=me.name, role=Role.ADMIN, is_active=None)
    )
    assert "is_active" in response.context["adminform"].form.errors


def test_changing_own_password_keeps_the_session():
    admin_client, me = signed_in("admin")
    response = admin_client.post(
        f"/admin/accounts/user/{me.pk}/change/",
        _user_form(name=me.name, role=Role.ADMIN, password1="a-brand-new-password", password2="a-brand-new-password"),
    )
    assert response.status_code == 302
    me.refresh_from_db()
    assert me.check_password("a-brand-new-password")
    assert admin_client.get("/admin/").status_code == 200


def test_token_list_never_shows_the_hash():
    admin_client, _ = client_for("admin")
    owner = factories.user(Role.AGENT)
    factories.token(owner)
    token = ApiToken.objects.get(user=owner)
    listing = admin_client.get("/admin/accounts/apitoken/").content.decode()
    page = admin_client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    for html in (listing, page):
        assert token.key_prefix in html
        assert token.key_hash not in html
    assert "/admin/accounts/apitoken/add/" not in listing


def test_manager_revokes_agent_tokens_but_not_admin_tokens():
    manager_client, _ = client_for("manager")
    agent_token = ApiToken.issue(factories.user(Role.AGENT))[0]
    admin_token = ApiToken.issue(factories.user(Role.ADMIN))[0]
    manager_client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [agent_token.pk, admin_token.pk]}
    )
    agent_token.refresh_from_db()
    admin_token.refresh_from_db()
    assert agent_token.revoked_at is not None
    assert admin_token.revoked_at is None


# --- customers and organizations -----------------------------------------------------------------


def test_organization_form_writes_through_the_action():
    admin_client, _ = client_for("admin")
    form = {"name": "Globex", "domains": "Globex.test, globex.example", "tier": "premium", "notes": ""}
    assert admin_client.post("/admin/customers/organization/add/", form).status_code == 302
    assert Organization.objects.get(name="Globex").domains == ["globex.example", "globex.test"]
    bad = admin_client.post(
        "/admin/customers/organization/add/", {**form, "name": "Initech", "domains": "not a domain"}
    )
    assert "domains" in bad.context["adminform"].form.errors
    dup = admin_client.post("/admin/customers/organization/add/", {**form, "name": "GLOBEX"})
    assert "name" in dup.context["adminform"].form.errors


def _customer_form(customer: Customer, addresses: list[tuple[int | None, str, bool]]) -> dict[str, object]:
    data: dict[str, object] = {
        "name": customer.name, "organization": "", "tier": "", "time_zone": "UTC", "language": "en", "notes": "",
        "emails-TOTAL_FORMS": str(len(addresses)), "emails-INITIAL_FORMS": str(sum(1 for a in addresses if a[0])),
        "emails-MIN_NUM_FORMS": "1", "emails-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for index, (pk, address, primary) in enumerate(addresses):
        data[f"emails-{index}-id"] = pk or ""
        data[f"emails-{index}-customer"] = customer.pk
        data[f"emails-{index}-address"] = address
        if primary:
            data[f"emails-{index}-is_primary"] = "on"
    return data


def test_customer_addresses_stay_unique_across_customers():
    admin_client, _ = client_for("admin")
    factories.customer(email="taken@example.test")
    dana = factories.customer(email="dana@example.test", name="Dana")
    first = CustomerEmail.objects.get(customer=dana)
    response = admin_client.post(
        f"/admin/customers/customer/{dana.pk}/change/",
        _customer_form(dana, [(first.pk, "dana@example.test", True), (None, "TAKEN@example.test", False)]),
    )
    assert response.status_code == 200
    assert "already belongs" in response.content.decode()
    response = admin_client.post(
        f"/admin/customers/customer/{dana.pk}/change/",
        _customer_form(dana, [(first.pk, "dana@example.test", True), (None, "dana.s@Example.TEST", False)]),
    )
    assert response.status_code == 302
    assert sorted(dana.emails.values_list("address", flat=True)) == ["dana.s@example.test", "dana@example.test"]


# --- teams and ticket configuration ---------------------------------------------------------------


def _team_form(name: str, lead: User | None, members: list[User]) -> dict[str, object]:
    data: dict[str, object] = {
        "name": name, "description": "", "lead": lead.pk if lead else "",
        "teammembership_set-TOTAL_FORMS": str(len(members)), "teammembership_set-INITIAL_FORMS": "0",
        "teammembership_set-MIN_NUM_FORMS": "0", "teammembership_set-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for index, member in enumerate(members):
        data[f"teammembership_set-{index}-user"] = member.pk
    return data


def test_manager_builds_a_team_whose_lead_is_a_member():
    manager_client, _ = signed_in("manager")
    lead, agent = factories.user(Role.AGENT), factories.user(Role.AGENT)
    response = manager_client.post("/admin/accounts/team/add/", _team_form("Billing", lead, [agent]))
    assert response.status_code == 302
    team = Team.objects.get(name="Billing")
    assert set(team.members.all()) == {lead, agent}

    customer = factories.customer_user()
    refused = manager_client.post("/admin/accounts/team/add/", _team_form("Escalations", None, [customer]))
    assert refused.status_code == 200
    assert not Team.objects.filter(name="Escalations").exists()
    clash = manager_client.post("/admin/accounts/team/add/", _team_form("BILLING", None, []))
    assert "name" in clash.context["adminform"].form.errors


def test_custom_fields_and_tags_are_configured_in_the_admin():
    admin_client, _ = signed_in("admin")
    form = {
        "key": "plan",
        "label": "Plan",
        "kind": "dropdown",
        "choices": "Free\nPro\n",
        "position": "1",
        "active": "on",
    }
    assert admin_client.post("/admin/tickets/customfield/add/", form).status_code == 302
    field = CustomField.objects.get(key="plan")
    assert field.choices == ["Free", "Pro"]
    empty = admin_client.post("/admin/tickets/customfield/add/", {**form, "key": "tier", "choices": ""})
    assert "choices" in empty.context["adminform"].form.errors
    page = admin_client.get(f"/admin/tickets/customfield/{field.pk}/change/").content.decode()
    assert 'name="key"' not in page  # values are stored under the key: it never changes

    assert admin_client.post("/admin/tickets/tag/add/", {"name": "Billing issue"}).status_code == 302
    assert Tag.objects.filter(name="billing-issue").exists()
    tag = Tag.objects.get(name="billing-issue")
    assert admin_client.post(f"/admin/tickets/tag/{tag.pk}/change/", {"name": "other"}).status_code == 403
    assert admin_client.post(f"/admin/tickets/tag/{tag.pk}/delete/", {"post": "yes"}).status_code == 403


def test_customers_are_found_by_email():
    admin_client, _ = signed_in("admin")
    dana = factories.customer(email="dana.scully@northwind.test", name="Dana Scully")
    factories.customer(email="walter@globex.test", name="Walter Bishop")
    for term in ("northwind", "Scully", "DANA.SCULLY@Northwind.test"):
        found = admin_client.get("/admin/customers/customer/", {"q": term}).context["cl"].result_list
        assert [c.pk for c in found] == [dana.pk], term
    assert not admin_client.get("/admin/customers/customer/", {"q": "dana@northwind.test"}).context["cl"].result_list
