"""Step Functions → EventBridge → Lambda, the two links moto does not make.

moto's Step Functions emits no "Step Functions Execution Status Change" events, and moto's
EventBridge does not deliver to Lambda targets. Two small hooks close the gap, so that the rules
the template declares (the janitor's: FAILED, TIMED_OUT or ABORTED executions) fire as on AWS:

* when an execution ends, its status change is put on the default event bus (moto matches it
  against the rules);
* a matching rule's Lambda target is invoked asynchronously, as EventBridge does, through moto's
  Lambda ``invoke`` (which the stack routes to the in-process handler).
"""

from __future__ import annotations

import copy
import functools
import json
import logging
from typing import Any

log = logging.getLogger("vegskriv_local.events")

DETAIL_TYPE = "Step Functions Execution Status Change"


def _millis(moment: Any) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def status_change(execution: Any) -> dict[str, Any]:
    """The EventBridge entry AWS sends when ``execution`` (moto's parser execution) ends."""
    status = execution.exec_status.value
    detail = {
        "executionArn": execution.exec_arn, "stateMachineArn": execution.state_machine_arn,
        "name": execution.name, "status": status, "startDate": _millis(execution.start_date),
        "stopDate": _millis(execution.stop_date), "input": json.dumps(execution.input_data),
        "output": None if execution.output is None else json.dumps(execution.output),
        "error": execution.error, "cause": execution.cause,
    }
    return {"Source": "aws.states", "DetailType": DETAIL_TYPE, "Detail": json.dumps(detail),
            "Resources": [execution.exec_arn]}


def install(patches: Any) -> None:
    """Patch moto (``patches.replace`` records each change so the stack can undo it)."""
    from moto.events.models import Rule, events_backends
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    terminated = BaseExecutionWorkerCommunication.__dict__["terminated"]

    @functools.wraps(terminated)
    def terminated_and_announced(communication: Any) -> None:
        terminated(communication)
        execution = communication.execution
        try:
            events_backends[execution.account_id][execution.region_name].put_events([status_change(execution)])
        except Exception:  # the execution has ended either way; a lost event is logged, not raised
            log.exception("could not announce the end of %s", execution.exec_arn)

    patches.replace(BaseExecutionWorkerCommunication, "terminated", terminated_and_announced)

    send_to_targets = Rule.__dict__["send_to_targets"]

    @functools.wraps(send_to_targets)
    def send_to_lambda_targets_too(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
        lambdas = [t for t in rule.targets if str(t["Arn"]).split(":")[2:3] == ["lambda"]]
        if len(lambdas) < len(rule.targets):  # moto raises on a target type it does not know
            others = copy.copy(rule)
            others.targets = [t for t in rule.targets if t not in lambdas]
            send_to_targets(others, event, transform_input)
        if not lambdas or not rule.event_pattern.matches_event(event):
            return
        from moto.awslambda.utils import get_backend

        for target in lambdas:
            payload = target["Input"] if "Input" in target else json.dumps(event)
            log.info("rule %s → %s", rule.name, target["Arn"])
            get_backend(rule.account_id, rule.region_name).invoke(
                target["Arn"], None, payload, {"X-Amz-Invocation-Type": "Event"}, {})

    patches.replace(Rule, "send_to_targets", send_to_lambda_targets_too)
