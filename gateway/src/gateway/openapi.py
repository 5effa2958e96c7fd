"""The API description with the contracts' types on the named command routes.

Those routes take their body as a free JSON object (the owning service validates it
strictly and the gateway names the refused field), so Litestar would describe every body
as `object`. Here each named route's request body becomes its command's JSON Schema (less
`actor`, which the gateway sets, and the path parameters, which it fills in), its 200
answer the command's reply (less the reply's `status` tag, which the gateway drops) and
its refusals the shared error body. The schemas come from msgspec, as the bus's AsyncAPI
document's do (`contracts.payloads`)."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import re
from typing import Any

from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import OpenAPI

from contracts.payloads import Schemas
from gateway.routes.commands import NAMED, Named
from gateway.schemas import ErrorBody

PREFIX = "contracts."
ERROR = f"{PREFIX}ErrorBody"
REFUSALS = {"400": "the body breaks the contract (`details.field` names the field)",
            "401": "no valid token", "403": "the role or the actor's sites do not allow it",
            "404": "no such record", "409": "the service refuses it in its current state",
            "503": "the owning service is not running or did not answer in time"}


def contract(name: str) -> type[Any]:
    """`housing_commands.RegisterResident` -> the class in contracts."""
    module, _, cls = name.rpartition(".")
    found: type[Any] = getattr(importlib.import_module(f"contracts.{module}"), cls)
    return found


def path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)(?::\w+)?}", path)


def openapi_path(path: str) -> str:
    return re.sub(r"{(\w+):\w+}", r"{\1}", path)


def _without(schema: dict[str, Any], drop: set[str]) -> dict[str, Any]:
    out = copy.deepcopy(schema)
    out["properties"] = {k: v for k, v in out.get("properties", {}).items() if k not in drop}
    if required := [r for r in out.get("required", []) if r not in drop]:
        out["required"] = required
    else:
        out.pop("required", None)
    return out


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def typed(doc: dict[str, Any], named: tuple[Named, ...] = NAMED) -> dict[str, Any]:
    """`doc` (Litestar's rendered document) with the named routes' bodies typed."""
    types = [contract(c) for n in named for c in (n.contract, n.reply) if c]
    schemas = Schemas([*types, ErrorBody], discriminator_object=True, prefix=PREFIX)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    components.update({f"{PREFIX}{k}": v for k, v in schemas.components.items()})
    for n in named:
        op = doc["paths"][openapi_path(n.path)]["post"]
        request = schemas.resolve(contract(n.contract))
        op["requestBody"] = {"required": True, **_json(
            _without(request, {"actor", *path_params(n.path)}))}
        answer = {"description": f"the {n.service} service's answer"}
        if n.reply:
            answer |= _json(_without(schemas.resolve(contract(n.reply)), {"status"}))
        op["responses"] = {"200": answer,
                           **{code: {"description": why,
                                     **_json({"$ref": f"#/components/schemas/{ERROR}"})}
                              for code, why in REFUSALS.items()}}
    return doc


class TypedOpenAPI(OpenAPI):
    def to_schema(self) -> dict[str, Any]:
        return typed(super().to_schema())


@dataclasses.dataclass
class TypedOpenAPIConfig(OpenAPIConfig):
    """Litestar's config, building the typed document (`to_schema` is what is served)."""

    def to_openapi_schema(self) -> OpenAPI:
        base = super().to_openapi_schema()
        return TypedOpenAPI(**{f.name: getattr(base, f.name)
                               for f in dataclasses.fields(base)})
