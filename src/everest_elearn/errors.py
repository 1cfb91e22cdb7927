"""Domain errors. They know nothing about HTTP: ``api/errors.py`` maps them to status codes."""

from __future__ import annotations


class EverestError(Exception):
    """Base of every error the platform raises on purpose; ``str()`` is safe to show users."""


class InvalidInput(EverestError):
    """A value sent by a user or a remote source is malformed; ``where`` names it."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


class NotFound(EverestError):
    """The named thing does not exist (or is not visible to the caller)."""

    def __init__(self, what: str, identifier: str) -> None:
        self.what = what
        self.identifier = identifier
        super().__init__(f"{what} {identifier!r} not found")


class Conflict(EverestError):
    """The request contradicts the current state."""


class Unauthorized(EverestError):
    """No valid identity was presented where one is required."""


class Forbidden(EverestError):
    """The identity presented may not do this."""


class TooLarge(EverestError):
    """A request or payload exceeds a configured limit."""


class Unsupported(EverestError):
    """The operation or format is not implemented by this backend or endpoint."""


class BackendUnavailable(EverestError):
    """A backing service (search engine, object store, database) cannot be reached."""

    def __init__(self, service: str, retry_after: int = 30) -> None:
        self.service = service
        self.retry_after = retry_after
        super().__init__(f"{service} is unavailable; retry in {retry_after} s")


class UpstreamError(EverestError):
    """A remote provider failed or sent something wrong."""


class Timeout(EverestError):
    """A remote source or backend did not answer in time."""
