"""The API resolver: routers, the caller, error mapping (one place) and the OpenAPI document.

Powertools validates every request against the route's annotations (path, query, header, body
models) before the route runs, so the same models describe the API in ``/openapi.json`` and at
``/swagger``. The body is read by :func:`vegskriv.api.body.json_body` (bounded, once per request).
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Mapping
from contextlib import nullcontext
from html import escape
from typing import Any, cast
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from vegskriv import __version__
from vegskriv.api import binary as binaer
from vegskriv.api import changesets as endringssett
from vegskriv.api import locks as laas
from vegskriv.api import transactions as oppdrag
from vegskriv.api import xml
from vegskriv.api.body import json_body, unpack
from vegskriv.api.context import BASE_PATH_USED, base_url, error_paths, header, json_response, resolve_caller
from vegskriv.api.docs import complete_answers, roles_of, security_schemes
from vegskriv.changesets.models import gc_paused
from vegskriv.errors import Forbidden, UnsupportedMediaType, VegskrivError
from vegskriv.observability import logger
from vegskriv.settings import get_settings

# The changeset API (NVDB API Skriv's endringssett, binaer, lås, oppdrag) is routed from init. The
# other routers are included when a request first asks for one of their paths, or the OpenAPI
# document is built: a cold changeset request does not import services, provisioning, login, upload
# and the administrators' pages (tests/unit/api/test_app_contexts.py keeps the prefixes true to the
# routes).
LATER: dict[str, tuple[str, ...]] = {
    "vegskriv.api.oidc": ("/rest/v1/oidc",),  # a client logs in once per token
    "vegskriv.api.upload": ("/rest/v3/endringssett/opplasting",),  # only changesets too large for a body
    "vegskriv.api.reading": ("/rest/v3/vegobjekter", "/rest/v3/datakatalog", "/rest/v3/vegnett"),
    "vegskriv.api.rights": ("/rest/v3/rettigheter",),
    "vegskriv.api.services": ("/rest/v1/tjenesteeiere", "/rest/v1/mastertjenester"),
    "vegskriv.api.provisioning": ("/rest/v1/konsumenter",),
    "vegskriv.api.ui": ("/kontrollpanel", "/generator", "/ui", "/rest/v1/statistikk", "/rest/v1/endringssett"),
    "vegskriv.api.system_status": ("/rest/v1/systemstatus",),
}

TITLE = "vegskriv"
SWAGGER = "/swagger"
DESCRIPTION = ("Skriv-API for vegobjekter med stiene, feltene og kodene til NVDB API Skriv v3. "
               "Feil svarer `{\"message\": ...}` med stien til feilen.")


FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")  # bodies no route with a model takes


class _CallerFirst(BaseMiddlewareHandler):
    """Resolves the caller and checks the route's roles, then runs Powertools' request validation.

    Middlewares given to ``app.use`` run after that validation; a caller without the role must get
    403 before its body is read (and a 6 MB body is not parsed for someone who may not send it).
    """

    def __init__(self, validation: BaseMiddlewareHandler):
        self.validation = validation

    def handler(self, app: Any, next_middleware: NextMiddleware) -> Response:
        route = cast(Route, app.context["_route"])
        if route.security:  # documented as needing the bearer token, so the authorizer ran
            who = resolve_caller(cast(APIGatewayProxyEvent, app.current_event))
            roles = roles_of(route.security)
            if roles and not roles & who.roles:
                raise Forbidden(f"Krever rollen {' eller '.join(sorted(roles, reverse=True))}")
            app.append_context(caller=who)
        if route.dependant.body_params:
            content_type = (header(app, "Content-Type") or "").strip()
            # Powertools reads form bodies too, and fails on a multipart one without a boundary.
            if content_type.lower().startswith(FORMS):
                raise unsupported(content_type)
        return self.validation.handler(app, next_middleware)


class Resolver(APIGatewayRestResolver):
    def __init__(self) -> None:
        super().__init__(enable_validation=True, json_body_deserializer=json_body)
        # Powertools always runs its request validation before any middleware given to `use` and has
        # no public hook to go first (powertools-lambda-python#7050), so ours wraps that private
        # attribute. The versions pinned in pyproject.toml are tested; fail here, not open, if it moves.
        validation = getattr(self, "_request_validation_middleware", None)
        if not isinstance(validation, BaseMiddlewareHandler):
            raise RuntimeError("Powertools har ikke lenger _request_validation_middleware: rollene kan ikke "
                               "sjekkes før kroppen valideres (se aws-lambda-powertools i pyproject.toml)")
        self._request_validation_middleware = cast(Any, _CallerFirst(validation))
        self.configure_openapi(title=TITLE, version=__version__, description=DESCRIPTION)
        self._swagger_lock = threading.Lock()
        self._swagger_on = False
        self._later = dict(LATER)
        self._later_lock = threading.Lock()  # the local stack runs handlers in threads

    def include_routers_for(self, path: str | None) -> None:
        """Include the routers not yet included that serve ``path`` (every one when ``path`` is None)."""
        if not self._later:
            return
        with self._later_lock:  # another thread may be including one
            wanted = [name for name, prefixes in self._later.items()
                      if path is None or any(path == p or path.startswith(p + "/") for p in prefixes)]
            for name in wanted:
                self.include_router(importlib.import_module(name).router)
                del self._later[name]

    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        self.include_routers_for(event.get("path") or "/")  # before routing, so 404 and 405 see them too
        return super().resolve(event, context)

    def enable_swagger_once(self) -> None:
        """Serve Swagger UI at /swagger, added when first asked for: ``enable_swagger`` imports
        Powertools' OpenAPI models (~0.1 s), which no other request needs. The page carries Swagger
        UI's script and style inline (Powertools ships them): nothing is fetched."""
        with self._swagger_lock:  # the local stack runs handlers in threads
            if not self._swagger_on:
                self.enable_swagger(path=SWAGGER, title=TITLE, version=__version__, description=DESCRIPTION,
                                    security_schemes=security_schemes())
                self._swagger_on = True

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """Every context's routes, each with every answer it can give (:func:`docs.complete_answers`)."""
        self.include_routers_for(None)  # the document describes the whole API
        kwargs["security_schemes"] = kwargs.get("security_schemes") or security_schemes()
        schema = super().get_openapi_schema(**kwargs)
        names = (schema.components.schemas or {}) if schema.components else {}
        feil = next((name for name in names if name.split("__")[-1] == "Feil"), None)
        for item in (schema.paths or {}).values():
            for operation in (item.get, item.put, item.post, item.delete, item.patch):
                if operation is not None and operation.responses:
                    complete_answers(operation, feil)
        if schema.components and schema.components.schemas:
            for unused in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
                schema.components.schemas.pop(unused, None)
        return schema


app = Resolver()
app.include_router(endringssett.router)
app.include_router(laas.router)
app.include_router(binaer.router)
app.include_router(oppdrag.router)


@app.get("/health", summary="Helse")
def health() -> dict[str, Any]:
    return {"status": "ok", "versjon": __version__}


# What a newcomer who opens the root in a browser is looking for; none of them needs a token.
INDEX = (("swagger", "/swagger", "Swagger UI: API-et beskrevet og prøvbart"),
         ("openapi", "/openapi.json", "OpenAPI-dokumentet"),
         ("kontrollpanel", "/kontrollpanel", "Kontrollpanel: endringssett, låser, statistikk"),
         ("generator", "/generator", "Generator: ferdige testtilfeller"),
         ("helse", "/health", "Helse og versjon"))


@app.get("/", summary="Forside med lenker til dokumentasjonen (uten token)")
def index():
    root = base_url(app)
    if "text/html" in (header(app, "Accept") or ""):
        items = "".join(f'<li><a href="{root}{path}">{escape(path)}</a> — {escape(text)}</li>'
                        for _, path, text in INDEX)
        page = (f"<!doctype html><html lang=no><meta charset=utf-8><title>{TITLE}</title>"
                f"<h1>{TITLE} {__version__}</h1><p>{escape(DESCRIPTION)}</p><ul>{items}</ul></html>")
        return Response(200, "text/html; charset=utf-8", page)
    return json_response(200, {"navn": TITLE, "versjon": __version__,
                               "lenker": [{"rel": rel, "src": root + path, "beskrivelse": text}
                                          for rel, path, text in INDEX]})


@app.get("/openapi.json", summary="OpenAPI-dokumentet")
def openapi():
    return Response(200, "application/json", app.get_openapi_json_schema())


@app.exception_handler(VegskrivError)
def domain_error(exc: VegskrivError) -> Response:
    return json_response(exc.status, {"message": exc.message})


def unsupported(content_type: str | None) -> UnsupportedMediaType:
    return UnsupportedMediaType(f"Content-Type {content_type} støttes ikke; send application/json eller "
                                "application/xml")


@app.exception_handler(RequestUnsupportedContentType)
def unsupported_media(exc: RequestUnsupportedContentType) -> Response:
    return domain_error(unsupported(app.current_event.headers.get("content-type")))


@app.exception_handler(RequestValidationError)
def request_error(exc: RequestValidationError) -> Response:
    return json_response(400, {"message": error_paths(exc.errors()) or "Ugyldig forespørsel"})


def _methods_on(path: str) -> list[str]:
    """The verbs some route serves on ``path`` (Powertools answers every miss with 404)."""
    return sorted({route.method for route in app._static_routes + app._dynamic_routes
                   if route.rule.fullmatch(path)})


@app.not_found
def not_found(exc: NotFoundError) -> Response:
    path = app.current_event.path
    methods = _methods_on(path)
    if methods:
        return json_response(405, {"message": f"{app.current_event.http_method} er ikke tillatt på {path}; "
                                              f"bruk {', '.join(methods)}"}, headers={"Allow": ", ".join(methods)})
    return json_response(404, {"message": f"Ingen ressurs på {path}"})


@app.exception_handler(Exception)
def unexpected(exc: Exception) -> Response:
    logger.exception("unexpected error")
    return json_response(500, {"message": "Intern feil; kontakt forvalter med X-Request-ID"})


NVDB_JSON = "application/vnd.vegvesen.nvdb-v3+json"  # NVDB's own name for its JSON
BASE_PATH = "/nvdb/apiskriv"  # where NVDB's Docker image serves the API; clients configured for it work


def _cors(event: dict[str, Any], response: dict[str, Any]) -> None:
    """CORS for browser clients from the origins in CORS_ORIGINS (none by default)."""
    allowed = [o.strip() for o in get_settings().cors_origins.split(",") if o.strip()]
    origin = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "origin"), None)
    if not origin or not allowed or ("*" not in allowed and origin not in allowed):
        return
    headers = response.setdefault("headers", {})
    headers["Access-Control-Allow-Origin"] = origin
    headers["Vary"] = "Origin"
    headers["Access-Control-Allow-Credentials"] = "true"
    headers["Access-Control-Expose-Headers"] = "Location, Retry-After, X-Request-ID"
    if event.get("httpMethod") == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
        headers["Access-Control-Allow-Headers"] = ("Authorization, Content-Type, Accept, X-Client, X-Request-ID, "
                                                   "X-NVDB-DryRun, X-NVDB-DryRun-NoLocking, X-NVDB-Delay")
        headers["Access-Control-Max-Age"] = "3600"


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Paths carry Norwegian letters (fremdriftOgÅrsak, lås); match on the decoded form.
    if event.get("path"):
        event["path"] = unquote(event["path"])
        if event["path"].startswith(BASE_PATH + "/"):
            event["path"] = event["path"][len(BASE_PATH):]
            event[BASE_PATH_USED] = BASE_PATH  # links keep the base path the client used
    if event.get("path") == SWAGGER:
        app.enable_swagger_once()
    origin = any(k.lower() == "origin" for k in (event.get("headers") or {}))
    if origin and event.get("httpMethod") == "OPTIONS":  # a browser's preflight: no token, no route
        preflight: dict[str, Any] = {"statusCode": 204, "headers": {}, "body": ""}
        _cors(event, preflight)
        return preflight
    headers = event.get("headers") or {}
    for name, value in headers.items():  # Powertools reads JSON bodies only under application/json
        if name.lower() == "content-type" and value.lower().startswith(NVDB_JSON):
            headers[name] = "application/json" + value[len(NVDB_JSON):]
    try:
        unpack(event)  # size bounds and gzip, before anything reads the body
        sent_xml = xml.read_xml_request(event)
    except VegskrivError as exc:  # too large, not gzip, not well-formed XML: answered as the client wrote it
        wrote_xml = any(k.lower() == "content-type" and "xml" in (v or "") for k, v in headers.items())
        return xml.negotiate(event, {"statusCode": exc.status, "headers": {"Content-Type": "application/json"},
                                     "body": json.dumps({"message": exc.message}, ensure_ascii=False)}, wrote_xml)
    # Validating a 10,000-object body allocates millions of objects that are not garbage (gc_paused).
    with gc_paused() if event.get("body") else nullcontext():
        response = xml.negotiate(event, app.resolve(event, context), sent_xml)
    if origin:
        _cors(event, response)
    request_id = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "x-request-id"), None)
    if request_id:
        response.setdefault("headers", {})["X-Request-ID"] = request_id
    return response
