"""Outbound campaigns v2's modeled errors."""

from __future__ import annotations

from infra.local.api_emulator import ApiError


class CampaignsError(ApiError):
    status = 400
    code = "ValidationException"


class ValidationError(CampaignsError):
    status = 400
    code = "ValidationException"


class NotFoundError(CampaignsError):
    status = 404
    code = "ResourceNotFoundException"


class InvalidStateError(CampaignsError):
    """409 InvalidCampaignStateException; ``state`` (the campaign's) goes in the body."""

    status = 409
    code = "InvalidCampaignStateException"


class ThrottlingError(CampaignsError):
    status = 429
    code = "ThrottlingException"


class InternalServerError(CampaignsError):
    status = 500
    code = "InternalServerException"
