"""What the gateway knows of erasures: the keys of erased residents (so it answers 410
for them, and refuses commands about them), and its own part in an erasure and in the
proof: the audit log's entries about the resident, and the audit log's retention.

The keys come from the privacy service's ledger at start and then live from the
requests on the bus, so every gateway instance refuses an erased resident at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from pymongo.errors import PyMongoError

from contracts import SYSTEM, Actor, ErrorReply, ServiceSection, new_id, wrap
from contracts import privacy as pv
from contracts import subjects as subj
from contracts.codec import encode_event
from gateway.audit import AuditLog
from gateway.errors import ApiError
from gateway.forward import Forwarder
from gateway.lifespan import Bus
from gateway.staff_erasure import StaffErasure
from im_runtime import actors, erasure_keys
from im_runtime.privacy import person_of

log = logging.getLogger("im.gateway.erasures")
_ENC = msgspec.json.Encoder()
REQUESTS = subj.event(pv.SERVICE, "erasure_requested") + ".*"
GATEWAY = "gateway"
QUEUE = "gateway"
RETRY = 5.0  # seconds between attempts to load the erasure keys while the ledger is away
USERS_RULE = "disabled_users"  # accounts disabled longer than IM_RETENTION_GATEWAY_USERS


class Erasures:
    def __init__(self, bus: Bus, forwarder: Forwarder, audit: AuditLog,
                 audit_days: int, retention_interval: float, refresh: float = 300.0) -> None:
        self.bus, self.forwarder, self.audit = bus, forwarder, audit
        self.audit_days, self.retention_interval = audit_days, retention_interval
        self.refresh = refresh
        self.keys: set[str] = set()
        self.staff_keys: set[str] = set()  # of those, erased staff members' (accounts)
        self.staff: StaffErasure | None = None  # set once the accounts' database is open
        self.users_days = 1095
        self._tasks: list[asyncio.Task[None]] = []
        self._subs: list[Any] = []

    # the 410 answer
    def check(self, resident_id: str) -> None:
        if erasure_keys.key(resident_id) in self.keys:
            raise ApiError("gone", "this resident's data was erased", resident_id=resident_id)

    def erased(self, resident_id: str) -> None:
        self.keys.add(erasure_keys.key(resident_id))

    # keeping the keys current
    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._keep_current(), name="gateway-erasures"))
        if self.retention_interval > 0:
            self._tasks.append(asyncio.create_task(self._retention_schedule()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=1.0)
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _keep_current(self) -> None:
        while not self.bus.connected:  # noqa: ASYNC110 (nats-py offers no event to wait on)
            await asyncio.sleep(0.2)
        nc = self.bus.nc
        self._subs = [
            await nc.subscribe(REQUESTS, cb=self._on_request),
            await nc.subscribe(subj.query(pv.PRIVACY_REPORT), queue=QUEUE, cb=self._on_report),
            await nc.subscribe(subj.query(pv.RETENTION), queue=QUEUE, cb=self._on_retention),
            await nc.subscribe(subj.command(GATEWAY, pv.APPLY_RETENTION), queue=QUEUE,
                               cb=self._on_apply_retention),
        ]
        # The requests on the bus keep the keys current; the ledger is asked again only
        # now and then, for requests sent while this gateway was cut off from the bus.
        while True:
            try:
                reply = await self.forwarder.call(pv.SERVICE, "list_erasures", {}, SYSTEM)
                self.keys |= erasure_keys.upgrade_all(reply["keys"])
                self.staff_keys |= erasure_keys.upgrade_all(reply.get("staff", []))
                if self.staff is not None:  # accounts of staff erased while we were away
                    await self.staff.forget_erased(self.staff_keys)
                pause = self.refresh
            except ApiError as exc:  # the privacy service is not running (yet)
                log.info("erasure keys not loaded: %s", exc.message)
                pause = RETRY
            except PyMongoError as exc:  # the database is away: the next round catches up
                log.warning("erased staff members' accounts not checked: %s", exc)
                pause = RETRY
            await asyncio.sleep(pause)

    async def _on_request(self, msg: Any) -> None:
        rid = subj.resident_of(msg.subject)  # the subject names the resident: no body needed
        if rid is None or actors.from_jetstream(msg):  # a consumer's delivery: forged
            return
        try:
            await self.gone(rid, person_of(msg.data))
        except ApiError as exc:  # the gateway that took the request did it too
            log.warning("audit entries not pseudonymised here: %s", exc.message)
        except PyMongoError as exc:  # the next load of the keys catches up
            log.warning("an erased staff member's account not removed yet: %s", exc)

    async def gone(self, person_id: str, person: str = "resident") -> None:
        """An erasure went out: 410 from now on, the audit log no longer names the person,
        and a staff member's account goes and her user name is not given again (user
        names and resident ids never meet)."""
        self.erased(person_id)
        if person == "staff":
            self.staff_keys.add(erasure_keys.key(person_id))
        await self.audit.pseudonymise(person_id)
        if self.staff is not None:
            await self.staff.forget(person_id, staff=person == "staff")

    async def _retention_schedule(self) -> None:
        while True:
            await asyncio.sleep(self.retention_interval)
            try:
                await self._retention(None, SYSTEM, dry_run=False)
            except Exception:
                log.exception("audit retention failed; the next run will try again")

    # the gateway's answers to the privacy queries, like any service's
    async def _on_report(self, msg: Any) -> None:
        await self._answer(msg, pv.GetPrivacyReport, self._report)

    async def _on_retention(self, msg: Any) -> None:
        async def listed(query: pv.RunRetention) -> dict[str, Any]:
            if not query.dry_run:
                raise ValueError(f"a query only lists; apply the rules with the command "
                                 f"{subj.command(GATEWAY, pv.APPLY_RETENTION)}")
            return await self._retention(query.as_of, query.actor, dry_run=True)
        await self._answer(msg, pv.RunRetention, listed)

    async def _on_apply_retention(self, msg: Any) -> None:
        """The command `apply_retention`, as every service with retention rules has it."""
        async def applied(cmd: pv.ApplyRetention) -> pv.RetentionRun:
            run = await self._retention(cmd.as_of, cmd.actor, dry_run=False)
            return msgspec.convert({**run, "service": GATEWAY}, pv.RetentionRun)
        await self._answer(msg, pv.ApplyRetention, applied, section=False)

    async def _answer(self, msg: Any, kind: type[Any], handle: Any,
                      section: bool = True) -> None:
        """A query's section (`section`), or a command's reply as `handle` gives it."""
        if actors.from_jetstream(msg):  # a consumer's delivery pointed here: not a request
            log.warning("a request delivered by JetStream is ignored", extra={
                "subject": subj.template(msg.subject)})  # a delivery's: may name a resident
            return
        try:
            result = await handle(msgspec.json.decode(msg.data, type=kind))
            body = _ENC.encode(ServiceSection(service=GATEWAY, version="1", section=result)
                               if section else result)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            body = _ENC.encode(ErrorReply(code="bad_request", message=str(exc),
                                          details={"service": GATEWAY}))
        except ApiError as exc:
            body = _ENC.encode(ErrorReply(code=exc.code, message=exc.message,  # type: ignore[arg-type]
                                          details={**exc.details, "service": GATEWAY}))
        if msg.reply:
            await msg.respond(body)

    async def _report(self, query: pv.GetPrivacyReport) -> dict[str, Any]:
        if query.actor.role not in ("city_admin", "auditor", "system"):
            raise ApiError("forbidden", "only city administrators and auditors may ask "
                                        "where a person's data is")
        n = await self.audit.mentioning(list(query.terms))
        return {"collections": {"audit": n} if n else {}, "documents": n}

    async def _retention(self, as_of: datetime | None, actor: Actor, *,
                         dry_run: bool) -> dict[str, Any]:
        if actor.role not in ("city_admin", "system") and not (
                dry_run and actor.role == "auditor"):
            raise ApiError("forbidden", "only city administrators may apply retention")
        as_of = as_of or datetime.now(UTC)
        result = await self.audit.expire(as_of, self.audit_days, dry_run)
        rules: dict[str, Any] = {"audit": result}
        gone: list[str] = []
        if self.staff is not None:  # accounts disabled for longer than their period
            gone = await self.staff.expired(as_of, self.users_days, dry_run)
            rules[USERS_RULE] = {"collection": "users", "days": self.users_days,
                                 "expired": len(gone), "ids": gone[:100]}
        out: dict[str, Any] = {"dry_run": dry_run, "as_of": as_of.isoformat(), "rules": rules}
        if not dry_run:
            out["run_id"] = await self.announce(as_of, {"audit": result["expired"],
                                                        USERS_RULE: len(gone)}, gone)
        return out

    async def announce(self, as_of: datetime, removed: dict[str, int],
                       forgotten: Sequence[str] = ()) -> str:
        """One event per retention run, as the services give; and one per expired staff
        account, so that the privacy service erases the messages naming them."""
        run_id = f"ret-{new_id()}"
        js = self.bus.nc.jetstream()
        for name in forgotten:
            gone = wrap(pv.ResidentExpired(resident_id=name, service=GATEWAY, rule=USERS_RULE,
                                           run_id=run_id, person="staff"), source=GATEWAY)
            await js.publish(subj.event(pv.SERVICE, "resident_expired", name),
                             encode_event(gone), headers={"Nats-Msg-Id": gone.id})
        event = wrap(pv.RetentionApplied(run_id=run_id, service=GATEWAY, as_of=as_of,
                                         removed=removed), source=GATEWAY)
        await js.publish(subj.event(pv.SERVICE, "retention_applied"), encode_event(event),
                         headers={"Nats-Msg-Id": event.id})
        return run_id

