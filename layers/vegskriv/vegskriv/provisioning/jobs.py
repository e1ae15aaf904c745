"""Runs as use cases: start one (API), plan the nightly runs (schedule), one chunk (workflow), approve."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from vegskriv import aws
from vegskriv.errors import Conflict, NotFound
from vegskriv.observability import logger, measure
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


ATTENTION_METRIC = "ProvisjoneringTilsyn"  # a run an administrator must look at (template.yaml's alarm)

# A run saves its report after every chunk, and a chunk ends inside Lambda's 15 minutes (retries
# included, well inside an hour): a run still PÅGÅR with no save for this long has no execution left.
STALE_AFTER = timedelta(hours=1)


def create_run(konsument: Konsument, modus: str, dry_run: bool, plan: str | None = None) -> Kjøring:
    """A new run, unless one is going. A run with no execution left, or one held in KARANTENE, is
    ended in the same write that saves the new one; of two runs started at once, one is refused."""
    newest = store.newest_run(konsument.id)
    latest = newest[0] if newest else None
    why, alarm = None, True
    if latest is not None and latest.status == "PÅGÅR":
        if not _stale(latest):
            raise Conflict(f"konsumenter/{konsument.id}: kjøring {latest.id} pågår allerede")
        why = (f"Kjøringen stoppet uten å bli ferdig (sist lagret {latest.lagret or latest.startet}); "
               "en ny kjøring erstatter den")
    elif latest is not None and latest.status == "KARANTENE" and dry_run:
        # A preview must not cost the administrators the approval they are about to give.
        raise Conflict(f"konsumenter/{konsument.id}: kjøring {latest.id} holdes i KARANTENE; godkjenn den, "
                       "eller start en vanlig kjøring (den erstatter den og sammenligner på nytt)")
    elif latest is not None and latest.status == "KARANTENE":
        # The new run compares again; approving the old one would apply deletes decided on older data.
        # It told the administrators when it was held; the new run will if it is held too.
        why, alarm = "Erstattet av en nyere kjøring før den ble godkjent; ingenting ble slettet", False
    if latest is not None and why:
        _ended(latest, why)
    run = engine.new_run(store.new_run_id(), konsument, modus, dry_run, store.ReadApiProvider())
    run.plan = plan
    try:
        store.start_run(run, newest)
    except store.Replaced as exc:
        raise Conflict(str(exc)) from exc
    if latest is not None and why:
        _told(latest, why, alarm)
    return run


def _stale(run: Kjøring) -> bool:
    saved = datetime.fromisoformat((run.lagret or run.startet).replace("Z", "+00:00"))
    return datetime.now(UTC) - saved > STALE_AFTER


def change_consumer(konsument: Konsument, text: str, changed: Konsument) -> None:
    """Save an edit of a consumer (read with its stored text). Another subset or target clears the
    watermark, so the next run compares everything, and ends a run that is going or held in the same
    write: it would go on under the new subset, or apply deletes decided under the old one."""
    ended = ended_text = None
    if changed.utvalg != konsument.utvalg or changed.mål != konsument.mål:
        changed.vannmerke = None
        newest = store.newest_run(konsument.id)
        if newest is not None and newest[0].status in ("PÅGÅR", "KARANTENE"):
            ended, ended_text = newest
            _ended(ended, "Konsumentens utvalg eller mål ble endret; neste kjøring sammenligner alt")
    try:
        store.change_consumer(changed, text, ended, ended_text)
    except store.ConsumerChanged as exc:
        raise Conflict(f"{exc}; hent konsumenten og prøv igjen") from exc


def _ended(run: Kjøring, why: str) -> Kjøring:
    """FEILET with the reason (not saved); the watermark stays, so the next run reads the same changes again."""
    run.status, run.ferdig = "FEILET", engine.now_iso()
    run.merknader.append(why)
    return run


def _told(run: Kjøring, why: str, alarm: bool = True) -> None:
    logger.warning("provisioning run ended as failed", extra={"konsumentId": run.konsumentId, "kjøringId": run.id,
                                                              "reason": why})
    if alarm:
        measure(ATTENTION_METRIC)


def _end(run: Kjøring, why: str) -> None:
    try:
        store.save_run(_ended(run, why))
    except store.Replaced:
        return  # a newer run has ended it already
    _told(run, why)


def start_execution(runs: list[Kjøring]) -> None:
    """Hand the runs to the provisioning state machine (no-op when none is configured: unit tests).
    Runs it could not be given to end FEILET at once instead of blocking their consumer."""
    arn = get_settings().provisioning_state_machine_arn
    if arn and runs:
        batch = [{"consumerId": r.konsumentId, "runId": r.id} for r in runs]
        try:
            aws.client("stepfunctions").start_execution(
                stateMachineArn=arn, name=f"kj-{runs[0].id}-{uuid.uuid4().hex[:6]}", input=json.dumps({"runs": batch}))
        except Exception:
            for run in runs:
                _end(run, "Kjøringen kunne ikke startes (Step Functions svarte med feil)")
            raise


def plan_nightly(plan: str | None = None) -> list[dict[str, str]]:
    """A DELTA run for every consumer that is not already running. ``plan`` (the execution's id) is
    kept on each run, so a retried plan hands over the runs its failed attempt created instead of
    leaving them without an execution; one consumer that cannot be planned does not stop the rest."""
    planned = []
    for konsument in store.list_consumers():
        try:
            run = create_run(konsument, "DELTA", False, plan)
        except Conflict:
            newest = store.newest_run(konsument.id)
            if plan is not None and newest is not None and newest[0].plan == plan and newest[0].status == "PÅGÅR":
                planned.append({"consumerId": konsument.id, "runId": newest[0].id})
            else:
                logger.info("run still going; skipped tonight", extra={"konsumentId": konsument.id})
            continue
        except Exception:  # logged and alarmed: the other consumers still get their run
            logger.exception("could not plan a run", extra={"konsumentId": konsument.id})
            measure(ATTENTION_METRIC)
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
        done = engine.step(run, konsument, store.ReadApiProvider(), target_for(konsument), store.Runs())
        if done and run.status == "KARANTENE":
            logger.warning("provisioning run held in KARANTENE", extra={
                "konsumentId": konsument_id, "kjøringId": run_id, "ventendeSlettinger": run.ventendeSlettinger})
            measure(ATTENTION_METRIC)
        return done
    except store.Replaced:
        return True  # a newer run has taken over (this one was given up as stale): stop here
    except ConsumerError as exc:
        # Nothing after the last saved chunk counts; the next run compares again from the start.
        _end(store.get_run(konsument_id, run_id) or run, f"Konsumenten svarte ikke etter kontrakten: {exc}")
        return True


def run_to_end(konsument_id: str, run_id: str) -> Kjøring:
    while not run_step(konsument_id, run_id):
        pass
    run = store.get_run(konsument_id, run_id)
    assert run is not None
    return run


def fail_run(konsument_id: str, run_id: str, error: dict[str, Any] | None) -> None:
    """A chunk failed after its retries (the state machine's Catch): the run ends FEILET, said why."""
    run = store.get_run(konsument_id, run_id)
    if run is None or run.status != "PÅGÅR":
        return
    error = error or {}
    logger.error("provisioning run failed", extra={"konsumentId": konsument_id, "kjøringId": run_id,
                                                   "error": error.get("Error"),
                                                   "cause": str(error.get("Cause"))[:2000]})
    _end(run, f"Et steg feilet gjentatte ganger ({error.get('Error') or 'ukjent feil'}); neste kjøring leser de "
              "samme endringene igjen")


def approve(konsument_id: str, run_id: str) -> Kjøring:
    found = store.get_run_text(konsument_id, run_id)
    if found is None:
        raise NotFound(f"konsumenter/{konsument_id}/kjøringer/{run_id} finnes ikke")
    run, text = found
    if run.status != "KARANTENE":
        raise Conflict(f"kjøringer/{run_id}: status er {run.status}; bare en kjøring i KARANTENE kan godkjennes")
    engine.approve(run)
    try:
        store.save_run(run, unchanged_since=text)  # of two approvals at once, one starts the deletes
    except store.Replaced as exc:
        raise Conflict(f"kjøringer/{run_id}: erstattet av en nyere kjøring, eller godkjent alt") from exc
    return run
