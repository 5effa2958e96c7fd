"""Dashboard pages that plugin services ship themselves, so that adding a service with
pages changes no gateway file.

A service package with pages names a folder of its own in the entry-point group `im.web`
(`<service> = "<package>.web"`: a package whose folder holds `pages.js` and
`i18n/<lang>.json`).
The gateway serves each such folder's scripts, dictionaries and styles under
`/dashboard/plugins/<service>/` with the dashboard's own headers, and lists at
`GET /api/v1/web/plugins` those whose service is running now; the dashboard imports each
listed module, which adds its pages, navigation links and sections (`web/plugins.js`)."""

from __future__ import annotations

import logging
import re
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

from gateway.auth import ANY_ROLE
from gateway.directory import Directory
from gateway.routes.web import PREFIX, secure

log = logging.getLogger("im.gateway")
GROUP = "im.web"
MODULE = "pages.js"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Only what a page needs leaves the folder (never its Python files).
TYPES = {".js": "text/javascript", ".json": "application/json", ".css": "text/css"}


def installed() -> dict[str, Path]:
    """Service name -> the folder of its pages, for every installed package that has some."""
    found: dict[str, Path] = {}
    for ep in entry_points(group=GROUP):
        try:
            folder = Path(ep.load().__file__).parent
        except Exception as exc:  # a broken plugin must not stop the dashboard
            log.warning("pages of %s not loaded: %s", ep.name, exc)
            continue
        if not NAME.match(ep.name) or not (folder / MODULE).is_file():
            log.warning("pages of %s not loaded: no %s in %s", ep.name, MODULE, folder)
            continue
        found[ep.name] = folder
    return found


def base(service: str) -> str:
    return f"{PREFIX}/plugins/{service}/"


@get(f"{PREFIX}/plugins/{{service:str}}/{{file:path}}", include_in_schema=False,
     cache_control=None)
async def plugin_file(service: FromPath[str], file: FromPath[str], state: State) -> Response[Any]:
    folder: Path | None = state.pages.get(service)
    if folder is None:
        raise NotFoundException(f"no pages of {service}")
    path = (folder / file.lstrip("/")).resolve()
    if path.suffix not in TYPES or not path.is_relative_to(folder) or not path.is_file():
        raise NotFoundException(f"no {file} in the pages of {service}")
    response: Response[Any] = File(path, media_type=TYPES[path.suffix],
                                   content_disposition_type="inline")
    response.headers["Cache-Control"] = "no-cache"
    return secure(response)


@get("/api/v1/web/plugins", tags=["services"], guards=[ANY_ROLE],
     summary="The dashboard pages of the plugin services running now")
async def list_pages(state: State) -> dict[str, list[dict[str, str]]]:
    directory: Directory = state.directory
    await directory.ready(state.discovery_timeout)
    return {"items": [{"service": name, "module": f"{base(name)}{MODULE}",
                       "i18n": f"{base(name)}i18n/"}
                      for name in sorted(state.pages) if directory.knows(name)]}


ROUTES = [plugin_file, list_pages]
