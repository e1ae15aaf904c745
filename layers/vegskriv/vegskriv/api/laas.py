"""/rest/v1/lås: list and read locks; create and remove long-lived (external) locks."""

from __future__ import annotations

import json
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import ValidationError

from vegskriv.api.context import caller, error_paths, json_response
from vegskriv.dispatch import wake
from vegskriv.errors import BadRequest, Conflict, NotFound
from vegskriv.locks import NyLås, external_claims
from vegskriv.store import changesets
from vegskriv.store import locks as store

router = Router()


@router.get("/rest/v1/lås", summary="Søk i låser")
def search(eier: Annotated[str | None, Query()] = None, oppdragId: Annotated[int | None, Query()] = None,
           blokkererEndringssettId: Annotated[str | None, Query()] = None,
           antall: Annotated[int, Query(ge=1, le=1000)] = 100, start: Annotated[int, Query(ge=1)] = 1):
    caller(router)
    found = [m for m in store.search(eier=eier, oppdrag_id=oppdragId) if store.live(m)]
    if blokkererEndringssettId is not None:
        waiting = changesets.get(blokkererEndringssettId) or {}
        blocking = set(waiting.get("blokkertAv") or [])
        found = [m for m in found if m["id"] in blocking or blokkererEndringssettId in (m.get("ventende") or [])]
    page = found[start - 1:start - 1 + antall]
    return json_response(200, {"antallTotalt": len(found), "låser": [store.present(m) for m in page]})


@router.get("/rest/v1/lås/<lock_id>", summary="En lås")
def get_lock(lock_id: str):
    caller(router)
    meta = store.get(lock_id)
    if not store.live(meta):
        raise NotFound(f"Lås {lock_id} finnes ikke")
    assert meta is not None
    return json_response(200, store.present(meta))


@router.post("/rest/v1/lås", summary="Opprett en langvarig lås (andre systemers låser)")
def create_lock():
    who = caller(router)
    try:
        request = NyLås.model_validate(json.loads(router.current_event.body or ""))
    except json.JSONDecodeError as exc:
        raise BadRequest(f"Ugyldig JSON: {exc.msg}") from exc
    except ValidationError as exc:
        raise BadRequest(error_paths(exc)) from exc
    owner = request.eier if request.eier and who.is_system_admin else who.user
    lock_id = store.new_id()
    claims = external_claims(request)
    store.create_meta(lock_id, eier=owner, kind="EKSTERN", claims=claims, lease_seconds=request.varighetSekunder,
                      oppdrag_id=request.oppdragId)
    outcome = store.acquire(lock_id, claims, request.varighetSekunder)
    if not outcome.acquired:
        store.release(lock_id)
        raise Conflict(f"Området er låst av {', '.join(outcome.blockers) or 'andre'}; prøv igjen senere")
    meta = store.get(lock_id)
    assert meta is not None
    return json_response(201, store.present(meta), headers={"Location": f"/rest/v1/lås/{lock_id}"})


@router.delete("/rest/v1/lås/<lock_id>", summary="Fjern en lås (egen, eller alle for 9_system_admin)")
def delete_lock(lock_id: str):
    who = caller(router)
    meta = store.get(lock_id)
    if meta is None:
        raise NotFound(f"Lås {lock_id} finnes ikke")
    if meta["eier"] != who.user and not who.is_system_admin:
        raise NotFound(f"Lås {lock_id} finnes ikke")  # like other users' changesets: no probing
    if meta["type"] == "ENDRINGSSETT" and not who.is_system_admin:
        raise Conflict("Låser som holdes av et endringssett frigis av behandlingen selv")
    woken = [cs for cs in store.release(lock_id) if wake(cs, "lås frigitt")]
    return json_response(200, {"id": lock_id, "frigitt": True, "vekket": woken})
