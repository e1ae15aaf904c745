"""Read side and reference data: vegobjekter, datakatalog and vegnett (plus admin loading)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vegskriv.api.context import base_url, json_response
from vegskriv.api.docs import BODY_ERRORS, TOKEN, bearer, responses
from vegskriv.auth import ROLE_SYSTEM_ADMIN
from vegskriv.changesets.models import Gyldighetsperiode
from vegskriv.errors import BadRequest, NotFound
from vegskriv.network import Veglenkesekvens, Vegnett
from vegskriv.store import objects, reference

router = Router()
ADMIN = bearer(ROLE_SYSTEM_ADMIN)
TypeId = Annotated[int, Path(description="Vegobjekttypens id")]
PAGE = dict[str, Any]  # {"objekter": [...], "metadata": {"returnert", "sidestørrelse", "neste"}}


def _cursor_meta(path: str, params: dict[str, Any], cursor: int | None, returned: int) -> dict[str, Any]:
    meta: dict[str, Any] = {"returnert": returned, "sidestørrelse": params["antall"]}
    if cursor is not None:
        query = "&".join(f"{k}={v}" for k, v in {**params, "start": cursor}.items() if v is not None)
        meta["neste"] = {"start": str(cursor), "href": f"{base_url(router)}{path}?{query}"}
    return meta


@router.get("/rest/v3/vegobjekter/<type_id>", summary="Vegobjekter av en type (siste versjon), sidevis",
            security=TOKEN, responses=responses(200, "objekter og metadata (neste side)", PAGE, 400, 401))
def list_objects(type_id: TypeId, antall: Annotated[int, Query(ge=1, le=1000)] = 100,
                 start: Annotated[int | None, Query(ge=0)] = None):
    items, cursor = objects.list_by_type(type_id, after_nvdb_id=start, limit=antall)
    return json_response(200, {"objekter": items, "metadata": _cursor_meta(
        f"/rest/v3/vegobjekter/{type_id}", {"antall": antall}, cursor, len(items))})


@router.get("/rest/v3/vegobjekter/<type_id>/<nvdb_id>", summary="Alle versjoner av et vegobjekt", security=TOKEN,
            responses=responses(200, "id, typeId og versjoner", dict[str, Any], 400, 401, 404))
def get_object(type_id: TypeId, nvdb_id: Annotated[int, Path(description="Vegobjektets nvdbId")]):
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
def list_network(kommune: Annotated[int | None, Query()] = None, antall: Annotated[int, Query(ge=1, le=1000)] = 100,
                 start: Annotated[int | None, Query(ge=0)] = None):
    items, cursor = reference.list_network(kommune=kommune, after_id=start, limit=antall)
    body = {"objekter": [s.model_dump(mode="json") for s in items],
            "metadata": _cursor_meta("/rest/v3/vegnett/veglenkesekvenser", {"antall": antall, "kommune": kommune},
                                     cursor, len(items))}
    return json_response(200, body)


@router.get("/rest/v3/vegnett/veglenkesekvenser/<vls_id>", summary="En veglenkesekvens", security=TOKEN,
            responses=responses(200, "Veglenkesekvensen", Veglenkesekvens, 400, 401, 404))
def get_sequence(vls_id: Annotated[int, Path(description="Veglenkesekvensens id")]):
    found = reference.veglenkesekvenser([vls_id]).get(vls_id)
    if found is None:
        raise NotFound(f"Veglenkesekvens {vls_id} finnes ikke")
    return json_response(200, found.model_dump(mode="json"))


class NyttVegnett(Vegnett):
    """``{"veglenkesekvenser": [...]}``, or just the list."""

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, data: Any) -> Any:
        return {"veglenkesekvenser": data} if isinstance(data, list) else data

    def __repr__(self) -> str:  # Powertools puts route arguments in a debug f-string (see api/changesets.py)
        return f"Vegnett({len(self.veglenkesekvenser)} veglenkesekvenser)"


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
    typeId: int = Field(gt=0)
    gyldighetsperiode: Gyldighetsperiode
    egenskaper: list[dict[str, Any]] = Field(default_factory=list)
    stedfesting: dict[str, Any] | None = None
    assosiasjoner: list[dict[str, Any]] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=lambda: {"endringssettId": "import",
                                                              "sistEndret": "2000-01-01T00:00:00Z"})


class Import(BaseModel):
    vegobjekter: list[ImportertVersjon] = Field(min_length=1)

    def __repr__(self) -> str:  # Powertools puts route arguments in a debug f-string (see api/changesets.py)
        return f"Import({len(self.vegobjekter)} versjoner)"


@router.put("/rest/v3/vegobjekter", summary="Importer eksisterende vegobjektversjoner (9_system_admin)",
            security=ADMIN, responses=_loaded("antall"))
def import_objects(parsed: Annotated[Import, Body()]):
    versions = [v.model_dump(mode="json", exclude_none=True) for v in parsed.vegobjekter]
    return json_response(200, {"antall": objects.import_versions(versions)})
