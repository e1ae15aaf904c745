"""/rest/v1/oppdrag and /rest/v1/transaksjon (``oppdrag_og_transaksjoner/api-referanse.md``).

Each committed changeset is one oppdrag with one transaksjon (as in NVDB API Skriv): the oppdragId
and time its commit wrote, the versions its stored plan wrote. One oppdrag, or the transaksjon of
one oppdragId or endringssettId, is read by its key (the ByOppdrag index, the changeset's META);
searches read the changesets newest first over the time index and filter here. The caller sees
the oppdrag of the changesets it may read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BeforeValidator

from vegskriv.api.body import MAX_INT
from vegskriv.api.context import base_url, caller, json_response
from vegskriv.api.docs import TOKEN, responses
from vegskriv.changesets.models import OSLO, ja_nei, local_time
from vegskriv.errors import BadRequest, NotFound
from vegskriv.store import changesets

router = Router()
JaNei = Annotated[Literal["JA", "NEI"], BeforeValidator(ja_nei)]
Antall = Annotated[int, Query(ge=1, le=1000, description="Sidestørrelse")]
Start = Annotated[int, Query(ge=1, le=MAX_INT, description="Indeks (1-basert) for første treff")]
SorterPå = Annotated[Literal["BRUKERNAVN", "TID"], Query()]


def oppdrag_links(router: BaseRouter, meta: dict[str, Any]) -> list[dict[str, str]]:
    """The status link to a committed changeset's oppdrag (none before the commit)."""
    if not meta.get("oppdragId"):
        return []
    return [{"rel": "oppdrag", "src": f"{base_url(router)}/rest/v1/oppdrag/{meta['oppdragId']}"}]


def _committed(fra_dato: date | None, ascending: bool, sort_by: str,
               among: list[dict[str, Any] | None] | None = None) -> list[dict[str, Any]]:
    """Committed changesets the caller may read, from ``fra_dato`` (Norwegian date) on: ``among``
    the ones read by key, or else all of them."""
    from_ms = None
    if fra_dato is not None:
        from_ms = int(datetime.combine(fra_dato, time(), OSLO).timestamp() * 1000)
    if among is None:
        candidates = changesets.scan_by_time(from_ms=from_ms, to_ms=None, ascending=ascending)
    else:
        candidates = (m for m in among if m and (from_ms is None or m["mottattMs"] >= from_ms))
    who = caller(router)
    found = [m for m in candidates if m.get("committed") and m.get("oppdragId") and who.may_read(m["eier"])]
    if sort_by == "BRUKERNAVN":
        found.sort(key=lambda m: m["eier"], reverse=not ascending)  # stable: time order within a user
    return found


def _oppdrag(meta: dict[str, Any]) -> dict[str, Any]:
    root = base_url(router)
    ended = datetime.fromisoformat(meta["transaksjonTidspunkt"]).astimezone(UTC)
    return {"id": int(meta["oppdragId"]), "navn": f"Endringssett {meta['id']}",
            "beskrivelse": meta.get("eksternRef") or meta.get("klient"),
            "sluttidspunkt": ended.strftime("%Y-%m-%dT%H:%M:%SZ"), "bruker": {"brukernavn": meta["eier"]},
            "endringssettId": meta["id"],
            "ressurser": [{"rel": "self", "src": f"{root}/rest/v1/oppdrag/{meta['oppdragId']}"},
                          {"rel": "transaksjoner", "src": f"{root}/rest/v1/transaksjon?oppdragId={meta['oppdragId']}"},
                          {"rel": "endringssett", "src": f"{root}/rest/v3/endringssett/{meta['id']}"}]}


def _kind(write: dict[str, Any], created: set[int]) -> str:
    if write.get("data") is None:
        return "FJERNET"
    return "NY" if write["nvdbId"] in created and write["versjon"] == 1 else "ENDRET"


def _transaksjon(meta: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    root = base_url(router)
    created = {r["nvdbId"] for r in plan.get("vegobjekter", []) if r.get("operasjon") == "registrer"}
    by_type: dict[int, list[dict[str, Any]]] = {}
    for w in plan.get("writes", []):
        start = ((w.get("data") or {}).get("gyldighetsperiode") or {}).get("startdato")
        by_type.setdefault(int(w["typeId"]), []).append({
            "objektId": int(w["nvdbId"]), "transaksjonstype": _kind(w, created), "objektversjon": int(w["versjon"]),
            "startdato": start,
            "ressurser": [{"rel": "objekt", "src": f"{root}/rest/v3/vegobjekter/{w['typeId']}/{w['nvdbId']}"}]})
    return {"oppdragId": int(meta["oppdragId"]), "tidspunkt": local_time(meta["transaksjonTidspunkt"], "seconds"),
            "brukernavn": meta["eier"], "endringssettId": meta["id"],
            "objekttyper": [{"typeId": t, "objekttype": "VEGOBJEKT", "objekter": objekter}
                            for t, objekter in sorted(by_type.items())],
            "ressurser": [{"rel": "oppdrag", "src": f"{root}/rest/v1/oppdrag/{meta['oppdragId']}"}]}


@router.get("/rest/v1/oppdrag/<oppdrag_id>", summary="Et oppdrag (et effektuert endringssett)", security=TOKEN,
            responses=responses(200, "Oppdraget", dict[str, Any], 401, 404))
def get_oppdrag(oppdrag_id: Annotated[int, Path(ge=0, le=MAX_INT, description="oppdragId")]):
    meta = next(iter(_committed(None, False, "TID", among=[changesets.by_oppdrag(oppdrag_id)])), None)
    if meta is None:
        raise NotFound(f"Oppdrag {oppdrag_id} finnes ikke")
    return json_response(200, _oppdrag(meta))


@router.get("/rest/v1/oppdrag", summary="Søk i oppdrag", security=TOKEN,
            responses=responses(200, "antallTotalt og oppdrag, nyeste først med mindre sorterStigende",
                                dict[str, Any], 400, 401))
def search_oppdrag(antall: Antall = 100, start: Start = 1, sorterPå: SorterPå = "TID",
                   sorterStigende: Annotated[JaNei, Query()] = "NEI", fraDato: Annotated[date | None, Query()] = None,
                   eier: Annotated[str | None, Query()] = None,
                   tjenesteregel: Annotated[str | None, Query(description="Oppdrag fra vegskriv har ingen "
                                                                          "tjenesteregel: gitt, gir den ingen treff")]
                   = None):
    found = [m for m in _committed(fraDato, sorterStigende == "JA", sorterPå)
             if (eier is None or m["eier"] == eier) and tjenesteregel is None]
    return json_response(200, {"antallTotalt": len(found),
                               "oppdrag": [_oppdrag(m) for m in found[start - 1:start - 1 + antall]]})


@router.get("/rest/v1/transaksjon", summary="Søk i transaksjoner", security=TOKEN,
            responses=responses(200, "antallTotalt og transaksjon, nyeste først med mindre sorterStigende",
                                dict[str, Any], 400, 401))
def search_transaksjon(antall: Antall = 100, start: Start = 1, sorterPå: SorterPå = "TID",
                       sorterStigende: Annotated[JaNei, Query()] = "NEI",
                       endringssettId: Annotated[str | None, Query()] = None,
                       oppdragId: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
                       vegobjektId: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
                       nettelementId: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
                       fraDato: Annotated[date | None, Query()] = None, eier: Annotated[str | None, Query()] = None):
    if endringssettId is None and oppdragId is None and vegobjektId is None and nettelementId is None:
        raise BadRequest("Minst én av endringssettId, oppdragId, vegobjektId og nettelementId må angis")
    if endringssettId is not None and oppdragId is not None:
        raise BadRequest("endringssettId og oppdragId kan ikke brukes samtidig")
    if vegobjektId is not None and nettelementId is not None:
        raise BadRequest("vegobjektId og nettelementId kan ikke brukes samtidig")
    among = None  # by key when one is given
    if endringssettId is not None:
        among = [changesets.get(endringssettId)]
    elif oppdragId is not None:
        among = [changesets.by_oppdrag(oppdragId)]
    found = []
    for meta in _committed(fraDato, sorterStigende == "JA", sorterPå, among):
        if (endringssettId not in (None, meta["id"]) or oppdragId not in (None, int(meta["oppdragId"]))
                or eier not in (None, meta["eier"])):
            continue
        if nettelementId is not None:
            continue  # vegskriv writes no network elements
        plan = changesets.plan(meta["id"]) or {}
        if vegobjektId is not None and all(int(w["nvdbId"]) != vegobjektId for w in plan.get("writes", [])):
            continue
        found.append((meta, plan))
    return json_response(200, {"antallTotalt": len(found),
                               "transaksjon": [_transaksjon(m, p) for m, p in found[start - 1:start - 1 + antall]]})
