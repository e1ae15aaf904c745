"""/rest/v1/lås: list and read locks; create and remove long-lived (external) locks."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from vegskriv.api import examples
from vegskriv.api.body import MAX_INT
from vegskriv.api.context import caller, json_response
from vegskriv.api.docs import BODY_ERRORS, TOKEN, bearer, responses
from vegskriv.auth import ROLE_FAGDATA_ADMIN, ROLE_SYSTEM_ADMIN
from vegskriv.changesets.dispatch import wake
from vegskriv.changesets.locks import NyLås, external_claims
from vegskriv.errors import BadRequest, Conflict, NotFound
from vegskriv.settings import get_settings
from vegskriv.store import changesets
from vegskriv.store import locks as store

router = Router()
DEFAULT_LOCK_SECONDS = 24 * 3600
LockId = Annotated[str, Path(description="Låsens id")]
LOCK = dict[str, Any]  # store.present: id, eier, type, vegobjekttyper, stedfesting, utløper, blokkerer


@router.get("/rest/v1/lås", summary="Søk i låser", security=TOKEN,
            responses=responses(200, "antallTotalt og låser", dict[str, Any], 400, 401))
def search(eier: Annotated[str | None, Query()] = None,
           oppdragId: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
           blokkererEndringssettId: Annotated[str | None, Query()] = None,
           antall: Annotated[int, Query(ge=1, le=1000)] = 100, start: Annotated[int, Query(ge=1, le=MAX_INT)] = 1):
    found = [m for m in store.search(eier=eier, oppdrag_id=oppdragId) if store.live(m)]
    if blokkererEndringssettId is not None:
        waiting = changesets.get(blokkererEndringssettId) or {}
        blocking = set(waiting.get("blokkertAv") or [])
        found = [m for m in found if m["id"] in blocking or blokkererEndringssettId in (m.get("ventende") or [])]
    page = found[start - 1:start - 1 + antall]
    return json_response(200, {"antallTotalt": len(found), "låser": [store.present(m) for m in page]})


@router.get("/rest/v1/lås/<lock_id>", summary="En lås", security=TOKEN,
            responses=responses(200, "Låsen", LOCK, 401, 404))
def get_lock(lock_id: LockId):
    meta = store.get(lock_id)
    if not store.live(meta):
        raise NotFound(f"Lås {lock_id} finnes ikke")
    assert meta is not None
    return json_response(200, store.present(meta))


@router.post("/rest/v1/lås", summary="Opprett en langvarig lås for et annet system (5_fagdata_admin, 9_system_admin)",
             security=bearer(ROLE_SYSTEM_ADMIN, ROLE_FAGDATA_ADMIN),
             responses=responses(201, "Låsen", LOCK, 401, 403, 409, *BODY_ERRORS))
def create_lock(request: Annotated[NyLås, Body(
        openapi_examples=examples.example("Lås kummer på en veglenkesekvens", examples.LOCK))]):
    who = caller(router)
    settings = get_settings()
    longest = settings.external_lock_max_seconds
    seconds = request.varighetSekunder or min(DEFAULT_LOCK_SECONDS, longest)
    if seconds > longest:
        raise BadRequest(f"varighetSekunder: {seconds} er mer enn grensen på {longest} sekunder")
    owner = request.eier if request.eier and who.is_system_admin else who.user
    held = sum(1 for m in store.search(eier=owner) if m["type"] == "EKSTERN" and store.live(m))
    if held >= settings.external_locks_per_owner:
        raise Conflict(f"eier: {owner} har allerede {held} aktive eksterne låser (grensen er "
                       f"{settings.external_locks_per_owner}); fjern en før du oppretter flere")
    lock_id = store.new_id()
    claims = external_claims(request)
    store.create_meta(lock_id, eier=owner, kind="EKSTERN", claims=claims, lease_seconds=seconds,
                      oppdrag_id=request.oppdragId)
    outcome = store.acquire(lock_id, claims, seconds)
    if not outcome.acquired:
        store.release(lock_id)
        raise Conflict(f"Området er låst av {', '.join(outcome.blockers) or 'andre'}; prøv igjen senere")
    meta = store.get(lock_id)
    assert meta is not None
    return json_response(201, store.present(meta), headers={"Location": f"/rest/v1/lås/{lock_id}"})


@router.delete("/rest/v1/lås/<lock_id>", summary="Fjern en lås (egen, eller alle for 9_system_admin)",
               security=TOKEN, responses=responses(200, "id, frigitt og vekket (endringssett som fortsetter)",
                                                   dict[str, Any], 401, 404, 409))
def delete_lock(lock_id: LockId):
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
