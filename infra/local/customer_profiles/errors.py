"""Customer Profiles' modeled errors (every operation: 400, 403, 404, 429, 500)."""

from __future__ import annotations

from infra.local.api_emulator import ApiError


class CustomerProfilesError(ApiError):
    status = 400
    code = "BadRequestException"


class BadRequestError(CustomerProfilesError):
    status = 400
    code = "BadRequestException"


class NotFoundError(CustomerProfilesError):
    status = 404
    code = "ResourceNotFoundException"


class ThrottlingError(CustomerProfilesError):
    status = 429
    code = "ThrottlingException"


class InternalServerError(CustomerProfilesError):
    status = 500
    code = "InternalServerException"
