"""Start the state machine for a changeset. The execution name is the changeset id, so a second
start of the same id (a redelivered message, a double click) never processes it twice."""

import json

from vegskriv import aws
from vegskriv.observability import logger
from vegskriv.settings import get_settings


def start_execution(changeset_id: str) -> None:
    sfn = aws.client("stepfunctions")
    try:
        sfn.start_execution(stateMachineArn=get_settings().state_machine_arn, name=changeset_id,
                            input=json.dumps({"endringssettId": changeset_id}))
    except sfn.exceptions.ExecutionAlreadyExists:
        logger.info("execution already exists; nothing to do", extra={"endringssettId": changeset_id})
