"""Service plugins: found through the `im.services` entry-point group, or by a
`module:attribute` path (for services not installed as packages, such as test probes)."""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

from im_runtime.spec import ServiceSpec

GROUP = "im.services"
log = logging.getLogger("im.plugins")


class PluginError(LookupError):
    pass


def installed() -> dict[str, ServiceSpec]:
    """Every installed service; one that fails to load is logged and left out."""
    out: dict[str, ServiceSpec] = {}
    for ep in entry_points(group=GROUP):
        try:
            spec = ep.load()
        except Exception as exc:
            log.error("service plugin %s (%s) failed to load: %s", ep.name, ep.value, exc)
            continue
        if not isinstance(spec, ServiceSpec):
            log.error("entry point %s (%s) is not a ServiceSpec", ep.name, ep.value)
            continue
        out[spec.name] = spec
    return out


def load(name_or_path: str) -> ServiceSpec:
    if ":" in name_or_path:
        module, _, attr = name_or_path.partition(":")
        spec = getattr(importlib.import_module(module), attr)
        if not isinstance(spec, ServiceSpec):
            raise PluginError(f"{name_or_path} is not a ServiceSpec")
        return spec
    # Load only the one asked for: a broken plugin must not stop the others.
    eps = {ep.name: ep for ep in entry_points(group=GROUP)}
    if name_or_path not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise PluginError(f"no service named {name_or_path!r} is installed (installed: {known})")
    spec = eps[name_or_path].load()
    if not isinstance(spec, ServiceSpec):
        raise PluginError(f"entry point {name_or_path} is not a ServiceSpec")
    return spec
