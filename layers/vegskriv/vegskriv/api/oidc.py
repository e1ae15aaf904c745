"""/rest/v1/oidc: the login endpoints of NVDB API Skriv (``autentisering.md``), open without a token.

Locally they issue tokens as NVDB's Docker image does: a user whose password equals the user name
logs in, with the roles of ``OIDC_LOCAL_USERS`` (user -> roles) or else ``OIDC_LOCAL_ROLES``. On AWS
they front a Cognito app client (``OIDC_COGNITO_CLIENT_ID``, USER_PASSWORD_AUTH enabled). Failure is
an empty object with 200, as documented; both ``idToken`` and ``accessToken`` are Bearer tokens.
"""

from __future__ import annotations

import ast
import json
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from vegskriv import aws
from vegskriv.api.context import json_response
from vegskriv.api.docs import responses
from vegskriv.auth import REFRESH, InvalidToken, issue_dev_token, roles_from_claim
from vegskriv.observability import logger
from vegskriv.settings import Settings, get_settings

router = Router()
TOKEN_SECONDS = 15 * 60  # "ofte bare 15 minutter"
REFRESH_SECONDS = 8 * 3600  # "noen timers varighet"
Realm = Literal["EMPLOYEE", "SERVICE_ACCOUNT", "EXTERNAL"]


class Innlogging(BaseModel):
    username: str
    password: str
    realm: Realm = "EMPLOYEE"


class Fornyelse(BaseModel):
    refreshToken: str
    realm: Realm = "EMPLOYEE"


class Tokens(BaseModel):
    idToken: str | None = None
    accessToken: str | None = None
    refreshToken: str | None = None


def _read(model: type[BaseModel]) -> Any:
    """The body as JSON, or as the documentation's curl examples write it (``{'username': ...}``,
    which Jackson reads); ``None`` if it is neither."""
    text = router.current_event.body or ""
    if len(text) > 64_000:
        return None
    try:
        data = json.loads(text)
    except RecursionError:  # nested deeper than json recurses: no login either
        return None
    except ValueError:
        try:
            data = ast.literal_eval(text)  # literals only: never evaluates code
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _local_roles(user: str, settings: Settings) -> list[str]:
    users = json.loads(settings.oidc_local_users) if settings.oidc_local_users else {}
    roles = users.get(user) if isinstance(users, dict) else None
    if roles is None:
        roles = [r.strip() for r in settings.oidc_local_roles.split(",") if r.strip()]
    return sorted(roles_from_claim(roles))


def _local_tokens(user: str, roles: list[str], settings: Settings, *, with_refresh: bool) -> Tokens:
    def sign(use: str, seconds: int) -> str:
        return issue_dev_token(user, roles, secret=settings.jwt_secret, issuer=settings.jwt_issuer,
                               audience=settings.jwt_audience, ttl_seconds=seconds, token_use=use)
    return Tokens(idToken=sign("id", TOKEN_SECONDS), accessToken=sign("access", TOKEN_SECONDS),
                  refreshToken=sign(REFRESH, REFRESH_SECONDS) if with_refresh else None)


def _cognito(flow: str, parameters: dict[str, str], settings: Settings) -> Tokens:
    try:
        answer = aws.client("cognito-idp").initiate_auth(AuthFlow=flow, ClientId=settings.oidc_cognito_client_id,
                                                         AuthParameters=parameters)
    except ClientError as exc:  # wrong password, unknown user, expired token, flow not enabled
        logger.info("login refused by Cognito", extra={"reason": str(exc)})
        return Tokens()
    result = answer.get("AuthenticationResult") or {}  # absent when Cognito asks for a challenge
    return Tokens(idToken=result.get("IdToken"), accessToken=result.get("AccessToken"),
                  refreshToken=result.get("RefreshToken"))


def _answer(tokens: Tokens):
    return json_response(200, tokens)  # exclude_none: a failure is {}


OK = "Tokens, eller {} når innloggingen mislykkes"


@router.post("/rest/v1/oidc/authenticate", summary="Logg inn med brukernavn og passord",
             responses=responses(200, OK, Tokens))
def authenticate():
    login = _read(Innlogging)
    settings = get_settings()
    if login is None:
        return _answer(Tokens())
    if settings.oidc_cognito_client_id:
        return _answer(_cognito("USER_PASSWORD_AUTH", {"USERNAME": login.username, "PASSWORD": login.password},
                                settings))
    if settings.jwt_secret and login.username and login.password == login.username:
        return _answer(_local_tokens(login.username, _local_roles(login.username, settings), settings,
                                     with_refresh=True))
    return _answer(Tokens())


@router.post("/rest/v1/oidc/refresh", summary="Forny id-token med refresh-token",
             responses=responses(200, OK, Tokens))
def refresh():
    renewal = _read(Fornyelse)
    settings = get_settings()
    if renewal is None:
        return _answer(Tokens())
    if settings.oidc_cognito_client_id:
        tokens = _cognito("REFRESH_TOKEN_AUTH", {"REFRESH_TOKEN": renewal.refreshToken}, settings)
        return _answer(Tokens(idToken=tokens.idToken, accessToken=tokens.accessToken))
    if not settings.jwt_secret:
        return _answer(Tokens())
    import jwt  # only here: PyJWT loads its crypto backends at import (~0.1 s of a cold start)

    try:
        claims = jwt.decode(renewal.refreshToken, settings.jwt_secret, algorithms=["HS256"],
                            issuer=settings.jwt_issuer, audience=settings.jwt_audience, options={"require": ["exp"]})
        if claims.get("token_use") != REFRESH:
            raise InvalidToken("not a refresh token")
        user = str(claims["sub"])
        roles = sorted(roles_from_claim(claims.get("roles")))
    except (jwt.PyJWTError, InvalidToken, KeyError):
        return _answer(Tokens())
    return _answer(_local_tokens(user, roles, settings, with_refresh=False))


class Klientkonfigurasjon(BaseModel):
    realm: str
    issuer: str
    clientId: str
    jwksUri: str | None = None


@router.get("/rest/v1/oidc/client-config/<realm>", summary="Token-utsteder for web-klienter",
            responses=responses(200, "Utsteder og klient-id for realm", Klientkonfigurasjon, 404))
def client_config(realm: Annotated[str, Path(description="employee eller external")]):
    settings = get_settings()
    return json_response(200, Klientkonfigurasjon(realm=realm.lower(), issuer=settings.jwt_issuer,
                                                  clientId=settings.oidc_cognito_client_id or settings.jwt_audience,
                                                  jwksUri=settings.jwt_jwks_url or None))
