"""Step Functions tasks of the provisioning workflow: {"step": "plan", "plan": <execution id>} creates
tonight's runs (a retry hands over those the failed attempt created),
{"step": "chunk", "consumerId", "runId"} does one bounded chunk of a run, {"step": "failed", ..., "error"}
ends a run whose chunk kept failing (the state machine's Catch) as FEILET."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from vegskriv.observability import logger, traced
from vegskriv.provisioning import jobs


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event["step"] == "plan":
        return {"runs": jobs.plan_nightly(event.get("plan"))}
    logger.append_keys(konsumentId=event["consumerId"], kjøringId=event["runId"])
    if event["step"] == "failed":
        jobs.fail_run(event["consumerId"], event["runId"], event.get("error"))
        return {"ferdig": True}
    return {"ferdig": jobs.run_step(event["consumerId"], event["runId"])}
