"""Runs one service from its spec: MongoDB store, FastStream broker with the
service's consumers, commands and queries, the outbox relay, presence and health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.js.api import ConsumerConfig

from contracts import about_resident, event_parts, utcnow
from contracts import subjects as subj
from im_runtime import actors, log_retention, privacy, processed, replay, retention, streams
from im_runtime.connection import EXIT_BUS_CLOSED, reconnect_options, servers
from im_runtime.consume import EventConsumer
from im_runtime.deadletter import DeadLetters
from im_runtime.endpoints import CommandEndpoint, QueryEndpoint, ReadEndpoint, server_span
from im_runtime.health import HealthServer, Readiness
from im_runtime.metrics import Metrics
from im_runtime.mirror_sync import MirrorSync
from im_runtime.mongo import MongoStore
from im_runtime.ordered import OrderedCommands
from im_runtime.outbox import OutboxRelay
from im_runtime.plugins import installed
from im_runtime.presence import announce
from im_runtime.pull import PullLoop
from im_runtime.settings import Settings
from im_runtime.spec import ServiceSpec, WorkerContext

log = logging.getLogger("im.service")


def consumer_name(service: str, source: str) -> str:
    return f"{service}__{source}"


def filters(types: list[Any]) -> list[str]:
    """One filter per event type (each extra filter subject slows the consumer):
    `…<event>.*` for types always about a resident, the bare subject otherwise."""
    out: list[str] = []
    for t in types:
        source, name, _ = event_parts(t)
        if source == subj.OPERATOR:
            f = subj.operator_filter(name, about_resident(t))
        else:
            f = subj.event(source, name) + (".*" if about_resident(t) else "")
        if f not in out:
            out.append(f)
    return out


def consumer_filters(spec: ServiceSpec, source: str, types: list[Any]) -> list[str]:
    """The filter subjects of the service's durable consumer on `source` (the NATS
    permissions grant creating it with exactly these, im_cli.natsauth)."""
    if source == subj.OPERATOR and spec.operator_inbox:
        return [subj.OPS_SUBJECTS]
    return filters(types)


def consumer_config(name: str, wanted: list[str], **settings: Any) -> ConsumerConfig:
    """Named (`CONSUMER.CREATE.<stream>.<name>[.<filter>]`, never the legacy DURABLE API);
    a single filter goes in the API subject, where the bus permission pins it."""
    if len(wanted) == 1:
        return ConsumerConfig(durable_name=name, name=name, filter_subject=wanted[0],
                              **settings)
    return ConsumerConfig(durable_name=name, name=name, filter_subjects=wanted, **settings)


def verify_operator(msg: Any, event: Any) -> str | None:
    """The trust boundary for operators' events: the operator named in the subject (which
    the bus lets only that operator publish on) must be the event's source, and a
    resident token must be the resident the event is about."""
    operator, name, resident = subj.parse_operator(msg.subject)
    if name != event_parts(type(event.data))[1]:
        return f"subject is for event {name!r} but the body is a {event.type!r}"
    if event.source != operator:
        return (f"subject is for operator {operator!r} but the event's source is "
                f"{event.source!r}")
    key = event.data.resident_key()
    if key != resident:
        return f"subject names resident {resident!r} but the event is about {key!r}"
    return None


def broker_auth(settings: Settings) -> dict[str, object]:
    """FastStream's NatsBroker takes no `user`/`password`: a user goes in `security`."""
    opts = settings.nats_options()
    if "user" in opts:
        from faststream.security import SASLPlaintext

        security = SASLPlaintext(username=str(opts.pop("user")),
                                 password=str(opts.pop("password")))
        return {"security": security, **opts}
    return opts


class ServiceRuntime:
    def __init__(self, spec: ServiceSpec, settings: Settings | None = None,
                 stream_replicas: int = 1) -> None:
        self.settings = settings or Settings.from_env()
        self.replicas = stream_replicas
        self.metrics = Metrics(spec.name)
        self.store = MongoStore(self.settings.mongo_url, self.settings.db_prefix + spec.name)
        # The plugin's messages plus what every service does for data protection.
        self.erased = privacy.ErasedKeys()
        self.sync = MirrorSync(self.store, spec.name, self.settings.instance_id)
        self.spec = privacy.effective(spec, self.store, self.settings.instance_id, self.erased)
        # FastStream logs every message at INFO ("Received"/"Processed"): that is per-message
        # work and noise, so its access log goes to DEBUG; our own logs say what matters.
        self.broker = NatsBroker(servers(self.settings.nats_url), graceful_timeout=10.0,
                                 log_level=logging.DEBUG,
                                 **reconnect_options(on_closed=self._bus_closed,
                                                    closing=lambda: self._stopping),
                                 **broker_auth(self.settings))  # type: ignore[arg-type]
        self.readiness = Readiness(lambda: self._ready, self._nats_connected,
                                   lambda: self.store.client.admin.command("ping"))
        self.health = HealthServer(self.metrics.registry, self.readiness)
        self._ready = False
        self.exit_code = 0
        self._stopping = False
        self._stop = asyncio.Event()
        self._micro: Any = None
        self.relay: OutboxRelay | None = None
        self._pulls: list[PullLoop] = []
        self._ordered: list[tuple[str, OrderedCommands]] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        s = self.settings
        await self.health.start(s.health_host, s.health_port)
        await self.store.start(self.spec.indexes, load=False)
        self.readiness.start()
        await self.broker.connect()
        nc = self.broker.connection
        js = nc.jetstream()
        await self.sync.start(nc)  # listening before loading: no commit falls between
        await self.store.load_mirror()
        await self.erased.start(nc, self.store)
        await self._declare_streams(js)
        self.relay = OutboxRelay(js, self.store, self.metrics)
        dead = DeadLetters(js, self.spec.name, self.metrics, self.spec.redact_dead_letters)
        self._register(js, dead)
        for pull in self._pulls:
            await pull.start()
        self.relay.start()
        # Projections first: no answers (queries, commands, readiness, presence) until
        # the consumers have worked through the history they started with.
        await replay.catch_up(js, self.spec.name, [(p.stream, p.durable) for p in self._pulls],
                              self.metrics)
        await self.broker.start()
        for subject, ordered in self._ordered:
            await ordered.start(nc, subject, self.spec.name)
        self._micro = await announce(nc, self.spec, s.instance_id,
                                     f"http://{s.health_host}:{self.health.port}")
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
        ensure_all = not (self.settings.nats_user or self.settings.nats_creds)
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
        # Every stream it publishes to (its own, feedback, shared ones such as referral
        # answers, whose outbox would otherwise wait for a consumer to create them) or reads.
        published = {event_parts(t)[0] for t in self.spec.publishes}
        for source in sorted(published | set(self.spec.source_streams())):
            await declare(streams.for_source(source, self.replicas, window))

    def _register(self, js: Any, dead: DeadLetters) -> None:
        s, spec = self.settings, self.spec
        assert self.relay
        handlers, idempotent = spec.handler_for(), spec.idempotent_types()
        for source, types in spec.source_streams().items():
            from_operators = source == subj.OPERATOR
            consumer = EventConsumer(
                service=spec.name, store=self.store, handlers=handlers, types=types, dead=dead,
                relay=self.relay, metrics=self.metrics, max_deliver=s.max_deliver,
                backoff=s.retry_backoff, max_bytes=spec.max_message_bytes,
                verify=verify_operator if from_operators else None, erased=self.erased,
                idempotent=idempotent)
            # The pull loop holds two batches unacked (one handled, one fetched ahead):
            # below that, a fetch waits out its timeout for messages the server may not
            # send yet (JetStream's default max_ack_pending is 1,000).
            config = consumer_config(consumer_name(spec.name, source),
                                     consumer_filters(spec, source, types),
                                     ack_wait=s.ack_wait,
                                     # The consumer counts attempts itself (transient
                                     # errors and held batches do not count): no limit here.
                                     max_deliver=-1,
                                     max_ack_pending=max(1000, 4 * s.batch_size))
            stream = streams.for_source(source, self.replicas, s.duplicate_window).name
            self._pulls.append(PullLoop(self.broker.connection, js, stream or "", config,
                                        consumer, s.batch_size,
                                        database=self.readiness.database_answers))
        for route in spec.commands:
            subject = subj.command(spec.name, route.name)
            check = actors.ActorCheck(s.actor_key, subject) if s.actor_key else None
            if route.read:  # answered from memory, many at once, like queries
                read = ReadEndpoint(service=spec.name, route=route, store=self.store,
                                    metrics=self.metrics)
                self.broker.subscriber(subject, queue=spec.name, max_workers=s.query_workers)(
                    _reply_handler(read, check))
                continue
            endpoint = CommandEndpoint(service=spec.name, route=route, store=self.store,
                                       relay=self.relay, metrics=self.metrics)
            if route.order_by is not None:  # started with the broker, in start()
                self._ordered.append((subject, OrderedCommands(endpoint, s.command_workers,
                                                               check)))
                continue
            # One at a time (FastStream's default for a subscriber) keeps arrival order.
            self.broker.subscriber(subject, queue=spec.name)(_reply_handler(endpoint, check))
        for answers in spec.queries:
            query = QueryEndpoint(service=spec.name, version=spec.version, route=answers,
                                  store=self.store)
            # Asked of every service at once, or of this one (the gateway: attributable).
            for subject in (subj.query(answers.name), subj.query_for(answers.name, spec.name)):
                self.broker.subscriber(subject, queue=spec.name,
                                       max_workers=s.query_workers)(_reply_handler(query))

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
        nc = getattr(self.broker, "_connection", None)
        return bool(nc is not None and nc.is_connected)

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
        for _, ordered in self._ordered:
            await ordered.stop()
        for pull in self._pulls:
            await pull.stop()
        if self.relay:  # while the connection is still open
            await self.relay.stop()
        await self.erased.stop()
        await self.sync.stop()
        await self.broker.stop()
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


def _reply_handler(endpoint: Any, check: actors.ActorCheck | None = None) -> Any:
    async def handle(msg: NatsMessage) -> bytes:
        with server_span(endpoint, msg.headers, msg.raw_message.subject):
            if check is not None and (refused := check.refused(msg.headers, msg.body)):
                return refused
            return await endpoint(msg.body)  # type: ignore[no-any-return]
    return handle
