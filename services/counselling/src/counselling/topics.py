"""Which service owns which referral topic, as the services declare it
(`ReferralTopicsDeclared`, sent by every service with `referral_topics` in its spec each
time it starts). Counselling names no service: a plugin's topic is known as soon as its
declaration arrives. The first service to declare a topic owns it; another one claiming
it is logged and ignored until the owner declares without it."""

from __future__ import annotations

import logging

from contracts import CloudEvent
from contracts.counselling import SERVICE
from contracts.referrals import ReferralTopicsDeclared
from counselling import store
from im_runtime import UnitOfWork

log = logging.getLogger("im.counselling.topics")
CITY_TEAM = "city_team"  # counselling's own topics are answered by the city team


async def on_topics_declared(event: CloudEvent[ReferralTopicsDeclared],
                             uow: UnitOfWork) -> None:
    data, at = event.data, event.time.timestamp()
    if data.service != event.source:
        log.warning("topic declaration from another service's name ignored",
                    extra={"service": event.source, "claimed": data.service})
        return
    declared = set(data.topics)
    for doc in await uow.find(store.TOPICS, {"owner": data.service}):
        if doc["_id"] not in declared and doc["at"] <= at:  # withdrawn by a later start
            await uow.delete(store.TOPICS, doc["_id"])
    for topic in sorted(declared):
        held = await uow.get(store.TOPICS, topic)
        if held is not None and held["owner"] != data.service:
            log.warning("topic owned by another service", extra={
                "topic": topic, "owner": held["owner"], "claimed_by": data.service})
            continue
        if held is None or held["at"] <= at:  # an older declaration arriving late changes nothing
            uow.put(store.TOPICS, {"_id": topic, "owner": data.service,
                                   "version": data.version, "at": at})


async def owner_of(uow: UnitOfWork, topic: str) -> str | None:
    """The service that answers `topic` (`city_team` for counselling's own), or None."""
    doc = await uow.get(store.TOPICS, topic)
    if doc is None:
        return None
    return CITY_TEAM if doc["owner"] == SERVICE else str(doc["owner"])
