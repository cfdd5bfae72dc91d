"""Errors raised by actions. The API, pages and CLI translate each into their own form (422 JSON,
form errors, a one-line message with exit status 2), so an action never knows who called it."""

from __future__ import annotations


class DeskpilotError(Exception):
    """Base class for errors that carry a message meant for the person who caused them."""


class InvalidInput(DeskpilotError):
    """One or more fields are invalid. ``errors`` maps a field name to what is wrong with it."""

    def __init__(self, errors: dict[str, str] | str, message: str | None = None) -> None:
        if isinstance(errors, str):
            errors = {errors: message or "is invalid"}
        self.errors: dict[str, str] = errors
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in errors.items()))


class NotPermitted(DeskpilotError):
    """The actor may see the object but may not do this to it."""


class NotFound(DeskpilotError):
    """The object does not exist, or the actor may not see it (the two are indistinguishable on
    purpose, so nobody can probe for other people's tickets)."""


class StaleVersion(DeskpilotError):
    """The caller changed an object based on an outdated version (optimistic concurrency)."""


class TooLarge(DeskpilotError):
    """An upload or body is over its size limit."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")
