"""The privacy service's spec: the erasure ledger's commands, its worker, its rights."""

from __future__ import annotations

from pymongo import IndexModel

from contracts import privacy as pv
from contracts import subjects as subj
from contracts.queries import CITY_STATS, GetCityStats
from im_runtime import Answers, Handles, On, ServiceSpec
from privacy import approval, expiries, ledger, notes, purger
from privacy.shredder import JS_API

spec = ServiceSpec(
    name=pv.SERVICE,
    version="1.0.0",
    description="Erasure ledger: requests, every service's confirmation, purges of the bus",
    publishes=(pv.ErasureRequested,),
    consumes=(On(pv.ErasureConfirmed, handler=ledger.on_confirmed),
              On(pv.ResidentExpired, handler=expiries.on_expired)),
    commands=(
        Handles("request_erasure", pv.RequestErasure, ledger.request_erasure,
                pv.ErasureStatus),
        Handles("approve_erasure", pv.ApproveErasure, approval.approve_erasure,
                pv.ErasureStatus),
        Handles("reject_erasure", pv.RejectErasure, approval.reject_erasure, pv.ErasureStatus),
        Handles("list_pending_erasures", pv.ListPendingErasures, approval.list_pending,
                pv.PendingErasures, read=True),
        Handles("get_erasure", pv.GetErasure, ledger.get_erasure, pv.ErasureStatus, read=True),
        Handles("list_erasures", pv.ListErasures, ledger.list_erasures, pv.ErasureKeys, read=True),
    ),
    queries=(Answers(CITY_STATS, GetCityStats, ledger.city_stats),),
    indexes={ledger.ERASURES: [IndexModel("key", unique=True), IndexModel("complete"),
                               IndexModel("state")],
             approval.REJECTIONS: [IndexModel("key")],
             expiries.EXPIRIES: [IndexModel("resident")]},
    workers=(ledger.upgrade_keys, purger.work, expiries.work, notes.work),
    # The workers list streams and the request's consumers; in every stream they find an
    # erased or expired resident's messages, erase them and drop the stale state file
    # (shredder.py); consumed case notes go from the operators' stream (notes.py).
    # Only privacy holds these rights (tests/infra/test_nats_permissions.py).
    bus_rights=(f"{JS_API}.STREAM.NAMES", f"{JS_API}.STREAM.INFO.*",
                f"{JS_API}.STREAM.MSG.GET.*", f"{JS_API}.STREAM.MSG.DELETE.*",
                f"{JS_API}.STREAM.PURGE.*",
                f"{JS_API}.CONSUMER.LIST.{purger.PRIVACY_STREAM}",
                # case notes leave once every consumer of them has acknowledged (notes.py)
                f"{JS_API}.CONSUMER.LIST.{subj.OPS_STREAM}"),
)
