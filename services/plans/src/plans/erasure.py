"""Erasing one resident from plans (GDPR Art. 17, § 84 SGB X). The household's plan stays
(it is the other members' too): the resident's own goals become anonymous stand-ins that
keep only their field, status and dates (title, note and steps' titles go), so the city's
figures do not change; links about the resident and the facts seen about them go, and
their consent is kept as a count only. The resident leaves the household's members."""

from __future__ import annotations

from typing import Any

from im_runtime import UnitOfWork
from im_runtime.anonymous import stand_in_id
from im_runtime.spec import Erased
from im_runtime.unit_of_work import clone
from plans import ledger, store


def _anonymise(goal: dict[str, Any], person: str) -> None:
    goal.update(resident_id=person, title="-", note=None, anonymised=True)
    for step in goal["steps"]:
        step["title"] = "-"


async def _plan(uow: UnitOfWork, plan_id: str, resident_id: str, person: str,
                done: Erased) -> None:
    plan = await uow.get(store.PLANS, plan_id)
    if plan is None:
        return
    before = clone(plan)
    for goal in plan["goals"]:
        if goal["resident_id"] == resident_id:
            _anonymise(goal, person)
        for link in goal["links"]:
            if link["subject"] == resident_id:
                link.update(subject=person, key=store.fact_key(link["fact"], person))
                await uow.delete(store.LINKS, link["link_id"])
    if resident_id in plan["consent"]:
        plan["consent"][person] = plan["consent"].pop(resident_id)
    if plan != before:
        uow.put(store.PLANS, plan)
        await ledger.record(uow, before, plan)
        done.count(store.PLANS, anonymised=True)


async def erase(resident_id: str, uow: UnitOfWork) -> Erased:
    done = Erased()
    person = stand_in_id()
    resident = await uow.get(store.RESIDENTS, resident_id)
    if resident is not None:
        await uow.delete(store.RESIDENTS, resident_id)
        done.count(store.RESIDENTS)
        household = await uow.get(store.HOUSEHOLDS, resident["household_id"])
        if household is not None:
            for plan in await uow.find(store.PLANS, {"household_id": household["_id"]}):
                await _plan(uow, plan["_id"], resident_id, person, done)
            household["members"] = [m for m in household["members"] if m != resident_id]
            uow.put(store.HOUSEHOLDS, household)
            done.count(store.HOUSEHOLDS, anonymised=True)
    for fact in await uow.find(store.FACTS, {"subject": resident_id}):
        await uow.delete(store.FACTS, fact["_id"])
        done.count(store.FACTS)
    await _staff(uow, resident_id, done)
    return done


async def _staff(uow: UnitOfWork, staff_id: str, done: Erased) -> None:
    """An erased social worker (a staff member, not a resident): her deployment goes and
    her plans go back to their site's worklist, with nobody named."""
    if await uow.get(store.STAFF, staff_id) is not None:
        await uow.delete(store.STAFF, staff_id)
        done.count(store.STAFF)
    for plan in await uow.find(store.PLANS, {"social_worker": staff_id}):
        before = clone(plan)
        plan["social_worker"] = None
        uow.put(store.PLANS, plan)
        await ledger.record(uow, before, plan)
        done.count(store.PLANS, anonymised=True)
    if await uow.get(store.WORKLISTS, store.worker_list(staff_id)) is not None:
        await uow.delete(store.WORKLISTS, store.worker_list(staff_id))
        done.count(store.WORKLISTS)
