"""The steps the changeset state machine calls (statemachine/changeset.asl.json).

Each step takes the changeset id, does its work idempotently and answers ``{"next", "waitSeconds"}``:
the ASL routes on ``next`` (``stop`` ends the execution). Re-running any step after a crash
finishes the work without duplicating it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from vegskriv import reference
from vegskriv.errors import TransitionRefused
from vegskriv.models import TERMINAL, Avvistårsak, Endringssett, Fremdrift, Resultat, Venteårsak
from vegskriv.observability import logger
from vegskriv.operations import plan_changeset
from vegskriv.settings import get_settings
from vegskriv.store import changesets, objects
from vegskriv.store.objects import Write
from vegskriv.validation import Context, gather_existing, referenced_sequences, validate

F = Fremdrift
ACTIVE = (F.IKKE_STARTET, F.VENTER, F.BEHANDLES)
NOT_CANCELLED = "kanselleringBestilt <> :true"


def _answer(next_step: str, wait_seconds: int = 0) -> dict[str, Any]:
    return {"next": next_step, "waitSeconds": wait_seconds}


STOP = _answer("stop")


def _cancel_if_asked(meta: dict[str, Any]) -> bool:
    """Honour a cancellation asked for before effectuation began."""
    if not meta.get("kanselleringBestilt") or meta.get("effektueringStartet"):
        return False
    with contextlib.suppress(TransitionRefused):  # someone else moved it first
        changesets.transition(meta["id"], ACTIVE, F.KANSELLERT, venteårsak=None)
    return True


def begin(changeset_id: str, **_: Any) -> dict[str, Any]:
    meta = changesets.get(changeset_id)
    if meta is None or F(meta["fremdrift"]) in TERMINAL:
        return STOP
    if F(meta["fremdrift"]) == F.UTFØRT:
        return _answer("postProcess")
    if _cancel_if_asked(meta):
        return STOP
    if meta["fremdrift"] != F.BEHANDLES:
        changesets.transition(changeset_id, (F.IKKE_STARTET, F.VENTER), F.BEHANDLES, venteårsak=None)
    return _answer("effectuate" if meta.get("effektueringStartet") else "validate")


def _context(doc: Endringssett) -> Context:
    catalog = reference.current_catalog()
    return Context(catalog=catalog, current_catalog_version=get_settings().datakatalog_version,
                   network=reference.veglenkesekvenser(referenced_sequences(doc)),
                   existing=gather_existing(doc, catalog, objects.versions_many))


def run_validation(doc: Endringssett) -> Resultat:
    return validate(doc, _context(doc))


def validate_step(changeset_id: str, **_: Any) -> dict[str, Any]:
    meta = changesets.get(changeset_id)
    if meta is None or meta["fremdrift"] != F.BEHANDLES or _cancel_if_asked(meta):
        return STOP
    doc = Endringssett.model_validate(changesets.document(changeset_id))
    resultat = run_validation(doc)
    changesets.save_result(changeset_id, resultat.model_dump(mode="json", exclude_none=True))
    if resultat.har_feil():
        changesets.transition(changeset_id, (F.BEHANDLES,), F.AVVIST, avvistårsak=Avvistårsak.VALIDERINGSFEIL.value)
        return STOP
    if meta.get("dryrun"):
        changesets.transition(changeset_id, (F.BEHANDLES,), F.UTFØRT, dryrunFullført=True)
        return STOP
    delay = int(meta.get("forsinkelse") or 0)
    return _answer("delay", delay) if delay else _answer("acquireLocks")


def acquire_locks(changeset_id: str, **_: Any) -> dict[str, Any]:
    """Locks arrive with the locking issue; until then processing never blocks."""
    meta = changesets.get(changeset_id)
    if meta is None or _cancel_if_asked(meta):
        return STOP
    return _answer("effectuate")


def effectuate(changeset_id: str, **_: Any) -> dict[str, Any]:
    # The point of no return: from here on a cancellation is refused (409).
    meta = changesets.update(changeset_id, condition=f"fremdrift = :beh AND {NOT_CANCELLED}",
                             values={":beh": F.BEHANDLES.value, ":true": True}, effektueringStartet=True)
    if meta is None:
        meta = changesets.get(changeset_id)
        if meta is None or not meta.get("effektueringStartet"):
            if meta is not None:
                _cancel_if_asked(meta)
            return STOP
    doc = Endringssett.model_validate(changesets.document(changeset_id))
    plan = changesets.plan(changeset_id)
    if plan is None:
        first_id = meta.get("forsteNvdbId")
        new_count = len(doc.registrer.vegobjekter) if doc.registrer else 0
        if first_id is None and new_count:
            reserved = objects.allocate_ids(new_count)
            # Only the first reservation counts, so a re-run reuses the same ids.
            meta = changesets.update(changeset_id, condition="attribute_not_exists(forsteNvdbId)",
                                     forsteNvdbId=reserved) or changesets.get(changeset_id) or meta
            first_id = meta["forsteNvdbId"]
        catalog = reference.current_catalog()
        existing = gather_existing(doc, catalog, objects.versions_many)
        made = plan_changeset(doc, existing, int(first_id or 0), changeset_id, changesets.now_iso(), catalog)
        plan = {"writes": [{"nvdbId": w.nvdb_id, "versjon": w.versjon, "typeId": w.type_id, "data": w.data}
                           for w in made.writes],
                "vegobjekter": [r.model_dump(mode="json", exclude_none=True) for r in made.results],
                "notabener": [{"kode": "AUTOMATISK_OPPDATERING", "referanse": str(mother),
                               "melding": f"Datterobjekt {daughter} ble {what} sammen med morobjekt {mother} "
                                          "(komposisjon)."} for mother, daughter, what in made.cascaded]}
        changesets.save_plan(changeset_id, plan)
        plan = changesets.plan(changeset_id)  # the stored plan is the one every re-run follows
        assert plan is not None
    writes = [Write(w["nvdbId"], w["versjon"], w["typeId"], w["data"]) for w in plan["writes"]]
    objects.write_overlays(changeset_id, writes)
    return _answer("commit")


def commit(changeset_id: str, **_: Any) -> dict[str, Any]:
    """The single write that makes the whole changeset visible at once."""
    plan = changesets.plan(changeset_id) or {"vegobjekter": []}
    resultat = changesets.result(changeset_id) or {}
    by_ref = {(r.get("operasjon"), r.get("tempId") or r.get("nvdbId")): r for r in plan["vegobjekter"]}
    for entry in resultat.get("vegobjekter", []):
        done = by_ref.get((entry.get("operasjon"), entry.get("tempId") or entry.get("nvdbId")))
        if done:
            entry.update(nvdbId=done["nvdbId"], versjon=done["versjon"])
    known = {(n["kode"], n["melding"]) for n in resultat.get("notabener", [])}
    resultat.setdefault("notabener", []).extend(
        n for n in plan.get("notabener", []) if (n["kode"], n["melding"]) not in known)
    changesets.save_result(changeset_id, resultat)
    meta = changesets.get(changeset_id)
    if meta and meta.get("committed"):
        return _answer("releaseLocks")
    oppdrag = objects.allocate_ids(1, "OPPDRAG")
    changesets.transition(changeset_id, (F.BEHANDLES,), F.UTFØRT, condition="effektueringStartet = :true",
                          values={":true": True}, committed=True, oppdragId=oppdrag,
                          transaksjonTidspunkt=changesets.now_iso())
    return _answer("releaseLocks")


def release_locks(changeset_id: str, **_: Any) -> dict[str, Any]:
    return _answer("postProcess")


def post_process(changeset_id: str, **_: Any) -> dict[str, Any]:
    """Fold the committed overlays into the items, then declare the change available on the read side."""
    plan = changesets.plan(changeset_id) or {"writes": []}
    keys = [Write(w["nvdbId"], w["versjon"], w["typeId"], None).key() for w in plan["writes"]]
    objects.fold_overlays(changeset_id, keys)
    try:
        changesets.transition(changeset_id, (F.UTFØRT,), F.UTFØRT_OG_ETTERBEHANDLET, tilgjengeligILes=True)
    except TransitionRefused:
        meta = changesets.get(changeset_id)
        if not meta or meta["fremdrift"] != F.UTFØRT_OG_ETTERBEHANDLET:
            raise
    return STOP


def system_failure(changeset_id: str, error: dict[str, Any] | None = None, **_: Any) -> dict[str, Any]:
    """An unexpected error: park in VENTER:SYSTEMFEIL and let the state machine try again later."""
    logger.error("changeset step failed", extra={"endringssettId": changeset_id, "error": error})
    meta = changesets.get(changeset_id)
    if meta is None or F(meta["fremdrift"]) in TERMINAL:
        return STOP
    attempts = int(meta.get("systemfeilForsøk") or 0) + 1
    changesets.update(changeset_id, systemfeilForsøk=attempts)
    settings = get_settings()
    wait = min(settings.wait_max_seconds, int(settings.wait_first_seconds * settings.wait_factor ** (attempts - 1)))
    if meta["fremdrift"] in (F.BEHANDLES, F.IKKE_STARTET):
        with contextlib.suppress(TransitionRefused):
            changesets.transition(changeset_id, (F.BEHANDLES, F.IKKE_STARTET), F.VENTER,
                                  venteårsak=Venteårsak.SYSTEMFEIL.value)
    return _answer("retry", wait)


STEPS = {
    "begin": begin,
    "validate": validate_step,
    "acquireLocks": acquire_locks,
    "effectuate": effectuate,
    "commit": commit,
    "releaseLocks": release_locks,
    "postProcess": post_process,
    "systemFailure": system_failure,
}
