"""The consumer's reading of a JetStream ack subject: whether a message is a redelivery
(then its id is looked up before the handlers run)."""

import pytest
from nats.aio.msg import Msg

from im_runtime.pipeline.screen import deliveries

pytestmark = pytest.mark.unit


def msg(reply: str) -> Msg:
    return Msg(_client=None, subject="im.evt.x.y", reply=reply, data=b"{}")  # type: ignore[arg-type]


@pytest.mark.parametrize("reply, expected", [
    ("$JS.ACK.IM_EVT_HOUSING.education_housing.1.42.40.1764300000000000000.7", False),
    ("$JS.ACK.IM_EVT_HOUSING.education_housing.3.42.40.1764300000000000000.7", True),
    ("$JS.ACK.hub.ACCHASH.IM_EVT_HOUSING.education_housing.1.42.40.1764300000000000000.7.tok",
     False),
    ("$JS.ACK.hub.ACCHASH.IM_EVT_HOUSING.education_housing.2.42.40.1764300000000000000.7.tok",
     True),
    ("_INBOX.abc", True),  # not a JetStream delivery: look it up
    ("", True),
])
def test_redelivery_is_read_from_the_delivery_count(reply, expected):
    assert (deliveries(msg(reply)) > 1) is expected
    if reply.startswith("$JS.ACK."):  # agrees with nats-py's full parse
        assert (msg(reply).metadata.num_delivered > 1) is expected
        assert deliveries(msg(reply)) == msg(reply).metadata.num_delivered
