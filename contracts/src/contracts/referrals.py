"""Referrals' shared language: topics, and the one answer contract every service that
handles a topic publishes (plugins included), with the topics it declares.

A topic is not a fixed list: a service names the topics it answers in its spec
(`ServiceSpec.referral_topics`) and the runtime announces them with
`ReferralTopicsDeclared`. Answers and declarations go to the shared subjects
`im.evt.referrals.<event>[.<resident_id>]` (stream IM_EVT_REFERRALS), so counselling
reads every service's answers from one place without naming the services. The envelope's
`source` and the body's `service` both name the answering service.

The per-service answer types of before (`im.housing.referral_accepted.v1`, ...) are kept
below their shapes for replay: stored logs still hold them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import msgspec

from contracts._base import EventData

SERVICE = "referrals"

# A topic names what the resident is referred for, e.g. `housing_search`; which topics
# exist is what the running services declare (see `docs/operators.md`).
TOPIC_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
Topic = Annotated[str, msgspec.Meta(pattern=TOPIC_PATTERN)]
# What a referral became in the owning service: `case`, `enrolment`, `access_request`,
# `coaching_need`, `participation`, `placement`, `tandem`, `support_request`, or a
# plugin's own word. (Its pattern is written apart from TOPIC_PATTERN on purpose:
# `with_topics` finds topic fields by that exact pattern.)
Became = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class _Answer(EventData):
    referral_id: str
    resident_id: str
    operator_id: str
    topic: Topic
    service: str  # the owning service that answers (the envelope's source too)

    def resident_key(self) -> str | None:
        return self.resident_id


class ReferralAccepted(_Answer,
                       tag="im.referrals.referral_accepted.v1"):
    """The owning service took the referral on: it became `became` `reference`."""

    became: Became
    reference: str


class ReferralRejected(_Answer,
                       tag="im.referrals.referral_rejected.v1"):
    """The owning service cannot help, and says why (an eligibility rule, say)."""

    reason: Reason


class ReferralCompleted(_Answer,
                        tag="im.referrals.referral_completed.v1"):
    """What the referral became is done: a placement, a programme completed, a started
    tandem. `outcome` is a short word for it."""

    became: Became
    reference: str
    outcome: str


class ReferralTopicsDeclared(EventData,
                             tag="im.referrals.topics_declared.v1"):
    """A service answers referrals of these topics (sent each time it starts; the latest
    declaration of a service replaces its earlier ones)."""

    service: str
    version: str
    topics: list[Topic]


def with_topics(schema: Any, topics: Iterable[str]) -> Any:
    """A JSON Schema whose topic fields list `topics` (those the installed services
    declare): what the operators' schemas say, so that their systems know the topics. The
    decoder itself takes any well-formed topic; one nobody handles is rejected by answer."""
    if isinstance(schema, dict):
        out = {k: with_topics(v, topics) for k, v in schema.items()}
        if out.get("pattern") == TOPIC_PATTERN:
            out["enum"] = sorted(set(topics))
        return out
    if isinstance(schema, list):
        return [with_topics(v, topics) for v in schema]
    return schema


ANSWERS: tuple[type[_Answer], ...] = (ReferralAccepted, ReferralRejected, ReferralCompleted)


# The answers' shapes before the shared contract: each service subclassed these with its own
# type names (`im.<service>.referral_accepted.v1`). Decoded for replay, never published.

class ServiceReferralAnswer(EventData):
    referral_id: str
    resident_id: str
    operator_id: str
    topic: Topic

    def resident_key(self) -> str | None:
        return self.resident_id


class ServiceReferralAccepted(ServiceReferralAnswer):
    reference: str


class ServiceReferralRejected(ServiceReferralAnswer):
    reason: str


class ServiceReferralCompleted(ServiceReferralAnswer):
    reference: str
    outcome: str
