"""The REST API at /api/v1: one NinjaAPI, one router per app, one error shape.

Every error is JSON ``{"detail": ..., "errors": [{"field": ..., "message": ...}]}``: 422 for
invalid input (naming the field), 401 without valid credentials, 403 when the caller may not,
404 for what does not exist or is not theirs, 412 for a stale If-Match, 413 for oversized files.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from deskpilot.accounts.api import me_router, team_router, user_router
from deskpilot.accounts.auth import BearerToken, Session
from deskpilot.analytics.api import router as metrics_router
from deskpilot.core.api_support import error_response
from deskpilot.core.errors import InvalidInput, NotFound, NotPermitted, StaleVersion, TooLarge
from deskpilot.customers.api import customer_router, organization_router
from deskpilot.feedback.api import router as feedback_router
from deskpilot.tickets.api import attachment_router
from deskpilot.tickets.api import router as ticket_router

api = NinjaAPI(
    title="Deskpilot API",
    version="1",
    description=(
        "Tickets, customers, organizations, users and teams. Authenticate with `Authorization: Bearer <token>` "
        "(create one with `deskpilot tokens create --user EMAIL`). Errors name the field and the problem."
    ),
    urls_namespace="api",
    auth=[BearerToken(), Session()],
)

api.add_router("/tickets", ticket_router)
api.add_router("/attachments", attachment_router)
api.add_router("/customers", customer_router)
api.add_router("/organizations", organization_router)
api.add_router("/users", user_router)
api.add_router("/teams", team_router)
api.add_router("/me", me_router)
api.add_router("/metrics", metrics_router)
api.add_router("/feedback", feedback_router)


def _field_from_location(location: list[Any] | tuple[Any, ...]) -> str:
    """pydantic's ("body", "payload", "requester", "email") becomes "requester.email"."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
        if parts and parts[0] == "payload":
            parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name or "body"


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, str] = {}
    for error in exc.errors:
        field = _field_from_location(error.get("loc", ()))
        message = str(error.get("msg", "is invalid"))
        if error.get("type") == "extra_forbidden":
            message = "is not a field of this request"
        elif error.get("type") == "missing":
            message = "is required"
        errors.setdefault(field, message)
    return error_response(422, "The request has invalid fields.", errors)


@api.exception_handler(InvalidInput)
def _invalid_input(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    return error_response(422, "The request has invalid fields.", exc.errors)


@api.exception_handler(TooLarge)
def _too_large(request: HttpRequest, exc: TooLarge) -> HttpResponse:
    return error_response(413, "Payload too large.", {exc.field: str(exc).split(": ", 1)[-1]})


@api.exception_handler(RequestDataTooBig)
def _body_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(413, "The request body is larger than the server accepts.", {"body": "is too large"})


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return error_response(404, str(exc) or "Not found.")


@api.exception_handler(NotPermitted)
def _not_permitted(request: HttpRequest, exc: NotPermitted) -> HttpResponse:
    return error_response(403, str(exc) or "Not allowed.")


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(403, str(exc) or "Not allowed.")


@api.exception_handler(StaleVersion)
def _stale(request: HttpRequest, exc: StaleVersion) -> HttpResponse:
    return error_response(412, str(exc))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(401, "Authentication required: send Authorization: Bearer <token>.")
    response["WWW-Authenticate"] = 'Bearer realm="deskpilot"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(exc.status_code, str(exc))
