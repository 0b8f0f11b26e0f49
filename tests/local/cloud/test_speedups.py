# mypy: disable-error-code="attr-defined"
# (it checks private attributes of moto and jsonpath_ng, which they do not export)
"""The moto speed-ups change no answer, and leave nothing behind when the cloud stops."""

from __future__ import annotations

import time

import jsonpath_ng.ext
import moto.sqs.models

from infra.local.speedups import MotoSpeedups


def test_parses_are_shared_and_equal_to_fresh_ones() -> None:
    original = jsonpath_ng.ext.parse
    speedups = MotoSpeedups()
    speedups.install()
    try:
        first = jsonpath_ng.ext.parse("$.detail.data[0].name")
        assert jsonpath_ng.ext.parse("$.detail.data[0].name") is first
        document = {"detail": {"data": [{"name": "Spring sale"}]}}
        expected = original("$.detail.data[0].name").find(document)
        assert [match.value for match in first.find(document)] == [m.value for m in expected]
    finally:
        speedups.uninstall()
    assert jsonpath_ng.ext.parse is original


def test_sqs_reads_the_same_clock() -> None:
    original = moto.sqs.models.unix_time_millis
    speedups = MotoSpeedups()
    speedups.install()
    try:
        before = time.time() * 1000
        fast = moto.sqs.models.unix_time_millis()
        assert before <= fast <= time.time() * 1000
        assert abs(fast - original()) < 1000  # the same epoch and unit as moto's own
    finally:
        speedups.uninstall()
    assert moto.sqs.models.unix_time_millis is original
