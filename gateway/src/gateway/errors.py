"""The one place that turns error codes into HTTP statuses, with the shared error body."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap

from contracts import ErrorCode, ErrorReply
from gateway.schemas import ErrorBody

log = logging.getLogger("im.gateway")

STATUS: dict[str, int] = {
    "bad_request": 400, "unauthorised": 401, "forbidden": 403, "not_found": 404,
    "conflict": 409, "gone": 410, "internal": 500, "unavailable": 503, "accepted": 202,
}
_CODE = {status: code for code, status in STATUS.items()}


class ApiError(Exception):
    """A refusal or failure with one of the shared error codes."""

    def __init__(self, code: ErrorCode, message: str, **details: str) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details

    @classmethod
    def from_reply(cls, reply: ErrorReply, **details: str) -> ApiError:
        return cls(reply.code, reply.message, **{**reply.details, **details})

    @property
    def status(self) -> int:
        return STATUS.get(self.code, 500)


def unavailable(service: str, why: str) -> ApiError:
    return ApiError("unavailable", f"service {service} {why}", service=service)


def _response(status: int, body: ErrorBody) -> Response[ErrorBody]:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(body, status_code=status, headers=headers)


def on_api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[ErrorBody]:
    return _response(exc.status, ErrorBody(code=exc.code, message=exc.message,
                                           details=exc.details))


def on_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    """Litestar's own refusals (no route, wrong method, invalid parameters) in the same shape."""
    status = exc.status_code
    code = _CODE.get(status, "bad_request" if status < 500 else "internal")
    details = {"extra": str(exc.extra)} if exc.extra else {}
    return _response(status, ErrorBody(code=code, message=str(exc.detail), details=details))


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _response(500, ErrorBody(code="internal", message="the gateway failed; see its log"))


HANDLERS: ExceptionHandlersMap = {
    ApiError: on_api_error, HTTPException: on_http_exception, Exception: on_unexpected}
