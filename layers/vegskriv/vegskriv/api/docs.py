"""What the OpenAPI document says about every route: the bearer scheme, the roles a route needs and
the status codes it answers, each with its body.

A route's ``security`` is also what :mod:`vegskriv.api.app` enforces before the body is read: a
route without it needs no token, and the scopes of a requirement are the roles that may call it
(OpenAPI 3.1 allows role names as scopes for non-OAuth schemes). The document cannot drift from
what the API does.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

SCHEME = "bearer"


def security_schemes() -> dict[str, Any]:
    """Made when the document is: Powertools' OpenAPI models cost ~0.1 s to import, and only
    ``/openapi.json`` and ``/swagger`` need them."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {SCHEME: HTTPBearer(bearerFormat="JWT", description="JWT fra utstederen (lokalt: `vegskriv token`)")}


def bearer(*roles: str) -> list[dict[str, list[str]]]:
    """A token, and if roles are given, one of them (alternatives are separate requirements)."""
    return [{SCHEME: [role]} for role in roles] or [{SCHEME: []}]


TOKEN = bearer()


def roles_of(security: list[dict[str, list[str]]] | None) -> set[str]:
    """The roles a route's security admits; empty when any token will do."""
    return {role for requirement in security or () for role in requirement.get(SCHEME, ())}


class Feil(BaseModel):
    """The NVDB fault body."""

    message: str = Field(description="Hva som er galt, med stien til feilen, f.eks. "
                                     "`registrer.vegobjekter[0].typeId: ...`")


class Lenke(BaseModel):
    rel: str
    src: str


ERRORS = {
    400: "Ugyldig forespørsel: skjema, JSON (også for dyp nøsting og for store tall) eller parametre",
    401: "Mangler eller ugyldig token",
    403: "Mangler rolle",
    404: "Finnes ikke (også andres endringssett)",
    409: "Konflikt med tilstanden",
    413: "For stor forespørsel (MAX_BODY_BYTES, MAX_VEGOBJEKTER, for store verdier)",
    415: "Content-Type er ikke JSON",
}
BODY_ERRORS = (400, 413, 415)  # what every route that reads a JSON body may answer
# The last millisecond of year 9999: Python's dates end there, and a later one would fail the request.
MAX_EPOCH_MS = 253_402_300_799_999


def responses(status: int, description: str, model: Any = None, *errors: int,
              media_type: str = "application/json", headers: dict[str, Any] | None = None) -> dict[int, Any]:
    """The success answer (with its body model, if any) and the fault answers a route gives."""
    ok: dict[str, Any] = {"description": description}
    if model is not None:
        ok["content"] = {media_type: {"model": model}}
    if headers:
        ok["headers"] = headers
    fault = {"content": {"application/json": {"model": Feil}}}
    return {status: ok, **{code: {"description": ERRORS[code], **fault} for code in sorted(errors)}}
