"""The vocabulary every step of reading a template shares: JSON values and the one error.

Kept apart so the loader, the SAM translation and the stack model can raise the same
`TemplateError` without importing one another.
"""

from __future__ import annotations

from typing import Any

JsonDict = dict[str, Any]


class TemplateError(ValueError):
    """The template cannot be loaded or resolved; the message names the culprit."""
