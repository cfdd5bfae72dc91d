"""The page permission matrix: every page and form of the web interface by every role.

The list of routes is read from the URL configuration, so a new page that is not declared here
fails the first test: nobody can add a page without saying who may open it. The API has its own
matrix (tests/api/); the page-specific tests go deeper (contents, internal notes); this file
guarantees the coarse rule for all of them at once: who gets the page, who is sent to sign in, who
meets a 404 or 403, and that a refused form changes nothing.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from deskpilot.tickets.models import Message, SavedView, Ticket
from tests.page_matrix import (
    AGENT_FORM,
    GONE,
    HIDDEN,
    OK,
    REDIRECT,
    ROLES,
    SIGNIN,
    Route,
    World,
    customer_page,
    everyone,
    staff_page,
    world,
)

pytestmark = pytest.mark.django_db
__all__ = ["world"]  # the fixture, used by every test below

# GET pages.
PAGES: dict[str, Route] = {
    "home": Route(lambda w: reverse("home"), everyone(REDIRECT)),
    "accounts:signin": Route(lambda w: reverse("accounts:signin"), {**everyone(REDIRECT), "anonymous": OK}),
    "accounts:signin_link_request": Route(lambda w: reverse("accounts:signin_link_request"), everyone(OK)),
    "accounts:signin_link": Route(lambda w: reverse("accounts:signin_link", args=["no-such-key"]), everyone(GONE)),
    "tickets:inbox": Route(lambda w: reverse("tickets:inbox"), staff_page()),
    "tickets:inbox_view": Route(
        lambda w: reverse("tickets:inbox_view", args=["all-open"]), staff_page(collaborators=HIDDEN)
    ),
    "tickets:saved_view": Route(
        lambda w: reverse("tickets:saved_view", args=[w.saved.pk]),
        {**staff_page(collaborators=HIDDEN), "manager": HIDDEN, "admin": HIDDEN},
    ),
    "tickets:ticket": Route(
        lambda w: reverse("tickets:ticket", args=[w.ticket.pk]), staff_page(collaborators=HIDDEN, follower=OK)
    ),
    "tickets:search": Route(lambda w: reverse("tickets:search") + "?q=matrix", staff_page()),
    "portal:tickets": Route(lambda w: reverse("portal:tickets"), customer_page()),
    "portal:new": Route(lambda w: reverse("portal:new"), customer_page()),
    "portal:ticket": Route(
        lambda w: reverse("portal:ticket", args=[w.ticket.pk]), customer_page(other_customer=HIDDEN)
    ),
    "portal:public_request": Route(lambda w: reverse("portal:public_request"), everyone(OK)),
    "portal:public_thanks": Route(lambda w: reverse("portal:public_thanks"), everyone(OK)),
    "mail_inbound:inbound": Route(
        lambda w: reverse("mail_inbound:inbound", args=[_inbound_mail(w)]),
        staff_page(collaborators=HIDDEN, follower=OK),
    ),
    "mail_inbound:inbound_raw": Route(
        lambda w: reverse("mail_inbound:inbound_raw", args=[_inbound_mail(w)]),
        staff_page(collaborators=HIDDEN, follower=OK),
    ),
    "mail_inbound:failed": Route(
        lambda w: reverse("mail_inbound:failed"), {**staff_page(collaborators=HIDDEN), "agent": HIDDEN}
    ),
    "mail_inbound:spam": Route(
        lambda w: reverse("mail_inbound:spam"), {**staff_page(collaborators=HIDDEN), "agent": HIDDEN}
    ),
}

FORMS: dict[str, Route] = {
    "accounts:signout": Route(lambda w: reverse("accounts:signout"), everyone(REDIRECT)),
    "tickets:bulk": Route(
        lambda w: reverse("tickets:bulk"),
        {**AGENT_FORM, "follower": HIDDEN},
    ),
    "tickets:saved_view_create": Route(lambda w: reverse("tickets:saved_view_create"), staff_page()),
    "tickets:saved_view_edit": Route(
        lambda w: reverse("tickets:saved_view_edit", args=[w.saved.pk]),
        {**staff_page(collaborators=HIDDEN), "manager": HIDDEN, "admin": HIDDEN},
    ),
    "tickets:saved_view_delete": Route(
        lambda w: reverse("tickets:saved_view_delete", args=[w.saved.pk]),
        {**staff_page(collaborators=HIDDEN), "manager": HIDDEN, "admin": HIDDEN},
    ),
    "tickets:ticket_reply": Route(
        lambda w: reverse("tickets:ticket_reply", args=[w.ticket.pk]), staff_page(collaborators=HIDDEN, follower=OK)
    ),
    "tickets:ticket_update": Route(lambda w: reverse("tickets:ticket_update", args=[w.ticket.pk]), AGENT_FORM),
    "tickets:ticket_merge": Route(lambda w: reverse("tickets:ticket_merge", args=[w.ticket.pk]), AGENT_FORM),
    "tickets:ticket_escalate": Route(lambda w: reverse("tickets:ticket_escalate", args=[w.ticket.pk]), AGENT_FORM),
    "portal:ticket": Route(
        lambda w: reverse("portal:ticket", args=[w.ticket.pk]), customer_page(other_customer=HIDDEN)
    ),
    "portal:new": Route(lambda w: reverse("portal:new"), customer_page()),
    "portal:public_request": Route(lambda w: reverse("portal:public_request"), everyone(OK)),
    "mail:outbound_retry": Route(
        lambda w: reverse("mail:outbound_retry", args=[_failed_mail(w)]), {**AGENT_FORM, "follower": HIDDEN}
    ),
    "mail_inbound:failed_retry": Route(
        lambda w: reverse("mail_inbound:failed_retry", args=[_inbound_mail(w, status="failed")]),
        {**staff_page(collaborators=HIDDEN), "agent": HIDDEN},
    ),
    "mail_inbound:failed_retry_all": Route(
        lambda w: reverse("mail_inbound:failed_retry_all"), {**staff_page(collaborators=HIDDEN), "agent": HIDDEN}
    ),
    "mail_inbound:spam_release": Route(
        lambda w: reverse("mail_inbound:spam_release", args=[_inbound_mail(w, status="spam")]),
        {**staff_page(collaborators=HIDDEN), "agent": HIDDEN},
    ),
}


def _inbound_mail(world: World, status: str = "processed") -> int:
    """A received email of the matrix ticket (its raw stored), in the given state."""
    from deskpilot.mail import raw
    from deskpilot.mail.models import InboundMail

    content = b"From: a@example.test\r\nTo: support@example.test\r\nSubject: Matrix\r\n\r\nHello\r\n"
    mail = InboundMail.objects.create(
        source="pipe", raw_sha256=raw.store(content), size=len(content), status=status, sender="a@example.test",
        subject="Matrix", ticket=world.ticket if status == "processed" else None,
    )  # fmt: skip
    return mail.pk


def _failed_mail(world: World) -> int:
    """A reply email of the matrix ticket that failed to go out (what the retry form acts on)."""
    from deskpilot.mail.models import DeliveryStatus, OutboundKind, OutboundMail

    mail = OutboundMail.objects.create(
        ticket=world.ticket, kind=OutboundKind.REPLY, from_address="support@example.test", to=["a@example.test"],
        subject="Matrix ticket", message_id_header=f"matrix-{world.ticket.pk}@example.test", body_text="x",
        status=DeliveryStatus.FAILED, attempts=5, last_error="550 5.1.1 user unknown",
    )  # fmt: skip
    return mail.pk


# Forms that take a POST without a CSRF token on purpose, each with its reason where declared
# (``CSRF_EXEMPT`` in tests/<app>/page_routes*.py).
CSRF_EXEMPT: set[str] = set()


def _collect_app_routes() -> None:
    """Add the routes apps declare in ``tests/<app>/page_routes*.py``; a name declared twice fails."""
    for path in sorted(Path(__file__).parent.glob("*/page_routes*.py")):
        module = importlib.import_module(f"tests.{path.parent.name}.{path.stem}")
        for ours, theirs in ((PAGES, getattr(module, "PAGES", {})), (FORMS, getattr(module, "FORMS", {}))):
            clash = set(ours) & set(theirs)
            assert not clash, f"{path}: {sorted(clash)} declared twice"
            ours.update(theirs)
        CSRF_EXEMPT.update(getattr(module, "CSRF_EXEMPT", set()))


_collect_app_routes()

# Pages outside this matrix, each with its own tests.
ELSEWHERE = {"healthz"}


def _route_names() -> set[str]:
    names: set[str] = set()

    def walk(resolver: URLResolver, namespace: str | None) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace in ("admin", "api"):
                    continue
                walk(entry, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                names.add(f"{namespace}:{entry.name}" if namespace else entry.name)

    walk(get_resolver(), None)
    return names


def test_every_page_is_in_the_matrix() -> None:
    declared = set(PAGES) | set(FORMS) | ELSEWHERE
    assert _route_names() == declared


def _client(world: World, role: str) -> Client:
    client = Client()
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client


def _check(response: HttpResponseBase, outcome: str, url: str) -> None:
    status = response.status_code
    if outcome == SIGNIN:
        assert status == 302, status
        assert response["Location"].startswith("/signin?next="), response["Location"]
    elif outcome == REDIRECT:
        assert status == 302, status
    elif outcome == OK:
        assert status not in (401, 403, 404, 405), status
        assert status < 500, status
    else:
        assert status == int(outcome), (status, url)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page(world: World, name: str, role: str) -> None:
    route = PAGES[name]
    url = route.url(world)
    _check(_client(world, role).get(url), route.expected[role], url)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(FORMS))
def test_form(world: World, name: str, role: str) -> None:
    route = FORMS[name]
    url = route.url(world)

    def snapshot() -> tuple[object, ...]:
        world.ticket.refresh_from_db()
        extra = route.state() if route.state is not None else None
        return (Ticket.objects.count(), Message.objects.count(), world.ticket.version, SavedView.objects.count(), extra)

    before = snapshot()
    data = {"ticket": [f"{world.ticket.pk}:{world.ticket.version}"], "action": "status", "status": "pending"}
    response = _client(world, role).post(url, data)
    outcome = route.expected[role]
    _check(response, outcome, url)
    if outcome not in (OK, REDIRECT):
        assert snapshot() == before, "a refused form changed something"


@pytest.mark.parametrize("name", sorted(set(FORMS) - set(PAGES) - {"accounts:signout"}))
def test_forms_refuse_get(world: World, name: str) -> None:
    response = _client(world, "agent").get(FORMS[name].url(world))
    assert response.status_code == 405


@pytest.mark.parametrize("name", sorted(set(FORMS) - CSRF_EXEMPT))
def test_forms_need_the_csrf_token(world: World, name: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["agent"])  # type: ignore[arg-type]
    assert client.post(FORMS[name].url(world), {}).status_code == 403


@pytest.mark.parametrize("name", sorted(CSRF_EXEMPT))
def test_the_exempt_forms_are_forms_that_take_a_post_without_a_token(world: World, name: str) -> None:
    assert name in FORMS
    client = Client(enforce_csrf_checks=True)
    assert client.post(FORMS[name].url(world), {}).status_code != 403
