"""What the Kontrollpanel shows beyond the NVDB routes: statistics and a changeset's workflow events.

Statistics come from the per-day counters the changeset store keeps with each state change (the
caller's own, or everyone's for those who may read every status), and from the provisioning runs of
the consumers the caller administers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vegskriv import aws
from vegskriv.auth import Caller
from vegskriv.changesets.models import TERMINAL, Fremdrift
from vegskriv.settings import get_settings
from vegskriv.store import changesets, provisioning

OUTCOMES = [f.value for f in TERMINAL] + [Fremdrift.UTFØRT.value]
INTERVALS = [f"≤{b} s" for b in changesets.BUCKETS] + [f">{changesets.BUCKETS[-1]} s"]


def _day(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def statistics(caller: Caller, *, from_ms: int | None = None, to_ms: int | None = None) -> dict[str, Any]:
    """From the per-day counters the store keeps (whole days: the days of from_ms and to_ms count)."""
    owner = None if caller.reads_all_statuses else caller.user  # the same rule as reading a changeset
    days = changesets.statistics_days(owner, _day(from_ms), _day(to_ms))
    per_day, waits = [], []
    durations = dict.fromkeys(INTERVALS, 0)
    for d in days:
        outcomes = {k: int(d[k]) for k in OUTCOMES if d.get(k)}
        running = int(d.get("mottatt", 0)) - sum(outcomes.values())
        per_day.append({"dag": d["sk"], **outcomes, **({"PÅGÅR": running} if running > 0 else {})})
        for interval in INTERVALS:
            durations[interval] += int(d.get(interval, 0))
        if d.get("forsøk"):
            waits.append({"dag": d["sk"], "endringssett": int(d.get("endringssett", 0)), "forsøk": int(d["forsøk"])})
    runs = []
    if caller.sees_all_changesets:
        for konsument in provisioning.list_consumers():
            if konsument.eier != caller.user and not caller.is_system_admin:
                continue
            for run in provisioning.list_runs(konsument.id, 50):
                runs.append({"konsument": konsument.id, "kjøring": run.id, "startet": run.startet,
                             "status": run.status, "opprettet": run.opprettet, "oppdatert": run.oppdatert,
                             "slettet": run.slettet})
    runs.sort(key=lambda r: str(r["startet"]))
    return {"antallEndringssett": sum(int(d.get("mottatt", 0)) for d in days),
            "perDag": per_day,
            "behandlingstid": [{"intervall": k, "antall": v} for k, v in durations.items()],
            "låseventing": waits,
            "leveranser": runs}


def _executions(changeset_id: str) -> list[str]:
    """The changeset's executions: named by its id, and ``{id}-gjenopptak-{n}`` after recovery."""
    machine = get_settings().state_machine_arn
    sfn = aws.client("stepfunctions")
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
        found += [e for e in page["executions"] if e["name"] == changeset_id
                  or e["name"].startswith(f"{changeset_id}-gjenopptak-")]
    return [e["executionArn"] for e in sorted(found, key=lambda e: e["startDate"])]


def _event(execution: str, event: dict[str, Any]) -> dict[str, Any]:
    details = next((v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict)), {})
    return {"kjøring": execution.rsplit(":", 1)[-1], "tid": event["timestamp"].isoformat(),
            "type": event["type"], "steg": details.get("name"),
            "detaljer": details.get("error") or details.get("cause")}


def workflow_events(changeset_id: str) -> list[dict[str, Any]]:
    """The Step Functions history of every execution of the changeset, oldest first."""
    sfn = aws.client("stepfunctions")
    events: list[dict[str, Any]] = []
    for execution in _executions(changeset_id):
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution):
            events += [_event(execution, e) for e in page["events"]]
    return events
