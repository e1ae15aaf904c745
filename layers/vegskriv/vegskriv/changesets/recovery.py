"""Recovery after an execution ended without the workflow's own error handling (abort, timeout)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from vegskriv.changesets.dispatch import start_execution, wake
from vegskriv.changesets.models import TERMINAL, Fremdrift, Venteårsak
from vegskriv.errors import TransitionRefused
from vegskriv.observability import logger
from vegskriv.store import changesets, locks


def nth_execution(changeset_id: str, resumption: int) -> str:
    # Execution names are unique for 90 days, so a resumed run gets a numbered name.
    return changeset_id if resumption == 0 else f"{changeset_id}-gjenopptak-{resumption}"


def recover_execution(*, execution_name: str, status: str, input_json: str) -> dict[str, Any]:
    changeset_id = json.loads(input_json).get("endringssettId") or execution_name
    meta = changesets.get(changeset_id)
    if meta is None:
        return {"endringssettId": changeset_id, "handling": "ukjent"}
    current = int(meta.get("gjenopptak") or 0)
    if current and execution_name == nth_execution(changeset_id, current - 1):
        # This end was handled already (the event again, or a retry after the start failed): its
        # successor holds the locks now; only make sure it was started (the same name is a no-op).
        start_execution(changeset_id, name=nth_execution(changeset_id, current))
        return {"endringssettId": changeset_id, "handling": "allerede gjenopptatt"}
    if execution_name != nth_execution(changeset_id, current):
        return {"endringssettId": changeset_id, "handling": "en nyere kjøring har overtatt"}
    if Fremdrift(meta["fremdrift"]) in TERMINAL:
        for waiting in locks.release(changeset_id):
            wake(waiting, "lås frigitt")
        return {"endringssettId": changeset_id, "handling": "låser frigitt"}
    # Claim this end once: of two janitors handling it at once, one resumes.
    if changesets.update(changeset_id, condition="attribute_not_exists(gjenopptak) OR gjenopptak = :n",
                         values={":n": current}, gjenopptak=current + 1) is None:
        return {"endringssettId": changeset_id, "handling": "allerede gjenopptatt"}
    if not meta.get("effektueringStartet"):
        for waiting in locks.release(changeset_id):
            wake(waiting, "lås frigitt")
    with contextlib.suppress(TransitionRefused):
        changesets.transition(changeset_id, (Fremdrift.BEHANDLES, Fremdrift.IKKE_STARTET), Fremdrift.VENTER,
                              venteårsak=Venteårsak.SYSTEMFEIL.value)
    start_execution(changeset_id, name=nth_execution(changeset_id, current + 1))
    logger.warning("execution ended abnormally; resumed", extra={"endringssettId": changeset_id, "status": status})
    return {"endringssettId": changeset_id, "handling": "gjenopptatt", "forsøk": current + 1}
