"""Runs as use cases: start one (API), plan the nightly runs (schedule), one chunk (workflow), approve."""

from __future__ import annotations

import json
import uuid

from vegskriv import aws
from vegskriv.errors import Conflict, NotFound
from vegskriv.observability import logger
from vegskriv.provisioning import run as engine
from vegskriv.provisioning.model import Kjøring, Konsument
from vegskriv.provisioning.run import Target
from vegskriv.provisioning.targets import ConsumerError, HttpTarget
from vegskriv.settings import get_settings
from vegskriv.store import provisioning as store


def target_for(konsument: Konsument) -> Target:
    if konsument.mål.type == "HTTP" and konsument.mål.url:
        return HttpTarget(konsument.mål.url)
    return store.DynamoTarget(konsument.id)


def create_run(konsument: Konsument, modus: str, dry_run: bool) -> Kjøring:
    latest = store.list_runs(konsument.id, limit=1)
    if latest and latest[0].status == "PÅGÅR":
        raise Conflict(f"konsumenter/{konsument.id}: kjøring {latest[0].id} pågår allerede")
    run = engine.new_run(store.new_run_id(), konsument, modus, dry_run, store.ReadApiProvider())
    store.save_run(run)
    return run


def start_execution(runs: list[Kjøring]) -> None:
    """Hand the runs to the provisioning state machine (no-op when none is configured: unit tests)."""
    arn = get_settings().provisioning_state_machine_arn
    if arn and runs:
        batch = [{"consumerId": r.konsumentId, "runId": r.id} for r in runs]
        aws.client("stepfunctions").start_execution(stateMachineArn=arn, name=f"kj-{runs[0].id}-{uuid.uuid4().hex[:6]}",
                                                    input=json.dumps({"runs": batch}))


def plan_nightly() -> list[dict[str, str]]:
    """A DELTA run for every consumer that is not already running."""
    planned = []
    for konsument in store.list_consumers():
        try:
            run = create_run(konsument, "DELTA", False)
        except Conflict:
            logger.info("run still going; skipped tonight", extra={"konsumentId": konsument.id})
            continue
        planned.append({"consumerId": konsument.id, "runId": run.id})
    return planned


def run_step(konsument_id: str, run_id: str) -> bool:
    """One chunk of a run; True when it has nothing more to do."""
    konsument = store.get_consumer(konsument_id)
    run = store.get_run(konsument_id, run_id)
    if konsument is None or run is None:
        return True
    try:
        return engine.step(run, konsument, store.ReadApiProvider(), target_for(konsument), store.Runs())
    except ConsumerError as exc:
        # Nothing after the last saved chunk counts; the next run compares again from the start.
        run = store.get_run(konsument_id, run_id) or run
        run.status, run.ferdig = "FEILET", engine.now_iso()
        run.merknader.append(f"Konsumenten svarte ikke etter kontrakten: {exc}")
        store.save_run(run)
        return True


def run_to_end(konsument_id: str, run_id: str) -> Kjøring:
    while not run_step(konsument_id, run_id):
        pass
    run = store.get_run(konsument_id, run_id)
    assert run is not None
    return run


def approve(konsument_id: str, run_id: str) -> Kjøring:
    run = store.get_run(konsument_id, run_id)
    if run is None:
        raise NotFound(f"konsumenter/{konsument_id}/kjøringer/{run_id} finnes ikke")
    if run.status != "KARANTENE":
        raise Conflict(f"kjøringer/{run_id}: status er {run.status}; bare en kjøring i KARANTENE kan godkjennes")
    engine.approve(run)
    store.save_run(run)
    return run
