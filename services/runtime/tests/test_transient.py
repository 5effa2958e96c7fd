"""Which failures are the world's (held and retried) and which are the message's."""

import pytest
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from im_runtime.connection import backoff, servers
from im_runtime.transient import Unavailable, is_transient

pytestmark = pytest.mark.unit


def wrapped(inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise RuntimeError("handler gave up") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize("exc", [
    AutoReconnect("gone"), NatsTimeout(), NoRespondersError(), TimeoutError(),
    ConnectionRefusedError(), Unavailable("db"),
    OperationFailure("x", details={"errorLabels": ["TransientTransactionError"]}),
])
def test_transient(exc):
    assert is_transient(exc)
    assert is_transient(wrapped(exc))  # raise ... from exc keeps the cause


@pytest.mark.parametrize("exc", [
    ValueError("bad input"), KeyError("x"), DuplicateKeyError("dup"), OperationFailure("no"),
])
def test_the_messages_own(exc):
    assert not is_transient(exc)


def test_an_error_raised_while_handling_a_timeout_is_the_handlers():
    try:
        try:
            raise TimeoutError
        except TimeoutError:
            raise ValueError("bad")  # noqa: B904 - the point: no `from`
    except ValueError as exc:
        assert not is_transient(exc)


def test_reconnect_backoff_grows_to_a_cap_with_jitter():
    delays = [backoff(n, initial=0.1, cap=5.0) for n in range(12)]
    assert all(0.05 <= d <= 5.0 for d in delays)
    assert delays[-1] >= 2.5  # at the cap (with up to half jitter)


def test_a_cluster_url_names_every_server():
    assert servers("nats://a:4222, nats://b:4222,") == ["nats://a:4222", "nats://b:4222"]
