"""The demo city's plan: the seed's figures, deterministic, and it fits its sites."""

from collections import Counter

import pytest

from im_cli.demo.city import build

pytestmark = pytest.mark.unit


def test_the_plan_has_the_scale_of_hannovers_description():
    city = build()
    kinds = Counter(s.kind for s in city.sites)
    assert kinds == {"shelter": 24, "apartment": 160}
    assert len(city.residents) == 2_450
    assert {"oststadtkrankenhaus", "schulzentrum-ahlem", "munzeler-strasse"} <= {
        s.id for s in city.sites}
    assert len(city.staff) == 20
    assert sum(1 for _, _, sites in city.staff if sites == ["oststadtkrankenhaus"]) == 6
    assert (len(city.phase_1), len(city.phase_2)) == (30, 28)
    # about a quarter of phase 1 placed so far, each once, none of phase 2 (not yet active)
    placed = [rid for rid, *_ in city.placements]
    assert len(placed) == len(set(placed)) == 8 and set(placed) <= set(city.phase_1)
    assert Counter(kind for _, kind, *_ in city.placements) == {
        "job": 3, "vocational_training": 3, "internship": 2}
    assert any(c["kind"] == "parents_cafe" and c["site_id"] == "munzeler-strasse"
               and c["childcare_places"] for c in city.courses)
    assert len(city.sessions) == 1_200
    shelters = {s.id for s in city.sites if s.kind == "shelter"}
    assert len(city.move_outs) == 40 and city.moved_out == city.move_outs[:12]
    assert {h.site for h in city.households if h.id in city.move_outs} <= shelters
    # the spring integration course has ended: each participant's one course, a result each
    assert Counter(level for _, _, level in city.results) == {"B1": 15, "A2": 3, None: 2}
    taking = Counter(rid for _, rid in city.enrolments)
    assert all(taking[rid] == 1 for _, rid, _ in city.results)


def test_every_household_fits_where_it_is_placed():
    city = build()
    used = Counter()
    for h in city.households:
        used[h.site] += len(h.members)
    assert all(used[s.id] <= s.capacity for s in city.sites)
    assert sum(used.values()) == 2_450


def test_the_plan_is_the_same_every_time():
    a, b = build(), build()
    assert [h.members for h in a.households] == [h.members for h in b.households]
    assert a.sessions == b.sessions and a.placements == b.placements
