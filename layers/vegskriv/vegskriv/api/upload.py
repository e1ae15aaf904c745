"""Two-step upload of changesets too large for one request (a vegskriv extension; NVDB has none).

``POST /rest/v3/endringssett/opplasting`` answers a presigned S3 POST form; the client posts the
document there (JSON or XML, gzip or not), then ``POST .../opplasting/{id}/registrer`` registers it
as ``POST /rest/v3/endringssett`` would have: same parsing, limits, validation and answer.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ValidationError

from vegskriv.api import body, xml
from vegskriv.api.changesets import LINKS, LOCATION, Delay, Dokument, DryRun, NoLocking, Tjeneste, registered
from vegskriv.api.context import base_url, caller, changeset_links, json_response
from vegskriv.api.docs import TOKEN, Lenke, responses
from vegskriv.changesets.models import local_time
from vegskriv.errors import BadRequest, Conflict, NotFound, PayloadTooLarge
from vegskriv.settings import get_settings
from vegskriv.store import uploads

router = Router()
ROOT = "/rest/v3/endringssett/opplasting"
UPLOAD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Opplasting(BaseModel):
    id: str
    url: str
    metode: str
    felter: dict[str, str]
    utløper: str
    maksBytes: int
    registrer: str


@router.post(ROOT, summary="Be om en opplasting for et stort endringssett (vegskriv-utvidelse)", security=TOKEN,
             description="For endringssett større enn `MAX_BODY_BYTES` selv gzip-komprimert. Svaret er et "
                         "forhåndssignert S3-skjema: send dokumentet (JSON eller XML, gzip eller ikke) som "
                         "`multipart/form-data` POST til `url` med `felter` og til slutt filen i feltet `file`, "
                         "innen `utløper` og høyst `maksBytes` byte. Registrer det så med `registrer`.",
             responses=responses(201, "Opplastingen", Opplasting, 401))
def create():
    settings = get_settings()
    upload_id = str(uuid.uuid4())
    ticket, form = uploads.issue(upload_id, caller(router).user)
    expires = local_time(datetime.fromtimestamp(ticket.url_expires, UTC), "seconds")
    return json_response(201, Opplasting(id=upload_id, url=form.url, metode="POST", felter=form.fields,
                                         utløper=expires, maksBytes=settings.upload_max_bytes,
                                         registrer=f"{base_url(router)}{ROOT}/{upload_id}/registrer"))


def _unknown(upload_id: str) -> NotFound:
    return NotFound(f"Opplasting {upload_id} finnes ikke eller er utløpt")


def _parsed(raw: bytes) -> tuple[dict, bool]:
    """The uploaded bytes as a request body is read (api/body.py, api/xml.py); True if it was XML."""
    settings = get_settings()
    if raw[:2] == b"\x1f\x8b":  # gzip's magic: S3 keeps no Content-Encoding from a POST form
        raw = body.gunzip(raw, settings.max_body_unpacked_bytes)
    elif len(raw) > settings.max_body_unpacked_bytes:
        raise PayloadTooLarge(f"Dokumentet er større enn grensen på {settings.max_body_unpacked_bytes} byte "
                              "(MAX_BODY_UNPACKED_BYTES); del det opp")
    sent_xml = raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
    if sent_xml:
        parsed = xml.from_xml(raw)  # the encoding its declaration names
    else:
        try:
            text = raw.decode("utf-8").lstrip("\ufeff \t\r\n")
        except UnicodeDecodeError as exc:  # as api/body.py answers a direct request
            raise BadRequest(f"Ugyldig JSON: dokumentet er ikke UTF-8 (byte {exc.start}); send JSON som UTF-8") from exc
        parsed = body.loads(text)
    if not isinstance(parsed, dict):
        raise BadRequest("Ugyldig dokument: et endringssett er et JSON-objekt")
    return parsed, sent_xml


@router.post(f"{ROOT}/<opplasting_id>/registrer", summary="Registrer et opplastet endringssett (vegskriv-utvidelse)",
             security=TOKEN,
             description="Som `POST /rest/v3/endringssett` med dokumentet fra opplastingen: samme lesing, grenser, "
                         "validering og svar. Å registrere samme opplasting igjen svarer det samme endringssettet "
                         "(201); 409 mens en annen registrering av den pågår eller før dokumentet er lastet opp.",
             responses=responses(201, LINKS, list[Lenke], 400, 401, 404, 409, 413, headers=LOCATION))
def register(opplasting_id: Annotated[str, Path(description="Opplastingens id")], dryrun: DryRun = None,
             delay: Delay = None, tjeneste: Tjeneste = None, nolocking: NoLocking = None):
    settings = get_settings()
    ticket = uploads.ticket(opplasting_id) if UPLOAD_ID.fullmatch(opplasting_id) else None
    if ticket is None or ticket.owner != caller(router).user or ticket.register_by < datetime.now(UTC).timestamp():
        raise _unknown(opplasting_id)  # another user's upload too, so ids cannot be probed
    if (done := uploads.registered(opplasting_id)) is not None:
        return _again(opplasting_id, done)
    try:
        raw = uploads.document(opplasting_id, settings.upload_max_bytes)
    except ValueError as size:
        raise PayloadTooLarge(f"Dokumentet i opplasting {opplasting_id} er {size} byte, over grensen på "
                              f"{settings.upload_max_bytes} byte (MAX_OPPLASTING_BYTES)") from None
    if raw is None:
        raise Conflict(f"Opplasting {opplasting_id}: dokumentet er ikke lastet opp ennå; send det til url-en "
                       "fra POST /rest/v3/endringssett/opplasting først")
    parsed, sent_xml = _parsed(raw)
    try:
        doc = Dokument.model_validate(parsed)
    except ValidationError as exc:  # answered as Powertools answers a direct request's body
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    if not uploads.claim(opplasting_id):
        return _again(opplasting_id, uploads.registered(opplasting_id) or "")
    try:
        answer = registered(router, doc, parsed, sent_xml, dryrun=dryrun, delay=delay, tjeneste=tjeneste,
                            nolocking=nolocking)
    except BaseException:
        uploads.release(opplasting_id)
        raise
    uploads.record(opplasting_id, str(answer.headers["Location"]).rsplit("/", 1)[-1])
    return answer


def _again(upload_id: str, changeset_id: str):
    if not changeset_id:
        raise Conflict(f"Opplasting {upload_id} registreres allerede; spør igjen om litt")
    links = changeset_links(router, changeset_id)
    return json_response(201, links, headers={"Location": links[0]["src"]})
