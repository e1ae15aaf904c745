"""GET /rest/v1/systemstatus: the Kontrollpanel's "Systemstatus" (``kontrollpanel.md``), for
``9_system_admin``: the API, queue depths, running executions, locks, the catalog version and the
last provisioning run of each consumer. Every figure is read through ``store/``; a part that cannot
be read says so in its own ``feil`` instead of failing the page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from vegskriv import __version__
from vegskriv.api.context import json_response
from vegskriv.api.docs import bearer, responses
from vegskriv.auth import ROLE_SYSTEM_ADMIN
from vegskriv.settings import get_settings
from vegskriv.store import provisioning, system

router = Router()


@router.get("/rest/v1/systemstatus", summary="Systemstatus: køer, kjøringer, låser, datakatalog, siste leveranser",
            security=bearer(ROLE_SYSTEM_ADMIN),
            responses=responses(200, "Systemets tilstand nå (SQS-tallene er omtrentlige)", dict[str, Any], 401, 403))
def systemstatus():
    settings = get_settings()
    queues = [("Startkø (dispatcher)", settings.start_queue_url), ("Startkø DLQ", settings.start_dlq_url),
              ("Leveringskø (push)", settings.delivery_queue_url), ("Leveringskø DLQ", settings.delivery_dlq_url)]
    machines = [("Endringssett", settings.state_machine_arn), ("Leveranser", settings.provisioning_state_machine_arn)]
    last_runs = []
    for konsument in provisioning.list_consumers():
        runs = provisioning.list_runs(konsument.id, 1)
        last_runs.append({"konsument": konsument.id, **({"kjøring": runs[0].id, "status": runs[0].status,
                                                         "startet": runs[0].startet} if runs else {})})
    return json_response(200, {
        "api": {"status": "ok", "versjon": __version__, "tid": datetime.now(UTC).isoformat(timespec="seconds")},
        "køer": [{"navn": name, **(system.queue(url) if url else {"feil": "ikke konfigurert"})}
                 for name, url in queues],
        "kjøringer": [{"navn": name, **(system.running_executions(arn) if arn else {"feil": "ikke konfigurert"})}
                      for name, arn in machines],
        "låser": system.locks(),
        "datakatalogversjon": settings.datakatalog_version,
        "sisteLeveranser": last_runs})
