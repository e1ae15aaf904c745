"""Data rights (datarettigheter): read your own, and administer everyone's.

Who may do what follows ``tilgangskontroll.md``: every user may read their own rights, the
service user (``TjeNVDBAPIskriv/user``) may also read others', and only ``9_system_admin``
may change them. Answers carry ``kilde``: ``tildelt`` (a stored record), ``standard`` (no
record: the ``DEFAULT_RIGHTS`` grants apply) or ``administrator`` (all rights by role).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from vegskriv.api.context import base_url, caller, json_response
from vegskriv.api.docs import BODY_ERRORS, TOKEN, bearer, responses
from vegskriv.auth import ROLE_SERVICE_USER, ROLE_SYSTEM_ADMIN
from vegskriv.changesets import rights as model
from vegskriv.errors import BadRequest, Forbidden, NotFound
from vegskriv.observability import logger
from vegskriv.store import rights as store

# Handlers carry no return annotation: with enable_validation Powertools would build a pydantic
# schema from it, and it cannot for Response. Their answers are described by responses=.
router = Router()

BASE = "/rest/v3/rettigheter"
ADMIN = bearer(ROLE_SYSTEM_ADMIN)
# The pattern is in the OpenAPI document too; a name it refuses answers 400 before the route runs.
Brukernavn = Annotated[str, Path(description="Brukernavnet: bokstaver, sifre og . _ @ -, som begynner med bokstav "
                                             "eller siffer (høyst 128 tegn)", pattern=model.BRUKERNAVN_PATTERN)]
VIEW = dict[str, Any]  # Datarettighet plus kilde: tildelt, standard or administrator


class NyeRettigheter(BaseModel):
    """The PUT body. A GET answer may be sent back as is: the server's fields are ignored."""

    model_config = ConfigDict(extra="forbid")
    brukernavn: str | None = Field(None, description="Som i stien, om oppgitt")
    tilganger: list[model.Tilgang] = Field(default_factory=list)
    oppdatert: Any = Field(None, description="Settes av tjenesten; ignoreres")
    oppdatertAv: Any = Field(None, description="Settes av tjenesten; ignoreres")
    kilde: Any = Field(None, description="Settes av tjenesten; ignoreres")


def _view(brukernavn: str, record: model.Datarettighet | None) -> dict[str, Any]:
    if record is not None:
        return {**record.model_dump(mode="json", exclude_none=True), "kilde": "tildelt"}
    grants = model.default_grants()
    return {"brukernavn": brukernavn, "tilganger": [g.model_dump(mode="json") for g in grants], "kilde": "standard"}


@router.get(f"{BASE}/meg", summary="Egne datarettigheter (og sensitivitetsroller)", security=TOKEN,
            responses=responses(200, "Rettighetene med kilde og sensitivitetsroller", VIEW, 401))
def get_own():
    who = caller(router)
    roles = sorted(r for r in who.roles if r.startswith(model.SENSITIVITY_ROLE.format("")))
    if who.is_system_admin:
        body: dict[str, Any] = {"brukernavn": who.user, "tilganger": [{"vegobjekttyper": model.ALLE}],
                                "kilde": "administrator"}
    else:
        body = _view(who.user, store.get(who.user))
    return json_response(200, {**body, "sensitivitetsroller": roles})


@router.get(BASE, summary="Alle tildelte datarettigheter, sidevis etter brukernavn",
            security=bearer(ROLE_SYSTEM_ADMIN, ROLE_SERVICE_USER),
            responses=responses(200, "objekter og metadata (neste side)", dict[str, Any], 400, 401, 403))
def list_all(antall: Annotated[int, Query(ge=1, le=1000)] = 100,
             start: Annotated[str | None, Query()] = None):
    items, cursor = store.list_rights(after=start, limit=antall)
    metadata: dict[str, Any] = {"returnert": len(items), "sidestørrelse": antall}
    if cursor is not None:
        metadata["neste"] = {"start": cursor, "href": f"{base_url(router)}{BASE}?antall={antall}&start={cursor}"}
    return json_response(200, {"objekter": [{**r.model_dump(mode="json", exclude_none=True), "kilde": "tildelt"}
                                            for r in items], "metadata": metadata})


@router.get(f"{BASE}/<brukernavn>", summary="En brukers datarettigheter", security=TOKEN,
            responses=responses(200, "Rettighetene med kilde", VIEW, 400, 401, 403))
def get_one(brukernavn: Brukernavn):
    who = caller(router)
    if brukernavn != who.user and not (who.is_system_admin or ROLE_SERVICE_USER in who.roles):
        raise Forbidden(f"Krever rollen {ROLE_SYSTEM_ADMIN} eller {ROLE_SERVICE_USER} for andres datarettigheter")
    return json_response(200, _view(brukernavn, store.get(brukernavn)))


@router.put(f"{BASE}/<brukernavn>", summary="Tildel (erstatt) en brukers datarettigheter", security=ADMIN,
            responses=responses(200, "Rettighetene slik de ble lagret", VIEW, 401, 403, *BODY_ERRORS))
def put_one(brukernavn: Brukernavn, body: Annotated[NyeRettigheter, Body()]):
    who = caller(router)
    if body.brukernavn not in (None, brukernavn):
        raise BadRequest(f"brukernavn: {body.brukernavn!r} i dokumentet er ikke {brukernavn!r} fra stien")
    record = model.Datarettighet(brukernavn=brukernavn, tilganger=body.tilganger)
    stored = store.put(record, endret_av=who.user)
    logger.info("datarettigheter endret", extra={"brukernavn": brukernavn, "endretAv": who.user,
                                                 "tilganger": stored.model_dump(mode="json")["tilganger"]})
    return json_response(200, {**stored.model_dump(mode="json", exclude_none=True), "kilde": "tildelt"})


@router.delete(f"{BASE}/<brukernavn>", summary="Fjern en brukers datarettigheter (standardrettighetene gjelder da)",
               security=ADMIN, responses=responses(204, "Fjernet", None, 400, 401, 403, 404))
def delete_one(brukernavn: Brukernavn):
    who = caller(router)
    if not store.delete(brukernavn):
        raise NotFound(f"Brukeren {brukernavn} har ingen tildelte datarettigheter")
    logger.info("datarettigheter fjernet", extra={"brukernavn": brukernavn, "endretAv": who.user})
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")
