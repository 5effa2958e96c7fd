"""F5: a poison message that ends the process (`os._exit` in its handler), among others
in the same batch, with the service restarted by the supervisor `im up` uses."""

from __future__ import annotations

import sys
from typing import Any

import msgspec
import pytest

from contracts import subjects as subj
from contracts.platform import DeadLetter
from faults.harness import PROBE, Stage, report
from im_cli.embedded import free_port
from im_cli.supervisor import Backoff, Supervisor

pytestmark = [pytest.mark.faults, pytest.mark.stage(max_deliver=3, ack_wait=2.0)]


async def test_poison_is_dead_lettered_after_max_deliver_restarts(stage: Stage) -> None:
    nc = await stage.connect()
    js = nc.jetstream()
    await stage.declare(nc)
    sup = Supervisor(Backoff(initial=0.2, cap=1.0))
    stage.health["probe"] = port = free_port()
    sup.add("probe", [sys.executable, "-m", "im_cli.main", "run", PROBE],
            env=stage.env(IM_HEALTH_PORT=str(port)), log_path=stage.root / "probe.log")
    await sup.start()
    try:
        await stage.until_ready("probe")
        # 40 pings in one batch, the 8th poison: the rest must be handled, not dropped.
        await stage.send(js, 40, residents=5, poison={7})
        figures = await stage.drained(js, 39, timeout=60)
        letter = await first_dead_letter(js)
        restarts = sup.child("probe").restarts
        figures.extra.update(restarts=restarts, max_deliver=stage.max_deliver,
                             reason=letter.reason if letter else None)
        report("F5 poison message", figures)
        assert letter is not None and letter.reason.startswith("died: ")
        assert msgspec.json.decode(letter.body)["id"] == "ping-7"
        assert figures.dead_letters == 1
        assert (figures.effects, figures.emitted, figures.lost) == (39, 39, 0)
        assert 1 <= restarts <= stage.max_deliver
    finally:
        await sup.stop()
        await nc.close()


async def first_dead_letter(js: Any) -> DeadLetter | None:
    try:
        dlq = await js.subscribe(subj.dead_letters_of("probe"), ordered_consumer=True)
        msg = await dlq.next_msg(timeout=5)
    except Exception:
        return None
    await dlq.unsubscribe()
    return msgspec.json.decode(msg.data, type=DeadLetter)
