"""The gateway's parts, built in the app's lifespan after the bus connection opened:
discovery, the scatter-gather aggregator, the command forwarder, the audit log and
sign-in (accounts, sessions, deployments)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from litestar import Litestar

from gateway import accounts
from gateway.accounts import Accounts
from gateway.aggregate import Aggregator
from gateway.audit import AuditLog
from gateway.config import GatewayConfig
from gateway.deployments import Deployments
from gateway.directory import Directory
from gateway.erasures import Erasures
from gateway.forward import Forwarder
from gateway.sessions import Lifetimes, Sessions
from gateway.signin import SignIn
from gateway.staff_erasure import StaffErasure
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
    client, db = accounts.connect(settings.mongo_url, settings.db_prefix)
    await accounts.create_indexes(db)
    app.state.signin = SignIn(
        Accounts(db, config.lockout_attempts, timedelta(minutes=config.lockout_minutes)),
        Sessions(db, Lifetimes(total=timedelta(hours=config.session_hours),
                               idle=timedelta(minutes=config.idle_minutes))),
        Deployments(app.state.forwarder, ttl=config.check_seconds), app.state.tokens,
        token_ttl=timedelta(minutes=config.token_minutes), check_every=config.check_seconds)
    # its part in erasing a staff member, and in expiring a disabled account
    app.state.erasures.staff = StaffErasure(db, audit, app.state.signin.forget_user)
    app.state.erasures.users_days = config.users_days
    tidying = (asyncio.create_task(app.state.signin.tidy_every(config.retention_interval),
                                   name="gateway-signin-housekeeping")
               if config.retention_interval > 0 else None)
    app.state.erasures.start()
    directory.warm()  # the first discovery round starts now, not with the first request
    try:
        yield
    finally:
        if tidying is not None:
            tidying.cancel()
            await asyncio.wait([tidying], timeout=2)
        await app.state.erasures.close()
        await directory.close()
        await audit.close()
        await client.close()
