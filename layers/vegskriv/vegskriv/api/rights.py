"""Data rights (datarettigheter): read your own, and administer everyone's.

Who may do what follows ``tilgangskontroll.md``: every user may read their own rights, the
service user (``TjeNVDBAPIskriv/user``) may also read others', and only ``9_system_admin``
may change them. Answers carry ``kilde``: ``tildelt`` (a stored record), ``standard`` (no
record: the ``DEFAULT_RIGHTS`` grants apply) or ``administrator`` (all rights by role).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import ValidationError

from vegskriv.api.body import json_body
from vegskriv.api.context import base_url, caller, json_response
from vegskriv.auth import ROLE_SERVICE_USER, ROLE_SYSTEM_ADMIN, Caller
from vegskriv.changesets import rights as model
from vegskriv.errors import BadRequest, Forbidden, NotFound
from vegskriv.observability import logger
from vegskriv.store import rights as store

# Handlers carry no return annotation: with enable_validation Powertools would build a pydantic
# schema from it, and it cannot for Response.
router = Router()

BASE = "/rest/v3/rettigheter"


def _require_admin(who: Caller) -> None:
    if not who.is_system_admin:
        raise Forbidden(f"Krever rollen {ROLE_SYSTEM_ADMIN}")


def _checked_name(brukernavn: str) -> str:
    if not re.fullmatch(model.BRUKERNAVN_PATTERN, brukernavn):
        raise BadRequest(f"Ugyldig brukernavn {brukernavn!r}: bruk bokstaver, sifre og . _ @ - (maks 128 tegn)")
    return brukernavn


def _view(brukernavn: str, record: model.Datarettighet | None) -> dict[str, Any]:
    if record is not None:
        return {**record.model_dump(mode="json", exclude_none=True), "kilde": "tildelt"}
    grants = model.default_grants()
    return {"brukernavn": brukernavn, "tilganger": [g.model_dump(mode="json") for g in grants], "kilde": "standard"}


def _validation_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        path = ".".join(str(p) for p in err["loc"]) or "(dokumentet)"
        parts.append(f"{path}: {err['msg']}")
    return "Ugyldige datarettigheter: " + "; ".join(parts)


def _parse_body(brukernavn: str) -> model.Datarettighet:
    body = json_body(router)
    if not isinstance(body, dict):
        raise BadRequest("Ugyldige datarettigheter: forventet et JSON-objekt med brukernavn og tilganger")
    given = body.setdefault("brukernavn", brukernavn)
    if given != brukernavn:
        raise BadRequest(f"brukernavn: {given!r} i dokumentet er ikke {brukernavn!r} fra stien")
    # The server stamps these; a client copying a GET answer back must not be refused for them.
    for server_field in ("oppdatert", "oppdatertAv", "kilde"):
        body.pop(server_field, None)
    try:
        return model.Datarettighet.model_validate(body)
    except ValidationError as exc:
        raise BadRequest(_validation_message(exc)) from exc


@router.get(f"{BASE}/meg", summary="Egne datarettigheter (og sensitivitetsroller)")
def get_own():
    who = caller(router)
    roles = sorted(r for r in who.roles if r.startswith(model.SENSITIVITY_ROLE.format("")))
    if who.is_system_admin:
        body: dict[str, Any] = {"brukernavn": who.user, "tilganger": [{"vegobjekttyper": model.ALLE}],
                                "kilde": "administrator"}
    else:
        body = _view(who.user, store.get(who.user))
    return json_response(200, {**body, "sensitivitetsroller": roles})


@router.get(BASE, summary="Alle tildelte datarettigheter, sidevis etter brukernavn")
def list_all(antall: Annotated[int, Query(ge=1, le=1000)] = 100,
             start: Annotated[str | None, Query()] = None):
    who = caller(router)
    if not (who.is_system_admin or ROLE_SERVICE_USER in who.roles):
        raise Forbidden(f"Krever rollen {ROLE_SYSTEM_ADMIN} eller {ROLE_SERVICE_USER}")
    items, cursor = store.list_rights(after=start, limit=antall)
    metadata: dict[str, Any] = {"returnert": len(items), "sidestørrelse": antall}
    if cursor is not None:
        metadata["neste"] = {"start": cursor, "href": f"{base_url(router)}{BASE}?antall={antall}&start={cursor}"}
    return json_response(200, {"objekter": [{**r.model_dump(mode="json", exclude_none=True), "kilde": "tildelt"}
                                            for r in items], "metadata": metadata})


@router.get(f"{BASE}/<brukernavn>", summary="En brukers datarettigheter")
def get_one(brukernavn: str):
    who = caller(router)
    if brukernavn != who.user and not (who.is_system_admin or ROLE_SERVICE_USER in who.roles):
        raise Forbidden(f"Krever rollen {ROLE_SYSTEM_ADMIN} eller {ROLE_SERVICE_USER} for andres datarettigheter")
    return json_response(200, _view(brukernavn, store.get(_checked_name(brukernavn))))


@router.put(f"{BASE}/<brukernavn>", summary="Tildel (erstatt) en brukers datarettigheter")
def put_one(brukernavn: str):
    who = caller(router)
    _require_admin(who)
    record = _parse_body(_checked_name(brukernavn))
    stored = store.put(record, endret_av=who.user)
    logger.info("datarettigheter endret", extra={"brukernavn": brukernavn, "endretAv": who.user,
                                                 "tilganger": stored.model_dump(mode="json")["tilganger"]})
    return json_response(200, {**stored.model_dump(mode="json", exclude_none=True), "kilde": "tildelt"})


@router.delete(f"{BASE}/<brukernavn>", summary="Fjern en brukers datarettigheter (standardrettighetene gjelder da)")
def delete_one(brukernavn: str):
    who = caller(router)
    _require_admin(who)
    if not store.delete(_checked_name(brukernavn)):
        raise NotFound(f"Brukeren {brukernavn} har ingen tildelte datarettigheter")
    logger.info("datarettigheter fjernet", extra={"brukernavn": brukernavn, "endretAv": who.user})
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")
