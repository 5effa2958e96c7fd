"""Pages that plugin services ship (the `im.web` entry point): found among the installed
packages, served under /dashboard/plugins/<service>/ with the dashboard's policy (scripts,
dictionaries and styles only, nothing outside the folder), and listed for the dashboard
only while their service runs."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest
from litestar.testing import TestClient

from gateway.app import create_app
from gateway.auth import Tokens
from gateway.config import GatewayConfig
from gateway.routes.plugin_pages import installed
from gateway.routes.web import WEB_DIR
from im_runtime.settings import Settings

pytestmark = pytest.mark.unit
KEY = secrets.token_bytes(32)


def app_without_bus() -> TestClient:  # type: ignore[type-arg]
    settings = Settings(nats_url="nats://127.0.0.1:1", mongo_url="mongodb://127.0.0.1:1")
    return TestClient(create_app(settings, GatewayConfig(key=KEY), connect_wait=0.01,
                                 discovery_timeout=0.05))


def test_the_installed_plans_service_ships_pages():
    pages = installed()
    assert (pages["plans"] / "pages.js").is_file()
    assert {p.name for p in (pages["plans"] / "i18n").glob("*.json")} == {"de.json", "en.json"}


def test_a_plugins_files_are_served_with_the_dashboards_policy():
    with app_without_bus() as client:
        js = client.get("/dashboard/plugins/plans/pages.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert "default-src 'none'" in js.headers["content-security-policy"]
        assert js.headers["x-content-type-options"] == "nosniff"
        de = client.get("/dashboard/plugins/plans/i18n/de.json")
        assert de.status_code == 200 and de.json()["plans.nav"]
        for path in ("/dashboard/plugins/plans/__init__.py",  # never its Python files
                     "/dashboard/plugins/plans/../plugin.py",
                     "/dashboard/plugins/plans/%2e%2e/plugin.py",
                     "/dashboard/plugins/plans/nothing.js",
                     "/dashboard/plugins/nobody/pages.js"):
            assert client.get(path).status_code == 404, path
        # the dashboard's own files are still there
        assert client.get("/dashboard/app.js").status_code == 200


def test_the_list_needs_a_session_and_names_only_running_services():
    with app_without_bus() as client:
        assert client.get("/api/v1/web/plugins").status_code == 401
        token = Tokens(KEY).mint(role="auditor", subject="au-1")
        r = client.get("/api/v1/web/plugins", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json() == {"items": []}  # no bus: nothing runs


def plugin_sources() -> list[Path]:
    return sorted(p for p in installed()["plans"].rglob("*") if p.suffix == ".js")


def test_a_plugins_dictionaries_are_complete_and_take_no_assets_from_elsewhere():
    folder = installed()["plans"]
    en, de = (json.loads((folder / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
              for lang in ("en", "de"))
    own = json.loads((WEB_DIR / "i18n" / "en.json").read_text(encoding="utf-8"))
    assert set(en) == set(de) and all(v.strip() for v in (*en.values(), *de.values()))
    used: set[str] = set()
    for path in plugin_sources():
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\bt\(\s*"([\w.]+)"(?=[,)\s])""", text))
        assert not re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", text), path
        # the dashboard's modules by their one URL, so that both share one instance
        for imported in re.findall(r'from "([^"]+)"', text):
            assert imported.startswith(("/dashboard/", "./")), (path, imported)
    assert used - set(en) - set(own) == set()
