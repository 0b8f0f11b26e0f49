"""The demo's Connect part: outbound campaigns v2 and segment definitions made with plain
boto3 (what a team moving off Pinpoint creates), then a segment query with `target:
"connect"` that writes Customer Profiles and defines a segment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
CONNECT_RUN_ID = "demo-connect-gold"
CONNECT_SEGMENT = "GoldCustomers"
KNOWN_PROFILES = 5  # profiles Connect already has, keyed by the lake's endpoint ids
CONNECT_QUERY = """
SELECT endpoint_id AS "Id", email AS "Address", plan AS "User.UserAttributes.Plan",
       lifetime_value AS "Metrics.LifetimeValue"
FROM crm_contacts
WHERE plan = 'gold' AND state = 'CA'
"""
_EMAIL = {
    "email": {
        "outboundMode": {"agentless": {}},
        "defaultOutboundConfig": {
            "connectSourceEmailAddress": "news@example.com",
            "wisdomTemplateArn": f"arn:aws:wisdom:{REGION}:{ACCOUNT}:message-template/t/1",
        },
    }
}
_GOLD = {
    "Include": "ALL",
    "Groups": [
        {
            "Type": "ALL",
            "Dimensions": [
                {
                    "ProfileAttributes": {
                        "Attributes": {"Plan": {"DimensionType": "INCLUSIVE", "Values": ["gold"]}}
                    }
                }
            ],
        }
    ],
}


@dataclass
class SeededConnect:
    segments: dict[str, str] = field(default_factory=dict)  # display name -> definition name
    campaigns: dict[str, str] = field(default_factory=dict)  # name -> campaign id


def seed_connect(profiles: Any, campaigns: Any, *, domain: str, instance: str) -> SeededConnect:
    """A segment definition, a MANAGED campaign over it and a JOURNEY campaign."""
    seeded = SeededConnect()
    domain_arn = f"arn:aws:profile:{REGION}:{ACCOUNT}:domains/{domain}"
    profiles.create_segment_definition(
        DomainName=domain,
        SegmentDefinitionName="gold-tier",
        DisplayName="Gold tier (Connect)",
        SegmentGroups=_GOLD,
    )
    seeded.segments["Gold tier (Connect)"] = "gold-tier"
    managed = campaigns.create_campaign(
        name="Gold win-back (Connect)",
        connectInstanceId=instance,
        channelSubtypeConfig=_EMAIL,
        source={"customerProfilesSegmentArn": f"{domain_arn}/segment-definitions/gold-tier"},
    )["id"]
    seeded.campaigns["Gold win-back (Connect)"] = str(managed)
    flow = f"arn:aws:connect:{REGION}:{ACCOUNT}:instance/{instance}/contact-flow/journey-1"
    journey = campaigns.create_campaign(
        name="Welcome journey (Connect)",
        connectInstanceId=instance,
        type="JOURNEY",
        connectCampaignFlowArn=flow,
        source={"eventTrigger": {"customerProfilesDomainArn": domain_arn}},
    )["id"]
    seeded.campaigns["Welcome journey (Connect)"] = str(journey)
    campaigns.start_campaign(id=journey)
    return seeded
