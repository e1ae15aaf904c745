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


def recover_execution(*, execution_name: str, status: str, input_json: str) -> dict[str, Any]:
    changeset_id = json.loads(input_json).get("endringssettId") or execution_name
    meta = changesets.get(changeset_id)
    if meta is None:
        return {"endringssettId": changeset_id, "handling": "ukjent"}
    if not meta.get("effektueringStartet"):
        for waiting in locks.release(changeset_id):
            wake(waiting, "lås frigitt")
    if Fremdrift(meta["fremdrift"]) in TERMINAL:
        for waiting in locks.release(changeset_id):
            wake(waiting, "lås frigitt")
        return {"endringssettId": changeset_id, "handling": "låser frigitt"}
    with contextlib.suppress(TransitionRefused):
        changesets.transition(changeset_id, (Fremdrift.BEHANDLES, Fremdrift.IKKE_STARTET), Fremdrift.VENTER,
                              venteårsak=Venteårsak.SYSTEMFEIL.value)
    attempt = int(meta.get("gjenopptak") or 0) + 1
    changesets.update(changeset_id, gjenopptak=attempt)
    # Execution names are unique for 90 days, so a resumed run gets a numbered name.
    start_execution(changeset_id, name=f"{changeset_id}-gjenopptak-{attempt}")
    logger.warning("execution ended abnormally; resumed", extra={"endringssettId": changeset_id, "status": status})
    return {"endringssettId": changeset_id, "handling": "gjenopptatt", "forsøk": attempt}
