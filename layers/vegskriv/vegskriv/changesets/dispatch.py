"""Step Functions from the domain's side: start a changeset's execution, and wake a parked one.

The execution name is the changeset id, so a second start of the same id (a redelivered message,
a double click) never processes it twice. A waiting changeset is parked on a task token; sending
the token back resumes it at once (lock released, restart, cancel).
"""

from __future__ import annotations

import json

from vegskriv import aws
from vegskriv.observability import logger
from vegskriv.settings import get_settings
from vegskriv.store import changesets


def start_execution(changeset_id: str, name: str | None = None) -> None:
    sfn = aws.client("stepfunctions")
    try:
        sfn.start_execution(stateMachineArn=get_settings().state_machine_arn, name=name or changeset_id,
                            input=json.dumps({"endringssettId": changeset_id}))
    except sfn.exceptions.ExecutionAlreadyExists:
        logger.info("execution already exists; nothing to do", extra={"endringssettId": changeset_id})


def wake(changeset_id: str, reason: str) -> bool:
    """Resume a parked changeset now. False if it was not parked (nothing to do)."""
    meta = changesets.get(changeset_id)
    token = meta.get("ventToken") if meta else None
    if not token:
        return False
    sfn = aws.client("stepfunctions")
    try:
        sfn.send_task_success(taskToken=token, output=json.dumps({"vekket": reason}))
    except (sfn.exceptions.TaskDoesNotExist, sfn.exceptions.InvalidToken, sfn.exceptions.TaskTimedOut):
        return False  # it already woke up on its own
    return True
