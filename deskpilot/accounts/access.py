"""Who may open which page. Every page view is wrapped in one of these decorators, so a page
cannot forget its permission check; the page permission matrix test walks every URL with every
role.

- Not signed in: redirect to the sign-in page (which returns here afterwards).
- Signed in with the wrong role: 404, like a ticket that is not yours; a customer cannot even
  learn which staff pages exist.
- Actions raising NotFound / NotPermitted inside the view become 404 / 403 pages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from deskpilot.accounts.models import AGENT_ROLES, STAFF_ROLES, Role, User
from deskpilot.core.errors import NotFound, NotPermitted

View = TypeVar("View", bound=Callable[..., HttpResponse])


def _role_required(roles: Collection[str]) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_active or user.role not in roles:
                raise Http404("page not found")
            try:
                return view(request, *args, **kwargs)
            except NotFound as error:
                raise Http404(str(error)) from None
            except NotPermitted as error:
                raise PermissionDenied(str(error)) from None

        return wrapped  # type: ignore[return-value]

    return decorate


# Staff who read tickets: agents, managers, admins and collaborators (who see only their own).
staff_required = _role_required(STAFF_ROLES)
# Staff who change tickets: agents, managers and admins.
agent_required = _role_required(AGENT_ROLES)
# Those who run the help desk: managers and admins (e.g. the failed-mail and spam lists).
manager_required = _role_required({Role.ADMIN, Role.MANAGER})
customer_required = _role_required({Role.CUSTOMER})


def page_user(request: HttpRequest) -> User:
    """The signed-in user of a page wrapped in one of the decorators above."""
    user = request.user
    assert isinstance(user, User)
    return user
