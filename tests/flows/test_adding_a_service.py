"""README "Adding a service", followed for a throwaway service: a package with its own
contracts and one `ServiceSpec` in `plugin.py`, registered in the `im.services`
entry-point group (here by a dist-info folder, as installing the package would write
it), is listed by `im services` and `im services --routes` (with the runtime's own
erasure route), runs with `im run <name>`, answers its command and the scatter-gather
query, and consumes another service's events, with no other code changed."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import msgspec
import pytest
from pymongo import AsyncMongoClient

from contracts import subjects as subj
from contracts import wrap
from contracts.housing import SiteRegistered
from im_cli.testing import eventually

pytestmark = pytest.mark.flow
README = Path(__file__).resolve().parents[2] / "README.md"

FILES = {
    "throwaway/__init__.py": '"""A service added as the README says."""\n',
    "throwaway/contracts.py": '''
        from contracts import Command, EventData, Reply


        class Noted(EventData, tag="im.throwaway.noted.v1"):
            resident_id: str

            def resident_key(self) -> str | None:
                return self.resident_id


        class Note(Command):
            resident_id: str


        class NoteView(Reply):
            resident_id: str
            notes: int
        ''',
    "throwaway/commands.py": '''
        from im_runtime import UnitOfWork
        from throwaway.contracts import Note, Noted, NoteView


        async def note(cmd: Note, uow: UnitOfWork) -> NoteView:
            doc = await uow.get("notes", cmd.resident_id) or {"_id": cmd.resident_id, "n": 0}
            uow.put("notes", {**doc, "n": doc["n"] + 1})
            uow.emit(Noted(resident_id=cmd.resident_id))
            return NoteView(resident_id=cmd.resident_id, notes=doc["n"] + 1)
        ''',
    "throwaway/projection.py": '''
        from typing import Any

        from contracts import CloudEvent
        from im_runtime import UnitOfWork


        async def on_site_registered(event: CloudEvent[Any], uow: UnitOfWork) -> None:
            uow.put("sites", {"_id": event.data.site_id})
        ''',
    "throwaway/queries.py": '''
        from typing import Any

        from im_runtime import UnitOfWork


        async def city_stats(query: Any, uow: UnitOfWork) -> dict[str, Any]:
            return {"sites": await uow.count("sites", {})}
        ''',
    "throwaway/plugin.py": '''
        from contracts.housing import SiteRegistered
        from contracts.queries import CITY_STATS, GetCityStats
        from im_runtime import Answers, Handles, On, ServiceSpec
        from throwaway import commands, projection, queries
        from throwaway.contracts import Note, Noted, NoteView

        spec = ServiceSpec(
            name="throwaway", version="0.1.0",
            publishes=(Noted,),
            consumes=(On(SiteRegistered, handler=projection.on_site_registered),),
            commands=(Handles("note", Note, commands.note, NoteView),),
            queries=(Answers(CITY_STATS, GetCityStats, queries.city_stats),),
        )
        ''',
    # what installing the package writes: its entry point in the group `im.services`
    "throwaway-0.1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: throwaway\n"
                                           "Version: 0.1.0\n",
    "throwaway-0.1.0.dist-info/entry_points.txt": "[im.services]\n"
                                                   "throwaway = throwaway.plugin:spec\n",
}


def test_the_readme_names_the_steps_this_test_takes():
    text = README.read_text()
    section = text[text.index("## Adding a service"):text.index("## Upgrading a service")]
    for step in ('[project.entry-points."im.services"]', "ServiceSpec(", "publishes=",
                 "consumes=(On(", "commands=(Handles(", "queries=(Answers(", "im run",
                 "im services --routes", "plugin.py", "projection.py", "queries.py"):
        assert step in section, step


@pytest.fixture
def package(tmp_path: Path) -> str:
    for name, body in FILES.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body).lstrip())
    tests = Path(__file__).resolve().parents[1]
    return os.pathsep.join([str(tmp_path / "pkg"), str(tests),
                            os.environ.get("PYTHONPATH", "")])


def im(*args: str, pythonpath: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-m", "im_cli.main", *args], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": pythonpath, **env},
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


async def test_a_throwaway_service_added_as_the_readme_says(package, spawn, settings, nc,
                                                           test_id):
    routes = await asyncio.to_thread(im, "services", "--routes", pythonpath=package)
    mine = [line.split() for line in routes.splitlines() if line.startswith("throwaway ")]
    assert ["throwaway", "command", "im.cmd.throwaway.note", "throwaway.commands.note"] in [
        r[:4] for r in mine]
    assert any(r[2] == "im.evt.housing.site_registered" and r[4] == "throwaway__housing"
               for r in mine)
    assert any(r[2] == "im.evt.privacy.erasure_requested.*" for r in mine)  # the runtime's

    spawn("throwaway", PYTHONPATH=package)
    body = msgspec.json.encode({"resident_id": "r1", "command_id": "n1"})

    async def noted() -> Any:
        try:
            msg = await nc.request(subj.command("throwaway", "note"), body, timeout=2)
        except Exception:
            return None
        return msgspec.json.decode(msg.data)
    reply = await eventually(noted, timeout=60, interval=0.5)
    assert reply == {"status": "ok", "resident_id": "r1", "notes": 1}

    site = SiteRegistered(site_id=f"s-{test_id}", kind="shelter", name="Site",
                          district="Mitte", capacity=10)
    await nc.jetstream().publish(subj.event("housing", "site_registered"),
                                 msgspec.json.encode(wrap(site, source="housing")))

    client: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    try:  # (housing's stream is shared by the session's tests: other sites come too)
        sites = client[f"{settings.db_prefix}throwaway"]["sites"]
        assert await eventually(lambda: sites.find_one({"_id": site.site_id}), timeout=60)
    finally:
        await client.close()
    msg = await nc.request(subj.query_for("city_stats", "throwaway"), b"{}", timeout=5)
    assert msgspec.json.decode(msg.data)["section"]["sites"] >= 1  # answered from its data

    listed = await asyncio.to_thread(im, "services", "--timeout", "1", pythonpath=package,
                                     IM_NATS_URL=settings.nats_url)
    row = next(re.split(r"\s+", line.strip()) for line in listed.splitlines()
               if line.startswith("throwaway"))
    assert row[:4] == ["throwaway", "0.1.0", "1", "0.1.0"]  # installed and running
