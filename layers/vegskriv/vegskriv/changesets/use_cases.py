"""Changeset use cases behind the HTTP API: register, start, cancel, restart, status, search."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

from vegskriv import aws
from vegskriv.auth import Caller
from vegskriv.changesets import limits
from vegskriv.changesets.dispatch import wake
from vegskriv.changesets.models import TERMINAL, Endringssett, Fremdrift, Resultat, Status
from vegskriv.errors import Conflict, NotFound, TransitionRefused
from vegskriv.observability import measure
from vegskriv.settings import get_settings
from vegskriv.store import changesets
from vegskriv.store import locks as lock_store

F = Fremdrift


def register(doc: Endringssett, raw: dict[str, Any], caller: Caller, *, dryrun: bool,
             delay_seconds: int | None, tjeneste: str | None = None, nolocking: bool = False) -> dict[str, Any]:
    limits.check(doc, raw)
    changeset_id = str(uuid.uuid4())
    meta = {"eier": caller.user, "roller": sorted(caller.roles), "dryrun": dryrun,
            "antallVegobjekter": doc.antall_vegobjekter(),
            "datakatalogversjon": doc.datakatalogversjon}
    if caller.client:
        meta["klient"] = caller.client
    if doc.eksternRef:
        meta["eksternRef"] = doc.eksternRef
    if delay_seconds:
        meta["forsinkelse"] = delay_seconds
    if nolocking:  # X-NVDB-DryRun-NoLocking: a dry run (dryrun is set too) without locks
        meta["ingenLåsing"] = True
    if tjeneste is not None:  # X-NVDB-Tjeneste: the edition and the published version that apply
        from vegskriv.services import submission  # the services context, only for its submissions

        meta["tjeneste"] = submission.accepting(tjeneste)
    created = changesets.create(changeset_id, meta, raw)
    measure("EndringssettRegistrert", dryrun=str(dryrun).lower())
    measure("VegobjekterPerEndringssett", meta["antallVegobjekter"])
    return created


def load(changeset_id: str, caller: Caller, *, act: bool = False) -> dict[str, Any]:
    """The changeset, if the caller may see it. Another user's id answers 404, exactly like an
    unknown id, so ids cannot be probed."""
    meta = changesets.get(changeset_id)
    allowed = meta is not None and (caller.may_act_on(meta["eier"]) if act else caller.may_read(meta["eier"]))
    if meta is None or not allowed:
        raise NotFound(f"Endringssett {changeset_id} finnes ikke")
    return meta


def start(changeset_id: str, caller: Caller) -> dict[str, Any]:
    meta = load(changeset_id, caller, act=True)
    state = F(meta["fremdrift"])
    if state in TERMINAL or state == F.UTFØRT:
        raise Conflict(f"Endringssett {changeset_id} kan ikke startes: fremdrift er {state.value}")
    if state != F.IKKE_STARTET:
        return meta  # already started and still active: starting again is a no-op
    # Send first, then record: a duplicate message is harmless (the execution is named by the
    # changeset id), a lost one would strand the changeset. A queued changeset is BEHANDLES.
    aws.client("sqs").send_message(QueueUrl=get_settings().start_queue_url,
                                   MessageBody=json.dumps({"endringssettId": changeset_id}))
    try:
        started = changesets.transition(changeset_id, (F.IKKE_STARTET,), F.BEHANDLES, startBestilt=True)
        measure("EndringssettStartet")
        return started
    except TransitionRefused:  # a concurrent start (no-op) or cancel (409) came first
        current = changesets.get(changeset_id) or meta
        if current["fremdrift"] == F.KANSELLERT:
            raise Conflict(f"Endringssett {changeset_id} kan ikke startes: fremdrift er KANSELLERT") from None
        return current


def cancel(changeset_id: str, caller: Caller) -> dict[str, Any]:
    """Cancel until the commit write. Overlays are invisible until then, so the workflow can remove
    them; the commit write refuses a cancelled changeset and this write a committed one, so exactly
    one of them wins."""
    meta = load(changeset_id, caller, act=True)
    state = F(meta["fremdrift"])
    if state in TERMINAL or state == F.UTFØRT or meta.get("committed"):
        raise Conflict(f"Endringssett {changeset_id} kan ikke kanselleres: fremdrift er {state.value}"
                       + (" og endringene er skrevet" if meta.get("committed") else ""))
    if state in (F.IKKE_STARTET, F.VENTER) and not meta.get("effektueringStartet"):
        with contextlib.suppress(TransitionRefused):  # lost a race: fall through to the flag
            cancelled = changesets.transition(changeset_id, (F.IKKE_STARTET, F.VENTER), F.KANSELLERT,
                                              condition="attribute_not_exists(effektueringStartet)",
                                              kanselleringBestilt=True, venteårsak=None)
            wake(changeset_id, "kansellert")  # a parked execution ends now instead of after its pause
            return cancelled
    # Processing, or overlays may be written: the workflow removes them and ends it KANSELLERT.
    updated = changesets.update(changeset_id, condition="attribute_not_exists(committed) AND fremdrift IN (:a, :b, :c)",
                                values={":a": "IKKE_STARTET", ":b": "VENTER", ":c": "BEHANDLES"},
                                kanselleringBestilt=True)
    if updated is None:
        current = changesets.get(changeset_id) or meta
        raise Conflict(f"Endringssett {changeset_id} kan ikke kanselleres: fremdrift er {current['fremdrift']}"
                       + (" og endringene er skrevet" if current.get("committed") else ""))
    wake(changeset_id, "kansellert")
    return updated


def restart(changeset_id: str, caller: Caller) -> dict[str, Any]:
    meta = load(changeset_id, caller, act=True)
    if meta["fremdrift"] != F.VENTER:
        raise Conflict(f"Endringssett {changeset_id} venter ikke (fremdrift er {meta['fremdrift']}); "
                       "bare endringssett som VENTER kan startes på nytt")
    if not wake(changeset_id, "restart"):
        raise Conflict(f"Endringssett {changeset_id} er i ferd med å gå i venting; prøv igjen om et sekund")
    return meta


def retry_after(meta: dict[str, Any]) -> int | None:
    """The polling key from the contract, stated as a Retry-After header on fremdrift."""
    state = meta["fremdrift"]
    if state == F.BEHANDLES:
        return 1
    if state == F.VENTER:
        return 60 if meta.get("harVaertBehandlet") else 1
    if state == F.UTFØRT:
        return None if meta.get("dryrun") else 60  # a dry run ends at UTFØRT
    return None


def fremdrift_og_aarsak(meta: dict[str, Any]) -> str:
    state = meta["fremdrift"]
    reason = meta.get("venteårsak") if state == F.VENTER else meta.get("avvistårsak") if state == F.AVVIST else None
    return f"{state}:{reason}" if reason else state


def status(meta: dict[str, Any], links: list[dict[str, str]], *, include_result: bool,
           include_warnings: bool) -> Status:
    resultat = None
    if include_result:
        raw = changesets.result(meta["id"], committed=bool(meta.get("committed")))
        resultat = Resultat.model_validate(raw) if raw else Resultat()
        if not include_warnings:
            resultat.advarsler, resultat.notabener = [], []
            for o in resultat.vegobjekter:
                o.advarsler, o.notabener = [], []
    return Status(
        mottatt=meta["mottatt"], fremdrift=meta["fremdrift"], fremdriftOppdatert=meta["fremdriftOppdatert"],
        venteårsak=meta.get("venteårsak") if meta["fremdrift"] == F.VENTER else None,
        blokkerendeLåser=_blocking(meta) if meta["fremdrift"] == F.VENTER and meta.get("blokkertAv") else None,
        avvistårsak=meta.get("avvistårsak") if meta["fremdrift"] == F.AVVIST else None,
        kanselleringBestilt=bool(meta.get("kanselleringBestilt")),
        behandlingsparametere={"dryrun": bool(meta.get("dryrun")), "forsinkelse": meta.get("forsinkelse")},
        etterbehandling={"tilgjengeligILes": bool(meta.get("tilgjengeligILes"))},
        resultat=resultat, eier=meta["eier"], klient=meta.get("klient"),
        transaksjon={"oppdragId": meta.get("oppdragId"), "tidspunkt": meta.get("transaksjonTidspunkt")}
        if meta.get("committed") else None,
        ressurser=links)


def _blocking(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The locks a waiting changeset waits for, with their holders (a lock gone since shows its id only)."""
    shown = []
    for lock_id in meta["blokkertAv"]:
        held = lock_store.get(lock_id)
        lock = lock_store.present(held) if held else {"id": lock_id}
        shown.append({k: lock.get(k) for k in ("id", "eier", "type", "endringssettId", "utløper")})
    return shown


def search(caller: Caller, *, antall: int, start: int, ascending: bool, from_ms: int | None, to_ms: int | None,
           status_filter: str | None, aarsak: str | None,
           user_or_client: str | None) -> tuple[int, list[dict[str, Any]]]:
    matches = []
    for meta in changesets.scan_by_time(from_ms=from_ms, to_ms=to_ms, ascending=ascending):
        if not caller.may_read(meta["eier"]):
            continue
        if status_filter and meta["fremdrift"] != status_filter:
            continue
        if aarsak and aarsak not in (meta.get("venteårsak"), meta.get("avvistårsak")):
            continue
        if user_or_client and user_or_client not in (meta["eier"], meta.get("klient")):
            continue
        matches.append(meta)
    return len(matches), matches[start - 1:start - 1 + antall]
