"""/api/v1/customers and /api/v1/organizations."""

from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from deskpilot.accounts.models import AGENT_ROLES, Role, User
from deskpilot.core.api_support import (
    BY_ID,
    DEFAULT_PAGE_SIZE,
    ErrorOut,
    StrictIn,
    api_field_names,
    keyset_page,
    request_user,
)
from deskpilot.core.errors import InvalidInput, NotFound, NotPermitted
from deskpilot.customers import actions
from deskpilot.customers.models import Customer, CustomerEmail, Organization

customer_router = Router(tags=["customers"])
organization_router = Router(tags=["organizations"])
ERRORS: dict[int, type[ErrorOut]] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class OrganizationRef(Schema):
    id: int
    name: str


class CustomerOut(Schema):
    id: int
    name: str
    emails: list[str]
    organization: OrganizationRef | None
    tier: str
    time_zone: str
    language: str
    notes: str
    has_account: bool


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class CustomerIn(StrictIn):
    name: str = Field(max_length=200)
    emails: list[str]
    organization_id: int | None = None
    time_zone: str = "UTC"
    language: str = "en"
    notes: str = ""
    tier: str = ""


class CustomerUpdateIn(StrictIn):
    name: str | None = None
    emails: list[str] | None = None
    organization_id: int | None = None
    time_zone: str | None = None
    language: str | None = None
    notes: str | None = None
    tier: str | None = None


class OrganizationOut(Schema):
    id: int
    name: str
    domains: list[str]
    tier: str
    notes: str
    shared_tickets: bool


class OrganizationPage(Schema):
    items: list[OrganizationOut]
    next_cursor: str | None


class OrganizationIn(StrictIn):
    name: str = Field(max_length=200)
    domains: list[str] = []
    tier: str = "standard"
    notes: str = ""
    shared_tickets: bool = False


class OrganizationUpdateIn(StrictIn):
    name: str | None = None
    domains: list[str] | None = None
    tier: str | None = None
    notes: str | None = None
    shared_tickets: bool | None = None


def _require_agent(user: User) -> None:
    if user.role not in AGENT_ROLES:
        raise NotPermitted("only agents, managers and admins can see and change customers")


def _customer_out(customer: Customer) -> dict[str, Any]:
    org = customer.organization
    return {
        "id": customer.pk,
        "name": customer.name,
        "emails": [e.address for e in customer.emails.all()],
        "organization": {"id": org.pk, "name": org.name} if org else None,
        "tier": customer.tier,
        "time_zone": customer.time_zone,
        "language": customer.language,
        "notes": customer.notes,
        "has_account": customer.user_id is not None,
    }


def _customers() -> Any:
    return Customer.objects.select_related("organization").prefetch_related("emails")


def _organization(pk: int | None) -> Organization | None:
    if pk is None:
        return None
    found = Organization.objects.filter(pk=pk).first()
    if found is None:
        raise InvalidInput("organization_id", f"no organization with id {pk}")
    return found


@customer_router.get("", response={200: CustomerPage, **ERRORS}, summary="List customers")
def list_customers(
    request: HttpRequest,
    q: str | None = Query(None, description="part of a name or email address"),
    organization: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    _require_agent(request_user(request))
    qs = _customers()
    if organization is not None:
        qs = qs.filter(organization_id=organization)
    if q:
        emails = CustomerEmail.objects.filter(customer_id=OuterRef("pk"), address__icontains=q.strip())
        qs = qs.filter(Q(name__icontains=q.strip()) | Q(Exists(emails)))
    rows, next_cursor = keyset_page(qs, ordering=BY_ID, cursor=cursor, limit=limit)
    return {"items": [_customer_out(c) for c in rows], "next_cursor": next_cursor}


@customer_router.get("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Get a customer")
def get_customer(request: HttpRequest, customer_id: int) -> dict[str, Any]:
    user = request_user(request)
    if user.role not in AGENT_ROLES and user.role != Role.CUSTOMER:
        raise NotPermitted("only agents, managers and admins can see customers")
    customer = _customers().filter(pk=customer_id).first()
    # A customer may read their own record; anyone else's is indistinguishable from missing.
    if customer is None or (user.role == Role.CUSTOMER and customer.user_id != user.pk):
        raise NotFound(f"customer {customer_id} not found")
    return _customer_out(customer)


@customer_router.post("", response={201: CustomerOut, **ERRORS}, summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerIn) -> Status[dict[str, Any]]:
    _require_agent(request_user(request))
    customer = actions.create_customer(
        name=payload.name,
        emails=payload.emails,
        organization=_organization(payload.organization_id),
        time_zone=payload.time_zone,
        language=payload.language,
        notes=payload.notes,
        tier=payload.tier,
    )
    return Status(201, _customer_out(_customers().get(pk=customer.pk)))


@customer_router.patch("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="Change a customer")
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerUpdateIn) -> dict[str, Any]:
    _require_agent(request_user(request))
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    given = payload.model_dump(exclude_unset=True)
    for name, value in given.items():
        if value is None and name != "organization_id":
            raise InvalidInput(name, "must not be null")
    if "organization_id" in given:
        given["organization"] = _organization(given.pop("organization_id"))
    with api_field_names({"organization": "organization_id"}):
        actions.update_customer(customer, **given)
    return _customer_out(_customers().get(pk=customer.pk))


def _org_out(org: Organization) -> dict[str, Any]:
    return {
        "id": org.pk,
        "name": org.name,
        "domains": org.domains,
        "tier": org.tier,
        "notes": org.notes,
        "shared_tickets": org.shared_tickets,
    }


def _require_manager(user: User) -> None:
    if user.role not in (Role.ADMIN, Role.MANAGER):
        raise NotPermitted("only admins and managers can create or change organizations")


@organization_router.get("", response={200: OrganizationPage, **ERRORS}, summary="List organizations")
def list_organizations(
    request: HttpRequest, q: str | None = None, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> dict[str, Any]:
    _require_agent(request_user(request))
    qs = Organization.objects.all()
    if q:
        qs = qs.filter(name__icontains=q.strip())
    rows, next_cursor = keyset_page(qs, ordering=BY_ID, cursor=cursor, limit=limit)
    return {"items": [_org_out(o) for o in rows], "next_cursor": next_cursor}


@organization_router.get("/{organization_id}", response={200: OrganizationOut, **ERRORS}, summary="Get one")
def get_organization(request: HttpRequest, organization_id: int) -> dict[str, Any]:
    _require_agent(request_user(request))
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        raise NotFound(f"organization {organization_id} not found")
    return _org_out(org)


@organization_router.post("", response={201: OrganizationOut, **ERRORS}, summary="Create an organization")
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Status[dict[str, Any]]:
    _require_manager(request_user(request))
    org = actions.create_organization(**payload.model_dump())
    return Status(201, _org_out(org))


@organization_router.patch("/{organization_id}", response={200: OrganizationOut, **ERRORS}, summary="Change one")
def update_organization(request: HttpRequest, organization_id: int, payload: OrganizationUpdateIn) -> dict[str, Any]:
    _require_manager(request_user(request))
    org = Organization.objects.filter(pk=organization_id).first()
    if org is None:
        raise NotFound(f"organization {organization_id} not found")
    given = payload.model_dump(exclude_unset=True)
    for name, value in given.items():
        if value is None:
            raise InvalidInput(name, "must not be null")
    return _org_out(actions.update_organization(org, **given))
