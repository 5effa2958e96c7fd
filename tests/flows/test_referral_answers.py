"""Every referral gets its answer, from any service, plugins included. With the real
servers (NATS with the generated accounts and permissions, the MongoDB-wire server) and
the real services, each running as its own NATS user: an operator's system (plain
nats-py with the operator's credentials) sends one referral per topic and reads every
answer on its feedback consumer. A throwaway plugin defined here adds a topic and answers
it, with no change to counselling. A topic nobody handles is rejected at once; a reused
referral id and an answer from a service that does not own the topic are dead-lettered
with the reason and change nothing.

This module runs its own servers: the permissions are generated from the services it
runs, the plugin included."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
import nats
import pytest

from contracts import Actor, CloudEvent, ErrorReply
from contracts import subjects as subj
from contracts.counselling import ReferralRequested
from contracts.platform import DeadLetter
from contracts.referrals import ReferralAccepted, ReferralCompleted
from counselling.overdue import ENV as overdue_env
from im_cli import natsauth
from im_cli.embedded import MongoWireServer, NatsServer, free_port
from im_cli.testing import eventually
from im_runtime import On, ServiceSpec, UnitOfWork
from im_runtime.plugins import installed
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings, inbox_prefix

pytestmark = pytest.mark.flow
ADMIN = Actor(subject="admin-1", role="city_admin")
OPERATOR = "op-flow"
CITY = ("housing", "education", "employment", "volunteers", "counselling")
TODAY = date.today()


# The throwaway plugin: it owns `sports_club`, answers accepted and then completed; and it
# misbehaves once, answering a housing referral it does not own.
async def on_referral(event: CloudEvent[ReferralRequested], uow: UnitOfWork) -> None:
    ref = event.data
    about = {"referral_id": ref.referral_id, "resident_id": ref.resident_id,
             "operator_id": ref.operator_id, "topic": ref.topic, "service": "sports"}
    if ref.topic == "sports_club":
        uow.emit(ReferralAccepted(**about, became="membership", reference=f"m-{ref.referral_id}"))
        uow.emit(ReferralCompleted(**about, became="membership", reference=f"m-{ref.referral_id}",
                                   outcome="joined"))
    elif ref.topic == "housing_search" and ref.referral_id.startswith("intrude"):
        uow.emit(ReferralAccepted(**about, became="membership", reference="m-stolen"))


SPORTS = ServiceSpec(name="sports", version="0.1.0", description="a throwaway plugin",
                     consumes=(On(ReferralRequested, handler=on_referral),),
                     referral_topics=("sports_club",))


@dataclass
class Bus:
    nats: NatsServer
    mongo: MongoWireServer
    auth: natsauth.Embedded

    def settings(self, user: str, prefix: str) -> Settings:
        return Settings(nats_url=self.nats.url, mongo_url=self.mongo.url, db_prefix=prefix,
                        retry_backoff=0.05, max_deliver=3, log_format="text",
                        nats_user=user, nats_password=self.auth.passwords[user])

    async def connect(self, user: str) -> Any:
        return await nats.connect(self.nats.url, user=user, password=self.auth.passwords[user],
                                  allow_reconnect=False, inbox_prefix=inbox_prefix(user))


@pytest.fixture(scope="module")
def bus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bus]:
    work = tmp_path_factory.mktemp("referrals")
    specs = {**{n: s for n, s in installed().items() if n in CITY}, "sports": SPORTS}
    auth = natsauth.embedded(work, specs, [OPERATOR])
    natsd = NatsServer(port=free_port(), workdir=work / "nats", config_extra=auth.config)
    mongod = MongoWireServer(port=free_port(), workdir=work / "mongo")
    natsd.start()
    mongod.start()
    yield Bus(natsd, mongod, auth)
    mongod.stop()
    natsd.stop()


@dataclass
class City:
    bus: Bus
    admin: Any
    runtimes: dict[str, ServiceRuntime]

    async def command(self, service: str, name: str, cmd: Any) -> Any:
        route = next(r for r in self.runtimes[service].spec.commands if r.name == name)
        msg = await self.admin.request(subj.command(service, name), msgspec.json.encode(cmd),
                                       timeout=10)
        reply = msgspec.json.decode(msg.data, type=route.reply | ErrorReply)
        assert not isinstance(reply, ErrorReply), reply
        return reply


@pytest.fixture(scope="module")
async def city(bus: Bus) -> AsyncIterator[City]:
    admin = await bus.connect(natsauth.ADMIN)
    await natsauth.provision(admin, [OPERATOR])  # the feedback stream and fb_<operator>
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    # A short answer time, so that the overdue test sees counselling's worker flag by itself.
    saved = os.environ.get(overdue_env)
    os.environ[overdue_env] = "0.001"
    specs = [*(installed()[n] for n in CITY), SPORTS]
    runtimes = {s.name: ServiceRuntime(s, bus.settings(natsauth.service_user(s.name), prefix))
                for s in specs}
    await asyncio.gather(*(rt.start() for rt in runtimes.values()))
    try:
        yield City(bus, admin, runtimes)
    finally:
        for rt in runtimes.values():
            if rt._ready:
                await rt.stop()
        await admin.close()
        if saved is None:
            os.environ.pop(overdue_env, None)
        else:
            os.environ[overdue_env] = saved


async def counselling_knows(city: City, topics: set[str]) -> bool:
    store = city.runtimes["counselling"].store
    found = {d["_id"]: d["owner"] async for d in store.db["topics"].find({})}
    return topics <= set(found)


@pytest.fixture(scope="module")
async def resident(city: City) -> tuple[str, str]:
    """A shelter of the operator with one resident placed there, known to every service."""
    from contracts import education_commands as e
    from contracts import housing_commands as h
    from volunteers import contracts as v

    tag = uuid.uuid4().hex[:8]
    site = f"s-{tag}"
    await city.command("housing", "register_site", h.RegisterSite(
        actor=ADMIN, site_id=site, kind="shelter", name="Munzeler Straße",
        operator_id=OPERATOR, address="Munzeler Straße 1", district="Bothfeld", capacity=40))
    household = await city.command("housing", "register_household", h.RegisterHousehold(
        actor=ADMIN, site_id=site, on=TODAY, members=[h.HouseholdMember(
            given_name="Amal", family_name="Haddad", birth_year=1990, languages=["ar"],
            residence_status="recognised_refugee", arrival_date=date(2025, 2, 1))]))
    (rid,) = household.resident_ids
    await city.command("education", "create_course", e.CreateCourse(
        actor=ADMIN, course_id=f"c-{tag}", kind="arrival_course", title="Ankommen",
        provider="operator", site_id=site, starts=date(2026, 1, 5), ends=date(2027, 12, 18),
        capacity=12))
    await city.command("volunteers", "register_volunteer", v.RegisterVolunteer(
        actor=ADMIN, volunteer_id=f"v-{tag}", name="Ute", languages=["ar", "de"],
        districts=["Bothfeld"], offers=["language_tandem"], capacity=2,
        background_check_on=TODAY))
    await eventually(lambda: counselling_knows(city, {
        "housing_search", "language_course", "kita_school", "work_qualification",
        "volunteers", "authorities", "neighbourhood", "sports_club"}), timeout=20)

    async def everywhere_known() -> bool:  # each service learns of the resident by events
        for name, coll in (("education", "residents"), ("employment", "residents"),
                           ("volunteers", "residents"), ("counselling", "residents")):
            if await city.runtimes[name].store.db[coll].find_one({"_id": rid}) is None:
                return False
        return True

    await eventually(everywhere_known, timeout=20)
    return site, rid


class Operator:
    """The operator's own system: plain nats-py with its credentials."""

    def __init__(self, nc: Any, site: str, rid: str) -> None:
        self.nc, self.js, self.site, self.rid = nc, nc.jetstream(), site, rid
        self.feedback: list[dict[str, Any]] = []

    async def refer(self, referral_id: str, topic: str) -> str:
        event_id = uuid.uuid4().hex
        body = {"specversion": "1.0", "id": event_id, "source": OPERATOR,
                "type": "im.operator.referral_requested.v1", "time": "2026-03-24T14:32:19Z",
                "subject": self.rid, "datacontenttype": "application/json",
                "data": {"type": "im.operator.referral_requested.v1", "resident_id": self.rid,
                         "site_id": self.site, "referral_id": referral_id, "topic": topic,
                         "requested_on": TODAY.isoformat()}}
        ack = await self.js.publish(subj.operator_event(OPERATOR, "referral_requested", self.rid),
                                    json.dumps(body).encode(), headers={"Nats-Msg-Id": event_id})
        assert ack.stream == subj.OPS_STREAM
        return event_id

    async def read(self) -> list[dict[str, Any]]:
        sub = await self.js.pull_subscribe_bind(durable=natsauth.feedback_consumer(OPERATOR),
                                                stream=subj.FEEDBACK_STREAM)
        try:
            for msg in await sub.fetch(200, timeout=1):
                self.feedback.append(json.loads(msg.data))
                await msg.ack()
        except (TimeoutError, nats.errors.TimeoutError):  # nothing new (nats-py 2.16
            pass  # sometimes raises the bare asyncio one, docs/pitfalls.md)
        finally:
            await sub.unsubscribe()
        return self.feedback

    def of(self, referral_id: str) -> list[tuple[str, dict[str, Any]]]:
        return [(f["type"].split(".")[2], f["data"]) for f in self.feedback
                if f["data"]["referral_id"] == referral_id]


@pytest.fixture(scope="module")
async def operator(city: City, resident: tuple[str, str]) -> AsyncIterator[Operator]:
    nc = await city.bus.connect(natsauth.operator_user(OPERATOR))
    yield Operator(nc, *resident)
    await nc.close()


async def answered(op: Operator, referral_id: str, *states: str) -> list[dict[str, Any]]:
    async def got() -> list[dict[str, Any]] | None:
        await op.read()
        seen = op.of(referral_id)
        return [d for _, d in seen] if [k for k, _ in seen] == list(states) else None

    found: list[dict[str, Any]] = await eventually(got, timeout=20, interval=0.2)
    return found


async def test_one_referral_per_topic_is_answered_on_the_operators_feedback(
        city: City, operator: Operator) -> None:
    tag = uuid.uuid4().hex[:6]
    ref = {t: f"{t[:4]}-{tag}" for t in ("housing_search", "language_course", "kita_school",
                                         "work_qualification", "volunteers", "authorities",
                                         "neighbourhood", "sports_club", "astrology")}
    for topic, rid in ref.items():
        await operator.refer(rid, topic)

    case = await answered(operator, ref["housing_search"], "referral_received", "referral_accepted")
    assert (case[0]["owner"], case[1]["by"], case[1]["became"]) == ("housing", "housing", "case")
    enrol = await answered(operator, ref["language_course"], "referral_received",
                           "referral_accepted")
    assert (enrol[1]["by"], enrol[1]["became"]) == ("education", "enrolment")
    kita = await answered(operator, ref["kita_school"], "referral_received", "referral_rejected")
    assert kita[1]["by"] == "education" and "Kita and school are for children" in kita[1]["reason"]
    need = await answered(operator, ref["work_qualification"], "referral_received",
                          "referral_accepted")
    assert (need[1]["by"], need[1]["became"]) == ("employment", "coaching_need")
    tandem = await answered(operator, ref["volunteers"], "referral_received", "referral_accepted")
    assert (tandem[1]["by"], tandem[1]["became"]) == ("volunteers", "tandem")
    plugin = await answered(operator, ref["sports_club"], "referral_received",
                            "referral_accepted", "referral_completed")
    assert plugin[0]["owner"] == "sports" and plugin[2]["outcome"] == "joined"
    nobody = await answered(operator, ref["astrology"], "referral_rejected")
    assert (nobody[0]["by"], nobody[0]["reason"]) == ("counselling",
                                                     "no service handles astrology")
    for topic in ("authorities", "neighbourhood"):
        (received,) = await answered(operator, ref[topic], "referral_received")
        assert received["owner"] == "city_team"

    # The city team answers its own; the volunteers' tandem starts: both reach the operator.
    from contracts.counselling import AnswerCityReferral
    from volunteers import contracts as v

    await city.command("counselling", "answer_city_referral", AnswerCityReferral(
        actor=ADMIN, referral_id=ref["authorities"], answer="accepted", reference="appt-1"))
    await city.command("counselling", "answer_city_referral", AnswerCityReferral(
        actor=ADMIN, referral_id=ref["neighbourhood"], answer="rejected",
        reason="no neighbourhood project near the shelter"))
    match_id = tandem[1]["reference"]
    await city.command("volunteers", "agree_match", v.AgreeMatch(actor=ADMIN, match_id=match_id))
    await city.command("volunteers", "start_match", v.StartMatch(actor=ADMIN, match_id=match_id))
    await answered(operator, ref["authorities"], "referral_received", "referral_accepted")
    await answered(operator, ref["neighbourhood"], "referral_received", "referral_rejected")
    done = await answered(operator, ref["volunteers"], "referral_received", "referral_accepted",
                          "referral_completed")
    assert (done[2]["by"], done[2]["outcome"]) == ("volunteers", "started")


async def dead_letter(city: City, fragment: str) -> DeadLetter:
    js = city.admin.jetstream()

    async def find() -> DeadLetter | None:
        sub = await js.subscribe(subj.dead_letters_of("counselling"), ordered_consumer=True)
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=0.5)
                except (TimeoutError, nats.errors.TimeoutError):
                    return None
                letter = msgspec.json.decode(msg.data, type=DeadLetter)
                if fragment in letter.reason:
                    return letter
        finally:
            await sub.unsubscribe()

    found: DeadLetter = await eventually(find, timeout=20, interval=0.2)
    return found


async def referral_doc(city: City, referral_id: str) -> dict[str, Any]:
    store = city.runtimes["counselling"].store
    doc = await store.db["referrals"].find_one({"_id": f"{OPERATOR}:{referral_id}"})
    assert doc is not None
    return {k: v for k, v in doc.items() if k != "_v"}


async def test_a_reused_referral_id_and_a_non_owners_answer_are_dead_lettered(
        city: City, operator: Operator) -> None:
    tag = uuid.uuid4().hex[:6]
    first = f"dup-{tag}"
    await operator.refer(first, "housing_search")
    await answered(operator, first, "referral_received", "referral_accepted")
    before = await referral_doc(city, first)
    # The same id for another topic: refused with the reason, the referral unchanged.
    event_id = await operator.refer(first, "language_course")
    letter = await dead_letter(city, f"referral '{first}' of operator '{OPERATOR}' exists")
    assert letter.reason == (f"rejected: referral '{first}' of operator '{OPERATOR}' exists "
                             f"already for another resident or topic: a new referral needs a "
                             f"new id")
    assert letter.headers.get("Nats-Msg-Id") == event_id  # the body is withheld (notes)
    # The plugin answers a housing referral it does not own: dead-lettered, housing's counts.
    stolen = f"intrude-{tag}"
    await operator.refer(stolen, "housing_search")
    letter = await dead_letter(city, f"of referral '{stolen}'")
    assert letter.reason == (f"rejected: service 'sports' does not handle topic "
                             f"'housing_search' of referral '{stolen}' (its owner is "
                             f"'housing')")
    answers = await answered(operator, stolen, "referral_received", "referral_accepted")
    assert answers[1]["by"] == "housing"
    await asyncio.sleep(0.5)
    assert await referral_doc(city, first) == before
    assert [k for k, _ in operator.of(first)] == ["referral_received", "referral_accepted"]
    doc = await referral_doc(city, stolen)
    assert (doc["state"], doc["by"], doc["became"]) == ("accepted", "housing", "case")


async def test_a_referral_without_an_answer_is_flagged_overdue(city: City,
                                                              operator: Operator) -> None:
    """The plugin that declared its topic is stopped: its referral waits, and past the
    answer time (IM_REFERRAL_ANSWER_HOURS, 0.001 here) counselling's worker flags it with a
    ReferralOverdue event and counts it on the city's worklist."""
    from contracts.counselling import ReferralOverdue
    from contracts.queries import GetCityStats
    from im_cli.testing import stream_events
    from im_runtime.discovery import gather

    await city.runtimes["sports"].stop()
    waiting = f"wait-{uuid.uuid4().hex[:6]}"
    await operator.refer(waiting, "sports_club")
    await answered(operator, waiting, "referral_received")

    async def flagged() -> bool:
        return bool((await referral_doc(city, waiting))["overdue"])

    await eventually(flagged, timeout=20, interval=0.2)
    js = city.admin.jetstream()
    events = await stream_events(js, subj.event("counselling", "referral_overdue") + ".>",
                                 ReferralOverdue)
    mine = [d for d in events if d.referral_id == waiting]
    assert len(mine) == 1 and mine[0].owner == "sports"
    for raw in await gather(city.admin, subj.query("city_stats"),
                            msgspec.json.encode(GetCityStats(actor=ADMIN)), 2.0, expect=5):
        body = msgspec.json.decode(raw)
        if body.get("service") == "counselling":
            assert body["section"]["overdue_referrals"] >= 1
            break
    else:
        raise AssertionError("counselling did not answer city_stats")
