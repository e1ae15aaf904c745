"""/rest/v1/tjenesteeiere and /rest/v1/mastertjenester: owners, services, editions, masters, migration."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel

from vegskriv.api import examples
from vegskriv.api.context import caller, json_response
from vegskriv.api.docs import TOKEN, Feil
from vegskriv.services import delivery, use_cases
from vegskriv.services.models import (
    KODE,
    EndreTjenesteeier,
    EndreUtgave,
    NyTjeneste,
    NyTjenesteeier,
    NyUtgave,
    NyUtgaveFraMaster,
    Publisering,
    Tjeneste,
    Tjenesteeier,
    Utgave,
)

router = Router()
ROOT = "/rest/v1/tjenesteeiere"
EDITION = f"{ROOT}/<eier>/tjenester/<tjenestekode>/utgaver/<utgavekode>"

Eier = Annotated[str, Path(pattern=KODE)]
Tk = Annotated[str, Path(pattern=KODE)]
Uk = Annotated[str, Path(pattern=KODE)]
ELEMENT_ID = r"^[0-9a-f-]{36}$"


class Migrering(BaseModel):
    versjon: Publisering
    advarsler: list[str]


class FraMaster(BaseModel):
    utgave: Utgave
    underskjema: list[Utgave]
    advarsler: list[str]


def _answers(ok: int, model: Any, *errors: int) -> dict[int, OpenAPIResponse]:
    text = {400: "Ugyldig forespørsel", 403: "Mangler rolle", 404: "Finnes ikke (eller ikke din)",
            409: "Brudd på en regel; meldingen nevner regelen"}
    answers: dict[int, OpenAPIResponse] = {ok: {"description": "OK"}}
    if model is not None:
        answers[ok]["content"] = {"application/json": {"model": model}}
    for status in errors:
        answers[status] = {"description": text[status], "content": {"application/json": {"model": Feil}}}
    return answers


# --- owners -------------------------------------------------------------------------------------


@router.post(ROOT, security=TOKEN, summary="Opprett en tjenesteeier (9_system_admin)",
             responses=_answers(201, Tjenesteeier, 400, 403, 409))
def create_owner(body: Annotated[NyTjenesteeier, Body(
        openapi_examples=examples.example("En tjenesteeier", examples.OWNER))]):
    owner = use_cases.create_owner(caller(router), body)
    return json_response(201, owner, headers={"Location": f"{ROOT}/{owner.kode}"})


@router.get(ROOT, security=TOKEN, summary="Tjenesteeiere du administrerer (alle for 9_system_admin)",
            responses=_answers(200, list[Tjenesteeier]))
def list_owners():
    return json_response(200, [o.model_dump(mode="json") for o in use_cases.list_owners(caller(router))])


@router.get(f"{ROOT}/<eier>", security=TOKEN, summary="En tjenesteeier", responses=_answers(200, Tjenesteeier, 404))
def get_owner(eier: Eier):
    return json_response(200, use_cases.administered(caller(router), eier))


@router.patch(f"{ROOT}/<eier>", security=TOKEN, summary="Endre navn eller administratorer (9_system_admin)",
              responses=_answers(200, Tjenesteeier, 400, 403, 404))
def change_owner(eier: Eier, body: Annotated[EndreTjenesteeier, Body()]):
    return json_response(200, use_cases.change_owner(caller(router), eier, body))


# --- services -----------------------------------------------------------------------------------


@router.post(f"{ROOT}/<eier>/tjenester", security=TOKEN, summary="Opprett en tjeneste",
             responses=_answers(201, Tjeneste, 400, 404, 409))
def create_service(eier: Eier, body: Annotated[NyTjeneste, Body(
        openapi_examples=examples.example("En innsendingstjeneste", examples.SERVICE))]):
    service = use_cases.create_service(caller(router), eier, body)
    return json_response(201, service, headers={"Location": f"{ROOT}/{eier}/tjenester/{service.tjenestekode}"})


@router.get(f"{ROOT}/<eier>/tjenester", security=TOKEN,
            summary="Eierens tjenester", responses=_answers(200, list[Tjeneste], 404))
def list_services(eier: Eier):
    return json_response(200, [s.model_dump(mode="json", exclude_none=True)
                               for s in use_cases.list_services(caller(router), eier)])


# --- editions -----------------------------------------------------------------------------------


@router.post(f"{ROOT}/<eier>/tjenester/<tjenestekode>/utgaver", security=TOKEN,
             summary="Opprett en utgave (aldri master)",
             responses=_answers(201, Utgave, 400, 404, 409))
def create_edition(eier: Eier, tjenestekode: Tk, body: Annotated[NyUtgave, Body(
        openapi_examples=examples.example("Registrering av kummer", examples.EDITION))]):
    edition = use_cases.create_edition(caller(router), eier, tjenestekode, body)
    return json_response(201, use_cases.view(edition),
                         headers={"Location": f"{ROOT}/{eier}/tjenester/{tjenestekode}/utgaver/{edition.utgavekode}"})


@router.get(f"{ROOT}/<eier>/tjenester/<tjenestekode>/utgaver", security=TOKEN, summary="Tjenestens utgaver",
            responses=_answers(200, list[Utgave], 404))
def list_editions(eier: Eier, tjenestekode: Tk):
    return json_response(200, [e.model_dump(mode="json", exclude_none=True)
                               for e in use_cases.list_editions(caller(router), eier, tjenestekode)])


@router.get(EDITION, security=TOKEN,
            summary="En utgave med publiserte versjoner (og endringer i masteren siden migrering)",
            responses=_answers(200, Utgave, 404))
def get_edition(eier: Eier, tjenestekode: Tk, utgavekode: Uk):
    return json_response(200, use_cases.view(use_cases.get_edition(caller(router), eier, tjenestekode, utgavekode)))


@router.patch(EDITION, security=TOKEN,
              summary="Endre en utgave (basert på master: bare koder, oversendingsmetode, gyldighetsperiode)",
              responses=_answers(200, Utgave, 400, 404, 409))
def change_edition(eier: Eier, tjenestekode: Tk, utgavekode: Uk, body: Annotated[EndreUtgave, Body()]):
    edition = use_cases.change_edition(caller(router), eier, tjenestekode, utgavekode, body)
    return json_response(200, use_cases.view(edition))


@router.delete(EDITION, security=TOKEN, summary="Slett en utgave permanent", responses=_answers(204, None, 404, 409))
def delete_edition(eier: Eier, tjenestekode: Tk, utgavekode: Uk):
    use_cases.delete_edition(caller(router), eier, tjenestekode, utgavekode)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@router.post(f"{EDITION}/master", security=TOKEN, summary="Merk som master", responses=_answers(200, Utgave, 404, 409))
def mark_master(eier: Eier, tjenestekode: Tk, utgavekode: Uk):
    edition = use_cases.mark_master(caller(router), eier, tjenestekode, utgavekode)
    return json_response(200, use_cases.view(edition))


@router.delete(f"{EDITION}/master", security=TOKEN,
               summary="Fjern master-merket", responses=_answers(200, Utgave, 404, 409))
def unmark_master(eier: Eier, tjenestekode: Tk, utgavekode: Uk):
    edition = use_cases.unmark_master(caller(router), eier, tjenestekode, utgavekode)
    return json_response(200, use_cases.view(edition))


@router.post(f"{EDITION}/migrer", security=TOKEN, summary="Migrer: publiser utgaven som en ny, uforanderlig versjon",
             responses=_answers(200, Migrering, 404, 409))
def migrate(eier: Eier, tjenestekode: Tk, utgavekode: Uk):
    return json_response(200, use_cases.migrate(caller(router), eier, tjenestekode, utgavekode))


# --- masters ------------------------------------------------------------------------------------


@router.get("/rest/v1/mastertjenester", security=TOKEN,
            summary="Mastere tilgjengelige for gjenbruk (aldri «kun underskjema»)",
            responses=_answers(200, list[dict[str, Any]]))
def list_masters():
    caller(router)
    return json_response(200, use_cases.list_masters())


@router.post(f"{ROOT}/<eier>/utgaver-fra-master", security=TOKEN,
             summary="Opprett en utgave (og dens underskjema) basert på en master",
             responses=_answers(201, FraMaster, 400, 404, 409))
def create_from_master(eier: Eier, body: Annotated[NyUtgaveFraMaster, Body()]):
    answer = use_cases.create_from_master(caller(router), eier, body)
    main = answer["utgave"]
    location = f"{ROOT}/{eier}/tjenester/{main['tjenestekode']}/utgaver/{main['utgavekode']}"
    return json_response(201, answer, headers={"Location": location})


# --- delivery: download queue and push signing key ----------------------------------------------

QUEUE = f"{ROOT}/<eier>/nedlastingskø"


@router.get(QUEUE, security=TOKEN, summary="Elementer i nedlastingskøen, eldste først (høyst 500)",
            responses=_answers(200, list[dict[str, Any]], 400, 404))
def list_queue(eier: Eier, antall: Annotated[int, Query(ge=1, le=delivery.MAX_LIST)] = delivery.MAX_LIST,
               tjenestekode: Annotated[str | None, Query(pattern=KODE)] = None):
    return json_response(200, delivery.list_queue(caller(router), eier, antall, tjenestekode))


@router.get(f"{QUEUE}/<elementId>", security=TOKEN,
            summary="Ett element: endringssettet, endelig status, resultat og vedlegg",
            responses=_answers(200, dict[str, Any], 404))
def get_queue_item(eier: Eier, elementId: Annotated[str, Path(pattern=ELEMENT_ID)]):
    return json_response(200, delivery.get_item(caller(router), eier, elementId))


@router.delete(f"{QUEUE}/<elementId>", security=TOKEN, summary="Fjern elementet etter vellykket nedlasting",
               responses=_answers(204, None, 404))
def purge_queue_item(eier: Eier, elementId: Annotated[str, Path(pattern=ELEMENT_ID)]):
    delivery.purge(caller(router), eier, elementId)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@router.get(f"{ROOT}/<eier>/signeringsnøkkel", security=TOKEN,
            summary="Nøkkelen push-leveranser signeres med (HMAC-SHA256 i X-Vegskriv-Signatur)",
            responses=_answers(200, dict[str, str], 404))
def get_signing_key(eier: Eier):
    return json_response(200, delivery.signing_key(caller(router), eier, rotate=False))


@router.post(f"{ROOT}/<eier>/signeringsnøkkel", security=TOKEN, summary="Lag en ny signeringsnøkkel",
             responses=_answers(200, dict[str, str], 404))
def rotate_signing_key(eier: Eier):
    return json_response(200, delivery.signing_key(caller(router), eier, rotate=True))
