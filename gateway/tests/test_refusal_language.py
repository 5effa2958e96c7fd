"""Services speak English only; the dashboard says their refusals in the user's language.
Every message a service raises is checked for German (a mixed-language message would reach
an English user as it stands); every `refusal.*` the dashboard translates names a field or
rule a service really gives, in both dictionaries."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "gateway" / "src" / "gateway" / "web"
SOURCES = sorted([*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("gateway/src/gateway/*.py"),
                  *ROOT.glob("gateway/src/gateway/routes/*.py")])
# Umlauts, and German words that never occur in the English messages (the city's own
# proper names, such as "Kita", may).
GERMAN = re.compile(r"[äöüÄÖÜß]|\b(nicht|nur|kein|keine|bitte|schon|bereits|oder|und|der|die|"
                    r"das|ist|für|mit|Platz|Kurs|Wohnung|Betreiber|Träger|Standort|Bewohner|"
                    r"Antrag|Fehler|ungültig|fehlt|Auszug|Besichtigung|Warteliste|Begründung)\b")
# The Art. 15 export is a German document for the person, not a service's message.
DOCUMENTS = {"export_html.py"}


def raised_texts(path: Path) -> list[tuple[int, str]]:
    """The string parts of every `raise …(…)` in the file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and node.exc is not None:
            out += [(node.lineno, sub.value) for sub in ast.walk(node.exc)
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str)]
    return out


def test_the_scan_sees_the_services_messages():
    texts = [t for p in SOURCES for _, t in raised_texts(p)]
    assert len(texts) > 200 and any("is full" in t for t in texts)
    assert GERMAN.search("der Standort ist voll") and not GERMAN.search("site s1 is full")


def test_every_service_message_is_english():
    mixed = [f"{p.relative_to(ROOT)}:{line}: {text!r}" for p in SOURCES
             if p.name not in DOCUMENTS for line, text in raised_texts(p) if GERMAN.search(text)]
    assert not mixed, mixed


def test_every_translated_refusal_names_what_a_service_refuses():
    dicts = {lang: json.loads((WEB / "i18n" / f"{lang}.json").read_text()) for lang in ("en", "de")}
    keys = {k for k in dicts["en"] if k.startswith("refusal.")}
    assert keys == {k for k in dicts["de"] if k.startswith("refusal.")}
    source = "\n".join(p.read_text() for p in ROOT.glob("services/*/src/**/*.py"))
    said = set(re.findall(r'"(?:field|rule)": "(\w+)"', source))
    codes = {"bad_request", "conflict", "not_found", "forbidden"}
    for key in keys:
        parts = key.split(".")
        assert parts[-1] in said | codes, f"{key}: no service refuses {parts[-1]!r}"
        assert (ROOT / "services" / parts[1]).is_dir(), f"{key}: no service {parts[1]!r}"
        placeholders = set(re.findall(r"\{(\w+)\}", dicts["en"][key]))
        assert placeholders == set(re.findall(r"\{(\w+)\}", dicts["de"][key])), key
