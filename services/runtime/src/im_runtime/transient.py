"""Which failures are the world's and not the message's: the database or the bus did not
answer in time. A batch that meets one is held and tried again once the database
answers; it never counts toward a message's deliveries, so an outage does not turn
into dead letters."""

from __future__ import annotations

import nats.errors
import nats.js.errors
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError


class Unavailable(Exception):
    """A dependency did not answer: hold the work and try again; not the message's fault."""


_NATS = (nats.errors.TimeoutError, nats.errors.NoRespondersError,
         nats.errors.ConnectionReconnectingError, nats.errors.OutboundBufferLimitError,
         nats.errors.StaleConnectionError, nats.errors.FlushTimeoutError,
         nats.js.errors.ServiceUnavailableError)
# ConnectionFailure covers AutoReconnect, NetworkTimeout and ServerSelectionTimeoutError.
_MONGO = (ConnectionFailure, ExecutionTimeout, WTimeoutError)
_ALWAYS = (Unavailable, TimeoutError, ConnectionError, *_NATS, *_MONGO)
_LABELS = ("RetryableWriteError", "TransientTransactionError", "NoWritesPerformed")


def is_transient(exc: BaseException) -> bool:
    """True for timeouts and unreachable servers, also when a handler wrapped one
    (`raise X from exc`); an error raised while handling one is the handler's own."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _ALWAYS):
            return True
        if isinstance(current, PyMongoError) and any(
                current.has_error_label(label) for label in _LABELS):
            return True
        current = current.__cause__
    return False
