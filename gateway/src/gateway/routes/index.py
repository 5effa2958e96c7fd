"""GET / opens the dashboard (the URL `make run` prints); GET /api lists where the API is."""

from __future__ import annotations

from litestar import get
from litestar.response import Redirect

from gateway.routes.web import PREFIX
from gateway.schemas import Index


@get("/", tags=["operations"], include_in_schema=False)
async def home() -> Redirect:
    return Redirect(f"{PREFIX}/", status_code=302)


@get("/api", tags=["operations"], summary="Links to the API, its schema, health and sign-in")
async def index() -> Index:
    return Index(name="im-gateway", links={
        "dashboard": f"{PREFIX}/", "health": "/health", "services": "/api/v1/services",
        "openapi": "/schema", "login": "/api/auth/login"})
