"""NATS over TLS with a cluster's own CA (IM_NATS_CA), as Kubernetes runs it
(infra/k8s/nats-values.yaml): a real nats-server with a certificate signed by a CA made
here, reached by nats-py the way the gateway and the `im` command connect, and by a
whole service. Without the CA the connection is refused."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from im_cli.embedded import NatsServer, free_port
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings, SettingsError
from support.probe import spec

pytestmark = pytest.mark.integration


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate it signs for 127.0.0.1 (trustme)."""
    import trustme

    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    paths = folder / "ca.crt", folder / "server.crt", folder / "server.key"
    ca.cert_pem.write_to_path(str(paths[0]))
    server.cert_chain_pems[0].write_to_path(str(paths[1]))
    server.private_key_pem.write_to_path(str(paths[2]))
    return paths


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("nats-tls")
    ca, cert, key = make_certificates(folder)
    server = NatsServer(port=free_port(), workdir=folder / "nats", config_extra=(
        f'tls {{\n  cert_file: "{cert}"\n  key_file: "{key}"\n  timeout: 2\n}}'))
    server.start()
    try:
        yield f"tls://127.0.0.1:{server.port}", ca
    finally:
        server.stop()


async def test_clients_connect_with_the_clusters_ca(tls_server: tuple[str, Path]) -> None:
    url, ca = tls_server
    settings = Settings.from_env({"IM_NATS_URL": url, "IM_NATS_CA": str(ca)})
    nc = await nats.connect(url, **settings.nats_options())  # type: ignore[arg-type]

    async def echo(msg: nats.aio.msg.Msg) -> None:
        await msg.respond(msg.data)

    try:
        sub = await nc.subscribe("tls.echo", cb=echo)
        reply = await nc.request("tls.echo", b"over tls", timeout=2)
        assert reply.data == b"over tls"
        assert nc.connected_url is not None and nc.connected_url.scheme == "tls"
        await sub.unsubscribe()
    finally:
        await nc.close()


async def test_a_service_runs_over_tls(tls_server: tuple[str, Path], settings: Settings) -> None:
    """A whole service (its pull loops, request subscriptions, presence) on the TLS bus."""
    url, ca = tls_server
    over_tls = dataclasses.replace(settings, nats_url=url, nats_ca=str(ca))
    rt = ServiceRuntime(spec, over_tls)
    await rt.start()
    nc = await nats.connect(url, **over_tls.nats_options())  # type: ignore[arg-type]
    try:
        rid = f"r-{uuid.uuid4().hex[:10]}"
        reply = await nc.request("im.cmd.probe.add", json.dumps({"resident_id": rid}).encode(),
                                 timeout=5)
        assert json.loads(reply.data)["status"] == "ok"
        assert rt.nc.connected_url.scheme == "tls"
    finally:
        await nc.close()
        await rt.stop()


async def test_without_the_ca_the_server_is_not_trusted(tls_server: tuple[str, Path]) -> None:
    url, _ = tls_server
    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.wait_for(nats.connect(url, allow_reconnect=False, connect_timeout=2,
                                            max_reconnect_attempts=0), 10)


def test_a_missing_ca_file_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="IM_NATS_CA"):
        Settings.from_env({"IM_NATS_CA": str(tmp_path / "absent.crt")})
