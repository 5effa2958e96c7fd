"""Service plugins: found through the `im.services` entry-point group, or by a
`module:attribute` path (for services not installed as packages, such as test probes)."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from im_runtime.spec import ServiceSpec

GROUP = "im.services"


class PluginError(LookupError):
    pass


def installed() -> dict[str, ServiceSpec]:
    out: dict[str, ServiceSpec] = {}
    for ep in entry_points(group=GROUP):
        spec = ep.load()
        if not isinstance(spec, ServiceSpec):
            raise PluginError(f"entry point {ep.name} ({ep.value}) is not a ServiceSpec")
        out[spec.name] = spec
    return out


def load(name_or_path: str) -> ServiceSpec:
    if ":" in name_or_path:
        module, _, attr = name_or_path.partition(":")
        spec = getattr(importlib.import_module(module), attr)
        if not isinstance(spec, ServiceSpec):
            raise PluginError(f"{name_or_path} is not a ServiceSpec")
        return spec
    found = installed()
    if name_or_path not in found:
        known = ", ".join(sorted(found)) or "none"
        raise PluginError(f"no service named {name_or_path!r} is installed (installed: {known})")
    return found[name_or_path]
