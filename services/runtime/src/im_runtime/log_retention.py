"""Retention of the event log: how long each stream keeps its messages (`max_age`).

A stream keeps its history as long as the longest retention rule of the services that
need it: the ones publishing to it and the ones consuming from it (a service's projection
lives as long as its rules keep the documents; replay beyond that is not needed, since
every service keeps what it derived in its own documents). A stream that none of them
rules (the dead letters, a stream only rule-less services use) keeps the longest period
of any installed service. Residents whose record a rule removed leave the streams at once
(`Retention.forgets`, the privacy service's expiry worker); operators' case notes sooner
still (privacy's `notes.py`)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from contracts import event_parts
from contracts import subjects as subj
from im_runtime.retention import period
from im_runtime.spec import ServiceSpec

log = logging.getLogger("im.streams")
DAY = 86400.0
DEFAULT_DAYS = 1095  # with no rule installed at all


def _longest(spec: ServiceSpec, env: Mapping[str, str] | None) -> int | None:
    days = [period(spec, rule, env) for rule in spec.retention]
    return max(days) if days else None


def stream_of(source: str) -> str:
    if source == subj.OPERATOR:
        return subj.OPS_STREAM
    if source == subj.FEEDBACK:
        return subj.FEEDBACK_STREAM
    return subj.event_stream(source)


def stream_days(specs: Iterable[ServiceSpec], env: Mapping[str, str] | None = None
                ) -> dict[str, int]:
    """Stream name -> days it keeps messages, for the streams these services use."""
    from im_runtime.privacy import effective  # the runtime's own messages count too

    need: dict[str, list[int]] = {}
    longest_of_all: list[int] = []
    for spec in specs:
        full = effective(spec)
        mine = _longest(full, env)
        if mine is not None:
            longest_of_all.append(mine)
        sources = {event_parts(t)[0] for t in full.publishes} | set(full.source_streams())
        for source in sources:
            need.setdefault(stream_of(source), []).extend([mine] if mine is not None else [])
    fallback = max(longest_of_all, default=DEFAULT_DAYS)
    out = {name: max(days, default=fallback) for name, days in need.items()}
    for always in (subj.DLQ_STREAM, subj.OPS_STREAM, subj.FEEDBACK_STREAM):
        out.setdefault(always, fallback)
    return out


def with_max_age(config: Any, days: Mapping[str, int]) -> Any:
    """The stream's configuration with its retention period (unchanged if unknown)."""
    if config.name not in days:
        return config
    return dataclasses.replace(config, max_age=days[config.name] * DAY)


async def keep_for(js: Any, name: str, days: int, only_longer: bool = False) -> bool:
    """Set an existing stream's `max_age`; with `only_longer`, never shorten it (another
    process may know a longer need). True when it changed."""
    info = await js.stream_info(name)
    have = info.config.max_age or 0.0
    wanted = days * DAY
    if abs(have - wanted) < 1 or (only_longer and have and have >= wanted):
        return False
    # Only max_age changes; first_seq stays what it is (raising it purges the stream at the
    # next start, docs/pitfalls.md).
    await js.update_stream(dataclasses.replace(info.config, max_age=wanted))
    log.info("stream retention set", extra={"stream": name, "days": days})
    return True
