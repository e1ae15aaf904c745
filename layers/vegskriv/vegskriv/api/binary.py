"""/rest/v3/binaer: upload a binary object (then referenced by ``ressursId`` from a Binærobjekt
property) and download it with the media type and file name it was uploaded with
(``binaere_objekter/api-referanse.md``)."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from vegskriv.api.context import base_url, caller, header, json_response
from vegskriv.api.docs import TOKEN, responses
from vegskriv.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from vegskriv.settings import get_settings
from vegskriv.store import binaries

router = Router()
MULTIPART = "multipart/form-data"


def _raw_body() -> bytes:
    event = router.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def _from_form(content_type: str, body: bytes) -> tuple[bytes, str, str | None]:
    """The file of a web page's upload form (``<input type="file" name="content"/>``)."""
    from email.parser import BytesParser  # the email package: only for this form, not at init
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    for part in message.iter_parts() if message.is_multipart() else ():
        if part.get_param("name", header="content-disposition") == "content":
            filename = part.get_filename()
            content = part.get_payload(decode=True)
            return (content if isinstance(content, bytes) else b"", part.get_content_type(),
                    f'filename="{filename}"' if filename else None)
    raise BadRequest("Skjemaet mangler filfeltet content (<input type=\"file\" name=\"content\"/>)")


def _check_media_type(media_type: str) -> None:
    allowed = {m.strip().lower() for m in get_settings().binary_media_types.split(",") if m.strip()}
    if "*/*" not in allowed and media_type not in allowed:
        raise UnsupportedMediaType(f"Content-Type {media_type} støttes ikke for binærobjekter; "
                                   f"bruk en av {', '.join(sorted(allowed))}")


@router.post("/rest/v3/binaer", summary="Last opp et binærobjekt", security=TOKEN,
             responses=responses(201, "Id-en til binærobjektet som JSON-streng", str, 400, 401, 413, 415, headers={
                 "Location": {"description": "Hvor binærobjektet kan hentes", "schema": {"type": "string"}}}))
def upload():
    content_type = header(router, "Content-Type") or ""
    media_type = content_type.split(";", 1)[0].strip().lower()
    limit = get_settings().binary_max_bytes
    body = _raw_body()
    if len(body) > limit * 2:  # not worth parsing (a form adds a few hundred bytes)
        raise PayloadTooLarge(f"Binærobjektet er større enn grensen på {limit} byte")
    disposition = header(router, "Content-Disposition")
    if media_type == MULTIPART:
        body, media_type, disposition = _from_form(content_type, body)
    if not media_type:
        raise UnsupportedMediaType("Content-Type mangler; angi media-typen til binærobjektet, f.eks. image/png")
    _check_media_type(media_type)
    if len(body) > limit:
        raise PayloadTooLarge(f"Binærobjektet er {len(body)} byte; grensen er {limit} byte")
    if not body:
        raise BadRequest("Binærobjektet er tomt")
    binary_id = str(uuid.uuid4())
    binaries.put(binary_id, body, media_type, disposition, caller(router).user)
    location = f"{base_url(router)}/rest/v3/binaer/{binary_id}"
    return json_response(201, binary_id, headers={"Location": location})


@router.get("/rest/v3/binaer/<binaer_id>", summary="Last ned et binærobjekt", security=TOKEN,
            responses=responses(200, "Binærdataene med media-typen og filnavnet fra opplastingen", bytes, 401, 404,
                                media_type="*/*"))  # the type it was uploaded with
def download(binaer_id: Annotated[str, Path(description="Id-en fra opplastingen")]):
    found = binaries.get(binaer_id)
    if found is None:
        raise NotFound(f"Binærobjekt {binaer_id} finnes ikke")
    headers = {"Content-Disposition": found.disposition} if found.disposition else None
    return Response(200, found.media_type, found.content, headers=headers)  # bytes: sent base64-encoded
