"""API Gateway → the vegskriv REST API (routing, validation and errors live in vegskriv.api)."""

import gc
import os

# Init makes about 100,000 objects the collector tracks, and they live as long as the process:
# collections while they are made free nothing yet walk them (~60 ms of init), and once frozen no
# collection during a request walks them again.
collecting = gc.isenabled()
gc.disable()
try:
    from typing import Any

    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from vegskriv.api.app import handle
    from vegskriv.observability import logger, traced

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @traced
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return handle(event, context)
finally:
    if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:  # a Lambda process, not the local stack or tests
        gc.freeze()
    if collecting:
        gc.enable()
