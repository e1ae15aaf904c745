"""EventBridge: a changeset execution failed, timed out or was aborted outside its own error
handling. Release its locks and give it a fresh execution that resumes from VENTER:SYSTEMFEIL."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from vegskriv.changesets.recovery import recover_execution
from vegskriv.observability import logger


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    detail = event.detail
    return recover_execution(execution_name=detail["name"], status=detail["status"],
                             input_json=detail.get("input") or "{}")
