"""One secured bus for the attack tests: nats-server with the generated accounts of every
installed service, the gateway and two operators; the admin's provisioning done."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest

from im_cli import natsauth
from im_cli.embedded import NatsServer, free_port
from im_cli.testing import Servers
from im_runtime.plugins import installed
from support.attack import OPERATORS, Stack


@pytest.fixture(scope="session")
def secured_nats(tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[tuple[NatsServer, natsauth.Embedded]]:
    work: Path = tmp_path_factory.mktemp("security")
    auth = natsauth.embedded(work, installed(), OPERATORS)
    server = NatsServer(port=free_port(), workdir=work / "nats", config_extra=auth.config)
    server.start()
    yield server, auth
    server.stop()


@pytest.fixture
async def stack(secured_nats: tuple[NatsServer, natsauth.Embedded],
                servers: Servers) -> AsyncIterator[Stack]:
    server, auth = secured_nats
    admin = await nats.connect(server.url, user=natsauth.ADMIN,
                               password=auth.passwords[natsauth.ADMIN])
    try:
        await natsauth.provision(admin, OPERATORS)
    finally:
        await admin.close()
    yield Stack(server, servers.mongo_url, auth)
