"""A service's durable consumers: created (or updated) by the service where the bus lets
it, else found as the admin's provisioning made them.

Under its own NATS user a service may create a durable only through the API subject that
names the durable's single filter (`CONSUMER.CREATE.<stream>.<durable>.<filter>`), so it
cannot re-point it at subjects it may not read (nor have them delivered, by a fetch's
reply subject, onto a command). A durable with several filters cannot be pinned that way:
they travel in the request's body, which nats-server checks against no permission
(nats-server issue 6180; ADR-34). The service gets no right to create those at all;
`python -m im_cli.natsauth provision` (the admin) creates them, and the service waits
until the durable is there with exactly its filters, then takes it as it is."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

from im_runtime.wiring import pinned

log = logging.getLogger("im.durables")


def filter_set(config: ConsumerConfig) -> list[str]:
    return sorted(config.filter_subjects or
                  ([config.filter_subject] if config.filter_subject else []))


async def declare(js: Any, stream: str, config: ConsumerConfig, create_any: bool,
                  every: float = 1.0) -> ConsumerConfig:
    """The durable as the server has it. `create_any`: a bus without users, where the
    service creates every durable itself."""
    if create_any or pinned(config):
        await js.add_consumer(stream, config)  # creates or updates
        return config
    return await provisioned(js, stream, config, every)


async def provisioned(js: Any, stream: str, config: ConsumerConfig,
                      every: float = 1.0) -> ConsumerConfig:
    """Wait until the admin created the durable with exactly `config`'s filters; its
    other settings (ack_wait, max_deliver) are the provisioned ones."""
    name, wanted = config.durable_name or "", filter_set(config)
    said = ""
    while True:
        try:
            have: ConsumerConfig = (await js.consumer_info(stream, name)).config
            if filter_set(have) == wanted:
                return have
            why = f"has the filters {filter_set(have)}"
        except NotFoundError:
            why = "does not exist"
        if why != said:
            log.warning("waiting for durable consumer %s on %s: it %s; `python -m "
                        "im_cli.natsauth provision` creates it with the filters %s",
                        name, stream, why, wanted)
            said = why
        await asyncio.sleep(every)
