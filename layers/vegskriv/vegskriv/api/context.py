"""Request helpers shared by the routers: the caller, absolute links, JSON responses, fault messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from pydantic import BaseModel

from vegskriv.auth import Caller, roles_from_context
from vegskriv.errors import Forbidden

BASE_PATH_USED = "vegskrivBasePath"  # set on the event by api/app.handle when the client used /nvdb/apiskriv


def _event(router: BaseRouter) -> APIGatewayProxyEvent:
    return cast(APIGatewayProxyEvent, router.current_event)  # the api function serves a REST API


def resolve_caller(event: APIGatewayProxyEvent) -> Caller:
    """Who the authorizer let in; called once per request by the API (see app.py)."""
    auth: dict[str, Any] = dict(event.request_context.authorizer or {})
    user = auth.get("user") or auth.get("principalId")
    if not user:
        raise Forbidden("Mangler autentisert bruker")
    try:
        roles = roles_from_context(auth.get("roles") or "[]")
    except ValueError as exc:  # not what our authorizer writes: trust no role from it
        raise Forbidden("Ugyldige roller fra autorisereren") from exc
    return Caller(user=str(user), roles=roles, client=event.headers.get("X-Client") or event.headers.get("x-client"))


def caller(router: BaseRouter) -> Caller:
    """The caller resolved for this request before the route ran."""
    return cast(Caller, router.context["caller"])


def header(router: BaseRouter, name: str) -> str | None:
    headers = _event(router).headers or {}
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def base_url(router: BaseRouter) -> str:
    """The API root as the client sees it (the stage is part of it on execute-api hosts)."""
    event = _event(router)
    host = header(router, "Host") or "localhost"
    proto = header(router, "X-Forwarded-Proto") or ("http" if host.startswith(("127.0.0.1", "localhost")) else "https")
    stage = event.request_context.stage
    prefix = f"/{stage}" if host.endswith("amazonaws.com") and stage else ""
    return f"{proto}://{host}{prefix}{event.raw_event.get(BASE_PATH_USED) or ''}"


def changeset_links(router: BaseRouter, changeset_id: str, *, status: bool = False) -> list[dict[str, str]]:
    """The changeset's links; in a status its ``self`` is the status itself, as in NVDB."""
    root = f"{base_url(router)}/rest/v3/endringssett/{changeset_id}"
    return [{"rel": "self", "src": f"{root}/status" if status else root}, {"rel": "start", "src": f"{root}/start"},
            {"rel": "kanseller", "src": f"{root}/kanseller"}, {"rel": "restart", "src": f"{root}/restart"},
            {"rel": "status", "src": f"{root}/status"}, {"rel": "fremdrift", "src": f"{root}/fremdrift"},
            {"rel": "endringssett", "src": root}]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if isinstance(body, BaseModel):
        text = body.model_dump_json(exclude_none=True)
    else:
        text = json.dumps(body, ensure_ascii=False, default=str)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=text, headers=headers)


def error_paths(errors: Sequence[Any]) -> str:
    """A fault message naming the path of each problem, e.g. 'registrer.vegobjekter[0].typeId: ...'.

    Takes pydantic's errors or Powertools' (whose locations start with body/query/header/path)."""
    messages = []
    for err in list(errors)[:10]:
        loc = list(err.get("loc") or ())
        if loc and loc[0] in ("body", "query", "header", "path"):
            loc = loc[1:]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        messages.append(f"{path}: {err['msg']}" if path else err["msg"])
    return "; ".join(messages)
