"""/rest/v1/konsumenter: consumers of the nightly provisioning, their runs, reports and logs.

An owner's administrators (5_fagdata_admin) see their own consumers, 9_system_admin all; another
owner's consumer answers 404 like an unknown id, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from vegskriv import outbound
from vegskriv.api import examples
from vegskriv.api.body import MAX_INT
from vegskriv.api.context import caller, json_response
from vegskriv.api.docs import TOKEN, responses
from vegskriv.auth import ROLE_FAGDATA_ADMIN, ROLE_SYSTEM_ADMIN, Caller
from vegskriv.errors import BadRequest, Conflict, Forbidden, NotFound
from vegskriv.provisioning import jobs
from vegskriv.provisioning.model import Kjøring, KjøringForespørsel, Konsument, KonsumentEndring, NyKonsument
from vegskriv.store import provisioning as store

router = Router()
ROOT = "/rest/v1/konsumenter"
ConsumerId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
RunId = Annotated[str, Path(pattern=r"^[0-9A-Za-z-]{1,64}$")]
NOT_FOUND: OpenAPIResponse = {"description": "Ukjent id, eller en annen eiers"}


def _admin() -> Caller:
    who = caller(router)
    if not who.sees_all_changesets:
        raise Forbidden(f"Krever rollen {ROLE_FAGDATA_ADMIN} eller {ROLE_SYSTEM_ADMIN} for konsumenter")
    return who


def _mine(konsument_id: str) -> Konsument:
    return _mine_as_stored(konsument_id)[0]


def _mine_as_stored(konsument_id: str) -> tuple[Konsument, str]:
    """The caller's consumer, and its stored text (an edit is saved only if nobody wrote it since)."""
    who = _admin()
    found = store.get_consumer_text(konsument_id)
    if found is None or (found[0].eier != who.user and not who.is_system_admin):
        raise NotFound(f"konsumenter/{konsument_id} finnes ikke")
    return found


def _check_target(konsument: NyKonsument | Konsument) -> None:
    if konsument.mål.type == "HTTP" and not konsument.mål.url:
        raise BadRequest("mål.url: påkrevd når mål.type er HTTP")
    if konsument.mål.type == "HTTP" and not outbound.allowed(konsument.mål.url or ""):
        raise BadRequest("mål.url: må være https (http bare til 127.0.0.1 og localhost)")


def _run(konsument_id: str, run_id: str) -> Kjøring:
    _mine(konsument_id)
    run = store.get_run(konsument_id, run_id)
    if run is None:
        raise NotFound(f"konsumenter/{konsument_id}/kjøringer/{run_id} finnes ikke")
    return run


def _present(run: Kjøring) -> dict[str, Any]:
    return run.model_dump(exclude={"etter", "loggført"})


@router.post(ROOT, security=TOKEN, summary="Registrer en konsument", responses={201: {"description": "Registrert"},
                                                                  409: {"description": "id er i bruk"}})
def create(konsument: Annotated[NyKonsument, Body(
        openapi_examples=examples.example("Referansekonsumenten (SQLite)", examples.CONSUMER))]):
    who = _admin()
    _check_target(konsument)
    saved = Konsument(**konsument.model_dump(), eier=who.user)
    if not store.create_consumer(saved):
        raise Conflict(f"id: konsumenten {konsument.id} finnes allerede")
    return json_response(201, saved.model_dump(), headers={"Location": f"{ROOT}/{saved.id}"})


@router.get(ROOT, security=TOKEN, summary="Konsumenter (egne; alle for 9_system_admin)")
def list_all():
    who = _admin()
    found = [k.model_dump() for k in store.list_consumers() if who.is_system_admin or k.eier == who.user]
    return json_response(200, {"konsumenter": found})


@router.get(f"{ROOT}/<konsument_id>", security=TOKEN, summary="En konsument",
            responses={**responses(200, "Konsumenten", Konsument), 404: NOT_FOUND})
def get_one(konsument_id: ConsumerId):
    return json_response(200, _mine(konsument_id).model_dump())


@router.patch(f"{ROOT}/<konsument_id>", security=TOKEN, summary="Endre en konsument",
              responses={**responses(200, "Konsumenten slik den er nå", Konsument, 409), 404: NOT_FOUND})
def change(konsument_id: ConsumerId, endring: Annotated[KonsumentEndring, Body()]):
    konsument, text = _mine_as_stored(konsument_id)
    changed = Konsument(**{**konsument.model_dump(), **endring.model_dump(exclude_unset=True, exclude_none=True)})
    _check_target(changed)
    jobs.change_consumer(konsument, text, changed)
    return json_response(200, changed.model_dump())


@router.delete(f"{ROOT}/<konsument_id>", security=TOKEN, summary="Fjern en konsument (og den innebygde kopien)",
               responses={**responses(200, "Fjernet: {id, fjernet: true}", dict[str, Any]), 404: NOT_FOUND})
def remove(konsument_id: ConsumerId):
    _mine(konsument_id)
    store.delete_consumer(konsument_id)
    return json_response(200, {"id": konsument_id, "fjernet": True})


@router.post(f"{ROOT}/<konsument_id>/kjøringer", security=TOKEN, summary="Start en kjøring nå",
             responses={202: {"description": "Startet"}, 404: NOT_FOUND,
                        409: {"description": "En kjøring pågår allerede, eller en annen ble startet samtidig"}})
def start(konsument_id: ConsumerId, forespørsel: Annotated[KjøringForespørsel | None, Body(
        openapi_examples=examples.example("Tørrkjøring av alt", examples.RUN))] = None):
    konsument = _mine(konsument_id)
    request = forespørsel or KjøringForespørsel()
    run = jobs.create_run(konsument, request.modus, request.tørrkjøring)
    jobs.start_execution([run])
    return json_response(202, _present(run), headers={"Location": f"{ROOT}/{konsument_id}/kjøringer/{run.id}"})


@router.get(f"{ROOT}/<konsument_id>/kjøringer", security=TOKEN,
            summary="Kjøringer, nyeste først",
            responses={**responses(200, "{kjøringer: [rapport, ...]}", dict[str, Any]), 404: NOT_FOUND})
def runs(konsument_id: ConsumerId, antall: Annotated[int, Query(ge=1, le=1000)] = 100):
    _mine(konsument_id)
    return json_response(200, {"kjøringer": [_present(r) for r in store.list_runs(konsument_id, antall)]})


@router.get(f"{ROOT}/<konsument_id>/kjøringer/<kjoring_id>", security=TOKEN, summary="En kjørings rapport",
            responses={**responses(200, "Rapporten: status, modus, tellere, tider", dict[str, Any]), 404: NOT_FOUND})
def report(konsument_id: ConsumerId, kjoring_id: RunId):
    return json_response(200, _present(_run(konsument_id, kjoring_id)))


@router.get(f"{ROOT}/<konsument_id>/kjøringer/<kjoring_id>/logg", security=TOKEN,
            summary="Logg per objekt (UENDRET telles bare)",
            responses={**responses(200, "{logg: [...], metadata: {returnert, neste?}}", dict[str, Any]),
                       404: NOT_FOUND})
def log(konsument_id: ConsumerId, kjoring_id: RunId, antall: Annotated[int, Query(ge=1, le=1000)] = 100,
        start: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None):
    _run(konsument_id, kjoring_id)
    entries, last = store.log_page(kjoring_id, start, antall)
    metadata: dict[str, Any] = {"returnert": len(entries)}
    if len(entries) == antall:
        metadata["neste"] = {"start": str(last)}
    return json_response(200, {"logg": entries, "metadata": metadata})


@router.post(f"{ROOT}/<konsument_id>/kjøringer/<kjoring_id>/godkjenn",
             security=TOKEN, summary="Slipp en kjøring i KARANTENE: slettingene utføres",
             responses={202: {"description": "Godkjent"}, 404: NOT_FOUND,
                        409: {"description": "Ikke i KARANTENE (også: erstattet av en nyere kjøring)"}})
def approve(konsument_id: ConsumerId, kjoring_id: RunId):
    _run(konsument_id, kjoring_id)
    run = jobs.approve(konsument_id, kjoring_id)
    jobs.start_execution([run])
    return json_response(202, _present(run))
