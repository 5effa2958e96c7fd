"""A spec's referral topics: checked, and turned into what the runtime runs (the shared
answers among what it publishes, a worker that declares the topics), once however often
the spec is copied; the declaration goes out through the outbox."""

from __future__ import annotations

import dataclasses

import msgspec
import pytest

from contracts.referrals import ANSWERS, ReferralTopicsDeclared
from im_cli.natsauth import service_permissions
from im_runtime import ServiceSpec
from im_runtime.privacy import effective
from im_runtime.spec import DeclareTopics, WorkerContext
from im_runtime.storage.memory import MemoryStore

pytestmark = pytest.mark.unit


def test_a_spec_with_topics_publishes_the_shared_answers_and_declares_them_once():
    spec = ServiceSpec(name="sports", version="0.1.0", referral_topics=("sports_club",))
    assert set(ANSWERS) | {ReferralTopicsDeclared} <= set(spec.publishes)
    again = effective(dataclasses.replace(spec, description="copied"))
    assert again.workers == (DeclareTopics("sports", "0.1.0", ("sports_club",)),)
    assert len(again.publishes) == len(set(again.publishes))
    assert ServiceSpec(name="plain", version="1").workers == ()


def test_its_user_may_publish_the_answers_and_declare_the_shared_stream():
    perms = service_permissions(ServiceSpec(name="sports", version="0.1.0",
                                            referral_topics=("sports_club",)))
    for event in ("referral_accepted", "referral_rejected", "referral_completed",
                  "topics_declared"):
        assert f"im.evt.referrals.{event}.>" in perms.publish
    # The shared stream is provisioned (natsauth.provision); a service creates only its own.
    assert "$JS.API.STREAM.INFO.IM_EVT_REFERRALS" in perms.publish
    assert "$JS.API.STREAM.CREATE.IM_EVT_REFERRALS" not in perms.publish
    assert "im.evt.referrals.>" not in perms.publish  # not the whole shared namespace


@pytest.mark.parametrize("bad", ["Sports", "sports club", "sports.club", "", "x" * 65])
def test_a_topic_that_is_not_a_lower_case_word_is_refused(bad):
    with pytest.raises(msgspec.ValidationError, match="regex"):
        ServiceSpec(name="sports", version="1", referral_topics=(bad,))


async def test_the_declaration_goes_out_through_the_outbox():
    store = MemoryStore("sports")
    ctx = WorkerContext(nc=None, js=None, store=store, settings=None, metrics=None)
    await DeclareTopics("sports", "0.1.0", ("sports_club", "chess"))(ctx)
    (entry,) = store.outbox
    assert entry.subject == "im.evt.referrals.topics_declared"
    event = msgspec.json.decode(entry.body)
    assert event["source"] == "sports"
    assert event["data"]["topics"] == ["sports_club", "chess"]
