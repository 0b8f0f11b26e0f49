"""The import file each target takes: the runner's re-check looks a run's target up here."""

from __future__ import annotations

from collections.abc import Mapping

from contracts import EngagementTarget
from services.common.targets.connect.imports import CONNECT_IMPORTS
from services.common.targets.imports import ImportVocabulary
from services.common.targets.pinpoint.imports import PINPOINT_IMPORTS

IMPORT_VOCABULARIES: Mapping[EngagementTarget, ImportVocabulary] = {
    EngagementTarget.PINPOINT: PINPOINT_IMPORTS,
    EngagementTarget.CONNECT: CONNECT_IMPORTS,
}
