"""Each stream's retention period, derived from the rules of the services that need it."""

from __future__ import annotations

import pytest
from nats.js.api import StreamConfig

from contracts import subjects as subj
from im_runtime import log_retention
from im_runtime.plugins import installed

pytestmark = pytest.mark.unit


def test_a_stream_keeps_messages_for_the_longest_rule_of_its_publishers_and_consumers():
    specs = installed()
    days = log_retention.stream_days(specs.values(), env={})
    assert days["IM_EVT_HOUSING"] == 1095
    # operators' events are consumed by counselling (three years)
    assert days[subj.OPS_STREAM] == 1095
    assert days[subj.DLQ_STREAM] == 1095  # ruled by nobody: the longest of all
    # a longer rule where a consumer of housing's events runs makes housing's stream longer
    longer = log_retention.stream_days(
        specs.values(), env={"IM_RETENTION_EDUCATION_MOVED_OUT_RESIDENTS": "4000"})
    assert longer["IM_EVT_HOUSING"] == 4000 and longer["IM_EVT_EDUCATION"] == 4000
    # volunteers' own events: volunteers keeps a year; nobody else consumes them
    assert days["IM_EVT_VOLUNTEERS"] == max(
        [365] + [1095 for s in installed().values() if "volunteers" in s.source_streams()])


def test_the_period_goes_into_the_stream_configuration():
    config = StreamConfig(name="IM_EVT_HOUSING", subjects=["im.evt.housing.>"])
    assert log_retention.with_max_age(config, {"IM_EVT_HOUSING": 2}).max_age == 2 * 86400
    assert log_retention.with_max_age(config, {}).max_age is None


def test_a_bad_override_is_refused_with_its_name():
    with pytest.raises(ValueError, match="IM_RETENTION_HOUSING_CLOSED_CASES"):
        log_retention.stream_days(installed().values(),
                                  env={"IM_RETENTION_HOUSING_CLOSED_CASES": "soon"})
