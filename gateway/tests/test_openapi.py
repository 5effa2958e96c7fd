"""The API description types each named command route with its contracts (the command
less `actor` and the path parameters; the reply less its `status` tag), and what the
gateway takes and answers on those routes matches the description."""

from __future__ import annotations

from datetime import date
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gateway.openapi import contract, openapi_path, path_params
from gateway.routes.commands import NAMED
from im_runtime.plugins import installed

pytestmark = pytest.mark.integration
DOC = "urn:im:openapi"


def test_each_named_route_names_its_commands_contracts():
    specs = installed()
    for n in NAMED:
        handles = {h.name: h for h in specs[n.service].commands}[n.command]
        assert contract(n.contract) is handles.command, n.command
        assert contract(n.reply) is handles.reply, n.command


@pytest.fixture(scope="module")
async def api(stack) -> dict[str, Any]:
    gw, _ = stack
    r = await gw.client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def _validator(doc: dict[str, Any], *pointer: str) -> jsonschema.Draft202012Validator:
    """A validator for the schema at `pointer` inside the served document, its `$ref`s
    resolved in that document."""
    path = "/".join(p.replace("~", "~0").replace("/", "~1") for p in pointer)
    registry = Registry().with_resource(DOC, Resource.from_contents(
        doc, default_specification=DRAFT202012))
    return jsonschema.Draft202012Validator({"$ref": f"{DOC}#/{path}"}, registry=registry)


def _request(doc: dict[str, Any], route: str) -> jsonschema.Draft202012Validator:
    return _validator(doc, "paths", route, "post", "requestBody", "content",
                      "application/json", "schema")


def _reply(doc: dict[str, Any], route: str, status: str = "200") -> jsonschema.Validator:
    return _validator(doc, "paths", route, "post", "responses", status, "content",
                      "application/json", "schema")


async def test_every_named_route_documents_request_reply_and_refusals(api):
    for n in NAMED:
        op = api["paths"][openapi_path(n.path)]["post"]
        body = op["requestBody"]["content"]["application/json"]["schema"]
        fields = set(body["properties"])
        assert "actor" not in fields and not fields & set(path_params(n.path))
        wanted = set(contract(n.contract).__struct_fields__) - {"actor", *path_params(n.path)}
        assert fields == wanted, n.command
        reply = op["responses"]["200"]["content"]["application/json"]["schema"]
        assert set(reply["properties"]) == set(contract(n.reply).__struct_fields__)
        assert {"400", "403", "409", "503"} <= set(op["responses"])
        _request(api, openapi_path(n.path))  # every $ref resolves
    register = api["paths"]["/api/v1/residents"]["post"]["requestBody"]
    required = register["content"]["application/json"]["schema"]["required"]
    assert {"given_name", "family_name", "birth_year"} <= set(required)


async def test_what_the_routes_take_and_answer_is_what_the_schema_says(stack, api):
    gw, city = stack
    resident = {"given_name": "Leyla", "family_name": "Karimi", "birth_year": 1993,
                "languages": ["fa"], "residence_status": "asylum_pending",
                "arrival_date": "2025-06-01"}
    _request(api, "/api/v1/residents").validate(resident)
    r = await gw.post("/api/v1/residents", resident)
    assert r.status_code == 200, r.text
    _reply(api, "/api/v1/residents").validate(r.json())
    household = r.json()["household_id"]
    route = "/api/v1/households/{household_id}/placement"
    placement = {"site_id": city.site, "on": date.today().isoformat()}
    _request(api, route).validate(placement)
    r = await gw.post(f"/api/v1/households/{household}/placement", placement)
    assert r.status_code == 200, r.text
    _reply(api, route).validate(r.json())


async def test_a_body_the_schema_refuses_is_refused_with_the_documented_error(stack, api):
    gw, _ = stack
    bad = {"given_name": "Leyla", "family_name": "Karimi", "birth_year": "long ago",
           "residence_status": "asylum_pending", "arrival_date": "2025-06-01"}
    errors = list(_request(api, "/api/v1/residents").iter_errors(bad))
    assert [e.path[-1] for e in errors] == ["birth_year"]
    r = await gw.post("/api/v1/residents", bad)
    assert r.status_code == 400
    _reply(api, "/api/v1/residents", "400").validate(r.json())
    assert "birth_year" in r.text
