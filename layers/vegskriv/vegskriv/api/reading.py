"""Read side and reference data: vegobjekter, datakatalog and vegnett (plus admin loading)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vegskriv.api import examples
from vegskriv.api.body import MAX_INT
from vegskriv.api.context import base_url, header, json_response
from vegskriv.api.docs import BODY_ERRORS, TOKEN, bearer, responses
from vegskriv.auth import ROLE_SYSTEM_ADMIN
from vegskriv.changesets.models import Gyldighetsperiode
from vegskriv.errors import BadRequest, NotFound
from vegskriv.network import NyttVegnett, Veglenkesekvens
from vegskriv.provisioning.diff import content_hash, is_current
from vegskriv.store import changes, objects, reference

router = Router()
ADMIN = bearer(ROLE_SYSTEM_ADMIN)
TypeId = Annotated[int, Path(ge=0, le=MAX_INT, description="Vegobjekttypens id")]
PAGE = dict[str, Any]  # {"objekter": [...], "metadata": {"returnert", "sidestørrelse", "neste"}}


def _cursor_meta(path: str, params: dict[str, Any], cursor: int | None, returned: int) -> dict[str, Any]:
    meta: dict[str, Any] = {"returnert": returned, "sidestørrelse": params["antall"]}
    if cursor is not None:
        query = "&".join(f"{k}={v}" for k, v in {**params, "start": cursor}.items() if v is not None)
        meta["neste"] = {"start": str(cursor), "href": f"{base_url(router)}{path}?{query}"}
    return meta


INKLUDER = ("metadata", "egenskaper", "lokasjon", "geometri")
MAX_READS = 20  # pages read for one answer when a kommune filter leaves few objects
FILTERED_READ = 1000  # objects read a page when a kommune filter may leave few of them
EMPTY_BUDGET_S = 15.0  # an answer with nothing found yet stops here, well inside API Gateway's 29 s


def _names(values: str | None) -> set[str]:
    found = {v.strip() for v in (values or "").split(",") if v.strip()}
    if "alle" in found:
        return set(INKLUDER)
    wrong = sorted(found - set(INKLUDER) - {"minimum"})
    if wrong:
        raise BadRequest(f"inkluder: ukjent verdi {', '.join(wrong)} (gyldige: {', '.join(INKLUDER)}, alle, minimum)")
    return found


def _kommuner(value: str | None) -> set[int] | None:
    try:
        found = {int(k) for k in (value or "").split(",") if k.strip()}
    except ValueError as exc:
        raise BadRequest(f"kommune: {value} er ikke en kommaseparert liste av kommunenumre") from exc
    return found or None


def _stedfestinger(version: dict[str, Any]) -> list[dict[str, Any]]:
    stedfesting = version.get("stedfesting") or {}
    punkt = [{"type": "Punkt", "veglenkesekvensid": p["veglenkesekvensNvdbId"], "relativPosisjon": p["posisjon"],
              **{k: v for k, v in p.items() if k not in ("veglenkesekvensNvdbId", "posisjon")}}
             for p in stedfesting.get("punkt") or []]
    linje = [{"type": "Linje", "veglenkesekvensid": ln["veglenkesekvensNvdbId"],
              **{k: v for k, v in ln.items() if k != "veglenkesekvensNvdbId"}} for ln in stedfesting.get("linje") or []]
    return punkt + linje


def _les(version: dict[str, Any], endret: str | None, base: str, include: set[str],
         kommuner: dict[int, list[int]]) -> dict[str, Any]:
    """A stored version in NVDB API Les v3's shape, plus ``hash`` (of the content) and ``endret``."""
    type_id, nvdb_id = int(version["typeId"]), int(version["id"])
    found: dict[str, Any] = {"id": nvdb_id, "href": f"{base}/rest/v3/vegobjekter/{type_id}/{nvdb_id}",
                             "hash": content_hash(version), **({"endret": endret} if endret else {})}
    vt = reference.current_catalog().vegobjekttype(type_id) if include & {"metadata", "egenskaper"} else None
    if "metadata" in include:
        periode = version.get("gyldighetsperiode") or {}
        stored = version.get("metadata") or {}
        found["metadata"] = {"type": {"id": type_id, "navn": vt.navn if vt else str(type_id)},
                             "versjon": version["versjon"], "startdato": periode.get("startdato"),
                             **({"sluttdato": periode["sluttdato"]} if periode.get("sluttdato") else {}),
                             "sist_modifisert": str(stored.get("sistEndret", ""))[:19].replace("T", " "), **stored}
    if "egenskaper" in include:
        types = {e.id: e for e in vt.egenskapstyper} if vt else {}
        found["egenskaper"] = [
            {"id": e["typeId"], "navn": types[e["typeId"]].navn if e["typeId"] in types else "",
             "egenskapstype": types[e["typeId"]].datatype if e["typeId"] in types else "",
             # Skriv keeps a list per egenskap; Les gives one value where there is one
             "verdi": e["verdi"][0] if isinstance(e.get("verdi"), list) and len(e["verdi"]) == 1 else e.get("verdi")}
            for e in version.get("egenskaper") or []]
    if "lokasjon" in include:
        found["lokasjon"] = {"kommuner": kommuner.get(nvdb_id, []), "stedfestinger": _stedfestinger(version)}
    if "geometri" in include and version.get("geometri"):
        found["geometri"] = version["geometri"]
    return found


def _current(type_id: int, after: int | None, antall: int, kommuner: set[int] | None, lokasjon: bool,
             ) -> tuple[list[dict[str, Any]], dict[int, list[int]], int | None]:
    """Up to ``antall`` current versions after ``after``, their kommuner, and the last id read
    (None if nothing was found and nothing is left). With a kommune filter it reads on until the
    page is full, so a real NVDB client, which stops at an empty page, does not stop early."""
    found: list[dict[str, Any]] = []
    where: dict[int, list[int]] = {}
    last: int | None = None
    today = datetime.now(UTC).date()
    reads, began = 0, time.monotonic()
    while True:
        versions, more = objects.list_by_type(type_id, after_nvdb_id=after,
                                              limit=max(antall, FILTERED_READ) if kommuner else antall)
        reads += 1
        if kommuner or lokasjon:
            where.update(changes.kommuner_of(versions))
        for v in versions:
            if len(found) == antall:
                return found, where, last
            last = int(v["id"])
            if is_current(v, today) and (not kommuner or kommuner & set(where[last])):
                found.append(v)
        last = more or last
        if more is None:
            return found, where, last if found else None  # nothing more to read: no neste
        # An empty page ends a real NVDB client's walk: answer one while more may follow only when a
        # kommune without objects of the type would otherwise keep the request past its timeout.
        if len(found) == antall or (found and reads >= MAX_READS) or time.monotonic() - began > EMPTY_BUDGET_S:
            break
        after = more
    return found, where, last


def _cursor(kind: str, start: str | None) -> tuple[str | None, str, int | None]:
    """(position, tidspunkt, antall) from an opaque ``start``; a walk's first page fixes its
    tidspunkt and counts its antall, and every cursor of the walk carries both."""
    if start is None:
        return None, changes.watermark(), None
    try:
        parts = changes.decode_cursor(kind, start).split("|")
        if len(parts) not in (2, 3) or not parts[0]:
            raise ValueError(start)
        if kind == "n" and not 0 <= int(parts[0]) <= MAX_INT:  # the last nvdbId read
            raise ValueError(start)
        return parts[0], parts[1], int(parts[2]) if len(parts) == 3 else None
    except ValueError as exc:
        raise BadRequest(f"start: {start} er ikke en markør fra neste.start i et tidligere svar") from exc


@router.get("/rest/v3/vegobjekter/<type_id>", summary="Vegobjekter av en type (gjeldende versjon), sidevis",
            description="I NVDB API Les v3-form. `endretEtter` gir bare det som er endret etter tidspunktet, med "
                        "gravsteiner `{id, fjernet: true, endret}` for fjernede og lukkede objekter (og objekter "
                        "som ikke lenger ligger i `kommune`). `metadata.tidspunkt` er neste `endretEtter`; "
                        "`metadata.antall` er treffene i hele gjennomgangen, telt på første side (uten "
                        "`kommune`-filteret, altså en øvre grense med det), `returnert` de på siden.",
            security=TOKEN, responses={**responses(200, "objekter og metadata (neste side)", PAGE, 400, 401,
                                                   headers={"ETag": {"schema": {"type": "string"}}}),
                                         304: {"description": "Uendret siden If-None-Match"}})
def list_objects(type_id: TypeId, antall: Annotated[int, Query(ge=1, le=1000)] = 100,
                 start: Annotated[str | None, Query(max_length=500, description="Markør fra neste.start")] = None,
                 kommune: Annotated[str | None, Query(max_length=2000, description="Kommunenumre, kommaseparert")]
                 = None,
                 inkluder: Annotated[str | None, Query(max_length=200, description="metadata, egenskaper, "
                                                       "lokasjon, geometri, alle, minimum")] = None,
                 endretEtter: Annotated[str | None, Query(max_length=40, description="ISO-tidspunkt")] = None):
    include = _names(inkluder)
    kommuner = _kommuner(kommune)
    base = base_url(router)
    if endretEtter is not None:
        try:
            after = changes.parse_time(endretEtter)
        except (ValueError, OverflowError) as exc:  # OverflowError: astimezone past year 1 or 9999
            raise BadRequest(f"endretEtter: {endretEtter} er ikke et ISO-tidspunkt") from exc
        position, tidspunkt, treff = _cursor("e", start)
        if treff is None:
            treff = changes.count_changed(type_id, after_key=after)
        feed, last, _ = changes.feed(type_id, after_key=position or after, limit=antall, kommuner=kommuner)
        current = [c.version for c in feed if c.version is not None]
        where = changes.kommuner_of(current) if "lokasjon" in include else {}
        found = [_les(c.version, c.endret, base, include, where) if c.version is not None
                 else {"id": c.id, "fjernet": True, "endret": c.endret} for c in feed]
        after_page: Any = last
        cursor = None if last is None else changes.encode_cursor("e", f"{last}|{tidspunkt}|{treff}")
    else:
        position, tidspunkt, treff = _cursor("n", start)
        if treff is None:
            treff = objects.count_by_type(type_id)
        versions, where, last_id = _current(type_id, int(position) if position else None, antall, kommuner,
                                            "lokasjon" in include)
        found = [_les(v, None, base, include, where) for v in versions]
        after_page = last_id
        cursor = None if last_id is None else changes.encode_cursor("n", f"{last_id}|{tidspunkt}|{treff}")
    # neste is on every page that read something: a real NVDB client follows it until a page is
    # empty; a client of the spec until it is absent. Both end.
    meta: dict[str, Any] = {"antall": treff, "returnert": len(found), "sidestørrelse": antall, "tidspunkt": tidspunkt}
    if cursor is not None:
        params = {"antall": antall, "kommune": kommune, "inkluder": inkluder, "endretEtter": endretEtter}
        query = urlencode({k: v for k, v in {**params, "start": cursor}.items() if v is not None})
        meta["neste"] = {"start": cursor, "href": f"{base}/rest/v3/vegobjekter/{type_id}?{query}"}
    # The page's content and where it ends; not tidspunkt, which moves with every read (a client
    # that gets 304 keeps its older tidspunkt, which is always safe).
    etag = '"' + content_hash({"objekter": found, "neste": after_page, "antall": treff}) + '"'
    wanted = [tag.strip().removeprefix("W/") for tag in (header(router, "If-None-Match") or "").split(",")]
    if etag in wanted or "*" in wanted:
        return Response(status_code=304, headers={"ETag": etag})
    return json_response(200, {"objekter": found, "metadata": meta}, headers={"ETag": etag})


@router.get("/rest/v3/vegobjekter/<type_id>/<nvdb_id>", summary="Alle versjoner av et vegobjekt", security=TOKEN,
            responses=responses(200, "id, typeId og versjoner", dict[str, Any], 400, 401, 404))
def get_object(type_id: TypeId, nvdb_id: Annotated[int, Path(ge=0, le=MAX_INT, description="Vegobjektets nvdbId")]):
    versions = [v for v in objects.versions(nvdb_id) if v["typeId"] == type_id]
    if not versions:
        raise NotFound(f"Vegobjekt {nvdb_id} av type {type_id} finnes ikke")
    return json_response(200, {"id": nvdb_id, "typeId": type_id, "versjoner": versions})


@router.get("/rest/v3/datakatalog/vegobjekttyper", summary="Vegobjekttyper i gjeldende datakatalog", security=TOKEN,
            responses=responses(200, "id, navn og stedfesting per type", list[dict[str, Any]], 401))
def list_types():
    catalog = reference.current_catalog()
    return json_response(200, [{"id": t.id, "navn": t.navn, "stedfesting": t.stedfestingstype}
                               for t in catalog.vegobjekttyper])


@router.get("/rest/v3/datakatalog/vegobjekttyper/<type_id>", summary="En vegobjekttype med egenskapstyper",
            security=TOKEN, responses=responses(200, "Vegobjekttypen", dict[str, Any], 400, 401, 404))
def get_type(type_id: TypeId):
    vt = reference.current_catalog().vegobjekttype(type_id)
    if vt is None:
        raise NotFound(f"Vegobjekttype {type_id} finnes ikke i datakatalogen")
    return json_response(200, vt.model_dump(mode="json", exclude_none=True, by_alias=True))


@router.get("/rest/v3/datakatalog/versjon", summary="Gjeldende datakatalogversjon", security=TOKEN,
            responses=responses(200, "versjon", dict[str, str], 401))
def catalog_version():
    return json_response(200, {"versjon": reference.current_catalog().versjon})


def _loaded(what: str) -> dict[int, Any]:
    return responses(200, what, dict[str, Any], 401, 403, *BODY_ERRORS)


@router.put("/rest/v3/datakatalog", summary="Last inn en datakatalog (prosjektformat eller NVDB API Les-format)",
            security=ADMIN, responses=_loaded("versjon og antallVegobjekttyper"))
def put_catalog(body: Annotated[dict[str, Any], Body(description="Datakatalogen: prosjektformatet (versjon, "
                                                                 "vegobjekttyper) eller NVDB API Les-formatet")]):
    try:
        catalog = reference.save_catalog(body)
    except (ValidationError, ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f"Ugyldig datakatalog: {exc}") from exc
    return json_response(200, {"versjon": catalog.versjon, "antallVegobjekttyper": len(catalog.vegobjekttyper)})


@router.get("/rest/v3/vegnett/veglenkesekvenser", summary="Veglenkesekvenser, sidevis, filter på kommune",
            security=TOKEN, responses=responses(200, "objekter og metadata (neste side)", PAGE, 400, 401))
def list_network(kommune: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None,
                 antall: Annotated[int, Query(ge=1, le=1000)] = 100,
                 start: Annotated[int | None, Query(ge=0, le=MAX_INT)] = None):
    items, cursor = reference.list_network(kommune=kommune, after_id=start, limit=antall)
    body = {"objekter": [s.model_dump(mode="json") for s in items],
            "metadata": _cursor_meta("/rest/v3/vegnett/veglenkesekvenser", {"antall": antall, "kommune": kommune},
                                     cursor, len(items))}
    return json_response(200, body)


@router.get("/rest/v3/vegnett/veglenkesekvenser/<vls_id>", summary="En veglenkesekvens", security=TOKEN,
            responses=responses(200, "Veglenkesekvensen", Veglenkesekvens, 400, 401, 404))
def get_sequence(vls_id: Annotated[int, Path(ge=0, le=MAX_INT, description="Veglenkesekvensens id")]):
    found = reference.veglenkesekvenser([vls_id]).get(vls_id)
    if found is None:
        raise NotFound(f"Veglenkesekvens {vls_id} finnes ikke")
    return json_response(200, found.model_dump(mode="json"))


@router.put("/rest/v3/vegnett/veglenkesekvenser", summary="Last inn veglenkesekvenser (legger til/erstatter)",
            security=ADMIN, responses=_loaded("antall"))
def put_network(body: Annotated[NyttVegnett, Body()]):
    return json_response(200, {"antall": reference.save_network(body.veglenkesekvenser)})


class ImportertVersjon(BaseModel):
    """One stored version in the read-side shape (what GET /rest/v3/vegobjekter/{type}/{id} returns)."""

    model_config = ConfigDict(extra="allow")
    id: int = Field(gt=0, lt=objects.FIRST_NVDB_ID,
                    description=f"Id-er fra og med {objects.FIRST_NVDB_ID} tildeles av vegskriv")
    versjon: int = Field(gt=0)
    typeId: int = Field(gt=0, le=MAX_INT)
    gyldighetsperiode: Gyldighetsperiode
    egenskaper: list[dict[str, Any]] = Field(default_factory=list)
    stedfesting: dict[str, Any] | None = None
    assosiasjoner: list[dict[str, Any]] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=lambda: {"endringssettId": "import",
                                                              "sistEndret": "2000-01-01T00:00:00Z"})


class Import(BaseModel):
    vegobjekter: list[ImportertVersjon] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_type_and_one_copy(self) -> Import:
        """An object has one type through all its versions, and each version is given once."""
        types: dict[int, int] = {}
        seen: set[tuple[int, int]] = set()
        for i, v in enumerate(self.vegobjekter):
            if types.setdefault(v.id, v.typeId) != v.typeId:
                raise ValueError(f"vegobjekter[{i}]: vegobjekt {v.id} har typeId {types[v.id]} i en annen versjon")
            if (v.id, v.versjon) in seen:
                raise ValueError(f"vegobjekter[{i}]: vegobjekt {v.id} versjon {v.versjon} er med mer enn én gang")
            seen.add((v.id, v.versjon))
        return self

    def __repr__(self) -> str:  # Powertools puts route arguments in a debug f-string (see api/changesets.py)
        return f"Import({len(self.vegobjekter)} versjoner)"


@router.put("/rest/v3/vegobjekter", summary="Importer eksisterende vegobjektversjoner (9_system_admin)",
            security=ADMIN, responses=_loaded("antall"))
def import_objects(parsed: Annotated[Import, Body(
        openapi_examples=examples.example("En lagret kum", examples.STORED_KUM))]):
    versions = [v.model_dump(mode="json", exclude_none=True) for v in parsed.vegobjekter]
    return json_response(200, {"antall": objects.import_versions(versions)})
