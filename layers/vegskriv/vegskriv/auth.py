"""Who is calling: JWT verification (PyJWT) and the roles that decide what a caller may see.

Locally tokens are HS256-signed with a development secret (``vegskriv token``). On AWS the
issuer's JWKS (e.g. a Cognito user pool) is configured instead and RS256 tokens are verified.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from vegskriv.settings import Settings, get_settings

if TYPE_CHECKING:
    import jwt  # imported where a token is made or read: the api function's cold start needs neither

LOCAL_DEV_SECRET = "vegskriv-local-development-secret-not-for-production"

ROLE_USER = "0_bruker_fagdata"
ROLE_SERVICE_USER = "TjeNVDBAPIskriv/user"
ROLE_FAGDATA_ADMIN = "5_fagdata_admin"
ROLE_SYSTEM_ADMIN = "9_system_admin"


class InvalidToken(Exception):
    """The token is missing, malformed, expired or not signed by the configured issuer."""


@dataclass(frozen=True)
class Caller:
    user: str
    roles: frozenset[str]
    client: str | None = None

    @property
    def sees_all_changesets(self) -> bool:
        return bool(self.roles & {ROLE_FAGDATA_ADMIN, ROLE_SYSTEM_ADMIN})

    @property
    def reads_all_statuses(self) -> bool:
        return self.sees_all_changesets or ROLE_SERVICE_USER in self.roles

    @property
    def is_system_admin(self) -> bool:
        return ROLE_SYSTEM_ADMIN in self.roles

    def may_read(self, owner: str) -> bool:
        return owner == self.user or self.reads_all_statuses

    def may_act_on(self, owner: str) -> bool:
        return owner == self.user or self.sees_all_changesets


REFRESH = "refresh"  # token_use of a refresh token: it renews tokens and is never a Bearer


def issue_dev_token(user: str, roles: list[str], *, secret: str = LOCAL_DEV_SECRET,
                    issuer: str = "vegskriv-local", audience: str = "vegskriv",
                    ttl_seconds: int = 12 * 3600, token_use: str = "id") -> str:
    now = int(time.time())
    claims = {"sub": user, "preferred_username": user, "roles": roles, "iss": issuer,
              "aud": audience, "iat": now, "exp": now + ttl_seconds, "token_use": token_use}
    import jwt

    return jwt.encode(claims, secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    import jwt

    return jwt.PyJWKClient(url, cache_keys=True)


NVA_PREFIX = "nva/"  # NVDB's identity provider names roles e.g. "nva/0_bruker_fagdata"


def roles_from_claim(value: Any) -> frozenset[str]:
    """A list of strings, or one string as one role; anything else is refused (never split or coerced:
    a group named ``x,9_system_admin`` is one role with that odd name, not two roles). The ``nva/``
    prefix of NVDB's role names is dropped, so ``nva/0_bruker_fagdata`` is ``0_bruker_fagdata``."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(r, str) for r in value):
        return frozenset(r.removeprefix(NVA_PREFIX) for r in value if r.removeprefix(NVA_PREFIX))
    raise InvalidToken(f"roles claim must be a list of strings, not {type(value).__name__}")


def roles_to_context(roles: frozenset[str]) -> str:
    """Roles for the authorizer context, whose values must be plain strings: a JSON list, so no role
    name can break the encoding."""
    return json.dumps(sorted(roles))


def roles_from_context(value: Any) -> frozenset[str]:
    """The inverse of :func:`roles_to_context`; raises ValueError for anything it did not write."""
    roles = json.loads(value) if isinstance(value, str) else value
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise ValueError("roles in the authorizer context are not a JSON list of strings")
    return frozenset(roles)


def verify_token(token: str, settings: Settings | None = None) -> Caller:
    import jwt

    settings = settings or get_settings()
    try:
        if settings.jwt_jwks_url:
            key = _jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key
            claims = jwt.decode(token, key, algorithms=["RS256"], issuer=settings.jwt_issuer,
                                audience=settings.jwt_audience or None,
                                options={"require": ["exp"], "verify_aud": bool(settings.jwt_audience)})
        elif settings.jwt_secret:
            claims = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"],
                                issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                options={"require": ["exp"]})
        else:
            raise InvalidToken("no token verification is configured (JWT_JWKS_URL or JWT_SECRET)")
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("token_use") == REFRESH:
        raise InvalidToken("a refresh token is not a bearer token; renew it at /rest/v1/oidc/refresh")
    # PyJWT has checked that int() takes exp (and iat, if present).
    lifetime = int(claims["exp"]) - int(claims.get("iat", time.time()))
    if lifetime > settings.jwt_max_lifetime_seconds:
        raise InvalidToken(f"token lifetime {lifetime:.0f} s exceeds JWT_MAX_LIFETIME_SECONDS "
                           f"({settings.jwt_max_lifetime_seconds} s)")
    # Cognito names the user in cognito:username (id token) and username (access token), both fixed;
    # preferred_username is a profile attribute the user may set himself, so it comes after them.
    user = (claims.get("cognito:username") or claims.get("username") or claims.get("preferred_username")
            or claims.get("sub"))
    if not user or not isinstance(user, str):
        raise InvalidToken("token has no user (sub) as a string")
    return Caller(user=user, roles=roles_from_claim(claims.get(settings.jwt_roles_claim)))
