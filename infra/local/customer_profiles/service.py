"""Domains, profiles, segment definitions and estimates of the emulated Customer Profiles."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from infra.local.api_emulator import IdSource, offset_page
from infra.local.clock import VirtualClock

from . import segments
from .errors import BadRequestError, NotFoundError
from .profiles import PREDEFINED_KEYS, key_values, new_profile, updated_profile

DEFAULT_PAGE_SIZE = 20  # SearchProfiles' default; the list calls use their maximum
DOMAIN_CONFIG = (
    "DefaultExpirationDays",
    "DefaultEncryptionKey",
    "DeadLetterQueueUrl",
    "Matching",
    "RuleBasedMatching",
    "DataStore",
)


@dataclass
class Domain:
    name: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    tags: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> Profile
    expires: dict[str, datetime] = field(default_factory=dict)  # id -> when (upload jobs)
    search_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key -> fields
    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    estimates: dict[str, dict[str, Any]] = field(default_factory=dict)
    upload_jobs: dict[str, Any] = field(default_factory=dict)  # id -> UploadJob

    def search_fields(self, key_name: str) -> tuple[str, ...]:
        fields = PREDEFINED_KEYS.get(key_name) or self.search_keys.get(key_name)
        if fields is None:
            raise BadRequestError(f"KeyName {key_name} is not a search key of the domain")
        return fields


def invalid_token() -> Exception:
    return BadRequestError("Invalid NextToken")


def page_of(items: list[Any], size: int | None, token: str | None, default: int) -> Any:
    return offset_page(items, size or default, token, invalid_token)


class CustomerProfilesService:
    def __init__(self, clock: VirtualClock, region: str, account_id: str, ids: IdSource) -> None:
        self._clock = clock
        self._region = region
        self._account_id = account_id
        self._ids = ids
        self.domains: dict[str, Domain] = {}

    def domain(self, name: str) -> Domain:
        domain = self.domains.get(name)
        if domain is None:
            raise NotFoundError(f"Domain {name} not found")
        return domain

    def domain_arn(self, name: str) -> str:
        return f"arn:aws:profile:{self._region}:{self._account_id}:domains/{name}"

    # ------------------------------------------------------------------ domains

    def create_domain(self, params: Mapping[str, Any]) -> dict[str, Any]:
        name = str(params["DomainName"])
        if name in self.domains:
            raise BadRequestError(f"Domain {name} already exists")
        now = self._clock.now()
        config = {key: params[key] for key in DOMAIN_CONFIG if params.get(key) is not None}
        domain = Domain(name, config, now, now, dict(params.get("Tags") or {}))
        self.domains[name] = domain
        return self._domain_view(domain)

    def get_domain(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        view = self._domain_view(domain)
        view["Stats"] = {
            "ProfileCount": len(domain.profiles),
            "MeteringProfileCount": len(domain.profiles),
            "ObjectCount": 0,
            "TotalSize": 0,
        }
        return view

    def list_domains(self, params: Mapping[str, Any]) -> dict[str, Any]:
        items = [
            {
                "DomainName": d.name,
                "CreatedAt": d.created_at,
                "LastUpdatedAt": d.updated_at,
                **({"Tags": dict(d.tags)} if d.tags else {}),
            }
            for d in sorted(self.domains.values(), key=lambda d: d.name)
        ]
        chunk, token = page_of(items, params.get("MaxResults"), params.get("NextToken"), 100)
        return {"Items": chunk, "NextToken": token}

    def delete_domain(self, params: Mapping[str, Any]) -> dict[str, Any]:
        name = str(params["DomainName"])
        self.domain(name)
        del self.domains[name]
        return {"Message": f"Domain {name} was deleted"}

    def _domain_view(self, domain: Domain) -> dict[str, Any]:
        view: dict[str, Any] = {
            "DomainName": domain.name,
            **domain.config,
            "CreatedAt": domain.created_at,
            "LastUpdatedAt": domain.updated_at,
        }
        rules = view.get("RuleBasedMatching")
        if isinstance(rules, dict):
            view["RuleBasedMatching"] = {**rules, "Status": "ACTIVE"}
        if domain.tags:
            view["Tags"] = dict(domain.tags)
        return view

    # ------------------------------------------------------------------ profiles

    def create_profile(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        profile_id = self._ids.resource_id()
        domain.profiles[profile_id] = new_profile(profile_id, params)
        return {"ProfileId": profile_id}

    def update_profile(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        profile_id = str(params["ProfileId"])
        profile = self._profile(domain, profile_id)
        domain.profiles[profile_id] = updated_profile(profile, params)
        return {"ProfileId": profile_id}

    def delete_profile(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        profile_id = str(params["ProfileId"])
        self._profile(domain, profile_id)
        del domain.profiles[profile_id]
        domain.expires.pop(profile_id, None)
        return {"Message": f"Profile {profile_id} was deleted"}

    def search_profiles(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        keys = [{"KeyName": params["KeyName"], "Values": params["Values"]}]
        keys.extend(params.get("AdditionalSearchKeys") or [])
        operator = params.get("LogicalOperator") or "AND"
        if len(keys) > 1 and params.get("LogicalOperator") is None:
            raise BadRequestError("LogicalOperator is required with AdditionalSearchKeys")
        matches: list[dict[str, Any]] = []
        for profile in domain.profiles.values():
            found = []
            for key in keys:
                values = key_values(profile, domain.search_fields(str(key["KeyName"])))
                hit = sorted(values & set(key["Values"]))
                if hit:
                    found.append({"KeyName": key["KeyName"], "Values": hit})
            if (operator == "AND" and len(found) == len(keys)) or (operator == "OR" and found):
                matches.append({**profile, "FoundByItems": found})
        chunk, token = page_of(
            matches, params.get("MaxResults"), params.get("NextToken"), DEFAULT_PAGE_SIZE
        )
        return {"Items": chunk, "NextToken": token}

    def _profile(self, domain: Domain, profile_id: str) -> dict[str, Any]:
        profile = domain.profiles.get(profile_id)
        if profile is None:
            raise NotFoundError(f"Profile {profile_id} not found")
        return profile

    def expire_profiles(self) -> None:
        now = self._clock.now()
        for domain in self.domains.values():
            for profile_id in [p for p, when in domain.expires.items() if when <= now]:
                domain.profiles.pop(profile_id, None)
                del domain.expires[profile_id]

    def keep_until(self, domain: Domain, profile_id: str, days: int) -> None:
        domain.expires[profile_id] = self._clock.now() + timedelta(days=days)

    # ------------------------------------------------------------------ segment definitions

    def create_segment_definition(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        name = str(params["SegmentDefinitionName"])
        if name in domain.segments:
            raise BadRequestError(f"Segment definition {name} already exists")
        groups, sql = params.get("SegmentGroups"), params.get("SegmentSqlQuery")
        if (groups is None) == (sql is None):
            raise BadRequestError("Exactly one of SegmentGroups and SegmentSqlQuery is required")
        if groups is not None:
            segments.check_groups(groups)
            for group in groups.get("Groups") or []:
                for source in group.get("SourceSegments") or []:
                    self._segment(domain, str(source.get("SegmentDefinitionName")))
        arn = f"{self.domain_arn(domain.name)}/segment-definitions/{name}"
        definition: dict[str, Any] = {
            "SegmentDefinitionName": name,
            "DisplayName": params["DisplayName"],
            "Description": params.get("Description"),
            "SegmentGroups": groups,
            "SegmentSqlQuery": sql,
            "SegmentSort": params.get("SegmentSort"),
            "SegmentDefinitionArn": arn,
            "CreatedAt": self._clock.now(),
            "Tags": dict(params["Tags"]) if params.get("Tags") else None,
            "SegmentType": "CLASSIC" if groups is not None else "ENHANCED",
        }
        domain.segments[name] = definition
        created = ("SegmentDefinitionName", "DisplayName", "Description", "CreatedAt", "Tags")
        return {key: definition[key] for key in (*created, "SegmentDefinitionArn")}

    def get_segment_definition(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        return dict(self._segment(domain, str(params["SegmentDefinitionName"])))

    def list_segment_definitions(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        listed = (
            "SegmentDefinitionName",
            "DisplayName",
            "Description",
            "SegmentDefinitionArn",
            "CreatedAt",
            "Tags",
            "SegmentType",
        )
        items = [{key: d[key] for key in listed} for d in domain.segments.values()]
        chunk, token = page_of(items, params.get("MaxResults"), params.get("NextToken"), 500)
        return {"Items": chunk, "NextToken": token}

    def delete_segment_definition(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        name = str(params["SegmentDefinitionName"])
        self._segment(domain, name)
        del domain.segments[name]
        return {"Message": f"Segment definition {name} was deleted"}

    def get_segment_membership(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        name = str(params["SegmentDefinitionName"])
        definition = self._segment(domain, name)
        inside = self._members(domain, definition)
        results: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        for profile_id in params["ProfileIds"]:
            profile = domain.profiles.get(profile_id)
            if profile is None:
                failures.append(
                    {"ProfileId": profile_id, "Message": "Profile not found", "Status": 404}
                )
            elif profile_id in inside:
                results.append({"ProfileId": profile_id, "QueryResult": "PRESENT"})
                results[-1]["Profile"] = dict(profile)
            else:
                results.append({"ProfileId": profile_id, "QueryResult": "ABSENT"})
        return {
            "SegmentDefinitionName": name,
            "Profiles": results,
            "Failures": failures or None,
            "LastComputedAt": self._clock.now(),
        }

    def members(self, domain_name: str, segment_name: str) -> set[str]:
        """The ProfileIds in a CLASSIC segment now (for tests and the next consumers)."""
        domain = self.domain(domain_name)
        return self._members(domain, self._segment(domain, segment_name))

    def _members(self, domain: Domain, definition: Mapping[str, Any]) -> set[str]:
        groups = definition.get("SegmentGroups")
        if groups is None:
            raise BadRequestError("ENHANCED (SQL) segments are not evaluated here")
        return segments.members(
            groups, domain.profiles.values(), lambda name: self._segment(domain, name)
        )

    def _segment(self, domain: Domain, name: str) -> dict[str, Any]:
        definition = domain.segments.get(name)
        if definition is None:
            raise NotFoundError(f"Segment definition {name} not found")
        return definition

    # ------------------------------------------------------------------ estimates

    def create_segment_estimate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        query, sql = params.get("SegmentQuery"), params.get("SegmentSqlQuery")
        if (query is None) == (sql is None):
            raise BadRequestError("Exactly one of SegmentQuery and SegmentSqlQuery is required")
        if query is None:
            raise BadRequestError("ENHANCED (SQL) estimates are not evaluated here")
        segments.check_groups(query)
        count = len(self._members(domain, {"SegmentGroups": query}))
        estimate_id = self._ids.resource_id()
        domain.estimates[estimate_id] = {
            "DomainName": domain.name,
            "EstimateId": estimate_id,
            "Status": "SUCCEEDED",
            "Estimate": str(count),
            "StatusCode": 200,
        }
        return {"DomainName": domain.name, "EstimateId": estimate_id, "StatusCode": 201}

    def get_segment_estimate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self.domain(str(params["DomainName"]))
        estimate = domain.estimates.get(str(params["EstimateId"]))
        if estimate is None:
            raise NotFoundError(f"Estimate {params['EstimateId']} not found")
        return dict(estimate)
