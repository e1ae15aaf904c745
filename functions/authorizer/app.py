"""API Gateway TOKEN authorizer: verify the Bearer JWT and pass user and roles to the api function."""

from typing import Any

import jwt  # noqa: F401  every request verifies a token: a layer without PyJWT fails at init, not later
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerTokenEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from vegskriv.auth import InvalidToken, roles_to_context, verify_token
from vegskriv.observability import logger


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token_event = APIGatewayAuthorizerTokenEvent(event)
    scheme, _, token = (token_event.authorization_token or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Exception("Unauthorized")  # API Gateway answers 401 for exactly this message
    try:
        caller = verify_token(token)
    except InvalidToken as exc:
        logger.info("token refused", extra={"reason": str(exc)})
        raise Exception("Unauthorized") from exc
    arn = token_event.parsed_arn
    policy = APIGatewayAuthorizerResponse(principal_id=caller.user, region=arn.region,
                                          aws_account_id=arn.aws_account_id, api_id=arn.api_id, stage=arn.stage,
                                          context={"user": caller.user, "roles": roles_to_context(caller.roles)})
    policy.allow_all_routes()
    return policy.asdict()
