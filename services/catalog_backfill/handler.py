"""catalog-backfill: a CloudFormation custom resource that requests a catalog backfill."""

from __future__ import annotations

from services.common.init_phase import init_phase

with init_phase():  # the handler's imports are its cold start
    from typing import Any

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from services.catalog_backfill.bootstrap import CatalogBackfill, bootstrap
    from services.catalog_backfill.logic import handle_request
    from services.common.function import LambdaFunction
    from services.common.observability import logger


def answer(service: CatalogBackfill, event: dict[str, Any], _: LambdaContext) -> dict[str, Any]:
    response = handle_request(event, service.publish)
    body = response.body(event)
    logger.info(
        "custom resource answered",
        extra={"request_type": event.get("RequestType"), "status": response.status},
    )
    service.respond(event["ResponseURL"], body)
    return body


lambda_handler = LambdaFunction(bootstrap, answer, log_metrics=False)
