"""Security rules of infra/template.yaml, checked on what CloudFormation would deploy.

The template is translated with the local cloud's SAM translator and resolved for a stack
(`infra.local.template`), so the rules see what SAM makes of each function (its role is
declared in the template: SAM's generated roles carry AWSLambdaBasicExecutionRole) and the
concrete ARNs of the stack. Several parameter sets are checked, because conditions add
statements: the defaults; one with extra monitored projects, a data lake under a prefix
and other Glue databases; the same in another partition (every ARN must use the stack's
partition, region and account); and the most projects and databases the template takes.
Parameter values that would widen a grant (an empty item, a `*`) must be refused before
anything is created. Tests are parametrized by resource, and each lists every offending
statement in its message.
"""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.local.template import (
    JsonDict,
    StackModel,
    StackSettings,
    TemplateError,
    load_stack_template,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "template.yaml"
SETTINGS = StackSettings(stack_name="lake", region="eu-west-1", account_id="111122223333")
GOV_CLOUD = StackSettings(
    stack_name="lake", region="us-gov-west-1", account_id="444455556666", partition="aws-us-gov"
)
PRIMARY_PROJECT = "0123456789abcdef0123456789abcdef"
# AdditionalProjectIds and AllowedDatabases each fill at most this many slots.
LIST_SLOTS = 10
EXTENDED = {
    "PinpointProjectId": PRIMARY_PROJECT,
    "AdditionalProjectIds": "1" * 32 + "," + "2" * 32,
    "DataLakeS3Path": "s3://customer-lake/events/v1/",
    "GlueDatabase": "customer_lake",
    "AllowedDatabases": "customer_lake,crm",
}
SCENARIOS: dict[str, dict[str, str]] = {
    "defaults": {"PinpointProjectId": PRIMARY_PROJECT},
    "extended": EXTENDED,
    "gov-cloud": EXTENDED,
    "most-lists": {
        "PinpointProjectId": PRIMARY_PROJECT,
        "AdditionalProjectIds": ",".join(f"{n:x}" * 32 for n in range(1, LIST_SLOTS + 1)),
        "AllowedDatabases": ",".join(f"db_{n}" for n in range(LIST_SLOTS)),
    },
    # Both targets side by side: Connect's grants appear only when its domain and instance
    # are named; the default target is Connect.
    "connect": {
        "PinpointProjectId": PRIMARY_PROJECT,
        "CustomerProfilesDomainName": "lake-profiles",
        "ConnectInstanceId": "8f2e3a1c-0d4b-4b7e-9c55-3f1a2b6c7d8e",
        "DefaultTarget": "connect",
    },
}
SCENARIO_SETTINGS = {"gov-cloud": GOV_CLOUD}
IMPORT_ROLE = "PinpointImportRole"
# The role EventBridge Scheduler assumes to fire the stack's schedules (saved segments).
SCHEDULER_ROLE = "SchedulerRole"
SERVICE_ROLES = (IMPORT_ROLE, SCHEDULER_ROLE)
PINPOINT = "pinpoint.amazonaws.com"

# AWS managed policies a role may carry: none. Each grants more than one function needs:
# AWSLambdaBasicExecutionRole lets it create and write to every log group of the account,
# AWSLambdaSQSQueueExecutionRole read and delete the messages of every queue. A role names
# its own log group, queue... in statements of its own instead.
ALLOWED_MANAGED_POLICIES: frozenset[str] = frozenset()

# Actions AWS documents as having no resource types, so "*" is their only Resource; the
# value is the condition key that must narrow the statement instead (None: none exists).
# The athena, glue and logs actions the services use all take workgroup/catalog/database/
# table/log-group ARNs, so none of them is listed.
WILDCARD_RESOURCE_ACTIONS: dict[str, str | None] = {
    "xray:puttracesegments": None,
    "xray:puttelemetryrecords": None,
    "xray:getsamplingrules": None,
    "xray:getsamplingtargets": None,
    "xray:getsamplingstatisticsummaries": None,
    # Metrics by API (Powertools uses EMF in logs instead) are scoped by namespace.
    "cloudwatch:putmetricdata": "cloudwatch:namespace",
}


# --------------------------------------------------------------------------- the stack


@functools.cache
def translated(region: str = SETTINGS.region) -> JsonDict:
    return load_stack_template(TEMPLATE, region=region).resources_template


@functools.cache
def stack(scenario: str) -> StackModel:
    settings = SCENARIO_SETTINGS.get(scenario, SETTINGS)
    return StackModel(
        translated(settings.region), parameters=SCENARIOS[scenario], settings=settings
    )


def of_type(model: StackModel, resource_type: str) -> list[str]:
    return [lid for lid, res in model.resources.items() if res["Type"] == resource_type]


def cases(resource_type: str, scenarios: tuple[str, ...] = tuple(SCENARIOS)) -> list[Any]:
    """(scenario, logical id) for each resource of the type, named `<scenario>-<id>`."""
    return [
        pytest.param(scenario, logical_id, id=f"{scenario}-{logical_id}")
        for scenario in scenarios
        for logical_id in of_type(stack(scenario), resource_type)
    ]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def arn(model: StackModel, service: str, resource: str) -> str:
    s = model.settings
    return f"arn:{s.partition}:{service}:{s.region}:{s.account_id}:{resource}"


def comma_separated(model: StackModel, parameter: str) -> list[str]:
    return [item for item in str(model.parameter(parameter)).split(",") if item]


def monitored_projects(model: StackModel) -> list[str]:
    extra = comma_separated(model, "AdditionalProjectIds")
    return [str(model.parameter("PinpointProjectId")), *extra]


def readable_databases(model: StackModel) -> set[str]:
    return {str(model.parameter("GlueDatabase")), *comma_separated(model, "AllowedDatabases")}


def data_lake(model: StackModel) -> tuple[str, str]:
    """(bucket, key prefix) of DataLakeS3Path."""
    bucket, _, prefix = str(model.parameter("DataLakeS3Path")).removeprefix("s3://").partition("/")
    return bucket, prefix


def grants(pattern: str, action: str) -> bool:
    """Whether an IAM action pattern (wildcards allowed) covers `action`."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


@dataclass(frozen=True)
class Located:
    """One policy statement and where it sits, for failure messages."""

    where: str
    statement: JsonDict

    @property
    def effect(self) -> str:
        return str(self.statement.get("Effect"))

    @property
    def actions(self) -> list[str]:
        return [str(a) for a in as_list(self.statement.get("Action"))]

    @property
    def resources(self) -> list[str]:
        return [str(r) for r in as_list(self.statement.get("Resource"))]

    def condition(self, key: str, operators: tuple[str, ...] | None = None) -> list[str]:
        """Values of a condition key, under any (or the given) operators."""
        values: list[str] = []
        for operator, block in (self.statement.get("Condition") or {}).items():
            if operators is None or operator in operators:
                values += [str(v) for v in as_list(block.get(key))]
        return values


def statements_of(document: Any, where: str) -> list[Located]:
    found = as_list(document.get("Statement")) if isinstance(document, dict) else []
    return [
        Located(f"{where} statement {index}" + (f" ({s['Sid']})" if s.get("Sid") else ""), s)
        for index, s in enumerate(found)
    ]


def role_statements(model: StackModel, role_id: str) -> list[Located]:
    """Every identity-policy statement of a role: inline, and from the stack's policies."""
    properties = model.properties(role_id)
    found: list[Located] = []
    for policy in properties.get("Policies") or []:
        where = f"{role_id} policy {policy.get('PolicyName')}"
        found += statements_of(policy.get("PolicyDocument"), where)
    role_name = model.physical_id(role_id)
    managed = as_list(properties.get("ManagedPolicyArns"))
    for policy_id in of_type(model, "AWS::IAM::Policy") + of_type(model, "AWS::IAM::ManagedPolicy"):
        policy = model.properties(policy_id)
        attached = role_name in as_list(policy.get("Roles"))
        if attached or model.physical_id(policy_id) in managed:
            found += statements_of(policy.get("PolicyDocument"), f"{role_id} via {policy_id}")
    return found


def allow_statements(model: StackModel, role_id: str) -> list[Located]:
    return [s for s in role_statements(model, role_id) if s.effect == "Allow"]


def roles_by_arn(model: StackModel) -> dict[str, str]:
    return {model.attribute(r, "Arn"): r for r in of_type(model, "AWS::IAM::Role")}


def function_roles(model: StackModel) -> dict[str, str]:
    """Function logical id -> the logical id of its role (or the raw value if foreign)."""
    by_arn = roles_by_arn(model)
    return {
        function_id: by_arn.get(str(role), str(role))
        for function_id in of_type(model, "AWS::Lambda::Function")
        for role in [model.properties(function_id).get("Role")]
    }


def queue_arns(model: StackModel) -> dict[str, str]:
    return {model.attribute(q, "Arn"): q for q in of_type(model, "AWS::SQS::Queue")}


@dataclass(frozen=True)
class Owned:
    label: str
    exact: bool = False  # the ARN itself only, nothing under it


def owned_resources(model: StackModel) -> dict[str, Owned]:
    """ARNs the stack's roles may name: the stack's own resources, and what its
    parameters name (monitored projects, the Glue database, the data lake, read-only)."""
    owned: dict[str, Owned] = {}
    with_arn = {
        "AWS::S3::Bucket",
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::Events::EventBus",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
        "AWS::Logs::LogGroup",
    }
    for logical_id, resource in model.resources.items():
        if resource["Type"] in with_arn:
            owned[model.attribute(logical_id, "Arn")] = Owned(logical_id)
        elif resource["Type"] == "AWS::SNS::Topic":
            owned[model.physical_id(logical_id)] = Owned(logical_id)
        elif resource["Type"] == "AWS::Athena::WorkGroup":
            workgroup = arn(model, "athena", f"workgroup/{model.physical_id(logical_id)}")
            owned[workgroup] = Owned(logical_id)
    # Exact ARNs in this stack's partition, region and account: a project ("apps/<id>") and
    # what lies under it ("apps/<id>/*"); no pattern that could name another project.
    for project in monitored_projects(model):
        owned[arn(model, "mobiletargeting", f"apps/{project}")] = Owned(f"project {project}")
    domain = str(model.parameter("CustomerProfilesDomainName") or "")
    if domain:
        domain_arn = arn(model, "profile", f"domains/{domain}")
        owned[domain_arn] = Owned(f"Customer Profiles domain {domain}")
    if model.parameter("ConnectInstanceId"):
        # Campaign ARNs name no instance: the account's campaigns in the region, at most.
        campaigns = arn(model, "connect-campaigns", "campaign/*")
        owned[campaigns] = Owned("outbound campaigns", exact=True)
    owned[arn(model, "glue", "catalog")] = Owned("Glue catalog", exact=True)
    for logical_id in of_type(model, "AWS::Glue::Database"):  # the catalog's own database
        database = model.physical_id(logical_id)
        owned[arn(model, "glue", f"database/{database}")] = Owned(logical_id, exact=True)
        owned[arn(model, "glue", f"table/{database}")] = Owned(f"{logical_id} tables")
    for database in readable_databases(model):
        owned[arn(model, "glue", f"database/{database}")] = Owned(database, exact=True)
        owned[arn(model, "glue", f"table/{database}")] = Owned(f"{database} tables")
    bucket, prefix = data_lake(model)
    s3 = f"arn:{model.settings.partition}:s3:::"
    owned[f"{s3}{bucket}"] = Owned("data lake bucket", exact=True)
    owned[f"{s3}{bucket}/{prefix}".rstrip("/")] = Owned("data lake path")
    return owned


def is_owned(resource: str, owned: dict[str, Owned]) -> bool:
    if resource in owned:
        return True
    return any(
        not info.exact and resource.startswith(base.rstrip("/") + "/")
        for base, info in owned.items()
    )


# --------------------------------------------------------------------------- 1. roles


@pytest.mark.parametrize(("scenario", "function_id"), cases("AWS::Lambda::Function", ("defaults",)))
def test_every_function_has_a_role_of_its_own(scenario: str, function_id: str) -> None:
    model = stack(scenario)
    roles = function_roles(model)
    role_id = roles[function_id]

    assert role_id in model.resources, (
        f"{function_id}: its Role {role_id!r} is not an AWS::IAM::Role of this stack"
    )
    sharing = sorted(
        other for other, role in roles.items() if role == role_id and other != function_id
    )
    assert not sharing, f"{function_id} shares its role {role_id} with {', '.join(sharing)}"
    trust = statements_of(model.properties(role_id)["AssumeRolePolicyDocument"], role_id)
    principals = [s.statement.get("Principal") for s in trust if s.effect == "Allow"]
    lambda_only = ({"Service": ["lambda.amazonaws.com"]}, {"Service": "lambda.amazonaws.com"})
    assert principals, f"{function_id}: its role {role_id} trusts no one"
    assert all(p in lambda_only for p in principals), (
        f"{function_id}: its role {role_id} must trust lambda.amazonaws.com only, not {principals}"
    )


@pytest.mark.parametrize(("scenario", "role_id"), cases("AWS::IAM::Role", ("defaults",)))
def test_every_role_belongs_to_one_function_or_is_a_service_role(
    scenario: str, role_id: str
) -> None:
    users = sorted(f for f, role in function_roles(stack(scenario)).items() if role == role_id)
    if role_id in SERVICE_ROLES:
        assert not users, f"{role_id} is a service's role, yet functions run with it: {users}"
    else:
        assert len(users) == 1, f"{role_id}: expected exactly one function using it, got {users}"


# --------------------------------------------------------------------------- 2. actions


@pytest.mark.parametrize(("scenario", "role_id"), cases("AWS::IAM::Role"))
def test_role_statements_name_their_actions(scenario: str, role_id: str) -> None:
    problems = []
    for located in allow_statements(stack(scenario), role_id):
        if "NotAction" in located.statement:
            problems.append(f"{located.where}: NotAction allows everything else")
        for action in located.actions:
            if action == "*" or action.endswith(":*"):
                problems.append(f"{located.where}: Action {action!r} grants a whole service")
            elif "*" in action or "?" in action:
                problems.append(f"{located.where}: Action {action!r} is a wildcard; list them")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("scenario", "role_id"), cases("AWS::IAM::Role", ("defaults",)))
def test_roles_carry_only_allowed_managed_policies(scenario: str, role_id: str) -> None:
    model = stack(scenario)
    own = {model.physical_id(p) for p in of_type(model, "AWS::IAM::ManagedPolicy")}
    aws_prefix = f"arn:{model.settings.partition}:iam::aws:policy/"
    unexpected = [
        policy
        for policy in as_list(model.properties(role_id).get("ManagedPolicyArns"))
        if policy not in own and policy.removeprefix(aws_prefix) not in ALLOWED_MANAGED_POLICIES
    ]
    assert not unexpected, (
        f"{role_id} carries managed policies outside the allow-list: {unexpected} "
        f"(allowed: {sorted(ALLOWED_MANAGED_POLICIES)}); grant scoped statements instead"
    )


@pytest.mark.parametrize(
    ("scenario", "policy_id"),
    cases("AWS::S3::BucketPolicy", ("defaults",)) + cases("AWS::SQS::QueuePolicy", ("defaults",)),
)
def test_resource_policies_allow_named_actions_to_services_only(
    scenario: str, policy_id: str
) -> None:
    document = stack(scenario).properties(policy_id)["PolicyDocument"]
    problems = []
    for located in statements_of(document, policy_id):
        if located.effect != "Allow":
            continue
        principal = located.statement.get("Principal")
        if not (isinstance(principal, dict) and set(principal) == {"Service"}):
            problems.append(f"{located.where}: allows {principal!r}; only AWS services may be")
        for action in located.actions:
            if "*" in action or "?" in action:
                problems.append(f"{located.where}: Action {action!r} is a wildcard")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- 3. resources


@pytest.mark.parametrize(("scenario", "role_id"), cases("AWS::IAM::Role"))
def test_role_resources_are_the_stacks_own(scenario: str, role_id: str) -> None:
    model = stack(scenario)
    owned = owned_resources(model)
    problems = []
    for located in allow_statements(model, role_id):
        if "NotResource" in located.statement:
            problems.append(f"{located.where}: NotResource allows everything else")
        if not located.resources and "NotResource" not in located.statement:
            problems.append(f"{located.where}: no Resource")
        for resource in located.resources:
            if resource == "*":
                problems += _wildcard_resource_problems(located)
            elif not is_owned(resource, owned):
                problems.append(
                    f"{located.where}: Resource {resource} is neither a resource of this stack "
                    "nor one its parameters name"
                )
    assert not problems, "\n".join(problems)


def _wildcard_resource_problems(located: Located) -> list[str]:
    problems = []
    for action in located.actions:
        if action.lower() not in WILDCARD_RESOURCE_ACTIONS:
            problems.append(
                f"{located.where}: {action} on Resource '*'; it supports resource-level "
                "permissions, so name the resource"
            )
            continue
        key = WILDCARD_RESOURCE_ACTIONS[action.lower()]
        if key is not None and not located.condition(key):
            problems.append(f"{located.where}: {action} on '*' needs a {key} condition")
    return problems


# --------------------------------------------------------------------------- Connect


def _profile_grants(model: StackModel) -> dict[str, list[Located]]:
    """Role logical id -> its statements granting Customer Profiles actions."""
    grants: dict[str, list[Located]] = {}
    for role_id in of_type(model, "AWS::IAM::Role"):
        for located in allow_statements(model, role_id):
            if any(action.lower().startswith("profile:") for action in located.actions):
                grants.setdefault(role_id, []).append(located)
    return grants


@pytest.mark.parametrize("scenario", ["defaults", "extended"])
def test_without_a_customer_profiles_domain_nothing_is_granted_on_connect(scenario: str) -> None:
    assert _profile_grants(stack(scenario)) == {}


def test_the_importer_alone_may_run_upload_jobs_in_the_named_domain_only() -> None:
    model = stack("connect")
    grants = _profile_grants(model)
    importer_role = function_roles(model)["ImporterFunction"]
    domain = arn(model, "profile", "domains/lake-profiles")

    # The catalog's services read segment definitions; only the importer writes anything.
    writers = [
        role
        for role, statements in grants.items()
        for located in statements
        if any(
            not action.lower().startswith(("profile:get", "profile:list"))
            for action in located.actions
        )
    ]
    assert writers == [importer_role]
    (statement,) = grants[importer_role]
    assert sorted(statement.actions) == [
        "profile:CreateSegmentDefinition",
        "profile:CreateUploadJob",
        "profile:GetSegmentDefinition",
        "profile:GetUploadJob",
        "profile:GetUploadJobPath",
        "profile:ListUploadJobs",
        "profile:StartUploadJob",
    ]
    assert sorted(statement.resources) == [domain, f"{domain}/*"]
    assert not statement.statement.get("Condition")


def test_only_the_importer_touches_saved_segments_snapshots_and_only_under_sync() -> None:
    model = stack("defaults")
    bucket = model.attribute("QueryResultsBucket", "Arn")
    roles = function_roles(model)
    touching: dict[str, set[str]] = {}
    for function_id, role_id in roles.items():
        for located in allow_statements(model, role_id):
            for resource in located.resources:
                # Objects under sync/, or every object (listing the bucket reads no object).
                if resource.startswith(f"{bucket}/sync") or resource == f"{bucket}/*":
                    touching.setdefault(function_id, set()).update(located.actions)
    # The snapshots hold member keys: the importer reads and writes them, nobody else does
    # (and no grant on the whole bucket reaches them).
    assert touching == {
        "ImporterFunction": {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}
    }
    import_role = [r for r in of_type(model, "AWS::IAM::Role") if r not in roles.values()]
    for role_id in import_role:
        for located in allow_statements(model, role_id):
            assert not any(r.startswith(f"{bucket}/sync") for r in located.resources)


def test_the_validator_and_importer_are_told_the_domain_and_the_default_target() -> None:
    model = stack("connect")
    validator = model.properties("QueryValidatorFunction")["Environment"]["Variables"]
    importer = model.properties("ImporterFunction")["Environment"]["Variables"]

    assert validator["CUSTOMER_PROFILES_DOMAIN_NAME"] == "lake-profiles"
    assert validator["DEFAULT_TARGET"] == "connect"
    assert importer["CUSTOMER_PROFILES_DOMAIN_NAME"] == "lake-profiles"
    assert importer["CONNECT_PROFILE_KEY"] == "AccountNumber"


# --------------------------------------------------------------------------- 4. PassRole


@pytest.mark.parametrize(("scenario", "role_id"), cases("AWS::IAM::Role"))
def test_only_the_importer_passes_only_the_import_role_only_to_pinpoint(
    scenario: str, role_id: str
) -> None:
    model = stack(scenario)
    import_role_arn = model.attribute(IMPORT_ROLE, "Arn")
    # The importer is the function told the import role's ARN.
    importers = {
        role
        for function_id, role in function_roles(model).items()
        if import_role_arn
        in (model.properties(function_id).get("Environment") or {}).get("Variables", {}).values()
    }
    problems = []
    for located in allow_statements(model, role_id):
        if not any(grants(action, "iam:PassRole") for action in located.actions):
            continue
        if role_id not in importers:
            problems.append(f"{located.where}: grants iam:PassRole, but {role_id} is no importer")
        if located.resources != [import_role_arn]:
            problems.append(
                f"{located.where}: iam:PassRole on {located.resources}; only {IMPORT_ROLE} "
                f"({import_role_arn}) may be passed"
            )
        passed_to = located.condition("iam:PassedToService", ("StringEquals",))
        if passed_to != [PINPOINT]:
            problems.append(
                f"{located.where}: iam:PassRole needs StringEquals iam:PassedToService = "
                f"{PINPOINT}, has {passed_to}"
            )
    assert not problems, "\n".join(problems)


def test_the_importer_is_the_one_function_told_the_import_role() -> None:
    # Guards the test above: with no importer found, it would pass for the wrong reason.
    model = stack("defaults")
    import_role_arn = model.attribute(IMPORT_ROLE, "Arn")
    told = [
        function_id
        for function_id in of_type(model, "AWS::Lambda::Function")
        if import_role_arn
        in (model.properties(function_id).get("Environment") or {}).get("Variables", {}).values()
    ]
    assert told == ["ImporterFunction"]


# --------------------------------------------------------------------------- 5. delivery


def _fed_queues(model: StackModel) -> dict[str, str]:
    """Queue ARN -> the event source mapping that feeds it to a function."""
    return {
        str(model.properties(m)["EventSourceArn"]): m
        for m in of_type(model, "AWS::Lambda::EventSourceMapping")
    }


def _dead_letter_queues(model: StackModel) -> dict[str, str]:
    """DLQ ARN -> the queue whose redrive policy names it."""
    return {
        str(redrive["deadLetterTargetArn"]): q
        for q in of_type(model, "AWS::SQS::Queue")
        if (redrive := model.properties(q).get("RedrivePolicy"))
    }


@pytest.mark.parametrize(("scenario", "queue_id"), cases("AWS::SQS::Queue", ("defaults",)))
def test_queues_feeding_functions_redrive_to_a_dlq(scenario: str, queue_id: str) -> None:
    model = stack(scenario)
    queue_arn = model.attribute(queue_id, "Arn")
    redrive = model.properties(queue_id).get("RedrivePolicy")
    fed, dead_letter = _fed_queues(model), _dead_letter_queues(model)

    if queue_arn in dead_letter:
        assert redrive is None, f"{queue_id} is the DLQ of {dead_letter[queue_arn]}: no redrive"
        assert queue_arn not in fed, f"{queue_id} is a DLQ, yet {fed[queue_arn]} consumes it"
        return
    assert queue_arn in fed, f"{queue_id} neither feeds a function nor is a DLQ"
    assert redrive, f"{queue_id} feeds {fed[queue_arn]} but has no RedrivePolicy"
    target = str(redrive.get("deadLetterTargetArn"))
    assert target in queue_arns(model), f"{queue_id}: DLQ {target} is not a queue of this stack"
    assert target != queue_arn, f"{queue_id} redrives to itself"
    assert int(redrive.get("maxReceiveCount", 0)) >= 1, f"{queue_id}: no maxReceiveCount"


@pytest.mark.parametrize(("scenario", "rule_id"), cases("AWS::Events::Rule", ("defaults",)))
def test_rules_deliver_to_queues_that_admit_only_their_rules(scenario: str, rule_id: str) -> None:
    model = stack(scenario)
    rule_arn = model.attribute(rule_id, "Arn")
    queues = queue_arns(model)
    problems = []
    for target in model.properties(rule_id).get("Targets") or []:
        queue_id = queues.get(str(target.get("Arn")))
        if queue_id is None:
            continue
        dlq = (target.get("DeadLetterConfig") or {}).get("Arn")
        if dlq in queues or rule_arn in _queue_policy_source_arns(model, queue_id):
            continue
        problems.append(
            f"{rule_id} target {target.get('Id')} -> {queue_id}: neither a DeadLetterConfig "
            f"nor a queue policy admitting this rule by aws:SourceArn"
        )
    assert not problems, "\n".join(problems)


def _queue_policy_statements(model: StackModel, queue_id: str) -> list[Located]:
    url = model.physical_id(queue_id)
    return [
        located
        for policy_id in of_type(model, "AWS::SQS::QueuePolicy")
        if url in as_list(model.properties(policy_id).get("Queues"))
        for located in statements_of(model.properties(policy_id)["PolicyDocument"], policy_id)
    ]


def _queue_policy_source_arns(model: StackModel, queue_id: str) -> set[str]:
    return {
        source
        for located in _queue_policy_statements(model, queue_id)
        if located.effect == "Allow"
        for source in located.condition("aws:SourceArn")
    }


@pytest.mark.parametrize(("scenario", "queue_id"), cases("AWS::SQS::Queue", ("defaults",)))
def test_queue_policies_admit_only_the_rules_that_target_the_queue(
    scenario: str, queue_id: str
) -> None:
    model = stack(scenario)
    queue_arn = model.attribute(queue_id, "Arn")
    targeting = {
        model.attribute(rule_id, "Arn")
        for rule_id in of_type(model, "AWS::Events::Rule")
        if any(t.get("Arn") == queue_arn for t in model.properties(rule_id).get("Targets") or [])
    }
    problems = []
    for located in _queue_policy_statements(model, queue_id):
        if located.effect != "Allow":
            continue
        sources = set(located.condition("aws:SourceArn", ("ArnEquals", "StringEquals")))
        if not sources:
            problems.append(f"{located.where}: allows {queue_id} without an exact aws:SourceArn")
        elif not sources <= targeting:
            problems.append(
                f"{located.where}: admits {sorted(sources - targeting)}, "
                f"which are not rules targeting {queue_id}"
            )
        if located.resources != [queue_arn]:
            problems.append(f"{located.where}: Resource {located.resources} is not {queue_id}")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- 6-7. buckets


def _bucket_policy_statements(model: StackModel, bucket_id: str) -> list[Located]:
    name = model.physical_id(bucket_id)
    return [
        located
        for policy_id in of_type(model, "AWS::S3::BucketPolicy")
        if model.properties(policy_id).get("Bucket") == name
        for located in statements_of(model.properties(policy_id)["PolicyDocument"], policy_id)
    ]


@pytest.mark.parametrize(("scenario", "bucket_id"), cases("AWS::S3::Bucket", ("defaults",)))
def test_buckets_block_public_access_encrypt_and_require_tls(scenario: str, bucket_id: str) -> None:
    model = stack(scenario)
    properties = model.properties(bucket_id)
    problems = []
    block = properties.get("PublicAccessBlockConfiguration") or {}
    for setting in (
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ):
        if block.get(setting) not in (True, "true"):
            problems.append(f"{bucket_id}: PublicAccessBlockConfiguration.{setting} is not true")
    rules = (properties.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration")
    algorithms = [
        (rule.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm")
        for rule in as_list(rules)
    ]
    if not algorithms or not all(a in ("AES256", "aws:kms", "aws:kms:dsse") for a in algorithms):
        problems.append(f"{bucket_id}: BucketEncryption has no default algorithm ({algorithms})")
    bucket_arn = model.attribute(bucket_id, "Arn")
    denies_plain_http = any(
        located.effect == "Deny"
        and located.statement.get("Principal") in ("*", {"AWS": "*"})
        and any(grants(action, "s3:GetObject") for action in located.actions)
        and any(grants(action, "s3:PutObject") for action in located.actions)
        and {bucket_arn, f"{bucket_arn}/*"} <= set(located.resources)
        and located.condition("aws:SecureTransport", ("Bool",)) == ["false"]
        for located in _bucket_policy_statements(model, bucket_id)
    )
    if not denies_plain_http:
        problems.append(
            f"{bucket_id}: no bucket policy statement denies everyone every s3 action on the "
            "bucket and its objects when aws:SecureTransport is false"
        )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("scenario", "trail_id"), cases("AWS::CloudTrail::Trail", ("defaults",)))
def test_trail_bucket_admits_cloudtrail_only_for_this_trail(scenario: str, trail_id: str) -> None:
    model = stack(scenario)
    trail_arn = model.attribute(trail_id, "Arn")
    bucket_name = model.properties(trail_id)["S3BucketName"]
    (bucket_id,) = [
        b for b in of_type(model, "AWS::S3::Bucket") if model.physical_id(b) == bucket_name
    ]
    for_cloudtrail = [
        located
        for located in _bucket_policy_statements(model, bucket_id)
        if located.effect == "Allow"
        and "cloudtrail.amazonaws.com"
        in as_list((located.statement.get("Principal") or {}).get("Service"))
    ]
    assert for_cloudtrail, f"{bucket_id}: no statement lets CloudTrail deliver {trail_id}'s logs"
    problems = []
    for located in for_cloudtrail:
        source_arns = located.condition("aws:SourceArn", ("StringEquals", "ArnEquals"))
        source_accounts = located.condition("aws:SourceAccount", ("StringEquals",))
        if source_arns and set(source_arns) <= {trail_arn}:
            continue
        if not source_arns and source_accounts == [model.settings.account_id]:
            continue
        problems.append(
            f"{located.where}: CloudTrail must be limited by aws:SourceArn = {trail_arn} "
            f"(or aws:SourceAccount), has SourceArn {source_arns}, SourceAccount {source_accounts}"
        )
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- 8. import role


def service_trust_problems(
    model: StackModel, role_id: str, service: str, sources: set[str], what: str
) -> list[str]:
    """What is wrong with a service role's trust: it must let `service` (only) assume the
    role, for this account (aws:SourceAccount) and exactly `sources` (aws:SourceArn)."""
    trust = statements_of(model.properties(role_id)["AssumeRolePolicyDocument"], role_id)
    problems = [] if trust else [f"{role_id} trusts no one"]
    for located in trust:
        if located.effect != "Allow":
            continue
        principal = located.statement.get("Principal")
        if principal not in ({"Service": service}, {"Service": [service]}):
            problems.append(f"{located.where}: trusts {principal!r}, not only {service}")
        if located.actions != ["sts:AssumeRole"]:
            problems.append(f"{located.where}: allows {located.actions}, not only sts:AssumeRole")
        accounts = located.condition("aws:SourceAccount", ("StringEquals",))
        if accounts != [model.settings.account_id]:
            problems.append(f"{located.where}: aws:SourceAccount is {accounts}, not this account")
        named = located.condition("aws:SourceArn", ("ArnEquals", "ArnLike"))
        if set(named) != sources:
            problems.append(f"{located.where}: aws:SourceArn {named} must name exactly {what}")
    return problems


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_import_role_trusts_only_pinpoint_for_the_monitored_projects(scenario: str) -> None:
    model = stack(scenario)
    projects = monitored_projects(model)
    allowed_sources = {arn(model, "mobiletargeting", f"apps/{p}") for p in projects}
    problems = service_trust_problems(
        model, IMPORT_ROLE, PINPOINT, allowed_sources, f"the monitored projects {projects}"
    )
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- 9. encryption


def test_the_topic_is_encrypted() -> None:
    model = stack("defaults")
    topics = of_type(model, "AWS::SNS::Topic")
    unencrypted = [t for t in topics if not model.properties(t).get("KmsMasterKeyId")]
    assert topics, "the template has no SNS topic"
    assert not unencrypted, f"topics without KmsMasterKeyId: {unencrypted}"


@pytest.mark.parametrize(("scenario", "queue_id"), cases("AWS::SQS::Queue", ("defaults",)))
def test_queues_are_encrypted(scenario: str, queue_id: str) -> None:
    properties = stack(scenario).properties(queue_id)
    assert properties.get("SqsManagedSseEnabled") in (True, "true") or properties.get(
        "KmsMasterKeyId"
    ), f"{queue_id}: neither SqsManagedSseEnabled nor KmsMasterKeyId"


@pytest.mark.parametrize(("scenario", "table_id"), cases("AWS::DynamoDB::Table", ("defaults",)))
def test_tables_are_encrypted_with_a_kms_key(scenario: str, table_id: str) -> None:
    # DynamoDB always encrypts at rest with an AWS owned key; SSEEnabled moves the table to
    # a KMS key whose use shows up in CloudTrail. The template asks for it everywhere.
    sse = stack(scenario).properties(table_id).get("SSESpecification") or {}
    assert sse.get("SSEEnabled") in (True, "true"), f"{table_id}: SSESpecification.SSEEnabled"


# --------------------------------------------------------------------------- 10. Athena


@pytest.mark.parametrize(
    ("scenario", "workgroup_id"), cases("AWS::Athena::WorkGroup", ("defaults",))
)
def test_the_workgroup_enforces_its_output_location_in_the_results_bucket(
    scenario: str, workgroup_id: str
) -> None:
    model = stack(scenario)
    configuration = model.properties(workgroup_id).get("WorkGroupConfiguration") or {}
    results = configuration.get("ResultConfiguration") or {}
    bucket = model.output("QueryResultsBucketName")

    assert configuration.get("EnforceWorkGroupConfiguration") in (True, "true"), (
        f"{workgroup_id}: EnforceWorkGroupConfiguration is not true, so callers pick the output"
    )
    assert str(results.get("OutputLocation", "")).startswith(f"s3://{bucket}/"), (
        f"{workgroup_id}: OutputLocation {results.get('OutputLocation')!r} is not in {bucket}"
    )
    assert (results.get("EncryptionConfiguration") or {}).get("EncryptionOption"), (
        f"{workgroup_id}: results are not encrypted"
    )


def test_the_workgroup_caps_the_bytes_one_query_scans() -> None:
    model = stack("defaults")
    (workgroup_id,) = of_type(model, "AWS::Athena::WorkGroup")
    configuration = model.properties(workgroup_id).get("WorkGroupConfiguration") or {}
    cutoff = configuration.get("BytesScannedCutoffPerQuery")
    assert cutoff is not None, f"{workgroup_id}: no BytesScannedCutoffPerQuery"
    assert int(cutoff) == 100 * 1024**3, "the default is 100 GB"
    # Athena's minimum; a smaller value would fail the deployment.
    assert int(translated()["Parameters"]["QueryBytesScannedCutoff"]["MinValue"]) == 10_000_000
    parameters = {**SCENARIOS["defaults"], "QueryBytesScannedCutoff": "9999999"}
    with pytest.raises(TemplateError, match="QueryBytesScannedCutoff"):
        StackModel(translated(), parameters=parameters, settings=SETTINGS)


# --------------------------------------------------------------------------- retention

# Stores whose data must survive a stack delete or a replacement: the names catalog and the
# run ledgers (the only record of runs), and the access logs (an audit trail).
RETAINED = {
    "CampaignJourneyTable",
    "SegmentTable",
    "QueryRunsTable",
    "ImportRunsTable",
    "RejectedRunsTable",
    "AccessLogsBucket",
    "CatalogMirrorBucket",  # the catalog, as Athena reads it
}
# Every other table and bucket, and why losing it with the stack loses nothing.
NOT_RETAINED = {
    "NotificationIdempotencyTable": "idempotency records expire (TTL); replays stay safe",
    "CloudTrailBucket": "log files are read once and expire after a day",
    "QueryResultsBucket": "results and import files expire after 30 days; ledgers keep runs",
}


@pytest.mark.parametrize(
    "store_id",
    of_type(stack("defaults"), "AWS::DynamoDB::Table")
    + of_type(stack("defaults"), "AWS::S3::Bucket"),
)
def test_catalog_and_run_ledgers_survive_a_stack_delete(store_id: str) -> None:
    resource = stack("defaults").resources[store_id]
    policies = (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy"))
    if store_id in RETAINED:
        assert policies == ("Retain", "Retain"), (
            f"{store_id}: DeletionPolicy/UpdateReplacePolicy are {policies}, not Retain"
        )
    else:
        assert store_id in NOT_RETAINED, (
            f"{store_id} is neither retained nor listed (with a reason) in NOT_RETAINED"
        )


# Buckets that do not log access, and why.
UNLOGGED_BUCKETS = {
    "AccessLogsBucket": "the destination of access logs; logging it would log its own deliveries",
    "CloudTrailBucket": "only CloudTrail writes and only the log-ingester reads; files live a day",
}


@pytest.mark.parametrize(("scenario", "bucket_id"), cases("AWS::S3::Bucket", ("defaults",)))
def test_buckets_log_access_to_a_retained_bucket_of_the_stack(
    scenario: str, bucket_id: str
) -> None:
    model = stack(scenario)
    logging = model.properties(bucket_id).get("LoggingConfiguration")
    if bucket_id in UNLOGGED_BUCKETS:
        return
    assert logging, f"{bucket_id}: no LoggingConfiguration (nor a reason in UNLOGGED_BUCKETS)"
    buckets = {model.physical_id(b): b for b in of_type(model, "AWS::S3::Bucket")}
    destination = buckets.get(str(logging.get("DestinationBucketName")))
    assert destination in RETAINED, f"{bucket_id} logs to {destination}, not a retained bucket"
    prefix = str(logging.get("LogFilePrefix", ""))
    delivery = [
        located
        for located in _bucket_policy_statements(model, destination)
        if located.effect == "Allow"
        and located.statement.get("Principal") == {"Service": "logging.s3.amazonaws.com"}
    ]
    destination_arn = model.attribute(destination, "Arn")
    assert any(
        located.resources == [f"{destination_arn}/{prefix}*"]
        and located.condition("aws:SourceAccount", ("StringEquals",)) == [model.settings.account_id]
        for located in delivery
    ), f"{destination}: S3 log delivery is not admitted for {prefix}* from this account only"


# --------------------------------------------------------------------------- 11. data lake


def _is_s3_write(action: str) -> bool:
    lowered = action.lower()
    if lowered == "*" or lowered.startswith("s3:*"):
        return True
    return lowered.startswith("s3:") and not lowered.startswith(("s3:get", "s3:list"))


@pytest.mark.parametrize(("scenario", "role_id"), cases("AWS::IAM::Role"))
def test_roles_write_only_to_the_stacks_buckets_never_to_the_data_lake(
    scenario: str, role_id: str
) -> None:
    model = stack(scenario)
    partition = model.settings.partition
    own_buckets = [model.attribute(b, "Arn") for b in of_type(model, "AWS::S3::Bucket")]
    bucket, prefix = data_lake(model)
    lake = [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/{prefix}part-0.csv"]
    problems = []
    for located in allow_statements(model, role_id):
        writes = [a for a in located.actions if _is_s3_write(a)]
        if not writes:
            continue
        for resource in located.resources:
            if any(fnmatch.fnmatchcase(target, resource) for target in lake):
                problems.append(f"{located.where}: {writes} reach the data lake via {resource}")
            if not any(resource == b or resource.startswith(f"{b}/") for b in own_buckets):
                problems.append(f"{located.where}: {writes} on {resource}, not this stack's bucket")
    assert not problems, "\n".join(problems)


def _is_glue_write(action: str) -> bool:
    if grants(action, "glue:CreateTable"):  # "*", "glue:*", "glue:Create*"...
        return True
    lowered = action.lower()
    return lowered.startswith("glue:") and not lowered.startswith(("glue:get", "glue:batchget"))


@pytest.mark.parametrize(("scenario", "role_id"), cases("AWS::IAM::Role"))
def test_glue_access_is_read_only(scenario: str, role_id: str) -> None:
    problems = [
        f"{located.where}: {action} is not a Glue read"
        for located in allow_statements(stack(scenario), role_id)
        for action in located.actions
        if _is_glue_write(action)
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_runner_may_read_every_database_queries_may_name(scenario: str) -> None:
    # Least privilege must not break the feature: a database the validator admits
    # (GlueDatabase and AllowedDatabases) is one Athena can read the tables of.
    model = stack(scenario)
    role = function_roles(model)["QueryRunnerFunction"]
    reads = [s for s in allow_statements(model, role) if "glue:GetTable" in s.actions]
    for database in readable_databases(model):
        for resource in (f"database/{database}", f"table/{database}/events"):
            assert any(
                fnmatch.fnmatchcase(arn(model, "glue", resource), granted)
                for located in reads
                for granted in located.resources
            ), f"the query-runner cannot read glue {resource}"


@pytest.mark.parametrize("path", ["s3://lake", "s3://lake/events", "s3://lake/events/x"])
def test_the_data_lake_path_must_end_with_a_slash(path: str) -> None:
    # The read grant is "<path>*": without the slash it would reach "lake-other" buckets or
    # "events-private/" prefixes.
    parameters = {**SCENARIOS["defaults"], "DataLakeS3Path": path}
    with pytest.raises(TemplateError, match="DataLakeS3Path"):
        StackModel(translated(), parameters=parameters, settings=SETTINGS)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize(
    ("function_id", "action"),
    [
        ("LogIngesterFunction", "mobiletargeting:GetSegments"),
        ("NameResolverFunction", "mobiletargeting:GetSegment"),
        ("ImporterFunction", "mobiletargeting:CreateImportJob"),
    ],
)
def test_every_monitored_project_is_granted_by_its_exact_arns(
    scenario: str, function_id: str, action: str
) -> None:
    # The other side of the trust boundary: each project a parameter names (every slot
    # filled in "most-lists") is reachable, as "apps/<id>" and "apps/<id>/*".
    model = stack(scenario)
    role = function_roles(model)[function_id]
    granted = {
        resource
        for located in allow_statements(model, role)
        if action in located.actions
        for resource in located.resources
    }
    for project in monitored_projects(model):
        project_arn = arn(model, "mobiletargeting", f"apps/{project}")
        assert {project_arn, f"{project_arn}/*"} <= granted, f"{function_id}: {project}"


WIDENING_VALUES = [
    ("AdditionalProjectIds", "1" * 32 + ","),  # a trailing comma: an empty item
    ("AdditionalProjectIds", "*"),
    ("AdditionalProjectIds", "1" * 32 + ",*"),
    ("AdditionalProjectIds", "1" * 32 + ",," + "2" * 32),
    ("AdditionalProjectIds", "1" * 32 + "*"),
    ("AdditionalProjectIds", "1" * 32 + ", " + "2" * 32),
    ("AdditionalProjectIds", ",".join(f"{n:x}" * 32 for n in range(1, LIST_SLOTS + 2))),
    ("AllowedDatabases", "crm,"),
    ("AllowedDatabases", "*"),
    ("AllowedDatabases", "crm,*"),
    ("AllowedDatabases", "crm/*"),
    ("AllowedDatabases", ",".join(f"db_{n}" for n in range(LIST_SLOTS + 1))),
    ("GlueDatabase", "*"),
    ("GlueDatabase", "lake/*"),
]


@pytest.mark.parametrize(("parameter", "value"), WIDENING_VALUES)
def test_list_parameters_that_could_widen_a_grant_are_refused(parameter: str, value: str) -> None:
    # An empty item once made "apps/*" (every Pinpoint project of every account); more
    # items than slots would be monitored without being granted. CloudFormation applies
    # AllowedPattern before creating anything; so does the stack model.
    parameters = {**SCENARIOS["extended"], parameter: value}
    with pytest.raises(TemplateError, match=parameter):
        StackModel(translated(), parameters=parameters, settings=SETTINGS)


# --------------------------------------------------------------------------- logs


def _log_group_of(model: StackModel, function_id: str) -> str:
    """The logical id of the stack's log group the function's LoggingConfig names."""
    named = (model.properties(function_id).get("LoggingConfig") or {}).get("LogGroup")
    groups = [g for g in of_type(model, "AWS::Logs::LogGroup") if model.physical_id(g) == named]
    assert len(groups) == 1, (
        f"{function_id}: LoggingConfig.LogGroup is {named!r}, not a log group of this stack"
    )
    return groups[0]


def _depends_on(model: StackModel, logical_id: str) -> set[str]:
    """Everything `logical_id` needs created first, directly or not."""
    found: set[str] = set()
    pending = [logical_id]
    while pending:
        for dependency in model.dependencies(pending.pop()) - found:
            found.add(dependency)
            pending.append(dependency)
    return found


@pytest.mark.parametrize(("scenario", "function_id"), cases("AWS::Lambda::Function", ("defaults",)))
def test_every_function_logs_to_a_group_of_its_own_with_retention(
    scenario: str, function_id: str
) -> None:
    # CloudWatch Logs encrypts every log group at rest; the template adds no KMS key, so a
    # KmsKeyId, if one is ever set, must be a key of this stack.
    model = stack(scenario)
    group_id = _log_group_of(model, function_id)
    sharing = [
        other
        for other in of_type(model, "AWS::Lambda::Function")
        if other != function_id and _log_group_of(model, other) == group_id
    ]
    assert not sharing, f"{function_id} shares its log group {group_id} with {sharing}"
    properties = model.properties(group_id)
    assert properties.get("RetentionInDays"), f"{group_id} ({function_id}) keeps logs forever"
    keys = {model.attribute(k, "Arn") for k in of_type(model, "AWS::KMS::Key")}
    assert properties.get("KmsKeyId") in keys | {None}, f"{group_id}: foreign KmsKeyId"


@pytest.mark.parametrize(("scenario", "function_id"), cases("AWS::Lambda::Function", ("defaults",)))
def test_the_log_group_is_created_before_its_function(scenario: str, function_id: str) -> None:
    # A group named after the function ("/aws/lambda/${Function}") is created after it: an
    # invocation in between makes Lambda create the group itself (no retention), and the
    # stack's own group then fails to create. The function must wait for its group.
    model = stack(scenario)
    group_id = _log_group_of(model, function_id)
    assert group_id in model.dependencies(function_id), (
        f"{function_id} does not wait for {group_id}"
    )
    assert function_id not in _depends_on(model, group_id), (
        f"{group_id} depends on {function_id}, so it is created after it"
    )
    order = model.creation_order()
    assert order.index(group_id) < order.index(function_id)


_LOG_WRITES = {"logs:CreateLogStream", "logs:PutLogEvents"}


@pytest.mark.parametrize(("scenario", "role_id"), cases("AWS::IAM::Role"))
def test_roles_write_logs_to_their_functions_group_only(scenario: str, role_id: str) -> None:
    model = stack(scenario)
    functions = [f for f, role in function_roles(model).items() if role == role_id]
    own_groups = [model.attribute(_log_group_of(model, f), "Arn") for f in functions]
    problems = []
    granted: set[str] = set()
    for located in allow_statements(model, role_id):
        # Any logs action, and any pattern ("*", "logs:*") that covers one.
        logs = [a for a in located.actions if a.lower().startswith("logs:") or grants(a, "logs:x")]
        if not logs:
            continue
        unexpected = [a for a in logs if a not in _LOG_WRITES]
        if unexpected:
            problems.append(f"{located.where}: {unexpected}; a function only writes its own logs")
        if located.resources != own_groups:
            problems.append(
                f"{located.where}: {logs} on {located.resources}, not only its function's "
                f"log group {own_groups}"
            )
        else:
            granted.update(logs)
    if functions:
        missing = _LOG_WRITES - granted
        assert not missing, f"{role_id}: {functions} cannot write their logs ({sorted(missing)})"
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("scenario", "function_id"), cases("AWS::Lambda::Function", ("defaults",)))
def test_traced_functions_may_send_their_traces(scenario: str, function_id: str) -> None:
    model = stack(scenario)
    if (model.properties(function_id).get("TracingConfig") or {}).get("Mode") != "Active":
        return
    role_id = function_roles(model)[function_id]
    sent = {
        action
        for located in allow_statements(model, role_id)
        if located.resources == ["*"]
        for action in located.actions
    }
    missing = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} - sent
    assert not missing, f"{function_id} traces actively, but its role lacks {sorted(missing)}"


@pytest.mark.parametrize(("scenario", "group_id"), cases("AWS::Logs::LogGroup", ("defaults",)))
def test_every_log_group_has_retention(scenario: str, group_id: str) -> None:
    assert stack(scenario).properties(group_id).get("RetentionInDays"), f"{group_id}: no retention"


# --------------------------------------------------------------------------- Amazon Connect


def _connect_grants(model: StackModel, role_id: str) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for located in allow_statements(model, role_id):
        for action in located.actions:
            if action.startswith(("connect-campaigns:", "profile:")):
                grants.setdefault(action, set()).update(located.resources)
    return grants


def test_connect_reads_are_granted_only_when_named_and_only_on_its_scope() -> None:
    roles = function_roles(stack("connect"))
    connect = stack("connect")
    domain = arn(connect, "profile", "domains/lake-profiles")
    campaigns = {arn(connect, "connect-campaigns", "campaign/*")}
    segments = {domain, f"{domain}/segment-definitions/*"}
    assert _connect_grants(connect, roles["LogIngesterFunction"]) == {
        "connect-campaigns:ListCampaigns": campaigns,
        "profile:ListSegmentDefinitions": segments,
    }
    assert _connect_grants(connect, roles["NameResolverFunction"]) == {
        "connect-campaigns:DescribeCampaign": campaigns,
        "connect-campaigns:GetCampaignState": campaigns,
        "profile:GetSegmentDefinition": segments,
    }
    defaults = stack("defaults")
    for function_id in ("LogIngesterFunction", "NameResolverFunction"):
        assert _connect_grants(defaults, function_roles(defaults)[function_id]) == {}
    rules = set(of_type(defaults, "AWS::Events::Rule"))
    assert not rules & {"LogIngesterCampaignsApiCallRule", "LogIngesterProfilesApiCallRule"}
