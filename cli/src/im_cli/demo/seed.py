"""Seeds the demo city through the bus only: commands to the owning services and operator
events on im.ops, never a database write. Every command and event has a fixed id, so a
second run is answered from the services' idempotency records and changes nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from contracts import Actor, ErrorReply, wrap
from contracts import education_commands as edu
from contracts import employment_commands as emp
from contracts import housing_commands as hs
from contracts import subjects as subj
from contracts.codec import encode_event
from contracts.operator import SessionRecorded
from im_cli.demo.city import City
from im_cli.progress import Bar
from im_runtime import actors, streams
from im_runtime.service import consumer_name

ADMIN = Actor(subject="demo-seeder", role="city_admin")
_ENC = msgspec.json.Encoder()
_NS = uuid.UUID("6d29f565-ef90-3100-0000-000000002450")


class SeedError(RuntimeError):
    pass


class Progress:
    """What the seeding has sent, on a progress bar (im_cli.progress) labelled with the
    part of the city being seeded."""

    def __init__(self, bar: Bar) -> None:
        self.bar, self._label = bar, ""

    @property
    def label(self) -> str:
        return self._label

    @label.setter
    def label(self, text: str) -> None:
        self._label = text
        self.bar.describe(f"demo: {text}")

    def step(self, n: int = 1) -> None:
        self.bar.advance(n)


class Seeder:
    def __init__(self, nc: Client, city: City, services: set[str], progress: Progress,
                 parallel: int = 48, secret: bytes | None = None) -> None:
        self.nc, self.js, self.city, self.services = nc, nc.jetstream(), city, services
        self.progress, self.limit = progress, asyncio.Semaphore(parallel)
        self.secret = secret  # the gateway's: the services believe only signed actors

    async def command(self, service: str, name: str, key: str, cmd: Any) -> Any:
        body = _ENC.encode(msgspec.structs.replace(cmd, command_id=f"demo:{name}:{key}",
                                                   actor=ADMIN))
        subject = subj.command(service, name)
        async with self.limit:
            for attempt in range(10):
                headers = (actors.signed_headers(self.secret, service, subject, body)
                           if self.secret else None)
                msg = await self.nc.request(subject, body, timeout=120, headers=headers)
                reply = msgspec.json.decode(msg.data)
                if reply.get("status") != "error" or reply.get("code") != "conflict" \
                        or "try again" not in reply.get("message", ""):
                    break
                await asyncio.sleep(0.2 * (attempt + 1))
        self.progress.step()
        if reply.get("status") == "error":
            raise SeedError(f"{service}.{name} {key}: {msgspec.convert(reply, ErrorReply)}")
        return reply

    async def each(self, label: str, jobs: Iterable[Awaitable[Any]]) -> list[Any]:
        self.progress.label = label
        return await asyncio.gather(*jobs)

    async def settle(self, pairs: Iterable[tuple[str, str]], timeout: float = 120) -> None:
        """`settled` for every (service, source) pair at once."""
        await asyncio.gather(*(self.settled(svc, src, timeout) for svc, src in pairs))

    async def settled(self, service: str, source: str, timeout: float = 120) -> None:
        """Wait until `service` has handled every event `source` has published so far."""
        if service not in self.services:
            return
        stream = streams.for_source(source, 1, 1.0).name or ""
        durable = consumer_name(service, source)
        deadline = time.monotonic() + timeout
        quiet_since: tuple[int, float] | None = None
        while time.monotonic() < deadline:
            try:
                info = await self.js.consumer_info(stream, durable)
            except NotFoundError:  # it does not consume that source
                return
            last = (await self.js.stream_info(stream)).state.last_seq
            if info.num_pending or info.num_ack_pending:
                quiet_since = None
            elif quiet_since is None or quiet_since[0] != last:
                quiet_since = (last, time.monotonic())  # the source's outbox may still relay
            elif time.monotonic() - quiet_since[1] > 1.0:
                return
            await asyncio.sleep(0.2)
        raise SeedError(f"{service} did not catch up with {source}'s events in {timeout}s")

    async def housing(self) -> None:
        c = self.city
        await self.each("housing: sites", (self.command("housing", "register_site", s.id,
            hs.RegisterSite(site_id=s.id, kind=s.kind, name=s.name, operator_id=s.operator,  # type: ignore[arg-type]
                            address=f"{s.name}, Hannover", district=s.district,
                            capacity=s.capacity, group=s.group)) for s in c.sites))
        await self.each("housing: staff", (self.command("housing", "assign_staff", sid,
            hs.AssignStaff(staff_id=sid, name=name, site_ids=sites))
            for sid, name, sites in c.staff))
        await self.each("housing: households", (self.command(
            "housing", "register_household", h.id, hs.RegisterHousehold(
                household_id=h.id, site_id=h.site, on=min(p.arrived for p in h.members),
                members=[hs.HouseholdMember(
                    resident_id=p.id, given_name=p.given, family_name=p.family,
                    birth_year=p.birth_year, languages=p.languages,  # type: ignore[arg-type]
                    residence_status=p.status, arrival_date=p.arrived)  # type: ignore[arg-type]
                    for p in h.members])) for h in c.households))

    async def education(self) -> None:
        c = self.city
        await self.each("education: courses", (self.command("education", "create_course",
            str(k["course_id"]), edu.CreateCourse(
                course_id=str(k["course_id"]), kind=k["kind"], level=k.get("level"),  # type: ignore[arg-type]
                title=str(k["title"]), provider="adult_education_centre",
                site_id=k["site_id"], address=None if k["site_id"] else "VHS Hannover, "  # type: ignore[arg-type]
                "Burgstraße 14", starts=k["starts"], ends=k["ends"],  # type: ignore[arg-type]
                capacity=k["capacity"], childcare_places=k["childcare_places"],  # type: ignore[arg-type]
                status="running")) for k in c.courses))
        await self.settled("education", "housing")
        queues: dict[str, list[str]] = {}
        for course, rid in c.enrolments:
            queues.setdefault(course, []).append(rid)

        enrolled: dict[tuple[str, str], str] = {}

        async def in_order(course: str, rids: list[str]) -> None:  # first come, first served
            for rid in rids:
                reply = await self.command("education", "enrol", f"{course}:{rid}",
                                           edu.Enrol(course_id=course, resident_id=rid))
                enrolled[course, rid] = reply["enrolment_id"]

        await self.each("education: enrolments", (in_order(k, r) for k, r in queues.items()))
        # The courses that have ended: their results, then the course is finished.
        await self.each("education: results", (self.command(
            "education", "complete_enrolment", enrolled[course, rid], edu.CompleteEnrolment(
                enrolment_id=enrolled[course, rid], passed=level is not None,
                certificate_level=level))  # type: ignore[arg-type]
            for course, rid, level in c.results))
        await self.each("education: finished courses", (self.command(
            "education", "change_course", str(k["course_id"]), edu.ChangeCourse(
                course_id=str(k["course_id"]), status="finished"))
            for k in c.courses if k.get("status") == "finished"))

    async def employment(self) -> None:
        c, prog = self.city, "beschaeftigung-2026"
        await self.command("employment", "create_programme", prog, emp.CreateProgramme(
            programme_id=prog, name="Beschäftigungsprogramm mit Sprachkurs",
            providers=["vhs-hannover", "pro-beruf"], language_course_required=True,
            allowed_statuses=["recognised_refugee", "subsidiary_protection"]))
        for n, status in ((1, "running"), (2, "open")):
            await self.command("employment", "add_phase", f"{prog}:{n}", emp.AddPhase(
                programme_id=prog, phase=n, starts=datetime(2026, 1 + 6 * (n - 1), 5).date(),
                ends=datetime(2026, 6 + 6 * (n - 1), 30).date(), capacity=30,
                status=status))  # type: ignore[arg-type]
        await self.settle([("employment", "housing"), ("employment", "education")])
        # Seats of one phase are one document: instances racing for it are told to try
        # again (`command` does); each phase has a seat for everyone the plan registers.
        first = await self.each("employment: phases", (self.command(
            "employment", "register_participant", f"{prog}:{n}:{rid}", emp.RegisterParticipant(
                programme_id=prog, phase=n, resident_id=rid))
            for n, rids in ((1, c.phase_1), (2, c.phase_2)) for rid in rids))
        await self.each("employment: active", (self.command(
            "employment", "activate_participant", p["participation_id"],
            emp.ActivateParticipant(participation_id=p["participation_id"]))
            for p in first[:len(c.phase_1)] if p["state"] != "active"))
        participation = {rid: p["participation_id"]
                         for rid, p in zip(c.phase_1, first[:len(c.phase_1)], strict=True)}
        await self.each("employment: placements", (self.command(
            "employment", "record_placement", participation[rid], emp.RecordPlacement(
                participation_id=participation[rid], kind=kind, sector=sector,  # type: ignore[arg-type]
                starts=starts, hours=hours))
            for rid, kind, sector, starts, hours in c.placements))

    async def counselling(self) -> None:
        await self.settled("counselling", "housing")
        self.progress.label = "counselling: sessions"

        async def one(s: dict[str, Any]) -> None:
            data = SessionRecorded(**{k: v for k, v in s.items() if k != "operator"})
            event = wrap(data, source=str(s["operator"]),
                         id=str(uuid.uuid5(_NS, str(s["session_id"]))),
                         time=datetime.combine(s["held_on"], datetime.min.time(), UTC))
            async with self.limit:
                await self.js.publish(
                    subj.operator_event(str(s["operator"]), "session_recorded",
                                        data.resident_id),
                    encode_event(event), headers={"Nats-Msg-Id": event.id})
            self.progress.step()

        await asyncio.gather(*(one(s) for s in self.city.sessions))
        await self.settled("counselling", subj.OPERATOR)  # recorded before anyone moves out

    async def move_outs(self) -> None:
        cases = await self.each("housing: move-out cases", (self.command(
            "housing", "open_move_out_case", hid, hs.OpenMoveOutCase(household_id=hid))
            for hid in self.city.move_outs))

        async def walk(case_id: str) -> None:
            for stage in ("searching", "offer_received", "viewing", "lease_signed", "moving",
                          "moved_out"):
                await self.command("housing", "advance_move_out_case", f"{case_id}:{stage}",
                                   hs.AdvanceMoveOutCase(case_id=case_id, stage=stage))  # type: ignore[arg-type]

        await self.each("housing: moved out", (walk(case["case_id"])  # completed: own flat
                                                for case in cases[:len(self.city.moved_out)]))


def plan_size(city: City) -> int:
    return (len(city.sites) + len(city.staff) + len(city.households)
            + len(city.courses) + len(city.enrolments) + 3 + len(city.phase_1) * 2
            + len(city.phase_2) + len(city.sessions) + len(city.move_outs)
            + len(city.moved_out) * 6 + len(city.results) + len(city.placements)
            + sum(k.get("status") == "finished" for k in city.courses))


# Lanes of steps: a lane's steps one after the other, the lanes of a stage at once.
Lane = tuple[tuple[str, Callable[[Seeder], Awaitable[None]]], ...]
STAGES: tuple[tuple[Lane, ...], ...] = (
    ((("housing", Seeder.housing),),),
    ((("education", Seeder.education), ("employment", Seeder.employment)),
     (("counselling", Seeder.counselling),)),
    ((("housing", Seeder.move_outs),),),  # once the sessions are recorded: cases close
)


async def seed_city(seeder: Seeder) -> None:
    async def lane(steps: Lane) -> None:
        for service, step in steps:
            if service in seeder.services:
                await step(seeder)

    for stage in STAGES:
        await asyncio.gather(*(lane(steps) for steps in stage))
