"""Which address the sign-in rate limit counts against, with and without proxies."""

from __future__ import annotations

import base64

from django.conf import settings as django_settings
from django.test import RequestFactory

from deskpilot.accounts.backends import client_address


def test_without_proxies_forwarded_headers_are_ignored(settings) -> None:
    settings.PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_address(request) == "203.0.113.9"


def test_behind_one_proxy_the_address_it_appended_counts(settings) -> None:
    settings.PROXY_COUNT = 1
    # The client claimed 10.0.0.1 itself; the proxy appended the address it saw.
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.1, 198.51.100.7")
    assert client_address(request) == "198.51.100.7"


def test_behind_proxies_a_short_header_falls_back_to_the_peer(settings) -> None:
    settings.PROXY_COUNT = 2
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert client_address(request) == "127.0.0.1"


def test_request_body_limit_holds_one_full_size_attachment_base64_encoded() -> None:
    encoded = len(base64.b64encode(b"x" * django_settings.ATTACHMENT_MAX_BYTES))
    assert encoded + 64 * 1024 < django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
