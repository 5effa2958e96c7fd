"""The bus connection: a connection nats-py closes for good ends the service with its own
exit code (the supervisor restarts it); closing it on the way out does not."""

import pytest

from im_runtime.connection import EXIT_BUS_CLOSED, reconnect_options
from im_runtime.service import ServiceRuntime
from support.probe import spec

pytestmark = pytest.mark.unit


async def test_a_closed_bus_connection_ends_the_run_with_exit_code_69(settings):
    rt = ServiceRuntime(spec, settings)  # (connects nothing until start)
    await rt._bus_closed()
    assert rt.exit_code == EXIT_BUS_CLOSED == 69 and rt._stop.is_set()
    await rt.store.client.close()


async def test_closing_on_the_way_out_is_not_a_lost_connection(settings):
    rt = ServiceRuntime(spec, settings)
    rt._stopping = True
    await rt._bus_closed()
    assert rt.exit_code == 0 and not rt._stop.is_set()
    await rt.store.client.close()


def test_reconnects_are_unlimited_and_a_server_is_picked_with_a_delay():
    async def closed() -> None:
        pass

    opts = reconnect_options(on_closed=closed)
    assert opts["max_reconnect_attempts"] == -1 and opts["closed_cb"] is closed

    class Server:
        def __init__(self, reconnects):
            self.reconnects = reconnects

    tried, fresh = Server(4), Server(0)
    picked, delay = opts["reconnect_to_server_handler"]([tried, fresh], {})
    assert picked is fresh and 0 < delay <= 0.1


@pytest.mark.integration
async def test_discovery_connects_to_a_cluster_url_with_a_server_down(settings):
    """IM_NATS_URL of a cluster (comma-separated) reached nats-py as one string in
    discovery ("invalid connect url option"); it is a list of servers now."""
    import dataclasses

    from im_runtime.discovery import discover

    rt = ServiceRuntime(spec, settings)
    await rt.start()
    try:
        cluster = dataclasses.replace(settings,
                                      nats_url=f"nats://127.0.0.1:1,{settings.nats_url}")
        found = await discover(cluster, timeout=0.5)
        assert spec.name in found
    finally:
        await rt.stop()
