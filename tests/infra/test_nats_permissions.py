"""NATS accounts and permissions (im_cli.natsauth) against a real nats-server started with
the generated configuration: operators, services, the gateway, anonymous access."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest

from contracts import subjects as subj
from im_cli import natsauth
from im_cli.embedded import NatsServer, free_port
from im_runtime import streams
from im_runtime.plugins import installed
from im_runtime.privacy import effective
from im_runtime.service import consumer_filters
from im_runtime.settings import inbox_prefix

ROOT = Path(__file__).resolve().parents[2]
OPS = ["op-a", "op-b"]


@pytest.fixture(scope="module")
def secured(
        tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[NatsServer, natsauth.Embedded]]:
    work = tmp_path_factory.mktemp("nats-auth")
    auth = natsauth.embedded(work, installed(), OPS)
    server = NatsServer(port=free_port(), workdir=work / "nats", config_extra=auth.config)
    server.start()
    yield server, auth
    server.stop()


class Conn:
    def __init__(self, nc: nats.NATS, errors: list[str]) -> None:
        self.nc, self.errors = nc, errors
        self.js = nc.jetstream()


async def connect(server: NatsServer, auth: natsauth.Embedded, user: str) -> Conn:
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(server.url, user=user, password=auth.passwords[user],
                            error_cb=on_error, allow_reconnect=False,
                            inbox_prefix=inbox_prefix(user))
    return Conn(nc, errors)


@pytest.fixture
async def admin(secured) -> AsyncIterator[Conn]:  # type: ignore[no-untyped-def]
    server, auth = secured
    c = await connect(server, auth, natsauth.ADMIN)
    await streams.ensure(c.js, streams.ops_stream(1, 600.0))
    await natsauth.provision(c.nc, OPS)
    yield c
    await c.nc.close()


async def messages(admin: Conn, stream: str, subject: str) -> int:
    info = await admin.js.stream_info(stream, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


@pytest.mark.integration
async def test_anonymous_and_wrong_password_are_refused(secured) -> None:  # type: ignore[no-untyped-def]
    server, auth = secured
    with pytest.raises(Exception, match="Authorization Violation"):
        await asyncio.wait_for(nats.connect(server.url, allow_reconnect=False,
                                            connect_timeout=2), 5)
    with pytest.raises(Exception, match="Authorization Violation"):
        await asyncio.wait_for(nats.connect(server.url, user="operator-op-a",
                                            password=auth.passwords["operator-op-b"],
                                            allow_reconnect=False, connect_timeout=2), 5)
    assert "no_auth_user:" not in auth.config


@pytest.mark.integration
async def test_operator_publishes_only_as_itself(secured, admin: Conn) -> None:  # type: ignore[no-untyped-def]
    server, auth = secured
    a = await connect(server, auth, natsauth.operator_user("op-a"))
    try:
        own = subj.operator_event("op-a", "session_recorded", "r-1")
        ack = await a.js.publish(own, b"{}", headers={"Nats-Msg-Id": "own-1"})
        assert ack.stream == subj.OPS_STREAM
        other = subj.operator_event("op-b", "session_recorded", "r-1")
        before = await messages(admin, subj.OPS_STREAM, "im.ops.op-b.>")
        with pytest.raises(nats.errors.TimeoutError):  # no ack: the server dropped it
            await a.js.publish(other, b"{}", timeout=1)
        await a.nc.publish(other, b"{}")  # core publish, no ack asked for
        await a.nc.flush()
        await asyncio.sleep(0.2)
        assert await messages(admin, subj.OPS_STREAM, "im.ops.op-b.>") == before
        assert any("permissions violation" in e and "im.ops.op-b" in e for e in a.errors)
        # Nor anyone's events, commands or feedback.
        for subject in ("im.evt.housing.resident_registered.r-1", "im.fb.op-a.x.r-1",
                        "im.cmd.housing.register_site"):
            await a.nc.publish(subject, b"{}")
        await a.nc.flush()
        await asyncio.sleep(0.2)
        assert sum("permissions violation" in e for e in a.errors) >= 5
    finally:
        await a.nc.close()


@pytest.mark.integration
async def test_operator_reads_only_its_own_feedback(secured, admin: Conn) -> None:  # type: ignore[no-untyped-def]
    server, auth = secured
    await admin.js.publish(subj.feedback("op-a", "referral_accepted", "r-a"), b"for a")
    await admin.js.publish(subj.feedback("op-b", "referral_accepted", "r-b"), b"for b")
    a = await connect(server, auth, natsauth.operator_user("op-a"))
    try:
        mine = await a.js.pull_subscribe_bind(durable=natsauth.feedback_consumer("op-a"),
                                              stream=subj.FEEDBACK_STREAM)
        got = await mine.fetch(100, timeout=2)
        assert got and {m.subject.split(".")[2] for m in got} == {"op-a"}
        assert b"for a" in [m.data for m in got]
        for m in got:
            await m.ack()
        # B's consumer: the fetch is refused.
        theirs = await a.js.pull_subscribe_bind(durable=natsauth.feedback_consumer("op-b"),
                                                stream=subj.FEEDBACK_STREAM)
        with pytest.raises(nats.errors.TimeoutError):
            await theirs.fetch(1, timeout=1)
        # Its own consumer cannot be re-pointed at B's subjects, nor a new one made.
        with pytest.raises(nats.errors.TimeoutError):
            await a.js.add_consumer(subj.FEEDBACK_STREAM, durable_name="fb_op-a",
                                    filter_subject="im.fb.op-b.>", timeout=1)
        with pytest.raises(nats.errors.TimeoutError):  # an ephemeral consumer: no API for it
            await a.nc.request(f"$JS.API.CONSUMER.CREATE.{subj.FEEDBACK_STREAM}",
                               b'{"stream_name": "IM_FEEDBACK", "config": {}}', timeout=1)
        # Nor a plain subscription on the feedback subjects.
        await a.nc.subscribe("im.fb.>")
        await a.nc.flush()
        await asyncio.sleep(0.2)
        assert any("subscription to \"im.fb.>\"" in e for e in a.errors)
        info = await admin.js.consumer_info(subj.FEEDBACK_STREAM, "fb_op-a")
        assert info.config.filter_subject == "im.fb.op-a.>"
        b_info = await admin.js.consumer_info(subj.FEEDBACK_STREAM, "fb_op-b")
        assert b_info.num_pending >= 1 and b_info.delivered.consumer_seq == 0  # none delivered
    finally:
        await a.nc.close()


@pytest.mark.integration
async def test_operator_cannot_route_feedback_onto_another_operators_subjects(
        secured, admin: Conn) -> None:  # type: ignore[no-untyped-def]
    """The reply subject of a fetch is where the server delivers; across the account
    boundary it is mapped back into the operator's own account."""
    server, auth = secured
    await admin.js.publish(subj.feedback("op-a", "referral_received", "r-z"), b"fb")
    before = await messages(admin, subj.OPS_STREAM, "im.ops.op-b.>")
    a = await connect(server, auth, natsauth.operator_user("op-a"))
    try:
        await a.nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{subj.FEEDBACK_STREAM}.fb_op-a",
                           b'{"batch": 5, "no_wait": true}',
                           reply="im.ops.op-b.session_recorded.r-1")
        await a.nc.flush()
        await asyncio.sleep(0.5)
        assert await messages(admin, subj.OPS_STREAM, "im.ops.op-b.>") == before
    finally:
        await a.nc.close()


@pytest.mark.integration
async def test_service_publishes_only_its_own_events(secured, admin: Conn) -> None:  # type: ignore[no-untyped-def]
    server, auth = secured
    specs = installed()
    assert {"housing", "education"} <= set(specs)
    for spec in specs.values():
        await streams.ensure(admin.js, streams.event_stream(spec.name, 1, 600.0))
    edu = await connect(server, auth, natsauth.service_user("education"))
    try:
        ack = await edu.js.publish(subj.event("education", "course_created"), b"{}")
        assert ack.stream == subj.event_stream("education")
        before = await messages(admin, subj.event_stream("housing"), "im.evt.housing.>")
        with pytest.raises(nats.errors.TimeoutError):
            await edu.js.publish(subj.event("housing", "resident_registered", "r-1"), b"{}",
                                 timeout=1)
        assert await messages(admin, subj.event_stream("housing"), "im.evt.housing.>") == before
        # Not another service's dead letters, nor operators' subjects, nor feedback it does
        # not declare, nor another service's commands.
        for subject in (subj.dead_letter("housing"), "im.ops.op-a.session_recorded.r-1",
                        "im.fb.op-a.referral_accepted.r-1"):
            await edu.nc.publish(subject, b"{}")
        await edu.nc.subscribe(subj.command("housing", "register_site"))
        await edu.nc.flush()
        await asyncio.sleep(0.2)
        assert sum("permissions violation" in e for e in edu.errors) >= 5, edu.errors
    finally:
        await edu.nc.close()


@pytest.mark.integration
async def test_only_privacy_may_read_erase_or_compact_messages_of_other_streams(
        secured, admin: Conn) -> None:  # type: ignore[no-untyped-def]
    """The erasure ledger reads messages by subject, erases them and drops a stream's state
    file (services/privacy/shredder.py); a service's password must not do the same to
    another service's stream, nor the gateway's. Fails when every service gets the
    ledger's JetStream rights."""
    import json

    server, auth = secured
    stream = subj.event_stream("housing")
    await streams.ensure(admin.js, streams.event_stream("housing", 1, 600.0))
    ack = await admin.js.publish(subj.event("housing", "resident_registered", "r-x"),
                                 b'{"given_name": "Amira"}')
    attacks = [(f"$JS.API.STREAM.MSG.GET.{stream}", {"seq": ack.seq}),
               (f"$JS.API.STREAM.MSG.DELETE.{stream}", {"seq": ack.seq}),
               (f"$JS.API.STREAM.PURGE.{stream}", {"seq": ack.seq + 1})]
    for user in (natsauth.service_user("education"), natsauth.service_user("volunteers"),
                 natsauth.GATEWAY):
        c = await connect(server, auth, user)
        try:
            for subject, body in attacks:
                with pytest.raises(nats.errors.TimeoutError):  # refused: never answered
                    await c.nc.request(subject, json.dumps(body).encode(), timeout=0.5)
            assert sum("permissions violation" in e for e in c.errors) == len(attacks), user
        finally:
            await c.nc.close()
    assert (await admin.js.get_msg(stream, ack.seq)).data == b'{"given_name": "Amira"}'
    # The ledger may: it reads the message and erases it.
    privacy = await connect(server, auth, natsauth.service_user("privacy"))
    try:
        for subject, body in attacks[:2]:
            reply = await privacy.nc.request(subject, json.dumps(body).encode(), timeout=2)
            assert "error" not in json.loads(reply.data), reply.data
    finally:
        await privacy.nc.close()
    with pytest.raises(nats.js.errors.NotFoundError):
        await admin.js.get_msg(stream, ack.seq)


@pytest.mark.integration
async def test_gateway_only_asks(secured, admin: Conn) -> None:  # type: ignore[no-untyped-def]
    server, auth = secured
    gw = await connect(server, auth, natsauth.GATEWAY)
    try:
        await gw.nc.publish(subj.query("city_stats"), b"{}")
        await gw.nc.publish(subj.event("housing", "resident_registered", "r-1"), b"{}")
        await gw.nc.publish("im.ops.op-a.session_recorded.r-1", b"{}")
        await gw.nc.flush()
        await asyncio.sleep(0.2)
        assert len([e for e in gw.errors if "permissions violation" in e]) == 2
    finally:
        await gw.nc.close()


@pytest.mark.integration
async def test_a_real_service_runs_under_its_user_without_violations(
        secured, servers) -> None:  # type: ignore[no-untyped-def]
    """Every JetStream call the runtime makes is in the generated permissions."""
    from im_runtime.service import ServiceRuntime
    from im_runtime.settings import Settings

    server, auth = secured
    name = "counselling"  # the widest: own events, feedback, operators' stream, 4 sources
    settings = Settings(nats_url=server.url, mongo_url=servers.mongo_url,
                        db_prefix="im_auth_", nats_user=natsauth.service_user(name),
                        nats_password=auth.passwords[natsauth.service_user(name)])
    rt = ServiceRuntime(installed()[name], settings)
    await rt.start()
    try:
        await asyncio.sleep(6)  # one lag-watch round
    finally:
        await rt.stop()
    log = server.log_path.read_text()
    assert "Violation" not in "\n".join(
        line for line in log.splitlines() if f"user:{natsauth.service_user(name)}" in line)


@pytest.mark.unit
def test_passwords_are_private_and_kept(tmp_path: Path) -> None:
    first = natsauth.embedded(tmp_path, installed(), ["op-a"])
    path = tmp_path / "passwords.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = natsauth.embedded(tmp_path, installed(), ["op-a", "op-c"])
    assert again.passwords["gateway"] == first.passwords["gateway"]
    assert "operator-op-c" in again.passwords and len(set(again.passwords.values())) == len(
        again.passwords)


@pytest.mark.unit
def test_the_committed_accounts_file_is_current() -> None:
    ops = [line.strip() for line in (ROOT / "infra/nats/operators.txt").read_text().splitlines()
           if line.strip() and not line.startswith("#")]
    expected = natsauth.render(natsauth.users(installed(), ops))
    assert (ROOT / "infra/nats/accounts.conf").read_text() == expected, (
        "regenerate: uv run python infra/generate.py")


@pytest.mark.unit
def test_service_permissions_follow_the_spec() -> None:
    specs = installed()
    perms = natsauth.service_permissions(specs["counselling"])
    assert "im.evt.counselling.>" in perms.publish and "im.dlq.counselling.*" in perms.publish
    # Erasure: every service confirms and announces retention runs; only the ledger asks
    # for erasures and purges streams.
    assert "im.evt.privacy.erasure_confirmed" in perms.publish
    assert not any(p.startswith("im.evt.privacy.erasure_requested") or "PURGE" in p
                   for p in perms.publish)
    ledger = natsauth.service_permissions(specs["privacy"])
    assert "im.evt.privacy.>" in ledger.publish
    assert "$JS.API.STREAM.PURGE.*" in ledger.publish
    assert "im.fb.*.referral_accepted.*" in perms.publish
    assert not any(p.startswith("im.evt.housing") for p in perms.publish)
    assert "$JS.API.CONSUMER.MSG.NEXT.IM_OPS.counselling__operator" in perms.publish
    housing = natsauth.service_permissions(specs["housing"])
    assert not any(p.startswith("im.fb.") for p in housing.publish)
    # Core subscriptions to events: only erasure requests as they go out (no payload
    # other than the id the subject already names).
    assert [p for p in housing.subscribe if p.startswith(("im.evt", "im.ops", "im.fb"))] == [
        "im.evt.privacy.erasure_requested.*"]


@pytest.mark.unit
def test_services_get_streams_for_each_consumed_source() -> None:
    specs = installed()
    for spec in specs.values():
        perms = natsauth.service_permissions(spec)
        for source in spec.source_streams():
            stream = streams.for_source(source, 1, 1.0).name
            durable = f"{spec.name}__{source}"
            full = effective(spec)
            wanted = consumer_filters(full, source, full.source_streams()[source])
            # The durable with exactly its one filter (one with several the admin
            # provisions: the service may not create it at all), and the one that reads
            # what JetStream stopped delivering (im_runtime.undelivered) with each filter
            # of the durable's; never the bare create subject, whose body names any.
            for name, allowed in ((durable, wanted if len(wanted) == 1 else []),
                                  (f"{durable}_dl", wanted)):
                create = f"$JS.API.CONSUMER.CREATE.{stream}.{name}"
                creates = [p for p in perms.publish
                           if p == create or p.startswith(create + ".")]
                assert creates == [f"{create}.{f}" for f in allowed], creates
            assert f"$JS.ACK.{stream}.{durable}.>" in perms.publish
            # Its advisories of what JetStream stopped delivering, its own only.
            adv = f"$JS.API.CONSUMER.CREATE.IM_UNDELIVERED.{durable}_adv"
            assert [p for p in perms.publish if p.startswith(adv)] == [
                f"{adv}.$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{stream}.{durable}"]
        assert not any("ADVISORY" in s for s in perms.subscribe), perms.subscribe




@pytest.mark.integration
async def test_referral_answers_only_from_topic_owners_and_the_shared_stream_stays_put(
        secured, admin: Conn) -> None:  # type: ignore[no-untyped-def]
    """The shared referral stream: a service that answers no topic cannot answer (nor
    declare topics, nor create the stream); one that does may publish its answers, yet
    neither rewrite the stream nor take counselling's consumer on it."""
    server, auth = secured
    stream = subj.event_stream("referrals")
    await streams.ensure(admin.js, streams.for_source("referrals", 1, 600.0))
    accepted = subj.event("referrals", "referral_accepted", "r-1")

    privacy = await connect(server, auth, natsauth.service_user("privacy"))
    try:
        before = await messages(admin, stream, "im.evt.referrals.>")
        for subject in (accepted, subj.event("referrals", "topics_declared")):
            with pytest.raises(nats.errors.TimeoutError):
                await privacy.js.publish(subject, b"{}", timeout=1)
        assert await messages(admin, stream, "im.evt.referrals.>") == before
        await privacy.nc.publish(f"$JS.API.STREAM.CREATE.{stream}", b"{}")
        await privacy.nc.flush()
        await asyncio.sleep(0.2)
        assert sum("permissions violation" in e for e in privacy.errors) >= 3, privacy.errors
    finally:
        await privacy.nc.close()

    housing = await connect(server, auth, natsauth.service_user("housing"))
    try:
        ack = await housing.js.publish(accepted, b"{}")
        assert ack.stream == stream
        # Not an event type the shared contract does not have.
        with pytest.raises(nats.errors.TimeoutError):
            await housing.js.publish(subj.event("referrals", "referral_forged", "r-1"), b"{}",
                                     timeout=1)
        for api in (f"STREAM.DELETE.{stream}", f"STREAM.PURGE.{stream}",
                    f"STREAM.UPDATE.{stream}", f"STREAM.MSG.DELETE.{stream}",
                    f"CONSUMER.DURABLE.CREATE.{stream}.counselling__referrals",
                    f"CONSUMER.CREATE.{stream}.counselling__referrals"):
            await housing.nc.publish(f"$JS.API.{api}", b"{}")
        await housing.nc.flush()
        await asyncio.sleep(0.2)
        assert sum("permissions violation" in e for e in housing.errors) >= 7, housing.errors
        info = await admin.js.stream_info(stream)
        assert info.state.messages >= 1  # nothing deleted, purged or replaced
    finally:
        await housing.nc.close()
