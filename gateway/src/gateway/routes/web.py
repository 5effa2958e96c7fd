"""The dashboard: static files shipped in the package (gateway/web), no CDN and no build
step. The page itself needs no token; every API call it makes sends the user's bearer
token, so the API's guards decide what it shows."""

from __future__ import annotations

from pathlib import Path

from litestar import Response
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
PREFIX = "/dashboard"
# Everything from the gateway itself: the browser refuses any other origin.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def secure(response: Response) -> Response:  # type: ignore[type-arg]
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


dashboard_files = create_static_files_router(
    path=PREFIX, directories=[WEB_DIR], html_mode=True, name="dashboard",
    after_request=secure, cache_control=CacheControlHeader(no_cache=True))

ROUTES = [dashboard_files]
