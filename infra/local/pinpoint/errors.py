"""Pinpoint's modeled errors, raised by the emulator's logic and encoded by its glue."""

from __future__ import annotations

from infra.local.api_emulator import ApiError


class PinpointError(ApiError):
    """An error the real service would answer with: HTTP status + modeled error code."""

    status = 400
    code = "BadRequestException"


class BadRequestError(PinpointError):
    status = 400
    code = "BadRequestException"


class NotFoundError(PinpointError):
    status = 404
    code = "NotFoundException"


class TooManyRequestsError(PinpointError):
    status = 429
    code = "TooManyRequestsException"


class InternalServerError(PinpointError):
    status = 500
    code = "InternalServerErrorException"
