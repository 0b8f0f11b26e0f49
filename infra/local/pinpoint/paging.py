"""PageSize/Token paging shared by every Pinpoint list call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from infra.local.api_emulator import offset_page

from .errors import BadRequestError

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page(
    items: Sequence[T], page_size: str | None, token: str | None
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token of the next one (``None`` on the last page).

    Pinpoint takes PageSize as a string and hands out opaque tokens; a token here is the
    base64 of the next offset, so a tampered token is a 400 as it would be in AWS.
    """
    size = _page_size(page_size)
    return offset_page(items, size, token, lambda: BadRequestError("Invalid token"))


def _page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise BadRequestError(f"PageSize must be a number, got {raw!r}") from None
    if size < 1:
        raise BadRequestError(f"PageSize must be at least 1, got {size}")
    return min(size, MAX_PAGE_SIZE)
