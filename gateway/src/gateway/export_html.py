"""The access export (Art. 15 GDPR) as a page a person can read and print, in German or
English: one section per service, one table per document. Every value is escaped."""

from __future__ import annotations

import json
from html import escape
from typing import Any, Literal

Lang = Literal["de", "en"]

TEXT: dict[str, dict[str, str]] = {
    "de": {
        "title": "Auskunft über gespeicherte Daten (Art. 15 DSGVO)",
        "person": "Person (pseudonyme Kennung)", "made": "Erstellt am",
        "intro": "Diese Auskunft enthält alle Daten, die jeder Dienst der Plattform über "
                 "die Person gespeichert hat, sowie die Zugriffe auf diese Daten.",
        "missing": "Diese Dienste haben nicht rechtzeitig geantwortet; ihre Daten fehlen "
                   "hier:",
        "nothing": "Dieser Dienst hat keine Daten über die Person.",
        "field": "Feld", "value": "Wert", "documents": "Einträge",
        "gateway": "Zugriffe auf die Daten (Protokoll)",
    },
    "en": {
        "title": "Access to personal data (Art. 15 GDPR)",
        "person": "Person (pseudonymous id)", "made": "Made on",
        "intro": "This export holds all data each service of the platform keeps about the "
                 "person, and the reads of that data.",
        "missing": "These services did not answer in time; their data is missing here:",
        "nothing": "This service holds no data about the person.",
        "field": "Field", "value": "Value", "documents": "entries",
        "gateway": "Reads of the data (audit log)",
    },
}
STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
         "padding:0 1rem;color:#111}table{border-collapse:collapse;margin:.5rem 0 1rem;"
         "width:100%}th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left;"
         "vertical-align:top}th{background:#eee;width:14rem}"
         "@media print{section{break-inside:avoid}}")


def _value(value: Any) -> str:
    if isinstance(value, str):
        return escape(value)
    return escape(json.dumps(value, ensure_ascii=False, default=str))


def _document(doc: dict[str, Any], t: dict[str, str]) -> str:
    rows = "".join(f"<tr><th scope=\"row\">{escape(str(k))}</th><td>{_value(v)}</td></tr>"
                   for k, v in doc.items())
    return (f"<table><thead><tr><th scope=\"col\">{t['field']}</th>"
            f"<th scope=\"col\">{t['value']}</th></tr></thead><tbody>{rows}</tbody></table>")


def _section(name: str, section: dict[str, Any], t: dict[str, str]) -> str:
    heading = t["gateway"] if name == "gateway" else name
    parts = [f"<section aria-labelledby=\"s-{escape(name)}\"><h2 id=\"s-{escape(name)}\">"
             f"{escape(heading)}</h2>"]
    collections = section.get("collections") or {}
    if not collections:
        parts.append(f"<p>{t['nothing']}</p>")
    for collection, docs in sorted(collections.items()):
        parts.append(f"<h3>{escape(collection)} ({len(docs)} {t['documents']})</h3>")
        parts += [_document(d, t) for d in docs]
    parts.append("</section>")
    return "".join(parts)


def render(export: dict[str, Any], lang: Lang) -> str:
    t = TEXT[lang]
    missing = export.get("missing") or []
    body = [f"<h1>{t['title']}</h1>", f"<p>{t['intro']}</p>",
            f"<dl><dt>{t['person']}</dt><dd>{escape(export['resident_id'])}</dd>"
            f"<dt>{t['made']}</dt><dd>{escape(export['generated_at'])}</dd></dl>"]
    if missing:
        body.append(f"<p role=\"alert\">{t['missing']} {escape(', '.join(missing))}</p>")
    body += [_section(name, s, t) for name, s in sorted(export["sections"].items())]
    return (f"<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">"
            f"<title>{t['title']}</title><style>{STYLE}</style></head>"
            f"<body><main>{''.join(body)}</main></body></html>")
