"""Counselling's referrals with topic `volunteers`: a proposed match (a tandem) when a
volunteer fits the resident (district and a shared language), else an open request that
a volunteer with room takes later. The referral is answered with the shared contract
when the tandem is proposed (accepted) and when it starts (completed, `matching.py`)."""

from __future__ import annotations

from contracts import CloudEvent
from contracts.counselling import ReferralRequested
from im_runtime import UnitOfWork
from volunteers import store
from volunteers.contracts import SupportRequested
from volunteers.domain import offer_for
from volunteers.matching import candidate, derived_id, propose


async def on_referral_requested(event: CloudEvent[ReferralRequested], uow: UnitOfWork) -> None:
    ref = event.data  # a topic of TOPICS (the route's `where`, plugin.py)
    rid = derived_id("rq", ref.referral_id)
    if await uow.get(store.REQUESTS, rid) is not None:
        return  # answered already
    request = {"_id": rid, "resident_id": ref.resident_id, "referral_id": ref.referral_id,
               "operator_id": ref.operator_id, "site_id": ref.site_id, "open": True,
               "topic": ref.topic,
               "match_id": None, "requested_on": ref.requested_on.isoformat()}
    # The event's own date, not the clock: a replay decides as the live run did.
    volunteer = await candidate(uow, ref.resident_id, event.time.date())
    if volunteer is None:
        uow.put(store.REQUESTS, request)
        uow.emit(SupportRequested(resident_id=ref.resident_id, request_id=rid,
                                  referral_id=ref.referral_id))
    else:
        propose(uow, volunteer, ref.resident_id, offer_for(volunteer), derived_id("m", rid),
                request)
