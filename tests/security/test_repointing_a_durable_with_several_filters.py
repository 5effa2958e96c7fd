"""Attack: a service re-points one of its durables that has several filters.

A durable with one filter is created through `CONSUMER.CREATE.<stream>.<durable>.<filter>`,
a subject the service's permission names exactly. Several filters travel in the request's
body, which nats-server checks against no permission (nats-server issue 6180), so a right
to `CONSUMER.CREATE.<stream>.<durable>` let a service point such a durable at anything in
the stream: events it may not read, fetched, or delivered by a fetch's reply subject onto
any subject. Now no service may create those durables (the admin's provisioning does,
im_cli.natsauth.unpinned_durables; the runtime finds them, im_runtime.durables), and the
consumer that reads an undelivered message may be created with the durable's own filters
only."""

from __future__ import annotations

import asyncio
import json

import pytest

from contracts import subjects as subj
from im_cli import natsauth
from im_runtime import streams
from im_runtime.durables import filter_set
from im_runtime.plugins import installed
from im_runtime.settings import Settings
from im_runtime.undelivered import reader
from support.attack import Stack

API = "$JS.API.CONSUMER"


def stream_subjects(stream: str) -> str:
    """Everything the stream holds (`im.evt.housing.>` for IM_EVT_HOUSING)."""
    for source in (subj.OPERATOR, subj.FEEDBACK):
        config = streams.for_source(source, 1, 1.0)
        if config.name == stream:
            return (config.subjects or [""])[0]
    return subj.events_of(stream.removeprefix("IM_EVT_").lower())


@pytest.mark.flow
async def test_a_service_cannot_re_point_a_durable_it_reads_with_several_filters(
        stack: Stack) -> None:
    targets = natsauth.unpinned_durables(installed(), Settings())
    assert {"education__housing", "counselling__housing", "plans__housing"} <= {
        c.durable_name for _, c in targets}  # type: ignore[attr-defined]
    async with stack.as_user(natsauth.ADMIN) as admin:
        async def filters_now() -> dict[str, list[str]]:
            return {c.durable_name: filter_set((await admin.js.consumer_info(  # type: ignore
                stream, c.durable_name)).config) for stream, c in targets}  # type: ignore

        before = await filters_now()
        # Provisioned with exactly the filters the service's runtime asks for.
        assert before == {c.durable_name: filter_set(c) for _, c in targets}  # type: ignore

        for stream, config in targets:
            durable: str = config.durable_name  # type: ignore[attr-defined]
            service = durable.partition("__")[0]
            everything = stream_subjects(stream)
            async with stack.as_user(natsauth.service_user(service)) as conn:
                body = {"stream_name": stream, "config": {
                    "name": durable, "durable_name": durable, "filter_subject": everything,
                    "deliver_policy": "all", "ack_policy": "explicit"}}
                many = {**body, "config": {**body["config"], "filter_subject": None,
                                           "filter_subjects": [everything]}}
                dl = reader(durable)
                attempts = [
                    (f"{API}.CREATE.{stream}.{durable}", body),
                    (f"{API}.CREATE.{stream}.{durable}", many),
                    (f"{API}.DURABLE.CREATE.{stream}.{durable}", body),
                    (f"{API}.CREATE.{stream}.{durable}.{everything}", body),
                    # The reader of undelivered messages, with a filter not the durable's.
                    (f"{API}.CREATE.{stream}.{dl}.{everything}",
                     {**body, "config": {**body["config"], "name": dl, "durable_name": None}}),
                    (f"{API}.CREATE.{stream}.{dl}", many),
                ]
                for api, request in attempts:
                    await conn.nc.publish(api, json.dumps(request).encode(),
                                          reply=conn.nc.new_inbox())
                await conn.nc.flush()
                await asyncio.sleep(0.3)
                assert len(conn.violations()) == len(attempts), (durable, conn.errors)
        assert await filters_now() == before
