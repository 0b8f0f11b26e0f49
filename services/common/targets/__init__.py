"""What the system knows about each engagement target, in one home per target.

An engagement target is the tool whose names the catalog keeps and into which segment runs
import: Amazon Pinpoint now, Amazon Connect (Customer Profiles and outbound campaigns v2)
next. Services depend on the small ports defined here (`catalog` for the catalog's side,
`imports` for the segmentation side); each target is one adapter package
(`services.common.targets.pinpoint`). Adding a target is adding a package, not editing the
services. Nothing here calls AWS: the ports are knowledge (which CloudTrail records matter,
how a resource body reads, which import columns exist and their limits); the boto3 calls
stay in each service's adapters.
"""

from __future__ import annotations

from collections.abc import Mapping

from contracts import EngagementTarget
from services.common.targets.connect.imports import CONNECT_IMPORTS
from services.common.targets.imports import ImportVocabulary
from services.common.targets.pinpoint.imports import PINPOINT_IMPORTS

# The import file each target takes: the validator, the runner's re-check and the importer
# all look a run's target up here.
IMPORT_VOCABULARIES: Mapping[EngagementTarget, ImportVocabulary] = {
    EngagementTarget.PINPOINT: PINPOINT_IMPORTS,
    EngagementTarget.CONNECT: CONNECT_IMPORTS,
}
