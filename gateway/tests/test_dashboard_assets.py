"""The dashboard's files: served by the gateway with a policy that allows nothing from
another origin, referring to nothing outside the package, and with both dictionaries
complete."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest
from litestar.testing import TestClient

from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.routes.web import WEB_DIR
from im_runtime.settings import Settings

pytestmark = pytest.mark.unit

SOURCES = sorted(p for p in WEB_DIR.rglob("*") if p.suffix in {".html", ".js", ".css"})


def dictionary(lang: str) -> dict[str, str]:
    return json.loads((WEB_DIR / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"""\bt\(\s*"([\w.]+)"(?=[,)\s])""", text))
        keys |= set(re.findall(r'data-i18n="([\w.]+)"', text))
    return keys


def test_both_dictionaries_have_the_same_keys_and_every_key_the_page_uses():
    en, de = dictionary("en"), dictionary("de")
    assert set(en) == set(de)
    assert used_keys() - set(en) == set()
    assert all(v.strip() for v in (*en.values(), *de.values()))
    assert sum(en[k] != de[k] for k in en) > len(en) * 0.8  # really translated


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_asset_comes_from_elsewhere(path: Path):
    text = path.read_text(encoding="utf-8")
    external = [u for u in re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", text)
                if not u.startswith("http://www.w3.org/2000/svg")]
    assert external == []
    assert "@import" not in text


def test_the_gateway_serves_the_dashboard_with_a_strict_policy(tmp_path):
    settings = Settings(nats_url="nats://127.0.0.1:1", mongo_url="mongodb://127.0.0.1:1")
    app = create_app(settings, GatewayConfig(key=secrets.token_bytes(32)), connect_wait=0.01)
    with TestClient(app) as client:
        page = client.get("/dashboard/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "default-src 'none'" in page.headers["content-security-policy"]
        for src in re.findall(r'(?:src|href)="(/dashboard/[^"]+)"', page.text):
            assert client.get(src).status_code == 200, src
        js = client.get("/dashboard/app.js")
        assert "javascript" in js.headers["content-type"]
        assert client.get("/dashboard/i18n/de.json").json()["nav.overview"] == "Stadtübersicht"
        assert client.get("/dashboard/../keys.py").status_code == 404
