"""Data protection across services: erasure of one resident, retention runs, and the
report of where data about a resident exists.

An erasure goes out as an event about the resident (`im.evt.privacy.erasure_requested.
<resident_id>`); every service consumes it, removes or anonymises what it holds, and
confirms with an event that names no resident, only the erasure. What the platform keeps
afterwards is the erasure's one-way key (`keyed`, an HMAC with the platform's secret;
`im_runtime.erasure_keys`), never the id itself.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from contracts._base import Command, EventData, Query, Reply, Struct
from contracts.fields import Id, Reason

SERVICE = "privacy"
PRIVACY_REPORT = "privacy_report"
RESIDENT_EXPORT = "resident_export"
RETENTION = "retention"

ResidentId = Id
Counts = dict[str, int]
# Whose data: residents, and the other people the platform knows (volunteers, the city's
# staff). An erasure or expiry of a volunteer or staff member also removes every message
# whose body names them, since their events are not keyed by them.
PersonKind = Literal["resident", "volunteer", "staff"]


KEYED = "v2-"  # the mark of a key made with the platform's secret


def legacy_erasure_key(resident_id: str) -> str:
    """The key of an erased resident as stored before keys were secret: a plain SHA-256
    of a short id, so trying every id reverses it. Kept only to recognise and upgrade
    stored keys (`keyed`), never to store a new one where a secret is configured."""
    return hashlib.sha256(f"im-erasure:{resident_id}".encode()).hexdigest()


def keyed(legacy: str, secret: bytes) -> str:
    """The one-way key an erased resident is known by afterwards (ledger, audit, the
    services' guard against late events): an HMAC with the platform's erasure secret, so
    without the secret no list of ids tells which were erased. It is made over the legacy
    key, so stored legacy keys are upgraded without knowing the id they came from."""
    if legacy.startswith(KEYED):
        return legacy
    return KEYED + hmac.new(secret, legacy.encode(), hashlib.sha256).hexdigest()


# events
class ErasureRequested(EventData,
                       tag="im.privacy.erasure_requested.v1"):
    erasure_id: str
    resident_id: ResidentId  # the person's id, whoever they are (`person`)
    requested_at: datetime
    person: PersonKind = "resident"

    def resident_key(self) -> str:
        return self.resident_id


class ErasureConfirmed(EventData,
                       tag="im.privacy.erasure_confirmed.v1"):
    """One service's account of an erasure: what it removed and what it kept only as
    anonymous counts (collection -> documents)."""

    erasure_id: str
    service: str
    instance: str = ""
    removed: Counts = {}
    anonymised: Counts = {}
    confirmed_at: datetime


class RetentionApplied(EventData,
                       tag="im.privacy.retention_applied.v1"):
    """One retention run of one service (rule -> documents removed)."""

    run_id: str
    service: str
    as_of: datetime
    removed: Counts = {}


class ResidentExpired(EventData,
                      tag="im.privacy.resident_expired.v1"):
    """A retention rule removed a resident's record (`Retention.forgets`): the privacy
    service erases every message about them from the event log, as after an erasure."""

    resident_id: ResidentId
    service: str
    rule: str
    run_id: str
    person: PersonKind = "resident"

    def resident_key(self) -> str | None:
        return self.resident_id


# Why a person is erased: a category the ledger keeps, and optional free text (`reason`)
# that goes once the erasure is complete (it may say more than it should).
ErasureCategory = Literal["subject_request", "retention", "unlawful_processing",
                          "consent_withdrawn", "other"]
ERASURE_CATEGORIES: tuple[str, ...] = ErasureCategory.__args__  # type: ignore[attr-defined]
# An erasure waits for a second city administrator (four eyes) unless the platform is
# configured otherwise (IM_ERASURE_FOUR_EYES=0); then it runs until complete. A rejected
# request leaves the ledger (erasure_rejections keeps who and when, not the person).
ErasureState = Literal["awaiting_approval", "approved", "rejected"]


# commands to the privacy service (the erasure ledger)
class RequestErasure(Command):
    resident_id: ResidentId
    # Requests from before categories carry free text only: "other".
    category: ErasureCategory = "other"
    reason: Reason | None = None
    person: PersonKind = "resident"


class ApproveErasure(Command):
    """The second city administrator's consent: the erasure goes out."""

    resident_id: ResidentId


class RejectErasure(Command):
    """A request awaiting approval is dropped (by any city administrator, the requester
    withdrawing it included); the resident stays."""

    resident_id: ResidentId


class ListPendingErasures(Command):
    """The requests awaiting a second city administrator's approval."""


class GetErasure(Command):
    resident_id: ResidentId


class ListErasures(Command):
    """Every erasure's key, for a gateway that must answer 410 for them."""


class Confirmation(Struct):
    service: str
    instance: str = ""
    removed: Counts = {}
    anonymised: Counts = {}
    confirmed_at: datetime


class Purge(Struct):
    stream: str
    messages: int
    at: datetime


class ErasureStatus(Reply, tag="ok"):
    erasure_id: str
    key: str
    # The free text: only in `get_erasure`'s answer, and only until the erasure is complete.
    reason: str | None = None
    requested_by: str
    requested_at: datetime
    category: ErasureCategory = "other"
    state: ErasureState = "approved"
    approved_by: str | None = None
    approved_at: datetime | None = None
    person: PersonKind = "resident"
    # Services whose durable consumers will receive the request (known when it went out).
    expected: list[str] = []
    confirmations: list[Confirmation] = []
    pending: list[str] = []
    purges: list[Purge] = []
    complete: bool = False
    completed_at: datetime | None = None


class ErasureKeys(Reply, tag="ok"):
    keys: list[str]
    # The keys of erased staff members (also in `keys`): the gateway removes their
    # accounts and refuses their user names for new ones.
    staff: list[str] = []


class PendingErasure(Struct):
    erasure_id: str
    resident_id: ResidentId
    category: ErasureCategory
    reason: str | None = None
    requested_by: str
    requested_at: datetime
    person: PersonKind = "resident"


class PendingErasures(Reply, tag="ok"):
    pending: list[PendingErasure]


# scatter-gather queries every service answers (the runtime does it for them)
class GetPrivacyReport(Query):
    """Where does this service hold anything that mentions these terms (the resident id,
    and optionally a name)? Answered with collection -> matching documents."""

    terms: Annotated[list[Annotated[str, msgspec.Meta(min_length=3, max_length=200)]],
                     msgspec.Meta(min_length=1, max_length=10)]


class GetResidentExport(Query):
    """Everything this service holds about the resident (Art. 15 GDPR, the right of
    access): collection -> the documents, as stored. Only for city administrators."""

    resident_id: ResidentId


class RunRetention(Query):
    """List what each service's retention rules would remove as of `as_of` (now when
    absent): the controllable clock for tests and catch-up runs. A query only reads:
    `dry_run` must stay true; applying the rules is the command `apply_retention`, sent
    to each service that listed rules."""

    dry_run: bool = True
    as_of: datetime | None = None


APPLY_RETENTION = "apply_retention"


class ApplyRetention(Command):
    """Apply this service's retention rules as of `as_of` (now when absent), with one
    `RetentionApplied` event for the run (im.cmd.<service>.apply_retention)."""

    as_of: datetime | None = None


class RuleRun(Struct):
    collection: str
    days: int
    expired: int
    ids: list[str] = []  # the first hundred, for the record


class RetentionRun(Reply, tag="ok"):
    service: str
    dry_run: bool
    as_of: datetime
    rules: dict[str, RuleRun]
    run_id: str | None = None
