"""Sign-in by email and password, rate-limited per email address and per client address."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import BaseBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from deskpilot.accounts.models import User
from deskpilot.core import ratelimit

_SCOPE = "signin"


def client_address(request: HttpRequest | None) -> str:
    if request is None:
        return "unknown"
    # X-Forwarded-For is client-controlled except for the entries our own proxies appended, so
    # only the PROXY_COUNT-th address from the right is trusted; without proxies, REMOTE_ADDR.
    hops = settings.PROXY_COUNT
    if hops > 0:
        forwarded = [a.strip() for a in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def signin_blocked(email: str, request: HttpRequest | None) -> bool:
    limit = settings.SIGNIN_MAX_FAILURES
    return (
        ratelimit.count(_SCOPE, f"email:{email}") >= limit
        or ratelimit.count(_SCOPE, f"addr:{client_address(request)}") >= limit * 4
    )


class RateLimitedEmailBackend(BaseBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        email = (username or kwargs.get("email") or "").strip().lower()
        if not email or password is None:
            return None
        if signin_blocked(email, request):
            # PermissionDenied stops Django trying other backends; the sign-in simply fails.
            raise PermissionDenied("Too many failed sign-ins; try again later.")
        user = User.objects.filter(email=email).first()
        if user is not None and user.is_active and user.check_password(password):
            ratelimit.reset(_SCOPE, f"email:{email}")
            return user
        if user is None:
            # Spend the same time as a real check, so response times do not reveal who has an account.
            User().set_password(password)
        window = settings.SIGNIN_WINDOW_SECONDS
        ratelimit.hit(_SCOPE, f"email:{email}", window)
        ratelimit.hit(_SCOPE, f"addr:{client_address(request)}", window)
        return None

    def get_user(self, user_id: int) -> User | None:
        return User.objects.filter(pk=user_id, is_active=True).first()
