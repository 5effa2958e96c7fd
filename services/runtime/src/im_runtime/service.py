"""Runs one service from its spec, the one place the layers are wired: the store
(im_runtime.storage), the pipeline of each consumer, command and query
(im_runtime.pipeline), the pull loops and request subscriptions that feed them
(im_runtime.transport), the outbox relay, presence and health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

import nats

from contracts import event_parts, utcnow
from contracts import subjects as subj
from im_runtime import (
    actors,
    erasure_keys,
    log_retention,
    privacy,
    processed,
    replay,
    retention,
    streams,
)
from im_runtime.connection import EXIT_BUS_CLOSED, reconnect_options, servers
from im_runtime.deadletter import DeadLetters
from im_runtime.health import HealthServer, Readiness
from im_runtime.metrics import Metrics
from im_runtime.mirror_sync import MirrorSync
from im_runtime.outbox import OutboxRelay
from im_runtime.pipeline.endpoints import CommandEndpoint, QueryEndpoint, ReadEndpoint
from im_runtime.pipeline.events import EventConsumer
from im_runtime.pipeline.pipelined import Pipelined
from im_runtime.plugins import installed
from im_runtime.presence import Counted, Tally, announce
from im_runtime.settings import Settings
from im_runtime.spec import ServiceSpec, WorkerContext
from im_runtime.storage.mongo import MongoStore
from im_runtime.transport.pull_loop import PullLoop
from im_runtime.transport.requests import ONE_LANE, Requests, Subscription
from im_runtime.undelivered import Undelivered
from im_runtime.wiring import (
    consumer_config,
    consumer_filters,
    consumer_name,
    durable_config,
    filters,
    verify_operator,
)

__all__ = ["ServiceRuntime", "consumer_config", "consumer_filters", "consumer_name",
           "filters"]

log = logging.getLogger("im.service")


class ServiceRuntime:
    def __init__(self, spec: ServiceSpec, settings: Settings | None = None,
                 stream_replicas: int = 1) -> None:
        self.settings = settings or Settings.from_env()
        erasure_keys.use(self.settings.erasure_secret)
        self.replicas = stream_replicas
        self.metrics = Metrics(spec.name, spec.version)
        self.store = MongoStore(self.settings.mongo_url, self.settings.db_prefix + spec.name)
        # The plugin's messages plus what every service does for data protection.
        self.erased = privacy.ErasedKeys()
        self.sync = MirrorSync(self.store, spec.name, self.settings.instance_id)
        self.spec = privacy.effective(spec, self.store, self.settings.instance_id, self.erased)
        self.nc: Any = None  # the NATS connection, made in `start`
        self.readiness = Readiness(lambda: self._ready, self._nats_connected,
                                   lambda: self.store.client.admin.command("ping"))
        self.health = HealthServer(self.metrics.registry, self.readiness)
        self._ready = False
        self.exit_code = 0
        self._stopping = False
        self._stop = asyncio.Event()
        self._micro: Any = None
        self._tallies: list[Tally] = []  # each request endpoint's line in $SRV.INFO/STATS
        self.relay: OutboxRelay | None = None
        self._pulls: list[PullLoop] = []
        self._undelivered: Undelivered | None = None
        self.requests = Requests(queue=spec.name)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        s = self.settings
        await self.health.start(s.health_host, s.health_port)
        await self.store.start(self.spec.indexes, load=False)
        self.readiness.start()
        self.nc = nc = await nats.connect(
            servers(s.nats_url), **reconnect_options(on_closed=self._bus_closed,
                                                     closing=lambda: self._stopping),
            **s.nats_options())
        js = nc.jetstream()
        await self.sync.start(nc)  # listening before loading: no commit falls between
        await self.store.load_mirror()
        await erasure_keys.migrate(self.store, self.spec.name)  # keys stored before a secret
        await self.erased.start(nc, self.store)
        await self._declare_streams(js)
        self.relay = OutboxRelay(js, self.store, self.metrics)
        dead = DeadLetters(js, self.spec.name, self.metrics, self.spec.redact_dead_letters)
        self._register(js, dead)
        # Before the first fetch: its advisories' durables exist (undelivered.py).
        self._undelivered = Undelivered(nc, js, self.spec.name, dead,
                                        [(p.stream, p.config) for p in self._pulls])
        await self._undelivered.start()
        for pull in self._pulls:
            await pull.start()
        self.relay.start()
        # Projections first: no answers (queries, commands, readiness, presence) until
        # the consumers have worked through the history they started with.
        await replay.catch_up(js, self.spec.name, [(p.stream, p.durable) for p in self._pulls],
                              self.metrics)
        await self.requests.start(nc)
        self._micro = await announce(nc, self.spec, s.instance_id,
                                     f"http://{s.health_host}:{self.health.port}",
                                     self._tallies)
        self._tasks.append(asyncio.create_task(self._watch_lag(js)))
        context = WorkerContext(nc=nc, js=js, store=self.store, settings=s,
                                metrics=self.metrics)
        self._tasks += [asyncio.create_task(w(context), name=f"worker-{i}")
                        for i, w in enumerate(self.spec.workers)]
        if s.mirror_resync > 0:
            self._tasks.append(asyncio.create_task(self.sync.resync_every(s.mirror_resync)))
        if self.spec.retention and s.retention_interval > 0:
            self._tasks.append(asyncio.create_task(self._retention_schedule()))
        self._tasks.append(asyncio.create_task(processed.expire_every(
            self.store, s.command_record_days)))
        self._ready = True
        log.info("service ready", extra={
            "service": self.spec.name, "version": self.spec.version,
            "instance": s.instance_id, "health_port": self.health.port})

    async def _declare_streams(self, js: Any) -> None:
        window = self.settings.duplicate_window
        # Under a NATS user it may create only its own stream (im_cli.natsauth); the
        # others' are provisioned or created by their owners, so it waits for them.
        ensure_all = not self._as_user
        mine = subj.event_stream(self.spec.name)
        # Each stream keeps messages as long as the services needing it keep documents.
        days = log_retention.stream_days({**installed(), self.spec.name: self.spec}.values())

        async def declare(config: Any) -> None:
            config = log_retention.with_max_age(config, days)
            if ensure_all or config.name == mine:
                await streams.ensure(js, config)
                if ensure_all and config.name in days:  # made before, or needed longer
                    await log_retention.keep_for(js, config.name, days[config.name],
                                                 only_longer=True)
            else:
                await streams.found(js, config.name)

        await declare(streams.dlq_stream(self.replicas))
        await declare(streams.undelivered_stream(self.replicas))  # undelivered.py
        # Every stream it publishes to (its own, feedback, shared ones such as referral
        # answers, whose outbox would otherwise wait for a consumer to create them) or reads.
        published = {event_parts(t)[0] for t in self.spec.publishes}
        for source in sorted(published | set(self.spec.source_streams())):
            await declare(streams.for_source(source, self.replicas, window))

    def _register(self, js: Any, dead: DeadLetters) -> None:
        s, spec = self.settings, self.spec
        assert self.relay
        router, idempotent = spec.router(), spec.idempotent_types()
        for source, types in spec.source_streams().items():
            from_operators = source == subj.OPERATOR
            consumer = EventConsumer(
                service=spec.name, store=self.store, route=router, types=types, dead=dead,
                relay=self.relay, metrics=self.metrics, max_deliver=s.max_deliver,
                backoff=s.retry_backoff, max_bytes=spec.max_message_bytes,
                verify=verify_operator if from_operators else None, erased=self.erased,
                idempotent=idempotent)
            stream = streams.for_source(source, self.replicas, s.duplicate_window).name
            self._pulls.append(PullLoop(self.nc, js, stream or "",
                                        durable_config(spec, source, types, s),
                                        Pipelined(consumer), s.batch_size,
                                        database=self.readiness.database_answers,
                                        max_bytes=s.fetch_max_bytes,
                                        create_any=not self._as_user))
        for route in spec.commands:
            subject = subj.command(spec.name, route.name)
            check = actors.ActorCheck(s.actor_key, subject) if s.actor_key else None
            if route.read:  # answered from memory, many at once, like queries
                read = self._counted(ReadEndpoint(service=spec.name, route=route,
                                                  store=self.store, metrics=self.metrics),
                                     route.name, subject, "read command")
                self.requests.add(subject, Subscription(read, s.query_workers, check=check))
                continue
            endpoint = self._counted(CommandEndpoint(service=spec.name, route=route,
                                                     store=self.store, relay=self.relay,
                                                     metrics=self.metrics),
                                     route.name, subject, "command")
            # One lane per key in order of arrival; without `order_by`, one lane.
            lane = route.order_by or (lambda _: ONE_LANE)
            self.requests.add(subject, Subscription(endpoint, s.command_workers, lane, check))
        for answers in spec.queries:
            query = QueryEndpoint(service=spec.name, version=spec.version, route=answers,
                                  store=self.store)
            # Asked of every service at once, or of this one (the gateway: attributable).
            for subject, name in ((subj.query(answers.name), f"query-{answers.name}"),
                                  (subj.query_for(answers.name, spec.name),
                                   f"query-{answers.name}-direct")):
                self.requests.add(subject, Subscription(
                    self._counted(query, name, subject, "query"), s.query_workers))

    @property
    def _as_user(self) -> bool:
        """Connected as a NATS user of its own (im_cli.natsauth), not to an open bus."""
        return bool(self.settings.nats_user or self.settings.nats_creds)

    def _counted(self, endpoint: Any, name: str, subject: str, kind: str) -> Any:
        """`endpoint`, its answers counted for `nats micro info/stats` (im_runtime.presence)."""
        tally = Tally(name=name, subject=subject, queue_group=self.spec.name, kind=kind)
        self._tallies.append(tally)
        return Counted(endpoint, tally)

    async def _watch_lag(self, js: Any) -> None:
        while True:
            for source in self.spec.source_streams():
                name = consumer_name(self.spec.name, source)
                with contextlib.suppress(Exception):
                    info = await js.consumer_info(
                        streams.for_source(source, 1, 1.0).name or "", name)
                    self.metrics.lag.labels(self.spec.name, name).set(info.num_pending)
            await asyncio.sleep(5)

    async def _retention_schedule(self) -> None:
        """Retention on the service's own clock; each run commits and announces itself."""
        while True:
            await asyncio.sleep(self.settings.retention_interval)
            try:
                result = await retention.run_committed(self.spec, self.store, utcnow())
                assert self.relay
                self.relay.notify()
                log.info("retention applied", extra={"service": self.spec.name,
                                                     "rules": result["rules"]})
            except Exception:
                log.exception("retention run failed; next run will try again")

    def _nats_connected(self) -> bool:
        return bool(self.nc is not None and self.nc.is_connected)

    async def _bus_closed(self) -> None:
        """nats-py gave up on the connection (it reconnects for ever otherwise): end the
        process with EXIT_BUS_CLOSED so whatever supervises it starts it again."""
        if self._stopping:
            return
        log.error("NATS connection closed; exiting so the supervisor restarts the service",
                  extra={"service": self.spec.name, "exit_code": EXIT_BUS_CLOSED})
        self.exit_code = EXIT_BUS_CLOSED
        self._stop.set()

    async def stop(self) -> None:
        """Graceful drain: stop taking work, finish what is in hand, relay the outbox."""
        self._stopping = True
        self._ready = False
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # nats-py requests can swallow a cancel: do not wait for ever
            await asyncio.wait(self._tasks, timeout=2.0)
        if self._micro is not None:
            with contextlib.suppress(Exception):
                await self._micro.stop()
        await self.requests.stop()
        for pull in self._pulls:
            await pull.stop()
        if self._undelivered is not None:
            await self._undelivered.stop()
        if self.relay:  # while the connection is still open
            await self.relay.stop()
        await self.erased.stop()
        await self.sync.stop()
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()
        await self.readiness.stop()
        await self.store.close()
        await self.health.stop()
        log.info("service stopped", extra={"service": self.spec.name})

    async def run_forever(self) -> int:
        """Runs until SIGTERM/SIGINT (exit code 0) or until the bus connection closes
        (EXIT_BUS_CLOSED); returns the exit code."""
        await self.start()  # (a signal before this ends the process the default way)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        await self._stop.wait()
        if self.exit_code:  # the connection is gone: what is in hand comes back anyway
            with contextlib.suppress(Exception, TimeoutError):
                await asyncio.wait_for(self.stop(), 15.0)
        else:
            await self.stop()
        return self.exit_code
