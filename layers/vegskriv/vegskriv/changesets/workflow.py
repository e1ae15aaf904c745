"""The steps the changeset state machine calls (statemachine/changeset.asl.json).

The step-to-step contract:

- Input: ``{"step", "endringssettId"}`` (plus ``taskToken``/``reason`` for park, ``error`` for
  systemFailure). Answer: ``{"next", "waitSeconds"}``; the ASL routes on ``next`` (``stop`` ends
  the execution). State machine payloads carry nothing else: the work lives in the changesets
  table, referenced from the META item, so it survives a restart from Begin and the 256 KB limit.
- Each step reads META and parses the document at most once.
- AcquireLocks reads the claimed objects before it holds any lock, for the claims only. Once the
  locks are held it reads the existing data once (objects named, daughters a cascade reaches,
  objects on no-overlap sequences), checks the claims still cover it, stores it as the ``CTX``
  blob and points META's ``kontekst`` at it (``-`` and no blob when it found nothing). Data
  read before a lock wait is never trusted after: every acquisition reads and stores afresh.
- Validate and Effectuate use that stored context (Effectuate only until it has a plan; reading
  again if the pointer does not match, which is safe because they hold the locks).
- Effectuate stores the plan (``PLAN``) once and follows it; a re-run, Commit, PostProcess and a
  cancellation read that stored plan, so every re-run writes the same overlays.
- Re-running any step after a crash finishes the work without duplicating it.
- Validation stores its result as ``RESV``, Commit ``RESC`` (validation's with the ids) before the
  commit write, an end without commit ``RES``; META decides which is shown. So a validation still
  running in a duplicate execution cannot hide the ids, nor a refused commit attempt show them.
- ReleaseLocks folds a committed changeset's items (``objects.fold_overlays``, from the ``FOLD``
  blob the overlay write stored) before letting go; a retry after it failed goes from Begin
  straight to PostProcess, which then folds and lets go first (once: META's ``foldet``).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import time
import zlib
from collections.abc import Callable
from typing import Any

import pydantic
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from vegskriv import observability
from vegskriv.changesets import rights, work
from vegskriv.changesets.dispatch import wake
from vegskriv.changesets.locks import Cell, Claim, changeset_claims, union
from vegskriv.changesets.models import (
    TERMINAL,
    Avvistårsak,
    Endringssett,
    Fremdrift,
    Venteårsak,
    gc_paused,
    parse_endringssett,
)
from vegskriv.changesets.operations import cascade_writes, plan_changeset
from vegskriv.changesets.referenced import referenced_objects
from vegskriv.changesets.validation import Context, overlapping_objects, validate
from vegskriv.errors import TransitionRefused
from vegskriv.observability import logger
from vegskriv.services import submission
from vegskriv.settings import get_settings
from vegskriv.store import changesets, locks, objects, reference
from vegskriv.store import rights as rights_store
from vegskriv.store.objects import Write

F = Fremdrift
ACTIVE = (F.IKKE_STARTET, F.VENTER, F.BEHANDLES)
NOT_CANCELLED = "kanselleringBestilt <> :true"


def _answer(next_step: str, wait_seconds: int = 0) -> dict[str, Any]:
    return {"next": next_step, "waitSeconds": wait_seconds}


STOP = _answer("stop")
RELEASE = _answer("release")


def _release(changeset_id: str) -> None:
    for waiting in locks.release(changeset_id):
        wake(waiting, "lås frigitt")


def _end_uncommitted(changeset_id: str, to: Fremdrift, varsel: dict[str, str] | None = None,
                     **fields: Any) -> None:
    """End a changeset whose commit write can no longer happen: remove its pending overlays, show
    validation's result (with why), let go of its locks, then record the end state. Safe to repeat."""
    plan = changesets.plan(changeset_id)
    if plan:
        objects.drop_overlays(changeset_id, [Write(w["nvdbId"], w["versjon"], w["typeId"], None).key()
                                             for w in plan["writes"]])
    validated = changesets.validated_result(changeset_id)
    if validated is not None or varsel:
        resultat = validated or {}
        if varsel and varsel not in resultat.get("feil", []):
            resultat.setdefault("feil", []).append(varsel)
        changesets.save_result(changeset_id, resultat)
    _release(changeset_id)
    if to == F.AVVIST:  # the contract reaches AVVIST from BEHANDLES only
        with contextlib.suppress(TransitionRefused):
            changesets.transition(changeset_id, (F.IKKE_STARTET, F.VENTER), F.BEHANDLES, venteårsak=None)
    with contextlib.suppress(TransitionRefused):  # already ended by an earlier run
        changesets.transition(changeset_id, ACTIVE, to, condition="attribute_not_exists(committed)",
                              venteårsak=None, **fields)


def _cancel_if_asked(meta: dict[str, Any]) -> bool:
    """Honour a cancellation, or a later validation's abort: possible until the commit write, which
    refuses both. Safe to repeat, so any step that finds one finishes it."""
    if meta.get("committed"):
        return False
    if meta.get("kanselleringBestilt"):
        _end_uncommitted(meta["id"], F.KANSELLERT)
        return True
    if isinstance(meta.get("avbrytes"), str):  # a validation's, naming its avvistårsak (a give-up's is True)
        _end_uncommitted(meta["id"], F.AVVIST, avvistårsak=meta["avbrytes"])
        return True
    return False


SYSTEMFEIL_METRIC = "EndringssettAvvistSystemfeil"


def _give_up(changeset_id: str, why: str) -> None:
    """End AVVIST:SYSTEMFEIL with a global varsel saying why, and raise the alarm (metric + log)."""
    meta = changesets.get(changeset_id)
    if meta is None or F(meta["fremdrift"]) in TERMINAL:
        _release(changeset_id)
        return
    logger.error("changeset given up", extra={"endringssettId": changeset_id, "alarm": SYSTEMFEIL_METRIC,
                                              "reason": why})
    observability.measure(SYSTEMFEIL_METRIC)
    # The flag makes the commit write impossible from here on, so removing overlays is safe.
    if changesets.update(changeset_id, condition="attribute_not_exists(committed)", avbrytes=True) is None:
        return  # committed: the change is visible; only post-processing is left undone
    _end_uncommitted(changeset_id, F.AVVIST, avvistårsak=Avvistårsak.SYSTEMFEIL.value, varsel={
        "kode": "SYSTEMFEIL",
        "melding": f"Endringssettet kunne ikke behandles ferdig og er avvist uten at noe er endret: {why}."})


def _uncurable(exc: Exception) -> str | None:
    """Why retrying cannot help, or None for errors worth another try."""
    if isinstance(exc, ClientError) and exc.response["Error"]["Code"] in (
            "ValidationException", "ItemCollectionSizeLimitExceededException"):
        return f"lagringen avviste skrivingen ({exc.response['Error'].get('Message', '')})"
    if isinstance(exc, pydantic.ValidationError | json.JSONDecodeError | UnicodeDecodeError | zlib.error
                  | gzip.BadGzipFile | EOFError):
        return "det lagrede endringssettet kan ikke leses"
    return None


def _guarded(step: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Errors that retrying cannot cure end the changeset instead of looping in VENTER:SYSTEMFEIL."""
    @functools.wraps(step)
    def run(changeset_id: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return step(changeset_id, **kwargs)
        except Exception as exc:
            why = _uncurable(exc)
            if why is None:
                raise
            logger.exception("uncurable error", extra={"endringssettId": changeset_id})
            _give_up(changeset_id, why)
            return RELEASE
    return run


def _backoff(attempt: int) -> int:
    s = get_settings()
    # Cap the exponent: after months of waiting the uncapped power would overflow a float.
    exponent = min(max(0, attempt - 1), 64)
    return max(1, min(s.wait_max_seconds, int(s.wait_first_seconds * s.wait_factor ** exponent)))


def begin(changeset_id: str, **_: Any) -> dict[str, Any]:
    meta = changesets.get(changeset_id)
    if meta is None or F(meta["fremdrift"]) in TERMINAL:
        return STOP
    if meta["fremdrift"] == F.UTFØRT:
        return _answer("postProcess") if meta.get("committed") else STOP  # a dry run ends at UTFØRT
    if _cancel_if_asked(meta):
        return STOP
    return _answer("acquireLocks")


def _overlapped(doc: Endringssett, ctx: Context) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Objects that asked for overlappsautomatikk, with the existing objects they overlap."""
    pairs = []
    for _, objs in doc.operations():
        for o in objs:
            wants = getattr(o, "validering", None) is not None and o.validering.overlappsautomatikk == "JA"
            vt = ctx.catalog.vegobjekttype(o.typeId)
            if wants and vt is not None and not vt.overlapp_tillatt and getattr(o, "stedfesting", None):
                others = overlapping_objects(o, ctx, doc)
                if others:
                    pairs.append((o, others))
    return pairs


def acquire_locks(changeset_id: str, **_: Any) -> dict[str, Any]:
    """Take every lock the changeset needs, or none and wait (VENTER:VENTER_PÅ_LÅS)."""
    meta = changesets.get(changeset_id)
    if meta is None or F(meta["fremdrift"]) in TERMINAL:
        return RELEASE
    if _cancel_if_asked(meta):
        return RELEASE
    if meta["fremdrift"] != F.BEHANDLES:
        meta = changesets.transition(changeset_id, (F.IKKE_STARTET, F.VENTER), F.BEHANDLES, venteårsak=None)
    doc = parse_endringssett(changesets.document(changeset_id))
    if meta.get("ingenLåsing"):  # X-NVDB-DryRun-NoLocking: a dry run that takes no locks
        changesets.update(changeset_id, kontekst=work.store_work(changeset_id, work.read_existing(doc)))
        return _answer("validate")
    # Read before the locks are held, so used for the claims only, never trusted after.
    catalog = reference.current_catalog()

    def claims_of(existing: dict[int, list[dict[str, Any]]]) -> dict[Cell, Claim]:
        return changeset_claims(doc, existing, [v["id"] for _, _, v in cascade_writes(doc, existing, catalog)])

    claims = claims_of(objects.versions_many(sorted(referenced_objects(doc))))
    lease = get_settings().lock_lease_seconds
    if locks.get(changeset_id) is None:
        locks.create_meta(changeset_id, eier=meta["eier"], kind="ENDRINGSSETT", claims=claims, lease_seconds=lease,
                          endringssett_id=changeset_id)
    for _attempt in range(3):
        outcome = locks.acquire(changeset_id, claims, lease)
        if outcome.acquired:
            existing = work.read_existing(doc)  # the one read of existing data this execution; validation
            held = claims  # and effectuation share it
            claims = union(held, claims_of(existing[0]))
            if claims != held:
                # An object moved before we held the locks: lock where it is now too, keeping what we
                # hold, and say so in META first (release and renew go by its cells).
                locks.record_cells(changeset_id, claims)
                continue
            locks.renew(changeset_id, lease)
            token = work.store_work(changeset_id, existing)
            changesets.update(changeset_id, blokkertAv=[], ventForsok=0, ventetFra=0, kontekst=token)
            if meta.get("ventetFra"):
                observability.measure("LaasVentetid", time.time() - float(meta["ventetFra"]), MetricUnit.Seconds)
            return _answer("effectuate" if meta.get("effektueringStartet") else "validate")
        # Announce ourselves to the holders so their release wakes us; a holder that is already
        # gone means try again at once.
        if outcome.blockers and all(locks.add_waiter(b, changeset_id) for b in outcome.blockers):
            break
    for waiting in locks.release(changeset_id):  # we hold nothing while we wait
        wake(waiting, "lås frigitt")
    attempts = int(meta.get("ventForsok") or 0) + 1
    wait = _backoff(attempts)
    if outcome.earliest_expiry:
        wait = max(1, min(wait, outcome.earliest_expiry - int(time.time()) + 1))
    changesets.transition(changeset_id, (F.BEHANDLES,), F.VENTER, venteårsak=Venteårsak.VENTER_PÅ_LÅS.value,
                          blokkertAv=outcome.blockers, ventForsok=attempts,
                          ventetFra=meta.get("ventetFra") or int(time.time()))
    observability.measure("LaasVenting")
    logger.info("waiting for locks", extra={"blockers": outcome.blockers, "waitSeconds": wait})
    return _answer("wait", wait)


def park(changeset_id: str, taskToken: str, reason: str = "", **_: Any) -> dict[str, Any]:
    """Store the task token so a lock release, restart or cancel can resume the changeset at once.
    The state machine then waits without compute until the token comes back or the pause ends."""
    meta = changesets.update(changeset_id, ventToken=taskToken, ventStartet=changesets.now_iso())
    if meta is None:
        return {}
    # A holder may have let go between our conflict check and storing the token: look again.
    blockers_gone = any(not locks.live(locks.get(b)) for b in meta.get("blokkertAv") or [])
    # A committed changeset whose post-processing failed waits in UTFØRT, not VENTER.
    waiting = meta["fremdrift"] == F.VENTER or (meta["fremdrift"] == F.UTFØRT and bool(meta.get("committed")))
    if blockers_gone or not waiting or meta.get("kanselleringBestilt"):
        wake(changeset_id, "ventet ikke lenger")
    return {}


def validate_step(changeset_id: str, **_: Any) -> dict[str, Any]:
    meta = changesets.get(changeset_id)
    if meta is None or meta["fremdrift"] != F.BEHANDLES or _cancel_if_asked(meta):
        return RELEASE
    locks.renew(changeset_id, get_settings().lock_lease_seconds)
    doc = parse_endringssett(changesets.document(changeset_id))
    ctx = work.work_context(changeset_id, meta, doc)
    started = time.perf_counter()
    resultat = validate(doc, ctx)
    cascades = cascade_writes(doc, ctx.existing, ctx.catalog)
    stored_at = rights.sequences_to_read(doc, ctx.existing, cascades) - ctx.network.keys()
    network = {**ctx.network, **reference.veglenkesekvenser(stored_at)} if stored_at else ctx.network
    breaches = rights.check_rights(doc, rights_store.get(meta["eier"]), roles=meta.get("roller", []),
                                   network=network, existing=ctx.existing, catalog=ctx.catalog, cascades=cascades)
    rights.add_to_result(resultat, breaches)
    submission.check_form(doc, meta, resultat)
    observability.measure("ValideringTid", time.perf_counter() - started, MetricUnit.Seconds)
    changesets.save_validated_result(changeset_id, resultat.model_dump(mode="json", exclude_none=True))
    if resultat.har_feil():
        reason = Avvistårsak.IKKE_AUTORISERT if breaches else Avvistårsak.VALIDERINGSFEIL
        try:
            changesets.transition(changeset_id, (F.BEHANDLES,), F.AVVIST, avvistårsak=reason.value,
                                  condition="attribute_not_exists(effektueringStartet)")
        except TransitionRefused:
            # A duplicate execution began effectuating meanwhile: this later validation still stops
            # it before the commit write (which refuses the flag), as a cancellation would.
            meta = changesets.update(changeset_id, condition="fremdrift = :beh AND attribute_not_exists(committed)",
                                     values={":beh": F.BEHANDLES.value}, avbrytes=reason.value)
            if meta is not None:
                _cancel_if_asked(meta)
        return RELEASE
    if meta.get("dryrun"):
        changesets.transition(changeset_id, (F.BEHANDLES,), F.UTFØRT, dryrunFullfort=True)
        return RELEASE
    delay = int(meta.get("forsinkelse") or 0)
    if delay:  # nothing renews the lease during the Wait state: make it outlast the delay
        locks.renew(changeset_id, get_settings().lock_lease_seconds + delay)
    return _answer("delay", delay) if delay else _answer("effectuate")


def effectuate(changeset_id: str, **_: Any) -> dict[str, Any]:
    # Overlays stay invisible until the commit write, so a cancellation is still honoured after this.
    meta = changesets.update(changeset_id, condition=f"fremdrift = :beh AND {NOT_CANCELLED} "
                                                     "AND attribute_not_exists(avbrytes)",
                             values={":beh": F.BEHANDLES.value, ":true": True}, effektueringStartet=True)
    if meta is None:
        meta = changesets.get(changeset_id)
        if meta is not None:
            _cancel_if_asked(meta)
        return RELEASE
    locks.renew(changeset_id, get_settings().lock_lease_seconds)
    doc = parse_endringssett(changesets.document(changeset_id))
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
        ctx = work.work_context(changeset_id, meta, doc)
        made = plan_changeset(doc, ctx.existing, int(first_id or 0), changeset_id, changesets.now_iso(),
                              ctx.catalog, _overlapped(doc, ctx))
        plan = {"writes": [{"nvdbId": w.nvdb_id, "versjon": w.versjon, "typeId": w.type_id, "data": w.data}
                           for w in made.writes],
                "vegobjekter": [r.model_dump(mode="json", exclude_none=True) for r in made.results],
                "notabener": [{"kode": "AUTOMATISK_OPPDATERING", "referanse": str(mother),
                               "melding": f"Datterobjekt {daughter} ble {what} sammen med morobjekt {mother} "
                                          "(komposisjon)."} for mother, daughter, what in made.cascaded]
                + [{"kode": "AUTOMATISK_OPPDATERING", "referanse": str(other),
                    "melding": f"Vegobjekt {other} ble {what} fordi {who} bestilte overlappsautomatikk."}
                   for who, other, what in made.overlap_notes]}
        too_large = _too_large(plan)
        if too_large:
            _end_uncommitted(changeset_id, F.AVVIST, avvistårsak=Avvistårsak.VALIDERINGSFEIL.value,
                             varsel=too_large)
            return RELEASE
        changesets.save_plan(changeset_id, plan)
        # Follow the plan as stored (JSON), exactly as a re-run reads it back.
        plan = json.loads(json.dumps(plan, ensure_ascii=False))
    writes = [Write(w["nvdbId"], w["versjon"], w["typeId"], w["data"]) for w in plan["writes"]]
    objects.write_overlays(changeset_id, writes)
    return _answer("commit")


def _too_large(plan: dict[str, Any]) -> dict[str, str] | None:
    """A version that would not fit beside an overlay (e.g. delvisOppdater grew an object)."""
    for w in plan["writes"]:
        size = len(json.dumps(w["data"], ensure_ascii=False, separators=(",", ":")).encode()) if w["data"] else 0
        if size > objects.MAX_VERSION_BYTES:
            return {"kode": "VEGOBJEKTET_ER_FOR_STORT", "referanse": str(w["nvdbId"]),
                    "melding": f"Versjon {w['versjon']} av vegobjekt {w['nvdbId']} blir {size} byte, men høyst "
                               f"{objects.MAX_VERSION_BYTES} kan lagres. Del opp eller forenkle vegobjektet."}
    return None


def commit(changeset_id: str, **_: Any) -> dict[str, Any]:
    """The single write that makes the whole changeset visible at once. It refuses a cancelled
    changeset (the cancel write refuses a committed one), so exactly one of the two wins."""
    meta = changesets.get(changeset_id)
    if meta is None:
        return STOP
    if meta.get("committed"):
        return _answer("releaseLocks")
    if _cancel_if_asked(meta):
        return RELEASE
    if F(meta["fremdrift"]) in TERMINAL:  # ended by a duplicate execution: nothing left to commit
        return RELEASE
    plan = changesets.plan(changeset_id) or {"vegobjekter": []}
    resultat = changesets.validated_result(changeset_id) or {}
    by_ref = {(r.get("operasjon"), r.get("tempId") or r.get("nvdbId")): r for r in plan["vegobjekter"]}
    for entry in resultat.get("vegobjekter", []):
        done = by_ref.get((entry.get("operasjon"), entry.get("tempId") or entry.get("nvdbId")))
        if done:
            entry.update({k: done[k] for k in ("nvdbId", "versjon") if k in done})  # fjern of all has no versjon
    known = {(n["kode"], n["melding"]) for n in resultat.get("notabener", [])}
    resultat.setdefault("notabener", []).extend(
        n for n in plan.get("notabener", []) if (n["kode"], n["melding"]) not in known)
    changesets.save_committed_result(changeset_id, resultat)  # before the commit write, so UTFØRT shows the ids
    oppdrag = objects.allocate_ids(1, "OPPDRAG")
    try:
        changesets.transition(changeset_id, (F.BEHANDLES,), F.UTFØRT,
                              condition=f"effektueringStartet = :true AND {NOT_CANCELLED} "
                                        "AND attribute_not_exists(avbrytes)",
                              values={":true": True}, committed=True, oppdragId=oppdrag,
                              transaksjonTidspunkt=changesets.now_iso())
    except TransitionRefused:
        meta = changesets.get(changeset_id)
        if meta is None or not _cancel_if_asked(meta):
            raise
        return RELEASE
    return _answer("releaseLocks")


def _fold(changeset_id: str, meta: dict[str, Any]) -> None:
    """Fold a committed changeset's items once (endretEtter finds them from then on). Safe to repeat."""
    if not meta.get("committed") or meta.get("foldet"):
        return
    plan = changesets.plan(changeset_id) or {"writes": []}
    # A lease with half its time left outlasts the fold: nobody else can have written our items.
    held = locks.live(locks.get(changeset_id), time.time() + get_settings().lock_lease_seconds / 2)
    objects.fold_overlays(changeset_id, [Write(w["nvdbId"], w["versjon"], w["typeId"], None).key()
                                         for w in plan["writes"]], held=held)
    changesets.update(changeset_id, foldet=True)


def release_locks(changeset_id: str, **_: Any) -> dict[str, Any]:
    """Let go the moment the work is done, and wake whoever waited on us. A committed changeset
    folds its items first: holding the locks, it may rewrite them in batches without conditions."""
    meta = changesets.get(changeset_id)
    if meta:
        _fold(changeset_id, meta)
    _release(changeset_id)
    return _answer("postProcess") if meta and meta.get("committed") else STOP


def post_process(changeset_id: str, **_: Any) -> dict[str, Any]:
    """Declare the change available on the read side. A failed ReleaseLocks is retried from Begin,
    which comes straight here for a committed changeset: fold and let go here then, first."""
    meta = changesets.get(changeset_id)
    if meta and meta["fremdrift"] == F.UTFØRT:
        _fold(changeset_id, meta)
        _release(changeset_id)
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
        _release(changeset_id)
        return STOP
    attempts = int(meta.get("systemfeilForsok") or 0) + 1
    changesets.update(changeset_id, systemfeilForsok=attempts)
    observability.measure("SystemfeilForsok")
    limit = get_settings().max_system_failures
    if attempts >= limit:
        _give_up(changeset_id, f"behandlingen feilet {attempts} ganger (grensen er {limit})")
        return STOP
    if not meta.get("effektueringStartet"):
        # Nothing of ours is written yet: do not make others wait for our retry.
        _release(changeset_id)
    if meta["fremdrift"] in (F.BEHANDLES, F.IKKE_STARTET):
        with contextlib.suppress(TransitionRefused):
            changesets.transition(changeset_id, (F.BEHANDLES, F.IKKE_STARTET), F.VENTER,
                                  venteårsak=Venteårsak.SYSTEMFEIL.value)
    return _answer("retry", _backoff(attempts))


def _gc_paused(step: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """A step is bounded work that decodes and builds large lists of versions (the document, the
    stored context, the plan, the items), none of it garbage while the step runs: the collector's
    passes over it cost more than the work (gc_paused in models)."""
    @functools.wraps(step)
    def run(changeset_id: str, **kwargs: Any) -> dict[str, Any]:
        with gc_paused():
            return step(changeset_id, **kwargs)
    return run


_STEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "begin": _guarded(begin),
    "acquireLocks": _guarded(acquire_locks),
    "park": park,
    "validate": _guarded(validate_step),
    "effectuate": _guarded(effectuate),
    "commit": _guarded(commit),
    "releaseLocks": release_locks,
    "postProcess": post_process,
    "systemFailure": system_failure,
}
STEPS = {name: _gc_paused(step) for name, step in _STEPS.items()}
