"""API authentication: bearer tokens (hashed at rest, scoped) and the pages' session."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from deskpilot.accounts.models import ApiToken, User, hash_token
from deskpilot.core.errors import NotPermitted

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# last_used_at is informational; writing it on every request would turn each read into a write.
_LAST_USED_RESOLUTION = datetime.timedelta(minutes=5)


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        # key_hash is unique: no ORDER BY for first() to compile and run on every request.
        rows = list(
            ApiToken.objects.select_related("user")
            .filter(key_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True)
            .order_by()[:1]
        )
        if not rows:
            return None
        found = rows[0]
        if request.method not in SAFE_METHODS and not found.can_write:
            raise NotPermitted("this API token is read-only")
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > _LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        return found.user


class Session(APIKeyCookie):
    """The signed-in browser session, for the pages' own calls. Unsafe methods need the CSRF
    token (APIKeyCookie checks it), so another site cannot act with a visitor's cookie."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # Fix: without a session cookie there is no session to protect, so no CSRF check.
        # Before, every unsafe request with a missing, revoked or mistyped bearer token fell
        # through to this check and got 403 "CSRF check Failed" instead of 401.
        if self.param_name not in request.COOKIES:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if user.is_authenticated and isinstance(user, User) and user.is_active:
            return user
        return None
