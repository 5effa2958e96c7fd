"""Plans' part of the demo city (`im demo`, entry-point group `im.demo`): integration
plans for a realistic share of households, each goal linked to the facts the demo's own
services report. The demo's enrolments, its employment programme and its move-outs have
already happened when this runs, so plans starts with progress made: language courses
begun, the spring integration course's results (B1 reaches the language goal, an A2
certificate does its step), programme phases joined, the programme's placements (a job
or vocational training reaches the work goal, an internship does its step), a dozen
households moved into flats of their own. Kita places never come in the demo: those
goals stay open, and the overdue ones are on the worklists. Deterministic: the same city
gets the same plans, under fixed command ids."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from plans import contracts as c

# Households the city team has a plan with: every household in the employment programme
# or with a move-out case, and of the others about this share.
SHARE = 0.55
ADULT_BORN_BY, KITA_BORN_FROM = 2006, 2021


def _people(household: Any, born: Any) -> list[Any]:
    return [p for p in household.members if born(p.birth_year)]


def chosen(city: Any) -> list[Any]:
    rng = random.Random("plans-2450")
    always = (set(city.move_outs) | set(city.phase_1) | set(city.phase_2)
              | {rid for _, rid, _ in city.results})
    out = []
    for h in city.households:
        if not _people(h, lambda y: y <= ADULT_BORN_BY):
            continue
        if h.id in always or any(p.id in always for p in h.members) or rng.random() < SHARE:
            out.append(h)
    return out


def _staff(city: Any, site: str) -> str | None:
    return next((sid for sid, _, sites in city.staff if site in sites), None)


def plan_for(city: Any, h: Any, today: date) -> c.CreatePlan:
    rng = random.Random(h.id)
    worker = _staff(city, h.site)
    me = c.Responsible(party="social_worker", id=worker)
    set_on = min(min(p.arrived for p in h.members) + timedelta(days=rng.randint(20, 60)), today)
    adults = _people(h, lambda y: y <= ADULT_BORN_BY)
    in_programme = set(city.phase_1) | set(city.phase_2)
    goals: list[c.GoalIn] = []

    def goal(**kw: Any) -> None:
        goals.append(c.GoalIn(set_on=set_on, responsible=kw.pop("responsible", me), **kw))

    for adult in adults[:2]:
        goal(resident_id=adult.id, field="language", title="Deutsch B1 mit Zertifikat",
             due=set_on + timedelta(days=365), links=[
                 c.LinkIn(fact="language_course_completed", level="B1")],
             steps=[c.StepIn(title="Anmeldung Sprachkurs", responsible=me,
                             link=c.LinkIn(fact="language_course_enrolled")),
                    c.StepIn(title="Zertifikat A2", responsible=c.Responsible(
                        party="resident"), link=c.LinkIn(fact="language_course_completed",
                                                         level="A2"))])
        if adult.id in in_programme:
            # reached by a job or a vocational training; an internship is a step to it
            goal(resident_id=adult.id, field="work", title="Arbeit oder Ausbildung",
                 responsible=c.Responsible(party="provider", id="pro-beruf"),
                 due=set_on + timedelta(days=540),
                 links=[c.LinkIn(fact="placement", placement_kind="job"),
                        c.LinkIn(fact="placement", placement_kind="vocational_training")],
                 steps=[c.StepIn(title="Teilnahme am Beschäftigungsprogramm", responsible=me,
                                 link=c.LinkIn(fact="programme_joined")),
                        c.StepIn(title="Praktikum", responsible=c.Responsible(
                            party="provider", id="pro-beruf"),
                            link=c.LinkIn(fact="placement", placement_kind="internship"))])
    site = city.site(h.site)
    for kid in _people(h, lambda y: y >= KITA_BORN_FROM):
        goal(resident_id=kid.id, field="education", title="Kita-Platz",
             due=set_on + timedelta(days=120), links=[c.LinkIn(fact="kita_place_taken")],
             responsible=c.Responsible(party="operator", id=site.operator)
             if site.operator else me)
    if h.id in city.move_outs:
        goal(field="housing", title="Eigene Wohnung", due=set_on + timedelta(days=365),
             links=[c.LinkIn(fact="moved_out")],
             steps=[c.StepIn(title="Auszugsmanagement", responsible=me,
                             link=c.LinkIn(fact="move_out_case_opened"))])
    elif site.kind == "shelter" and adults[0].status != "asylum_pending":
        goal(field="housing", title="Wohnungssuche vorbereiten",
             steps=[c.StepIn(title="Wohnberechtigungsschein beantragen",
                             responsible=c.Responsible(party="resident"))])
    if adults[0].status == "asylum_pending":
        goal(resident_id=adults[0].id, field="authorities", title="Aufenthalt klären",
             due=set_on + timedelta(days=180),
             steps=[c.StepIn(title="Beratung Ausländer- und Asylrecht",
                             responsible=c.Responsible(party="operator", id=site.operator)
                             if site.operator else me)])
    if rng.random() < 0.3:
        goal(resident_id=adults[0].id, field="neighbourhood", title="Tandem im Stadtteil",
             links=[c.LinkIn(fact="tandem_started")])
    if rng.random() < 0.1:
        goal(resident_id=adults[-1].id, field="health", title="Hausärztliche Versorgung",
             due=set_on + timedelta(days=90),
             steps=[c.StepIn(title="Praxis gefunden", responsible=c.Responsible(
                 party="resident"))])
    consent = [c.ConsentIn(resident_id=a.id, given=True, on=set_on) for a in adults
               if rng.random() < 0.9]
    return c.CreatePlan(household_id=h.id, social_worker=worker, consent=consent,
                        goals=goals, next_review=today + timedelta(days=rng.randint(-30, 90)))


class Hook:
    """What `im demo` calls (see im_cli.demo.hooks)."""

    def size(self, city: Any) -> int:
        return len(chosen(city))

    async def seed(self, seeder: Any) -> None:
        # Plans must know the households (housing's events) before it plans for them.
        await seeder.settle([(c.SERVICE, "housing")])
        today = date.today()
        await seeder.each("plans: integration plans", (
            seeder.command(c.SERVICE, "create_plan", h.id, plan_for(seeder.city, h, today))
            for h in chosen(seeder.city)))


hook = Hook()
