"""What the OpenAPI document says about every route: the bearer scheme, the roles a route needs and
the status codes it answers, each with its body.

A route's ``security`` is also what :mod:`vegskriv.api.app` enforces before the body is read: a
route without it needs no token, and the scopes of a requirement are the roles that may call it
(OpenAPI 3.1 allows role names as scopes for non-OAuth schemes). The document cannot drift from
what the API does.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vegskriv.api.xml import FAULT_NS

SCHEME = "bearer"


def security_schemes() -> dict[str, Any]:
    """Made when the document is: Powertools' OpenAPI models cost ~0.1 s to import, and only
    ``/openapi.json`` and ``/swagger`` need them."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {SCHEME: HTTPBearer(bearerFormat="JWT", description="JWT fra utstederen (lokalt: `vegskriv token`)")}


def bearer(*roles: str) -> list[dict[str, list[str]]]:
    """A token, and if roles are given, one of them (alternatives are separate requirements)."""
    return [{SCHEME: [role]} for role in roles] or [{SCHEME: []}]


TOKEN = bearer()


def roles_of(security: list[dict[str, list[str]]] | None) -> set[str]:
    """The roles a route's security admits; empty when any token will do."""
    return {role for requirement in security or () for role in requirement.get(SCHEME, ())}


class Feil(BaseModel):
    """The NVDB fault body, in XML as ``<fault>`` in NVDB's fault namespace."""

    model_config = ConfigDict(json_schema_extra={"xml": {"name": "fault", "namespace": FAULT_NS}})

    message: str = Field(description="Hva som er galt, med stien til feilen, f.eks. "
                                     "`registrer.vegobjekter[0].typeId: ...`")


class Lenke(BaseModel):
    rel: str
    src: str


ERRORS = {
    400: "Ugyldig forespørsel: skjema, JSON (også for dyp nøsting og for store tall) eller parametre",
    401: "Mangler eller ugyldig token",
    403: "Mangler rolle",
    404: "Finnes ikke (også andres endringssett)",
    409: "Konflikt med tilstanden",
    413: "For stor forespørsel (MAX_BODY_BYTES, MAX_VEGOBJEKTER, for store verdier)",
    415: "Content-Type er verken JSON eller XML",
}
BODY_ERRORS = (400, 413, 415)  # what every route that reads a JSON body may answer
# The last millisecond of year 9999: Python's dates end there, and a later one would fail the request.
MAX_EPOCH_MS = 253_402_300_799_999


def responses(status: int, description: str, model: Any = None, *errors: int,
              media_type: str = "application/json", headers: dict[str, Any] | None = None) -> dict[int, Any]:
    """The success answer (with its body model, if any) and the fault answers a route gives."""
    ok: dict[str, Any] = {"description": description}
    if model is not None:
        ok["content"] = {media_type: {"model": model}}
    if headers:
        ok["headers"] = headers
    fault = {"content": {"application/json": {"model": Feil}}}
    return {status: ok, **{code: {"description": ERRORS[code], **fault} for code in sorted(errors)}}


def complete_answers(operation: Any, feil: str | None) -> None:
    """Add to an operation of the generated document the answers every route can give, and drop the
    422 Powertools lists (this API answers 400), so a client generated from it knows them all:
    400 where anything is validated, 413/415 where a body is read, 404 where a path names a resource
    (also a path that matches no route), 401/403 from its security; every fault with its body, in
    JSON and in XML (an XML request, or ``Accept: application/xml``, gets NVDB's ``<fault>``)."""
    # Only when the document is built: Powertools' OpenAPI models cost ~0.1 s to import.
    from aws_lambda_powertools.event_handler.openapi.models import MediaType, Response, Schema

    answers = operation.responses
    answers.pop(422, None)
    # The same bodies are read as XML (api/xml.py) under NVDB's namespaces.
    content = getattr(operation.requestBody, "content", None) or {}
    if "application/json" in content and "application/xml" not in content:
        content["application/xml"] = content["application/json"]
    parameters = operation.parameters or []
    wanted = [400] if content or any(_may_refuse(p) for p in parameters) else []
    wanted += [413, 415] if content else []  # every body is bounded (api/body.py); forms are refused
    wanted += [404] if any(_place(p) == "path" for p in parameters) else []
    wanted += [401] if operation.security else []  # every route behind the authorizer
    wanted += [403] if roles_of(operation.security) else []
    for code in wanted:
        answers.setdefault(code, Response(description=ERRORS[code]))
    if feil is None:
        return
    body = Schema.model_validate({"$ref": f"#/components/schemas/{feil}"})
    for code, answer in list(answers.items()):
        if int(code) < 400:
            continue
        if isinstance(answer, dict):
            answer = answers[code] = Response.model_validate(answer)
        media = answer.content if answer.content is not None else {}
        json_fault = media.get("application/json")
        if json_fault is None or json_fault.schema_ is None:
            media["application/json"] = MediaType(schema=body)
        media.setdefault("application/xml", MediaType(schema=body))
        answer.content = media


def _place(parameter: Any) -> str:
    return str(getattr(parameter, "in_", "")).rsplit(".", 1)[-1]  # ParameterInType.path → "path"


def _may_refuse(parameter: Any) -> bool:
    """Whether validating this parameter can answer 400: required outside the path, or more than any text."""
    schema = getattr(parameter, "schema_", None)
    if schema is None:
        return False
    plain_text = getattr(schema, "type", None) == "string" and not any(
        getattr(schema, k, None) is not None for k in ("pattern", "maxLength", "minLength", "enum", "format"))
    return not plain_text or (bool(parameter.required) and _place(parameter) != "path")
