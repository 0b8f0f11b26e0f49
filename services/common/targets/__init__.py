"""What the system knows about each engagement target, in one home per target.

An engagement target is the tool whose names the catalog keeps and into which segment runs
import: Amazon Pinpoint now, Amazon Connect (Customer Profiles and outbound campaigns v2)
next. Services depend on the small ports defined here (`catalog` for the catalog's side,
`imports` for the segmentation side); each target is one adapter package
(`services.common.targets.pinpoint`). Adding a target is adding a package, not editing the
services. Nothing here calls AWS: the ports are knowledge (which CloudTrail records matter,
how a resource body reads, which import columns exist and their limits); the boto3 calls
stay in each service's adapters.

This package module imports nothing: a catalog service reaches `targets.catalog` without
building the import vocabularies, which only the segmentation services use
(`targets.vocabularies`).
"""
