"""/rest/v3/endringssett: register, validate, start, cancel, restart, progress, status, search."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import ValidationError

from vegskriv.api.body import json_body
from vegskriv.api.context import caller, changeset_links, error_paths, header, json_response
from vegskriv.changesets import use_cases
from vegskriv.changesets.models import Endringssett, Fremdrift, Resultat, Status, parse_endringssett
from vegskriv.changesets.workflow import run_validation
from vegskriv.errors import BadRequest, UnsupportedMediaType

router = Router()
JaNei = Literal["JA", "NEI"]


def _parse_body() -> tuple[Endringssett, dict[str, Any]]:
    content_type = (header(router, "Content-Type") or "application/json").split(";")[0].strip().lower()
    if content_type not in ("application/json", "application/vnd.vegvesen.nvdb-v3+json"):
        raise UnsupportedMediaType(f"Content-Type {content_type} støttes ikke; send application/json")
    raw = json_body(router, "Endringssettet")
    if not isinstance(raw, dict):
        raise BadRequest("Endringssettet må være et JSON-objekt")
    try:
        return parse_endringssett(raw), raw
    except ValidationError as exc:
        raise BadRequest(error_paths(exc)) from exc


def _delay() -> int | None:
    value = header(router, "X-NVDB-Delay")
    if value is None:
        return None
    if not value.isdigit() or int(value) > 3600:
        raise BadRequest("X-NVDB-Delay må være et heltall sekunder mellom 0 og 3600")
    return int(value)


@router.post("/rest/v3/endringssett", summary="Registrer et endringssett")
def register():
    doc, raw = _parse_body()
    dryrun = (header(router, "X-NVDB-DryRun") or "").lower() in ("true", "ja", "1")
    meta = use_cases.register(doc, raw, caller(router), dryrun=dryrun, delay_seconds=_delay())
    links = changeset_links(router, meta["id"])
    return json_response(201, links, headers={"Location": links[0]["src"]})


@router.post("/rest/v3/endringssett/validator", summary="Valider et endringssett synkront (datakatalog)")
def validator() -> Status:
    caller(router)
    doc, _ = _parse_body()
    resultat: Resultat = run_validation(doc)
    now = use_cases.changesets.now_iso()
    state = Fremdrift.AVVIST if resultat.har_feil() else Fremdrift.UTFØRT
    return Status(mottatt=now, fremdrift=state, fremdriftOppdatert=now, resultat=resultat,
                  avvistårsak="VALIDERINGSFEIL" if state == Fremdrift.AVVIST else None,
                  eier=caller(router).user, klient=caller(router).client)


def _accepted(meta: dict[str, Any]):
    return json_response(202, changeset_links(router, meta["id"]))


@router.post("/rest/v3/endringssett/<endringssett_id>/start", summary="Start behandling")
def start(endringssett_id: str):
    return _accepted(use_cases.start(endringssett_id, caller(router)))


@router.post("/rest/v3/endringssett/<endringssett_id>/kanseller", summary="Kanseller")
def cancel(endringssett_id: str):
    return _accepted(use_cases.cancel(endringssett_id, caller(router)))


@router.post("/rest/v3/endringssett/<endringssett_id>/restart", summary="Forsøk et ventende endringssett igjen nå")
def restart(endringssett_id: str):
    return _accepted(use_cases.restart(endringssett_id, caller(router)))


@router.get("/rest/v3/endringssett/<endringssett_id>/fremdrift", summary="Fremdriftskode som JSON-streng")
def fremdrift(endringssett_id: str):
    meta = use_cases.load(endringssett_id, caller(router))
    wait = use_cases.retry_after(meta)
    return json_response(200, meta["fremdrift"], headers={"Retry-After": str(wait)} if wait else None)


@router.get("/rest/v3/endringssett/<endringssett_id>/fremdriftOgÅrsak", summary="Fremdrift og årsak (text/plain)")
def fremdrift_og_aarsak(endringssett_id: str):
    meta = use_cases.load(endringssett_id, caller(router))
    return Response(200, "text/plain; charset=utf-8", use_cases.fremdrift_og_aarsak(meta))


@router.get("/rest/v3/endringssett/<endringssett_id>/status", summary="Detaljert behandlingsstatus")
def status(endringssett_id: str, inkluderResultat: Annotated[JaNei, Query()] = "JA",
           inkluderVarsler: Annotated[JaNei, Query()] = "JA"):
    meta = use_cases.load(endringssett_id, caller(router))
    body = use_cases.status(meta, changeset_links(router, endringssett_id), include_result=inkluderResultat == "JA",
                          include_warnings=inkluderVarsler == "JA")
    return json_response(200, body)


@router.get("/rest/v3/endringssett/<endringssett_id>", summary="Endringssettet med status")
def get_changeset(endringssett_id: str):
    meta = use_cases.load(endringssett_id, caller(router))
    body = use_cases.changesets.document(endringssett_id)
    body["id"] = endringssett_id
    body["status"] = use_cases.status(meta, changeset_links(router, endringssett_id), include_result=True,
                                    include_warnings=True).model_dump(mode="json", exclude_none=True)
    return json_response(200, body)


@router.get("/rest/v3/endringssett", summary="Søk i endringssett")
def search(antall: Annotated[int, Query(ge=1, le=1000)] = 100, start: Annotated[int, Query(ge=1)] = 1,
           sorterPå: Annotated[Literal["TID"], Query()] = "TID", sorterStigende: Annotated[bool, Query()] = False,
           fraEpochMs: Annotated[int | None, Query(ge=0)] = None, tilEpochMs: Annotated[int | None, Query(ge=0)] = None,
           status: Annotated[Fremdrift | None, Query()] = None, årsak: Annotated[str | None, Query()] = None,
           brukernavnEllerKlient: Annotated[str | None, Query()] = None):
    total, page = use_cases.search(caller(router), antall=antall, start=start, ascending=sorterStigende,
                                 from_ms=fraEpochMs, to_ms=tilEpochMs, status_filter=status.value if status else None,
                                 aarsak=årsak, user_or_client=brukernavnEllerKlient)
    items = [{"id": m["id"], "status": {"fremdrift": m["fremdrift"], "mottatt": m["mottatt"], "eier": m["eier"],
                                        "klient": m.get("klient"), "venteårsak": m.get("venteårsak"),
                                        "avvistårsak": m.get("avvistårsak")}} for m in page]
    return json_response(200, {"antallTotalt": total, "endringssett": items})
