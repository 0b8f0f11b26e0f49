"""A service's Lambda function: its composition root, its routes, and the Powertools stack.

Every service is wired the same way:

    def bootstrap(settings=None, *, aws=None, <port>=None, ...) -> Service   # bootstrap.py
    ROUTES = Routes(route(ModelA, on_a), route(ModelB, on_b))               # handler.py
    lambda_handler = LambdaFunction(bootstrap, ROUTES)                        # handler.py

`bootstrap` is the service's one composition root: it reads settings from the environment
(unless given), builds every port from them, and takes a fake for any port a test names.
`LambdaFunction` calls it on the first invocation, not at import, so importing a handler
talks to nothing and reads no environment; the built service lives on the function object,
never in module state. A test builds its own: `LambdaFunction(lambda: bootstrap(fakes...),
ROUTES)`, or `lambda_handler.with_service(service)`.

The routes are data: which contract model goes to which function. What the function accepts
is derived from them, and a test holds them against the template's rules.

The contract with a runtime that hosts several functions in one process (the local cloud):
`fresh()` returns the same function in a new execution environment, with nothing built, as
Lambda's cold start would; the runtime calls it once per function and reuses the copy for
every invocation, as Lambda reuses a warm environment. The only per-invocation state a host
must set is documented in `services.common.observability.function_identity`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from pydantic import BaseModel

from contracts import Event, EventContractError, ParsedEvent
from services.common.batch import PartialItemFailureResponse, handle_event_batch
from services.common.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ServiceT = TypeVar("ServiceT")
ModelT = TypeVar("ModelT", bound=BaseModel)
ResultT = TypeVar("ResultT")

# A service's answer to an event that broke its contract: it handles it (a rejection, a
# count) or raises, and the message fails into the DLQ.
InvalidEventRoute = Callable[[ServiceT, EventContractError], None]


PortT = TypeVar("PortT")


def given(port: PortT | None, build: Callable[[], PortT]) -> PortT:
    """The port a test handed the composition root, else the real one (built by `build`).
    `is None`, not `or`: a fake may be falsy (an empty list of published events)."""
    return build() if port is None else port


@dataclass(frozen=True)
class Route(Generic[ServiceT]):
    """Events of `model` go to `handle(service, parsed)`."""

    model: type[BaseModel]
    handle: Callable[[ServiceT, ParsedEvent[Any]], None]


def route(
    model: type[ModelT], handle: Callable[[ServiceT, ParsedEvent[ModelT]], None]
) -> Route[ServiceT]:
    """A route whose function is typed with the model it receives (no isinstance needed)."""
    return Route(model, handle)


class Routes(Generic[ServiceT]):
    """The table from contract model to function of one SQS-fed service.

    `on_invalid` answers events that break their contract; `per_batch` gives the routes of
    one batch their own view of the service (a memo of reads shared by the batch, say).
    """

    def __init__(
        self,
        *routes: Route[ServiceT],
        on_invalid: InvalidEventRoute[ServiceT] | None = None,
        per_batch: Callable[[ServiceT, LambdaContext], ServiceT] | None = None,
    ) -> None:
        if not routes:
            raise ValueError("a service must route at least one event model")
        models = [entry.model for entry in routes]
        if len(set(models)) != len(models):
            raise ValueError("a model is routed twice")
        self.routes = routes
        self._by_model = {entry.model: entry.handle for entry in routes}
        self._on_invalid = on_invalid
        self._per_batch = per_batch

    @property
    def accepts(self) -> tuple[type[BaseModel], ...]:
        return tuple(self._by_model)

    def __call__(
        self, service: ServiceT, event: dict[str, Any], context: LambdaContext
    ) -> PartialItemFailureResponse:
        batch_service = service if self._per_batch is None else self._per_batch(service, context)

        def handle(parsed: ParsedEvent[BaseModel]) -> None:
            if not _from_its_producer(parsed):
                return
            self._by_model[type(parsed.detail)](batch_service, parsed)

        on_invalid = self._on_invalid
        return handle_event_batch(
            event,
            context,
            handle,
            accepts=self.accepts,
            on_invalid=None
            if on_invalid is None
            else lambda error: on_invalid(batch_service, error),
        )


def _from_its_producer(parsed: ParsedEvent[BaseModel]) -> bool:
    """Whether an internal event comes from the service that states it. A fact under
    another source (someone allowed to publish requests forging a step of a run) is
    refused, logged and acknowledged: acting on it could run a query the validator rejected
    or store a forged name, and retrying it cannot make it genuine."""
    detail = parsed.detail
    if not isinstance(detail, Event) or detail.REQUEST:
        return True
    if parsed.envelope.source == detail.SOURCE:
        return True
    logger.warning(
        "event refused: only its producer may publish it",
        extra={
            "detail_type": detail.DETAIL_TYPE,
            "source": parsed.envelope.source,
            "producer": detail.SOURCE,
            "event_id": detail.event_id,
        },
    )
    # One stack-wide metric (no service dimension), so one alarm watches every consumer.
    with single_metric(
        name="ForgedEventsRefused", unit=MetricUnit.Count, value=1, namespace=metrics.namespace
    ):
        pass
    return False


class LambdaFunction(Generic[ServiceT, ResultT]):
    """A Lambda handler: the Powertools decorators around one call of `entry` with the
    service `build` makes on the first invocation."""

    def __init__(
        self,
        build: Callable[[], ServiceT],
        entry: Callable[[ServiceT, Any, LambdaContext], ResultT],
        *,
        log_metrics: bool = True,
        service: ServiceT | None = None,
    ) -> None:
        self._build = build
        self.entry = entry
        self._log_metrics = log_metrics
        self._service = service
        handler: Callable[[Any, LambdaContext], ResultT] = self._invoke
        if log_metrics:
            handler = metrics.log_metrics(handler)
        self._handler = logger.inject_lambda_context(tracer.capture_lambda_handler(handler))

    @property
    def routes(self) -> Routes[ServiceT] | None:
        """The routes of an SQS-fed function (None for a function called another way)."""
        return self.entry if isinstance(self.entry, Routes) else None

    @property
    def service(self) -> ServiceT:
        """The service, built from its settings on first use."""
        if self._service is None:
            self._service = self._build()
        return self._service

    def fresh(self) -> LambdaFunction[ServiceT, ResultT]:
        """This function in a new execution environment: nothing built yet."""
        return LambdaFunction(self._build, self.entry, log_metrics=self._log_metrics)

    def with_service(self, service: ServiceT) -> LambdaFunction[ServiceT, ResultT]:
        """This function running `service` (built by the test, with fakes)."""
        return LambdaFunction(
            self._build, self.entry, log_metrics=self._log_metrics, service=service
        )

    def __call__(self, event: Any, context: Any) -> ResultT:
        # `context` is Lambda's LambdaContext, or a test's stand-in with its attributes.
        return self._handler(event, context)

    def _invoke(self, event: Any, context: LambdaContext) -> ResultT:
        return self.entry(self.service, event, context)
