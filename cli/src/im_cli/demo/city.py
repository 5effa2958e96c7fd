"""A deterministic city at the scale of Hannover's description: about two dozen communal
shelters and 160 apartments, 2,450 residents in households, 20 social workers (six at
the former Oststadtkrankenhaus), arrival courses, the parents' café with childcare at
Munzeler Straße, the employment programme (30 took part in phase 1, of whom 8 have
since been placed into a job, vocational training or an internship; 28 registered for
phase 2), the spring round of the integration course with its results, and some months
of operator counselling. Pure data: no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

RESIDENTS = 2_450
APARTMENTS = 160
STAFF = 20
PHASE_1_ACTIVE, PHASE_2_REGISTERED = 30, 28
MOVE_OUT_CASES, MOVED_OUT = 40, 12
# The integration course's spring round (finished in June): who took part, and of them
# who passed at B1 and who at A2 (the others did not pass).
SPRING_ROUND, SPRING_B1, SPRING_A2 = 20, 15, 3
TODAY = date(2026, 11, 2)
# Phase 1's placements so far (a placement completes the participation): about a quarter
# of its 30, as employment programmes for refugees report after ten months.
PLACED = (("job", 3), ("vocational_training", 3), ("internship", 2))
SECTORS = ("Pflege", "Logistik", "Gastronomie", "Handwerk", "Einzelhandel", "Reinigung")

OPERATORS = ("op-asb", "op-drk", "op-johanniter", "op-awo", "op-malteser", "op-diakonie")
# (id, name, district, capacity): the three the source names, and neighbours of theirs.
SHELTERS = (
    ("oststadtkrankenhaus", "Ehem. Oststadtkrankenhaus", "List", 260),
    ("schulzentrum-ahlem", "Schulzentrum Ahlem", "Ahlem", 210),
    ("munzeler-strasse", "Munzeler Straße", "Bothfeld-Vahrenheide", 120),
    ("podbielskistrasse", "Podbielskistraße", "List", 80), ("vahrenwald", "Vahrenwalder Str.",
    "Vahrenwald", 90), ("misburg", "Misburg Nord", "Misburg-Anderten", 70),
    ("badenstedt", "Badenstedt", "Ahlem-Badenstedt", 75), ("linden-sued", "Linden-Süd",
    "Linden-Limmer", 65), ("ricklingen", "Ricklingen", "Ricklingen", 70),
    ("buchholz", "Buchholz", "Buchholz-Kleefeld", 60), ("kleefeld", "Kleefeld",
    "Buchholz-Kleefeld", 55), ("sahlkamp", "Sahlkamp", "Bothfeld-Vahrenheide", 65),
    ("muehlenberg", "Mühlenberg", "Ricklingen", 60), ("bemerode", "Bemerode",
    "Kirchrode-Bemerode-Wülferode", 65), ("davenstedt", "Davenstedt", "Ahlem-Badenstedt", 55),
    ("nordstadt", "Nordstadt", "Nord", 60), ("stoecken", "Stöcken", "Herrenhausen-Stöcken", 65),
    ("herrenhausen", "Herrenhausen", "Herrenhausen-Stöcken", 50), ("doehren", "Döhren",
    "Döhren-Wülfel", 55), ("wuelfel", "Wülfel", "Döhren-Wülfel", 50), ("roderbruch",
    "Roderbruch", "Buchholz-Kleefeld", 60), ("gross-buchholz", "Groß-Buchholz",
    "Buchholz-Kleefeld", 50), ("mittelfeld", "Mittelfeld", "Döhren-Wülfel", 55),
    ("anderten", "Anderten", "Misburg-Anderten", 45),
)
GIVEN = ("Amal", "Omar", "Yusuf", "Layla", "Ahmad", "Fatima", "Olena", "Dmytro", "Iryna",
         "Maryam", "Hassan", "Zainab", "Samir", "Noor", "Yonas", "Senait", "Ali", "Hiba",
         "Mustafa", "Rana", "Kateryna", "Andrii", "Farid", "Shirin", "Reza", "Aziz", "Lina")
FAMILY = ("Haddad", "Karimi", "Hosseini", "Tesfaye", "Kovalenko", "Shevchenko", "Rahimi",
          "Al-Hassan", "Mahmoud", "Bondarenko", "Yilmaz", "Ahmadi", "Nasser", "Gebremedhin",
          "Qasemi", "Mansour", "Ibrahim", "Tkachenko", "Sultani", "Hamdan")
LANGUAGES = (["ar"], ["fa"], ["uk", "ru"], ["ti"], ["ku", "ar"], ["ps", "fa"], ["tr", "ku"])
STATUSES = ("asylum_pending", "recognised_refugee", "subsidiary_protection", "tolerated",
            "other_permit")
CATEGORIES = ("social_law", "authorities", "correspondence", "asylum_law", "children_youth",
              "health", "parenting_education", "life_conflict")


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    kind: str
    district: str
    capacity: int
    operator: str | None
    group: str


@dataclass(frozen=True)
class Person:
    id: str
    given: str
    family: str
    birth_year: int
    languages: list[str]
    status: str
    arrived: date


@dataclass
class Household:
    id: str
    members: list[Person]
    site: str = ""


@dataclass
class City:
    sites: list[Site] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    staff: list[tuple[str, str, list[str]]] = field(default_factory=list)
    courses: list[dict[str, object]] = field(default_factory=list)
    enrolments: list[tuple[str, str]] = field(default_factory=list)
    phase_1: list[str] = field(default_factory=list)
    phase_2: list[str] = field(default_factory=list)
    sessions: list[dict[str, object]] = field(default_factory=list)
    move_outs: list[str] = field(default_factory=list)  # households with a move-out case
    moved_out: list[str] = field(default_factory=list)  # of those, moved to a flat of their own
    # (course, resident, certificate level or None: not passed) of the finished courses
    results: list[tuple[str, str, str | None]] = field(default_factory=list)
    # phase 1's participants placed so far: resident, kind, sector, start, hours a week
    placements: list[tuple[str, str, str, date, float]] = field(default_factory=list)

    @property
    def residents(self) -> list[Person]:
        return [p for h in self.households for p in h.members]

    def site(self, site_id: str) -> Site:
        return next(s for s in self.sites if s.id == site_id)


def _people(rng: random.Random, n: int, start: int) -> list[Person]:
    family = rng.choice(FAMILY)
    langs = rng.choice(LANGUAGES)
    status = rng.choices(STATUSES, weights=(40, 35, 12, 8, 5))[0]
    arrived = TODAY - timedelta(days=rng.randint(30, 900))
    out = []
    for i in range(n):
        adult = i < min(2, n) if n > 2 else True
        year = rng.randint(1965, 2003) if adult else rng.randint(2008, 2024)
        out.append(Person(f"r-demo-{start + i:05d}", rng.choice(GIVEN), family, year,
                          list(langs), status, arrived))
    return out


def build(seed: int = 2450) -> City:
    rng = random.Random(seed)
    city = City()
    for i, (sid, name, district, cap) in enumerate(SHELTERS):
        city.sites.append(Site(sid, name, "shelter", district, cap, OPERATORS[i % 6],
                               f"g-{district.split('-')[0].lower()}"))
    districts = sorted({s.district for s in city.sites})
    for i in range(APARTMENTS):
        d = districts[i % len(districts)]
        city.sites.append(Site(f"apt-{i + 1:03d}", f"Wohnung {i + 1}", "apartment", d,
                               rng.choice((3, 4, 4, 5, 6)), None, f"g-{d.split('-')[0].lower()}"))
    n = 0
    while n < RESIDENTS:
        size = min(rng.choices((1, 2, 3, 4, 5, 6), weights=(22, 18, 20, 20, 12, 8))[0],
                   RESIDENTS - n)
        city.households.append(Household(f"h-demo-{len(city.households) + 1:04d}",
                                         _people(rng, size, n + 1)))
        n += size
    _place(rng, city)
    _deploy(city)
    _courses(rng, city)
    _spring_round(city)
    _placements(city)
    _sessions(rng, city)
    city.move_outs = [h.id for h in city.households if city.site(h.site).kind == "shelter"
                      ][:MOVE_OUT_CASES]
    city.moved_out = city.move_outs[:MOVED_OUT]
    return city


def _place(rng: random.Random, city: City) -> None:
    free = {s.id: s.capacity for s in city.sites}
    apartments = [s for s in city.sites if s.kind == "apartment"]
    shelters = [s for s in city.sites if s.kind == "shelter"]
    waiting = list(city.households)
    for apt in apartments:  # one household per apartment, the largest that fits
        fit = [h for h in waiting if 2 <= len(h.members) <= apt.capacity]
        if fit:
            h = max(fit, key=lambda h: (len(h.members), h.id))
            h.site = apt.id
            free[apt.id] -= len(h.members)
            waiting.remove(h)
    for h in waiting:
        site = max(shelters, key=lambda s: (free[s.id] / s.capacity, s.id))
        if free[site.id] < len(h.members):
            raise ValueError("the demo city does not fit its shelters")
        h.site = site.id
        free[site.id] -= len(h.members)


def _deploy(city: City) -> None:
    shelters = [s.id for s in city.sites if s.kind == "shelter"]
    for i in range(6):  # six at the former Oststadtkrankenhaus
        city.staff.append((f"sw-{i + 1:02d}", f"Sozialarbeit {i + 1}", ["oststadtkrankenhaus"]))
    rest = [s for s in shelters if s != "oststadtkrankenhaus"]
    for i in range(STAFF - 6):  # the others across neighbouring sites
        city.staff.append((f"sw-{i + 7:02d}", f"Sozialarbeit {i + 7}",
                           sorted({rest[i % len(rest)], rest[(i + 1) % len(rest)]})))


def _courses(rng: random.Random, city: City) -> None:
    starts, ends = date(2026, 9, 1), date(2027, 1, 29)
    for sid in ("oststadtkrankenhaus", "schulzentrum-ahlem", "munzeler-strasse", "misburg",
                "vahrenwald", "linden-sued"):
        city.courses.append({"course_id": f"ank-{sid}"[:64], "kind": "arrival_course",
                             "title": f"Ankommenskurs {city.site(sid).name}", "site_id": sid,
                             "capacity": 18, "childcare_places": 0, "starts": starts,
                             "ends": ends})
    city.courses.append({"course_id": "elterncafe-munzeler", "kind": "parents_cafe",
                         "title": "Elterncafé Munzeler Straße", "site_id": "munzeler-strasse",
                         "capacity": 16, "childcare_places": 10, "starts": starts, "ends": ends})
    for level in ("A1", "A2"):
        city.courses.append({"course_id": f"ik-{level.lower()}-vhs", "kind": "integration_course",
                             "level": level, "title": f"Integrationskurs {level}",
                             "site_id": None, "capacity": 40, "childcare_places": 0,
                             "starts": starts, "ends": ends})
    adults = [p for p in city.residents if p.birth_year <= 2004
              and p.status in ("recognised_refugee", "subsidiary_protection")]
    chosen = rng.sample(adults, PHASE_1_ACTIVE + PHASE_2_REGISTERED)
    city.phase_1 = [p.id for p in chosen[:PHASE_1_ACTIVE]]
    city.phase_2 = [p.id for p in chosen[PHASE_1_ACTIVE:]]
    for i, p in enumerate(chosen):  # the programme comes with a language course
        city.enrolments.append((f"ik-{'a1' if i % 2 else 'a2'}-vhs", p.id))
    by_site: dict[str, list[Person]] = {h.site: [] for h in city.households}
    for h in city.households:
        by_site[h.site].extend(p for p in h.members if p.birth_year <= 2004)
    for course in city.courses:
        if course["kind"] == "arrival_course" or course["kind"] == "parents_cafe":
            people = [p for p in by_site.get(str(course["site_id"]), []) if p not in chosen]
            for p in rng.sample(people, min(len(people), 22)):
                city.enrolments.append((str(course["course_id"]), p.id))


def _spring_round(city: City) -> None:
    """The integration course that ran from January to June: adults who arrived before it
    and take no other course now, with their results (a generator of its own, so the
    rest of the city stays as it was)."""
    rng = random.Random("integrationskurs-fruehjahr-2026")
    course, starts = "ik-b1-vhs-2026-1", date(2026, 1, 12)
    busy = {rid for _, rid in city.enrolments}
    adults = [p for p in city.residents if p.birth_year <= 2004 and p.id not in busy
              and p.arrived < starts]
    city.courses.append({"course_id": course, "kind": "integration_course", "level": "B1",
                         "title": "Integrationskurs B1 (Frühjahr)", "site_id": None,
                         "capacity": 25, "childcare_places": 0, "starts": starts,
                         "ends": date(2026, 6, 26), "status": "finished"})
    for i, p in enumerate(rng.sample(adults, SPRING_ROUND)):
        city.enrolments.append((course, p.id))
        level = "B1" if i < SPRING_B1 else "A2" if i < SPRING_B1 + SPRING_A2 else None
        city.results.append((course, p.id, level))


def _placements(city: City) -> None:
    """Who of phase 1 has been placed, into what, from when (a generator of its own, so
    the rest of the city stays as it was)."""
    rng = random.Random("beschaeftigung-vermittlungen-2026")
    kinds = [kind for kind, n in PLACED for _ in range(n)]
    for rid, kind in zip(rng.sample(city.phase_1, len(kinds)), kinds, strict=True):
        starts = date(2026, 3, 1) + timedelta(days=rng.randint(0, 220))
        hours = {"job": rng.choice((30.0, 35.0, 39.0)), "vocational_training": 39.0,
                 "internship": rng.choice((20.0, 25.0, 30.0))}[kind]
        city.placements.append((rid, kind, rng.choice(SECTORS), starts, hours))


def _sessions(rng: random.Random, city: City) -> None:
    sheltered = [(p, h.site) for h in city.households for p in h.members
                 if city.site(h.site).kind == "shelter" and p.birth_year <= 2006]
    for i in range(1_200):  # about four months of operator counselling
        p, site = rng.choice(sheltered)
        held = TODAY - timedelta(days=rng.randint(0, 120))
        city.sessions.append({
            "session_id": f"demo-s{i:05d}", "resident_id": p.id, "site_id": site,
            "operator": city.site(site).operator, "held_on": held,
            "category": rng.choices(CATEGORIES, weights=(20, 18, 22, 14, 8, 6, 6, 6))[0],
            "duration_minutes": rng.choice((20, 30, 45, 60)),
            "interpreter": rng.random() < 0.4, "counsellor": f"bc-{rng.randint(1, 30):02d}",
            "follow_up_on": held + timedelta(days=14) if rng.random() < 0.25 else None})
