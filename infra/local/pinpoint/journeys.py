"""Which journey state changes Pinpoint allows.

Faithful where the API reference is explicit, lenient elsewhere:
- UpdateJourneyState takes ACTIVE, PAUSED or CANCELLED ("Currently, supported values are
  ACTIVE, PAUSED, and CANCELLED").
- A cancelled (or completed/closed) journey cannot change any more ("After you cancel a
  journey, you can't add, change, or remove any activities").
- PAUSED "only supports journeys with a segment refresh interval" (RefreshFrequency).
- ACTIVE on a PAUSED journey resumes it. A published journey cannot go back to DRAFT.
- Lenient (undocumented): ACTIVE via UpdateJourneyState also publishes a DRAFT, and a
  DRAFT may be cancelled; a request for the current state is a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import BadRequestError

JOURNEY_STATES = frozenset({"DRAFT", "ACTIVE", "COMPLETED", "CANCELLED", "CLOSED", "PAUSED"})
FINAL_STATES = frozenset({"COMPLETED", "CANCELLED", "CLOSED"})
STATE_REQUEST_VALUES = frozenset({"ACTIVE", "PAUSED", "CANCELLED"})
UPDATE_REQUEST_VALUES = frozenset({"DRAFT", "ACTIVE"})


def check_state_request(journey: Mapping[str, Any], requested: str) -> None:
    """Validate UpdateJourneyState; raises BadRequestError when Pinpoint would refuse."""
    current = journey.get("State", "DRAFT")
    if requested not in STATE_REQUEST_VALUES:
        raise BadRequestError(
            f"Invalid journey state {requested}: supported values are ACTIVE, PAUSED, CANCELLED"
        )
    if current in FINAL_STATES:
        raise BadRequestError(f"Journey is {current} and cannot be changed")
    if requested == current:
        return
    if requested == "PAUSED":
        if current != "ACTIVE":
            raise BadRequestError(f"Only an ACTIVE journey can be paused (journey is {current})")
        if not journey.get("RefreshFrequency"):
            raise BadRequestError("PAUSED is only supported for journeys with a RefreshFrequency")


def check_update(journey: Mapping[str, Any], requested: str | None) -> None:
    """Validate UpdateJourney (which is also how a journey is published)."""
    current = journey.get("State", "DRAFT")
    if current in FINAL_STATES:
        raise BadRequestError(f"Journey is {current} and cannot be updated")
    if requested is None:
        return
    if requested not in UPDATE_REQUEST_VALUES:
        raise BadRequestError(
            f"Invalid journey state {requested} for UpdateJourney: use DRAFT or ACTIVE, "
            "or UpdateJourneyState to pause or cancel"
        )
    if requested == "DRAFT" and current != "DRAFT":
        raise BadRequestError(f"A published journey ({current}) cannot return to DRAFT")


def check_create(requested: str | None) -> None:
    if requested is not None and requested not in UPDATE_REQUEST_VALUES:
        raise BadRequestError(
            f"Invalid journey state {requested}: a new journey is DRAFT or ACTIVE"
        )
