"""The gateway's parts, built in the app's lifespan after the bus connection opened:
discovery, the scatter-gather aggregator, the command forwarder and the audit log."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from litestar import Litestar

from gateway.aggregate import Aggregator
from gateway.audit import AuditLog
from gateway.config import GatewayConfig
from gateway.directory import Directory
from gateway.erasures import Erasures
from gateway.forward import Forwarder
from im_runtime.settings import Settings


@contextlib.asynccontextmanager
async def parts_lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    config: GatewayConfig = app.state.config
    directory = Directory(app.state.bus, ttl=config.discovery_ttl,
                          timeout=app.state.discovery_timeout, forget_after=config.forget_after)
    audit = AuditLog(settings.mongo_url, f"{settings.db_prefix}gateway")
    await audit.open()
    app.state.directory = directory
    app.state.aggregator = Aggregator(app.state.bus, directory, config.deadline,
                                      app.state.metrics)
    app.state.forwarder = Forwarder(app.state.bus, directory, config.command_timeout,
                                    config.key)
    app.state.audit = audit
    app.state.erasures = Erasures(app.state.bus, app.state.forwarder, audit,
                                  config.audit_days, config.retention_interval)
    app.state.forwarder.guard = app.state.erasures.check
    app.state.erasures.start()
    directory.warm()  # the first discovery round starts now, not with the first request
    try:
        yield
    finally:
        await app.state.erasures.close()
        await directory.close()
        await audit.close()
