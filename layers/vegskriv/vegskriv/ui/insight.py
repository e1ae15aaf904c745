"""What the Kontrollpanel shows beyond the NVDB routes: statistics and a changeset's workflow events.

Statistics are aggregated from the changesets the caller may read (the same rule as search) and
from the provisioning runs of the consumers the caller administers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from vegskriv import aws
from vegskriv.auth import Caller
from vegskriv.changesets.models import TERMINAL, Fremdrift
from vegskriv.settings import get_settings
from vegskriv.store import changesets, provisioning

# Upper bounds (seconds) of the processing-time buckets; the last bucket is open.
BUCKETS = (1, 5, 30, 120, 600)
OUTCOMES = {f.value for f in TERMINAL} | {Fremdrift.UTFØRT.value}


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end.replace("Z", "+00:00"))
            - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def _bucket(seconds: float) -> str:
    for bound in BUCKETS:
        if seconds <= bound:
            return f"≤{bound} s"
    return f">{BUCKETS[-1]} s"


def statistics(caller: Caller, *, from_ms: int | None = None, to_ms: int | None = None) -> dict[str, Any]:
    per_day: dict[str, Counter[str]] = defaultdict(Counter)
    durations: Counter[str] = Counter({_bucket(b): 0 for b in (*BUCKETS, BUCKETS[-1] + 1)})
    waits: dict[str, Counter[str]] = defaultdict(Counter)
    total = 0
    for meta in changesets.scan_by_time(from_ms=from_ms, to_ms=to_ms, ascending=True):
        if not caller.may_read(meta["eier"]):
            continue
        total += 1
        day = str(meta["mottatt"])[:10]
        state = meta["fremdrift"]
        per_day[day][state if state in OUTCOMES else "PÅGÅR"] += 1
        if state in OUTCOMES:
            seconds = _seconds(meta.get("mottatt"), meta.get("fremdriftOppdatert"))
            if seconds is not None:
                durations[_bucket(seconds)] += 1
        if int(meta.get("ventForsok") or 0) or state == Fremdrift.VENTER.value:
            waits[day]["endringssett"] += 1
            waits[day]["forsøk"] += int(meta.get("ventForsok") or 0)
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
    return {"antallEndringssett": total,
            "perDag": [{"dag": d, **per_day[d]} for d in sorted(per_day)],
            "behandlingstid": [{"intervall": k, "antall": v} for k, v in durations.items()],
            "låseventing": [{"dag": d, **waits[d]} for d in sorted(waits)],
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
