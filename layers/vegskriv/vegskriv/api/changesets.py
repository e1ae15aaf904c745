"""/rest/v3/endringssett: register, validate, start, cancel, restart, progress, status, search."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict

from vegskriv.api import examples
from vegskriv.api.body import MAX_INT
from vegskriv.api.context import caller, changeset_links, json_response
from vegskriv.api.docs import BODY_ERRORS, MAX_EPOCH_MS, TOKEN, Lenke, responses
from vegskriv.api.transactions import oppdrag_links
from vegskriv.api.xml import SENT_AS_XML
from vegskriv.changesets import use_cases
from vegskriv.changesets.models import Endringssett, Fremdrift, Resultat, Status, ja_nei, local_time

router = Router()
JaNei = Annotated[Literal["JA", "NEI"], BeforeValidator(ja_nei)]  # JA, ja, true, ...
Id = Annotated[str, Path(description="Endringssettets id")]


class Dokument(Endringssett):
    """The body model. Powertools formats a route's arguments into a debug message even when debug
    logging is off; the repr of a 10,000-object changeset costs seconds, this one nothing."""

    model_config = ConfigDict(title="Endringssett")

    def __repr__(self) -> str:
        return f"Endringssett({self.antall_vegobjekter()} vegobjekter)"


Document = Annotated[Dokument, Body(description="Endringssettet som JSON eller XML (application/xml, navnerom "
                                                "http://nvdb.vegvesen.no/apiskriv/domain/changeset/v3)",
                                    openapi_examples=examples.example("Registrer en kum", examples.CHANGESET))]


class Treff(BaseModel):
    id: str
    status: dict[str, Any]


class Søk(BaseModel):
    antallTotalt: int
    endringssett: list[Treff]


LINKS = ("Lenker til endringssettet (self, start, kanseller, restart, status, fremdrift)")
LOCATION = {"Location": {"description": "Endringssettets adresse", "schema": {"type": "string"}}}
RETRY_AFTER = {"Retry-After": {"description": "Sekunder til neste spørring lønner seg", "schema": {"type": "integer"}}}


def _flag(value: Any) -> Any:
    """A yes/no header as clients send it: true/false or JA/NEI in any case, 1/0, or empty (no)."""
    if isinstance(value, str) and value.strip() in ("", "0", "1"):
        return {"": "NEI", "0": "NEI", "1": "JA"}[value.strip()]
    return ja_nei(value)


# Anything else is a 400: a client that meant a dry run must not get a real registration.
Flag = Annotated[Literal["JA", "NEI"], BeforeValidator(_flag)]
DryRun = Annotated[Flag | None, Header(alias="X-NVDB-DryRun", description="true: valider bare, skriv ingenting")]
Delay = Annotated[int | None, Header(alias="X-NVDB-Delay", ge=0, le=3600,
                                     description="Sekunder pause mellom validering og effektuering")]
Tjeneste = Annotated[str | None, Header(alias="X-NVDB-Tjeneste", description="Send inn gjennom en utgave: "
                                                                             "{eier}/{tjenestekode}/{utgavekode}")]
NoLocking = Annotated[Flag | None, Header(alias="X-NVDB-DryRun-NoLocking",
                                         description="true: som X-NVDB-DryRun, men uten å ta låser")]


@router.post("/rest/v3/endringssett", summary="Registrer et endringssett", security=TOKEN,
             description="Kroppen kan sendes gzip-komprimert (`Content-Encoding: gzip`); er den for stor selv da, "
                         "bruk to-trinns opplasting (`POST /rest/v3/endringssett/opplasting`).",
             responses=responses(201, LINKS, list[Lenke], 401, *BODY_ERRORS, headers=LOCATION))
def register(doc: Document, dryrun: DryRun = None, delay: Delay = None, tjeneste: Tjeneste = None,
             nolocking: NoLocking = None):
    sent_xml = bool(router.current_event.raw_event.get(SENT_AS_XML))
    return registered(router, doc, router.current_event.json_body, sent_xml, dryrun=dryrun, delay=delay,
                      tjeneste=tjeneste, nolocking=nolocking)


def registered(via: Router, doc: Dokument, body: dict[str, Any], sent_xml: bool, *, dryrun: str | None,
               delay: int | None, tjeneste: str | None, nolocking: str | None):  # dryrun, nolocking: Flag
    """Register ``doc`` read from ``body`` (a request's or an upload's) and answer 201 with its links."""
    # The document as sent, less what a fetched changeset carries; XML's text values typed by the model.
    raw = {k: v for k, v in body.items() if k not in ("id", "status")}
    if sent_xml:
        raw = doc.model_dump(mode="json", by_alias=True, exclude_none=True)
    unlocked = nolocking == "JA"
    dry = unlocked or dryrun == "JA"
    meta = use_cases.register(doc, raw, caller(via), dryrun=dry, delay_seconds=delay, tjeneste=tjeneste,
                              nolocking=unlocked)
    links = changeset_links(via, meta["id"])
    return json_response(201, links, headers={"Location": links[0]["src"]})


@router.post("/rest/v3/endringssett/validator", summary="Valider et endringssett synkront (datakatalog)",
             security=TOKEN, description="Kroppen kan sendes gzip-komprimert (`Content-Encoding: gzip`).",
             responses=responses(200, "Status med resultatet av valideringen", Status, 401,
                                 *BODY_ERRORS))
def validator(doc: Document,
              skipLocation: Annotated[JaNei, Query(description="JA: stedfestingen valideres ikke")] = "NEI",
              skipAssociations: Annotated[JaNei, Query(description="JA: assosiasjonene valideres ikke")] = "NEI",
              useObjectList: Annotated[JaNei, Query(description="Godtas; vegskriv har én datakatalog og "
                                                                "ingen objektliste å validere mot")] = "NEI",
              tjeneste: Annotated[str | None, Header(
                  alias="X-NVDB-Tjeneste", description="Valider også mot skjemaet til utgaven")] = None) -> Status:
    from vegskriv.changesets.work import run_validation  # the workflow's imports are not a cold start's

    resultat: Resultat = run_validation(doc, skip_location=skipLocation == "JA",
                                        skip_associations=skipAssociations == "JA")
    if tjeneste is not None:  # the services context, only for a submission's form
        from vegskriv.services import submission

        submission.check_form_now(doc, tjeneste, resultat)
    now = use_cases.changesets.now_iso()
    state = Fremdrift.AVVIST if resultat.har_feil() else Fremdrift.UTFØRT
    return Status(mottatt=now, fremdrift=state, fremdriftOppdatert=now, resultat=resultat,
                  avvistårsak="VALIDERINGSFEIL" if state == Fremdrift.AVVIST else None,
                  eier=caller(router).user, klient=caller(router).client)


def _accepted(meta: dict[str, Any]):
    return json_response(202, changeset_links(router, meta["id"]))


def _acting(status: int, what: str) -> dict[int, Any]:
    return responses(status, what, list[Lenke], 401, 404, 409)


@router.post("/rest/v3/endringssett/<endringssett_id>/start", summary="Start behandling", security=TOKEN,
             responses=_acting(202, "Startet (BEHANDLES, eller VENTER på lås)"))
def start(endringssett_id: Id):
    return _accepted(use_cases.start(endringssett_id, caller(router)))


@router.post("/rest/v3/endringssett/<endringssett_id>/kanseller", summary="Kanseller", security=TOKEN,
             responses=_acting(202, "Kansellert (eller kanselleres før commit)"))
def cancel(endringssett_id: Id):
    return _accepted(use_cases.cancel(endringssett_id, caller(router)))


@router.post("/rest/v3/endringssett/<endringssett_id>/restart", summary="Forsøk et ventende endringssett igjen nå",
             security=TOKEN, responses=_acting(202, "Forsøkes igjen nå"))
def restart(endringssett_id: Id):
    return _accepted(use_cases.restart(endringssett_id, caller(router)))


@router.get("/rest/v3/endringssett/<endringssett_id>/fremdrift", summary="Fremdriftskode som JSON-streng",
            security=TOKEN, responses=responses(200, "Fremdriften", Fremdrift, 401, 404, headers=RETRY_AFTER))
def fremdrift(endringssett_id: Id):
    meta = use_cases.load(endringssett_id, caller(router))
    wait = use_cases.retry_after(meta)
    return json_response(200, meta["fremdrift"], headers={"Retry-After": str(wait)} if wait else None)


@router.get("/rest/v3/endringssett/<endringssett_id>/fremdriftOgÅrsak", summary="Fremdrift og årsak (text/plain)",
            security=TOKEN, responses=responses(200, "F.eks. AVVIST:VALIDERINGSFEIL", str, 401, 404,
                                                media_type="text/plain"))
def fremdrift_og_aarsak(endringssett_id: Id):
    meta = use_cases.load(endringssett_id, caller(router))
    return Response(200, "text/plain; charset=utf-8", use_cases.fremdrift_og_aarsak(meta))


@router.get("/rest/v3/endringssett/<endringssett_id>/status", summary="Detaljert behandlingsstatus",
            security=TOKEN, responses=responses(200, "Status", Status, 400, 401, 404))
def status(endringssett_id: Id, inkluderResultat: Annotated[JaNei, Query()] = "JA",
           inkluderVarsler: Annotated[JaNei, Query()] = "JA"):
    meta = use_cases.load(endringssett_id, caller(router))
    body = use_cases.status(meta, changeset_links(router, endringssett_id, status=True) + oppdrag_links(router, meta),
                            include_result=inkluderResultat == "JA",
                          include_warnings=inkluderVarsler == "JA")
    return json_response(200, body)


@router.get("/rest/v3/endringssett/<endringssett_id>", summary="Endringssettet med status", security=TOKEN,
            responses=responses(200, "Dokumentet slik det ble sendt, med id og status", dict[str, Any], 401, 404))
def get_changeset(endringssett_id: Id, inkluderResultat: Annotated[JaNei, Query()] = "JA",
                  inkluderVarsler: Annotated[JaNei, Query()] = "JA"):
    meta = use_cases.load(endringssett_id, caller(router))
    body = use_cases.changesets.document(endringssett_id)
    body["id"] = endringssett_id
    body["status"] = use_cases.status(meta, changeset_links(router, endringssett_id, status=True)
                                      + oppdrag_links(router, meta),
                                      include_result=inkluderResultat == "JA",
                                      include_warnings=inkluderVarsler == "JA").model_dump(mode="json",
                                                                                          exclude_none=True)
    return json_response(200, body)


@router.get("/rest/v3/endringssett", summary="Søk i endringssett", security=TOKEN,
            responses=responses(200, "Treff, nyeste først med mindre sorterStigende", Søk, 400, 401))
def search(antall: Annotated[int, Query(ge=1, le=1000)] = 100, start: Annotated[int, Query(ge=1, le=MAX_INT)] = 1,
           sorterPå: Annotated[Literal["TID"], Query()] = "TID", sorterStigende: Annotated[JaNei, Query()] = "NEI",
           fraEpochMs: Annotated[int | None, Query(ge=0, le=MAX_EPOCH_MS)] = None,
           tilEpochMs: Annotated[int | None, Query(ge=0, le=MAX_EPOCH_MS)] = None,
           status: Annotated[Fremdrift | None, Query()] = None, årsak: Annotated[str | None, Query()] = None,
           brukernavnEllerKlient: Annotated[str | None, Query()] = None):
    total, page = use_cases.search(caller(router), antall=antall, start=start, ascending=sorterStigende == "JA",
                                 from_ms=fraEpochMs, to_ms=tilEpochMs, status_filter=status.value if status else None,
                                 aarsak=årsak, user_or_client=brukernavnEllerKlient)
    items = [{"id": m["id"], "status": {"fremdrift": m["fremdrift"], "mottatt": local_time(m["mottatt"]),
                                        "eier": m["eier"],
                                        "klient": m.get("klient"), "venteårsak": m.get("venteårsak"),
                                        "avvistårsak": m.get("avvistårsak")}} for m in page]
    return json_response(200, {"antallTotalt": total, "endringssett": items})
