"""Kontrollpanel and Generator: their pages and assets (no token; the data calls carry one), a
local-only dev login, and the read endpoints only the panels need (statistics, workflow events)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from pydantic import BaseModel, Field

from vegskriv.api.context import caller, json_response
from vegskriv.api.docs import MAX_EPOCH_MS, TOKEN, responses
from vegskriv.auth import LOCAL_DEV_SECRET, ROLE_USER, issue_dev_token
from vegskriv.changesets import use_cases
from vegskriv.errors import NotFound
from vegskriv.settings import get_settings
from vegskriv.ui import insight

router = Router()
STATIC = Path(__file__).resolve().parents[1] / "ui" / "static"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8"}
ASSET = re.compile(r"^[a-z0-9][a-z0-9_.-]*\.(html|js|css|txt)$")


def _file(name: str) -> Response:
    path = STATIC / name
    if not ASSET.match(name) or not path.is_file():
        raise NotFound(f"ui/{name} finnes ikke")
    # no-cache: a redeployed panel is seen at once; the files are small.
    return Response(200, TYPES[path.suffix], path.read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"})


@router.get("/kontrollpanel", include_in_schema=False)
def kontrollpanel():
    return _file("kontrollpanel.html")


@router.get("/generator", include_in_schema=False)
def generator():
    return _file("generator.html")


@router.get("/ui/<fil>", include_in_schema=False)
def asset(fil: str):
    return _file(fil)


class DevInnlogging(BaseModel):
    brukernavn: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    roller: list[str] = Field(default_factory=lambda: [ROLE_USER], max_length=10)


@router.post("/ui/dev-token", include_in_schema=False)  # not part of any deployed API (see below)
def dev_token(body: Annotated[DevInnlogging, Body()]):
    settings = get_settings()
    # Exists only where tokens are signed with the published development secret: nowhere real.
    if settings.jwt_secret != LOCAL_DEV_SECRET or settings.jwt_jwks_url:
        raise NotFound("Ingen ressurs på /ui/dev-token")
    token = issue_dev_token(body.brukernavn, body.roller, issuer=settings.jwt_issuer,
                            audience=settings.jwt_audience or "vegskriv")
    return json_response(200, {"token": token, "brukernavn": body.brukernavn, "roller": body.roller})


@router.get("/rest/v1/statistikk", summary="Statistikk: endringssett per dag, behandlingstid, låseventing, leveranser",
            security=TOKEN, responses=responses(200, "Aggregater over endringssett du kan lese", dict[str, Any],
                                                400, 401))
def statistikk(fraEpochMs: Annotated[int | None, Query(ge=0, le=MAX_EPOCH_MS,
                                                      description="Fra og med dagen (UTC) dette er i")] = None,
               tilEpochMs: Annotated[int | None, Query(ge=0, le=MAX_EPOCH_MS,
                                                      description="Til og med dagen (UTC) dette er i")] = None):
    return json_response(200, insight.statistics(caller(router), from_ms=fraEpochMs, to_ms=tilEpochMs))


@router.get("/rest/v1/endringssett/<endringssett_id>/hendelser",
            summary="Hendelsesloggen til endringssettets arbeidsflyt (Step Functions)", security=TOKEN,
            responses=responses(200, "hendelser, eldste først", dict[str, Any], 401, 404))
def hendelser(endringssett_id: Annotated[str, PathParam(description="Endringssettets id")]):
    use_cases.load(endringssett_id, caller(router))
    return json_response(200, {"hendelser": insight.workflow_events(endringssett_id)})
