"""The API resolver: routers, error mapping (one place) and the OpenAPI document."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from vegskriv import __version__
from vegskriv.api import changesets as endringssett
from vegskriv.api import locks as laas
from vegskriv.api import provisioning as konsumenter
from vegskriv.api import reading as lesing
from vegskriv.api import rights as rettigheter
from vegskriv.api import services as tjenester
from vegskriv.api.context import json_response
from vegskriv.errors import VegskrivError
from vegskriv.observability import logger

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(endringssett.router)
app.include_router(lesing.router)
app.include_router(rettigheter.router)
app.include_router(laas.router)
app.include_router(tjenester.router)
app.include_router(konsumenter.router)


@app.get("/health", summary="Helse")
def health() -> dict[str, Any]:
    return {"status": "ok", "versjon": __version__}


@app.get("/openapi.json", summary="OpenAPI-dokumentet")
def openapi():
    return Response(200, "application/json", app.get_openapi_json_schema(title="vegskriv", version=__version__))


@app.exception_handler(VegskrivError)
def domain_error(exc: VegskrivError) -> Response:
    return json_response(exc.status, {"message": exc.message})


@app.exception_handler(RequestValidationError)
def request_error(exc: RequestValidationError) -> Response:
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg')}")
    return json_response(400, {"message": "; ".join(parts) or "Ugyldig forespørsel"})


@app.not_found
def not_found(exc: NotFoundError) -> Response:
    return json_response(404, {"message": f"Ingen ressurs på {app.current_event.path}"})


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response:
    logger.exception("unexpected error")
    return json_response(500, {"message": "Intern feil; kontakt forvalter med X-Request-ID"})


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Paths carry Norwegian letters (fremdriftOgÅrsak, lås); match on the decoded form.
    if event.get("path"):
        event["path"] = unquote(event["path"])
    response = app.resolve(event, context)
    request_id = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "x-request-id"), None)
    if request_id:
        response.setdefault("headers", {})["X-Request-ID"] = request_id
    return response
