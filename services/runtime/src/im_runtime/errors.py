"""Errors a handler raises to say what went wrong; the edge turns them into replies."""

from __future__ import annotations

from contracts import ErrorCode, ErrorReply


class DomainError(Exception):
    """A refusal the caller should see: becomes an ErrorReply with this code."""

    code: ErrorCode = "bad_request"

    def __init__(self, message: str, *, code: ErrorCode | None = None,
                 details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.details = details or {}

    def reply(self) -> ErrorReply:
        return ErrorReply(code=self.code, message=self.message, details=self.details)


class NotFound(DomainError):
    code: ErrorCode = "not_found"


class Conflict(DomainError):
    code: ErrorCode = "conflict"


class Forbidden(DomainError):
    code: ErrorCode = "forbidden"


class Reject(Exception):
    """An event that can never be handled (wrong for this service): dead-letter it now."""


class ConcurrencyConflict(Exception):
    """A document changed between read and commit; the unit of work is retried."""
