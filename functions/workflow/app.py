"""Step Functions task: run one workflow step ({"step", "endringssettId"}) of a changeset."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from vegskriv.changesets.workflow import STEPS
from vegskriv.observability import logger, traced
from vegskriv.services.delivery import changeset_ended


@logger.inject_lambda_context
@traced
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.set_correlation_id(event["endringssettId"])
    logger.append_keys(endringssettId=event["endringssettId"], step=event["step"])
    step = STEPS[event["step"]]
    answer = step(event["endringssettId"], **{k: v for k, v in event.items() if k not in ("step", "endringssettId")})
    if answer.get("next") == "stop":  # every way a changeset ends passes here: deliver it to its service's owner
        changeset_ended(event["endringssettId"])
    return answer
