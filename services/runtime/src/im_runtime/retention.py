"""Retention: each service's rules (`Retention` in its spec) applied as of a moment —
listed by the `retention` query (a read), or removed by the `apply_retention` command
with one `RetentionApplied` event per run. The runtime runs them on a schedule;
`im privacy retention` lists with one scatter-gather and applies service by service."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from contracts import new_id
from contracts.privacy import (
    APPLY_RETENTION,
    ApplyRetention,
    ResidentExpired,
    RetentionApplied,
    RetentionRun,
    RunRetention,
)
from im_runtime.anonymous import is_stand_in_id
from im_runtime.errors import Forbidden
from im_runtime.spec import Retention, ServiceSpec
from im_runtime.storage import Store
from im_runtime.storage.unit_of_work import UnitOfWork


def period(spec: ServiceSpec, rule: Retention, env: Mapping[str, str] | None = None) -> int:
    """The rule's days, overridden by IM_RETENTION_<SERVICE>_<NAME> where it is set."""
    env = os.environ if env is None else env
    name = f"IM_RETENTION_{spec.name}_{rule.name}".upper().replace("-", "_")
    raw = env.get(name)
    if raw is None:
        return rule.days
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number of days") from None
    if days < 0:
        raise ValueError(f"{name}={raw!r} must not be negative")
    return days


def cutoff(rule: Retention, days: int, as_of: datetime) -> Any:
    moment = as_of - timedelta(days=days)
    if rule.stored == "date":
        return moment.date().isoformat()
    if rule.stored == "epoch":
        return moment.timestamp()
    return moment


async def apply_retention(spec: ServiceSpec, uow: UnitOfWork, as_of: datetime,
                          dry_run: bool) -> dict[str, Any]:
    """Each rule's expired documents: listed (dry run) or removed, with one event per run."""
    rules: dict[str, Any] = {}
    removed: dict[str, int] = {}
    forgotten: list[tuple[Retention, str]] = []  # (rule, person) whose record went
    for rule in spec.retention:
        days = period(spec, rule)
        flt = {**rule.where, rule.after: {"$lt": cutoff(rule, days, as_of)}}
        expired = await uow.find(rule.collection, flt)
        rules[rule.name] = {"collection": rule.collection, "days": days,
                            "expired": len(expired),
                            "ids": sorted(d["_id"] for d in expired)[:100]}
        if not dry_run:
            for doc in expired:
                await uow.delete(rule.collection, doc["_id"])
            removed[rule.name] = len(expired)
            if rule.forgets:
                forgotten += [(rule, rid) for d in expired
                              if isinstance(rid := d.get(rule.forgets), str)
                              and not is_stand_in_id(rid)]
    out: dict[str, Any] = {"dry_run": dry_run, "as_of": as_of.isoformat(), "rules": rules}
    if not dry_run and spec.retention:
        run_id = f"ret-{new_id()}"
        for gone, rid in forgotten:  # their messages leave the log (privacy's expiries)
            uow.emit(ResidentExpired(resident_id=rid, service=spec.name, rule=gone.name,
                                     run_id=run_id, person=gone.person))
        uow.emit(RetentionApplied(run_id=run_id, service=spec.name, as_of=as_of,
                                  removed=removed))
        out["run_id"] = run_id
        out["forgotten"] = sorted({rid for _, rid in forgotten})
    return out


def _allowed(actor: Any, dry_run: bool) -> None:
    if actor.role not in ("city_admin", "system") and not (dry_run and actor.role == "auditor"):
        raise Forbidden("only city administrators may apply retention "
                        "(auditors may list what would go)")


def _moment(as_of: datetime | None) -> datetime:
    as_of = as_of or datetime.now(UTC)
    if as_of.tzinfo is None:
        raise ValueError("as_of needs a time zone")
    return as_of


def handler(spec: ServiceSpec) -> Any:
    """The `retention` query: what the rules would remove (a query only reads)."""
    async def run(query: RunRetention, uow: UnitOfWork) -> Mapping[str, Any] | None:
        if not spec.retention:
            return None  # nothing to say: no section
        _allowed(query.actor, query.dry_run)
        if not query.dry_run:
            raise ValueError(f"a query only lists; apply the rules with the command "
                             f"im.cmd.{spec.name}.{APPLY_RETENTION}")
        return await apply_retention(spec, uow, _moment(query.as_of), dry_run=True)
    return run


def apply_handler(spec: ServiceSpec, store: Store | None = None) -> Any:
    """The `apply_retention` command: the rules applied, committed with their event."""
    async def apply(cmd: ApplyRetention, uow: UnitOfWork) -> RetentionRun:
        _allowed(cmd.actor, dry_run=False)
        result = await apply_retention(spec, uow, _moment(cmd.as_of), dry_run=False)
        await forget_replies(store, result)
        shown = {k: v for k, v in result.items() if k != "forgotten"}  # (ids: `rules`)
        return msgspec.convert({**shown, "service": spec.name}, RetentionRun)
    return apply


async def forget_replies(store: Store | None, result: Mapping[str, Any]) -> None:
    """Stored command replies that name a person whose record a rule removed (`forgets`)
    go with it, as after an erasure (a retry then gets a generic answer)."""
    if store is not None and result.get("forgotten"):
        await store.scrub_replies(list(result["forgotten"]))


# one run in a unit of work of its own, committed: the schedule, tests and tools
async def run_committed(spec: ServiceSpec, store: Store, as_of: datetime,
                           dry_run: bool = False) -> dict[str, Any]:
    """`apply_retention` on its own (a dry run has nothing to commit)."""
    uow = store.unit_of_work(spec.name)
    result = await apply_retention(spec, uow, as_of, dry_run)
    await uow.commit()
    if not dry_run:
        await forget_replies(store, result)
    return result


def expired_counts(result: Mapping[str, Any]) -> dict[str, int]:
    """Rule -> documents past their period, from a run's result (dry or applied)."""
    return {name: rule["expired"] for name, rule in result["rules"].items()}
