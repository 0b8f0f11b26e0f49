"""`LocalCloud`: the whole system on one machine, built from `infra/template.yaml` itself.

    with LocalCloud(data_lake=Path("lake")) as cloud:
        boto3.client("events").put_events(...)      # plain boto3 talks to the local cloud
        cloud.run_until_idle()
        cloud.dead_letters()

Inside the context, moto serves AWS in process, the Pinpoint and Athena emulators answer
what moto lacks (they are "emulators": objects with install/uninstall/tick/busy, built by
factories so tests can pass their own), and the runtime feeds the queues to the handlers.
"""

from __future__ import annotations

import importlib
import os
import tempfile
import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

import boto3

from infra.local.clock import VirtualClock
from infra.local.resources import Deployment, deploy
from infra.local.runtime import Invocation, LocalRuntime
from infra.local.scheduler import LocalScheduler, install_schedule_checks
from infra.local.speedups import MotoSpeedups
from infra.local.sqs_timing import SqsOnVirtualTime
from infra.local.subscriptions import Subscription, subscribe
from infra.local.template.naming import StackSettings
from infra.local.template.stack import StackModel
from infra.local.template.translation import TranslatedTemplate, load_stack_template
from infra.local.xray import XRayCapture

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
LOCAL_PINPOINT_PROJECT_NAME = "pinpoint-lake-local"
LOCAL_CUSTOMER_PROFILES_DOMAIN = "pinpoint-lake-local"
LOCAL_CONNECT_INSTANCE_ID = "00000000-0000-4000-8000-00000000c0de"
CLOUDTRAIL_BUCKET_OUTPUT = "CloudTrailBucketName"
CLOUDTRAIL_PREFIX_OUTPUT = "CloudTrailKeyPrefix"

# Fake credentials make sure nothing inside the context can reach a real account.
_FAKE_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
_REMOVED_AWS_ENVIRONMENT = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")


class Emulator(Protocol):
    def install(self) -> object: ...

    def uninstall(self) -> object: ...

    def tick(self) -> object: ...

    def busy(self) -> bool: ...


@dataclass(frozen=True)
class EmulatorSetup:
    """What an emulator factory may know before the stack is deployed."""

    clock: VirtualClock
    region: str
    account_id: str
    data_lake: Path
    cloudtrail_bucket: str | None
    cloudtrail_prefix: str
    stack: StackModel  # parameters may still lack PinpointProjectId here

    def parameter(self, name: str, default: str) -> str:
        """A template parameter's value, or `default` when the template lacks it."""
        declared = self.stack.template.get("Parameters") or {}
        if name in declared and name not in self.stack.missing_parameters():
            return str(self.stack.parameter(name))
        return default


EmulatorFactory = Callable[[EmulatorSetup], Emulator | None]
EmulatorT = TypeVar("EmulatorT")


def _emulator_module(name: str) -> Any:
    """Import an emulator package only when a cloud needs it (DuckDB is slow to import)."""
    return importlib.import_module(name)


def _trail_recorder(setup: EmulatorSetup, name: str) -> Any:
    """An emulator's CloudTrail recorder when a trail bucket is known, else None.

    Each emulator's recorder draws its eventIDs (and file suffixes) from a generator seeded
    by the emulator's name: deterministic runs, and never the same eventID from two
    emulators (CloudTrail's eventIDs are unique across services, and consumers rely on it).
    """
    if setup.cloudtrail_bucket is None:
        return None
    return _emulator_module("infra.local.cloudtrail").CloudTrailRecorder(
        clock=setup.clock,
        bucket=setup.cloudtrail_bucket,
        prefix=setup.cloudtrail_prefix,
        region=setup.region,
        account_id=setup.account_id,
        seed=zlib.crc32(name.encode("utf-8")),
    )


def _recording_emulator(setup: EmulatorSetup, module: str, name: str) -> Emulator:
    """An API emulator built on the cloud's clock, recording CloudTrail when a trail bucket
    is known."""
    kind = getattr(_emulator_module(module), name)
    emulator: Emulator = kind(
        clock=setup.clock,
        region=setup.region,
        account_id=setup.account_id,
        recorder=_trail_recorder(setup, name),
    )
    return emulator


def pinpoint_emulator(setup: EmulatorSetup) -> Emulator | None:
    """Amazon Pinpoint: projects, campaigns, journeys, segments, endpoints, import jobs."""
    return _recording_emulator(setup, "infra.local.pinpoint", "PinpointEmulator")


def customer_profiles_emulator(setup: EmulatorSetup) -> Emulator | None:
    """Amazon Connect Customer Profiles: domains, profiles, upload jobs, segments."""
    return _recording_emulator(setup, "infra.local.customer_profiles", "CustomerProfilesEmulator")


def connect_campaigns_emulator(setup: EmulatorSetup) -> Emulator | None:
    """Amazon Connect outbound campaigns v2: campaigns and journeys with their states."""
    return _recording_emulator(setup, "infra.local.connect_campaigns", "ConnectCampaignsEmulator")


def athena_emulator(setup: EmulatorSetup) -> Emulator | None:
    """Athena on DuckDB over the data-lake folder."""
    athena = _emulator_module("infra.local.athena")
    emulator: Emulator = athena.AthenaEmulator(
        clock=setup.clock,
        data_lake=setup.data_lake,
        database=setup.parameter("GlueDatabase", "due_eventdb"),
        catalog=setup.parameter("GlueCatalog", "AwsDataCatalog"),
        region=setup.region,
        account_id=setup.account_id,
    )
    return emulator


DEFAULT_EMULATORS: tuple[EmulatorFactory, ...] = (
    pinpoint_emulator,
    customer_profiles_emulator,
    connect_campaigns_emulator,
    athena_emulator,
)


class _Clients:
    """One boto3 client per service, created inside the moto context."""

    def __init__(self, region: str) -> None:
        self._session = boto3.session.Session(region_name=region)
        self._clients: dict[str, Any] = {}

    def client(self, service_name: str) -> Any:
        if service_name not in self._clients:
            self._clients[service_name] = self._session.client(service_name)  # type: ignore[call-overload]
        return self._clients[service_name]


class LocalCloud:
    def __init__(
        self,
        *,
        template: Path = DEFAULT_TEMPLATE,
        parameters: Mapping[str, Any] | None = None,
        data_lake: Path | None = None,
        cloudtrail: bool = False,
        emulators: Sequence[EmulatorFactory] = DEFAULT_EMULATORS,
        clock: VirtualClock | None = None,
        stack_name: str = "pinpoint-lake",
        region: str = "us-east-1",
        account_id: str = "123456789012",
    ) -> None:
        self.template_path = template
        self.parameters = dict(parameters or {})
        self.cloudtrail = cloudtrail
        self.clock = clock or VirtualClock()
        self.settings = StackSettings(stack_name=stack_name, region=region, account_id=account_id)
        self._data_lake = data_lake
        self._emulator_factories = tuple(emulators)
        self._emulators: list[Emulator] = []
        self._saved_environment: dict[str, str] | None = None
        self._mock: Any = None
        self._temporary_lake: tempfile.TemporaryDirectory[str] | None = None
        self._runtime: LocalRuntime | None = None
        self._model: StackModel | None = None
        self._deployment: Deployment | None = None
        self._xray: XRayCapture | None = None
        self._scheduler: LocalScheduler | None = None
        self._uninstall_schedule_checks: Callable[[], None] | None = None
        self._speedups = MotoSpeedups()
        self._sqs_timing = SqsOnVirtualTime(self.clock, region)
        self._clients: _Clients | None = None

    # -- context management

    def __enter__(self) -> LocalCloud:
        try:
            self._start()
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()

    def _start(self) -> None:
        import moto  # noqa: PLC0415 - a dev dependency, needed only for the local cloud

        self._set_environment()
        self._mock = moto.mock_aws()
        self._mock.start()
        self._speedups.install()
        region, account_id = self.settings.region, self.settings.account_id
        translated = load_stack_template(self.template_path, region=region)
        # Emulators first: a boto3 session copies botocore's handlers when it is created, so
        # the sessions behind the clients below must come after the emulators' hooks.
        setup = self._emulator_setup(translated)
        for factory in self._emulator_factories:
            emulator = factory(setup)
            if emulator is not None:
                emulator.install()
                self._emulators.append(emulator)
        self._uninstall_schedule_checks = install_schedule_checks()
        clients = self._clients = _Clients(region)
        self._xray = XRayCapture(region=region, account_id=account_id)
        self._xray.install()
        self._sqs_timing.install()
        self._runtime = LocalRuntime(
            clock=self.clock,
            clients=clients,
            region=region,
            account_id=account_id,
            tracing=self._xray,
            queue_clock=self._sqs_timing,
        )
        for emulator in self._emulators:
            self._runtime.add_hook(emulator)
        self._scheduler = LocalScheduler(self._runtime)
        self._runtime.add_job_source(self._scheduler)
        parameters = dict(self.parameters)
        declared = translated.resources_template.get("Parameters") or {}
        if "PinpointProjectId" in declared and "PinpointProjectId" not in parameters:
            parameters["PinpointProjectId"] = _create_pinpoint_project(clients)
        self._seed_connect(clients, declared, parameters)
        self._model = StackModel(
            translated.resources_template, parameters=parameters, settings=self.settings
        )
        self._deployment = deploy(self._model, translated, self._runtime, clients)
        self.outputs: dict[str, Any] = self._model.outputs()

    def _emulator_setup(self, translated: TranslatedTemplate) -> EmulatorSetup:
        # A view of the stack before deployment: names are computable already, but the
        # Pinpoint project (a parameter) is created only once the emulators are installed.
        preview = StackModel(
            translated.resources_template, parameters=self.parameters, settings=self.settings
        )
        bucket = preview.output(CLOUDTRAIL_BUCKET_OUTPUT) if self.cloudtrail else None
        if self.cloudtrail and bucket is None:
            warnings.warn(
                f"cloudtrail=True but {self.template_path.name} has no {CLOUDTRAIL_BUCKET_OUTPUT} "
                "output: Pinpoint calls are not recorded as CloudTrail",
                RuntimeWarning,
                stacklevel=4,
            )
        return EmulatorSetup(
            clock=self.clock,
            region=self.settings.region,
            account_id=self.settings.account_id,
            data_lake=self._data_lake_path(),
            cloudtrail_bucket=None if bucket is None else str(bucket),
            cloudtrail_prefix=str(preview.output(CLOUDTRAIL_PREFIX_OUTPUT) or ""),
            stack=preview,
        )

    def _seed_connect(
        self, clients: _Clients, declared: Mapping[str, Any], parameters: dict[str, Any]
    ) -> None:
        """A Customer Profiles domain and an onboarded Connect instance, when the template
        names them and their emulators are installed (else those targets stay off)."""
        profiles = _emulator_module("infra.local.customer_profiles").CustomerProfilesEmulator
        campaigns = _emulator_module("infra.local.connect_campaigns").ConnectCampaignsEmulator
        installed = {type(emulator) for emulator in self._emulators}
        domain, instance = "CustomerProfilesDomainName", "ConnectInstanceId"
        if domain in declared and domain not in parameters and profiles in installed:
            clients.client("customer-profiles").create_domain(
                DomainName=LOCAL_CUSTOMER_PROFILES_DOMAIN, DefaultExpirationDays=366
            )
            parameters[domain] = LOCAL_CUSTOMER_PROFILES_DOMAIN
        if instance in declared and instance not in parameters and campaigns in installed:
            self.emulator(campaigns).add_instance(LOCAL_CONNECT_INSTANCE_ID)
            parameters[instance] = LOCAL_CONNECT_INSTANCE_ID

    def _data_lake_path(self) -> Path:
        if self._data_lake is not None:
            return self._data_lake
        self._temporary_lake = tempfile.TemporaryDirectory(prefix="pinpoint-lake-")
        return Path(self._temporary_lake.name)

    def _stop(self) -> None:
        while self._emulators:
            self._emulators.pop().uninstall()
        if self._runtime is not None:
            self._runtime.close()
        if self._xray is not None:
            self._xray.uninstall()
        if self._uninstall_schedule_checks is not None:
            self._uninstall_schedule_checks()
            self._uninstall_schedule_checks = None
        self._sqs_timing.uninstall()
        self._speedups.uninstall()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._temporary_lake is not None:
            self._temporary_lake.cleanup()
            self._temporary_lake = None
        self._restore_environment()

    def _set_environment(self) -> None:
        # The local cloud IS the environment its code runs in, so it owns os.environ here.
        environ = os.environ  # noqa: TID251
        self._saved_environment = dict(environ)
        for name in _REMOVED_AWS_ENVIRONMENT:
            environ.pop(name, None)
        environ.update(_FAKE_AWS_ENVIRONMENT)
        environ["AWS_DEFAULT_REGION"] = environ["AWS_REGION"] = self.settings.region

    def _restore_environment(self) -> None:
        if self._saved_environment is not None:
            environ = os.environ  # noqa: TID251
            environ.clear()
            environ.update(self._saved_environment)
            self._saved_environment = None

    # -- the running cloud

    @property
    def runtime(self) -> LocalRuntime:
        if self._runtime is None:
            raise RuntimeError("the local cloud is not running (use it as a context manager)")
        return self._runtime

    @property
    def stack(self) -> StackModel:
        if self._model is None:
            raise RuntimeError("the local cloud is not running (use it as a context manager)")
        return self._model

    @property
    def resources(self) -> dict[str, str]:
        """Logical id -> physical id (what `Ref` returns), for every created resource."""
        if self._deployment is None:
            raise RuntimeError("the local cloud is not running (use it as a context manager)")
        return dict(self._deployment.physical_ids)

    @property
    def notes(self) -> dict[str, str]:
        """Resources accepted without a moto counterpart, and why."""
        return dict(self._deployment.notes) if self._deployment else {}

    @property
    def scheduler(self) -> LocalScheduler:
        """EventBridge Scheduler on the virtual clock: its fires and failed deliveries."""
        if self._scheduler is None:
            raise RuntimeError("the local cloud is not running (use it as a context manager)")
        return self._scheduler

    @property
    def xray(self) -> XRayCapture:
        """The trace documents every function emitted (also in moto's X-Ray)."""
        if self._xray is None:
            raise RuntimeError("the local cloud is not running (use it as a context manager)")
        return self._xray

    def subscribe(self, name: str, pattern: dict[str, Any] | None = None) -> Subscription:
        """A subscriber's queue on the project bus (every event unless `pattern` narrows)."""
        if self._clients is None:
            raise RuntimeError("the local cloud is not running: use it inside `with`")
        return subscribe(
            self._clients.client("events"),
            self._clients.client("sqs"),
            bus_name=str(self.outputs["EventBusName"]),
            name=name,
            pattern=pattern or {"source": [{"prefix": ""}]},
        )

    def emulator(self, kind: type[EmulatorT]) -> EmulatorT:
        """The installed emulator of `kind`, e.g. `cloud.emulator(PinpointEmulator)`."""
        for emulator in self._emulators:
            if isinstance(emulator, kind):
                return emulator
        raise LookupError(f"no {kind.__name__} is installed in this local cloud")

    @property
    def invocations(self) -> list[Invocation]:
        return list(self.runtime.invocations)

    def run_until_idle(self, *, max_rounds: int = 100) -> int:
        return self.runtime.run_until_idle(max_rounds=max_rounds)

    def advance(self, seconds: float) -> None:
        self.runtime.advance(seconds)

    def invoke(self, function_logical_id: str, event: Any) -> Any:
        return self.runtime.invoke(self.stack.physical_name(function_logical_id), event)

    def dead_letters(self) -> dict[str, list[dict[str, Any]]]:
        """Messages in every dead-letter queue, by the DLQ's logical id, left in place.

        Each is the SQS message as boto3 returns it (Body, MessageId, Attributes...),
        without a receipt handle: looking does not consume them.
        """
        queues = _dead_letter_queue_ids(self.stack)
        sqs = self.runtime._clients.client("sqs")
        return {logical_id: _peek(sqs, self.stack.physical_id(logical_id)) for logical_id in queues}


def _create_pinpoint_project(clients: _Clients) -> str:
    response = clients.client("pinpoint").create_app(
        CreateApplicationRequest={"Name": LOCAL_PINPOINT_PROJECT_NAME}
    )
    return str(response["ApplicationResponse"]["Id"])


def _dead_letter_queue_ids(stack: StackModel) -> list[str]:
    """Queues named as a dead-letter target anywhere in the stack (redrive, rule targets)."""
    targets: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            if "deadLetterTargetArn" in value:
                targets.add(str(value["deadLetterTargetArn"]))
            if (
                isinstance(value.get("DeadLetterConfig"), dict)
                and "Arn" in value["DeadLetterConfig"]
            ):
                targets.add(str(value["DeadLetterConfig"]["Arn"]))
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    queues = [
        logical_id
        for logical_id in stack.resources
        if stack.resource_type(logical_id) == "AWS::SQS::Queue"
    ]
    for logical_id in stack.resources:
        collect(stack.properties(logical_id))
    return [logical_id for logical_id in queues if stack.attribute(logical_id, "Arn") in targets]


def _peek(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Read every message without consuming it: hide each while reading, then show all again."""
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=60,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", []):
        messages.extend(batch)
    for start in range(0, len(messages), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {
                    "Id": str(index),
                    "ReceiptHandle": message["ReceiptHandle"],
                    "VisibilityTimeout": 0,
                }
                for index, message in enumerate(messages[start : start + 10])
            ],
        )
    # Receipt handles of this look are void once the messages are visible again.
    return [{k: v for k, v in message.items() if k != "ReceiptHandle"} for message in messages]
