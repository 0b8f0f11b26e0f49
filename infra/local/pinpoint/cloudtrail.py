"""Pinpoint's CloudTrail: the local cloud's shared recorder (infra/local/cloudtrail.py)."""

from __future__ import annotations

from infra.local.cloudtrail import ApiCall, CloudTrailRecorder, log_file_key

EVENT_SOURCE = "pinpoint.amazonaws.com"

__all__ = ["EVENT_SOURCE", "ApiCall", "CloudTrailRecorder", "log_file_key"]
