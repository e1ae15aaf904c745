"""Delivering a changeset submitted through an edition to the edition's owner when it ends.

One element per changeset (its id is the changeset id): a download-queue element the owner pulls,
or a push — an SQS message the delivery function turns into a signed POST, retried with growing
pauses (the message's visibility timeout) until ``PUSH_MAX_ATTEMPTS``, then a dead-letter record
with the last error and the ``LeveringGittOpp`` metric (alarm).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from vegskriv import aws
from vegskriv.auth import Caller
from vegskriv.changesets.models import Fremdrift
from vegskriv.errors import NotFound
from vegskriv.observability import logger, metrics
from vegskriv.services.submission import edition_key
from vegskriv.services.use_cases import administered
from vegskriv.settings import get_settings
from vegskriv.store import changesets
from vegskriv.store import services as store

# spec/services.md: a cancelled changeset has nothing to deliver.
DELIVERED = (Fremdrift.UTFØRT_OG_ETTERBEHANDLET, Fremdrift.AVVIST)
GIVEN_UP_METRIC = "LeveringGittOpp"
SIGNATURE = "X-Vegskriv-Signatur"
MAX_LIST = 500


def changeset_ended(changeset_id: str) -> None:
    """Make the delivery of a changeset submitted through an edition; safe to call again, and for any end."""
    meta = changesets.get(changeset_id)
    if meta is None or not meta.get("tjeneste") or meta["fremdrift"] not in DELIVERED:
        return
    t = meta["tjeneste"]
    key = edition_key(t)
    published = store.version(t["eier"], key, int(t["versjon"]))
    if published is None:  # the edition was deleted permanently since: nobody to deliver to
        logger.warning("edition gone; nothing delivered", extra={"endringssettId": changeset_id})
        return
    method = published.oversendingsmetode.type
    # Listed under the edition's codes now: a derived edition may have changed them since submission.
    tk, uk = store.codes_of(t["eier"], key) or (t["tjenestekode"], t["utgavekode"])
    element = {"elementId": changeset_id, "endringssettId": changeset_id, "tjenestekode": tk, "utgavekode": uk,
               "utgaveId": key, "versjon": int(t["versjon"]), "fremdrift": meta["fremdrift"],
               **({"avvistårsak": meta["avvistårsak"]} if meta.get("avvistårsak") else {}),
               "oversendingsmetode": method, "opprettet": datetime.now(UTC).isoformat(timespec="microseconds")}
    created = store.put_element(t["eier"], element, queued=method == "NEDLASTINGSKØ")
    if method == "PUSH":
        current = store.get_element(t["eier"], changeset_id)
        # Re-sent while undelivered: a message lost between the write and the send is not lost for good.
        if created or (current and current["levering"]["status"] == "VENTER"):
            aws.client("sqs").send_message(QueueUrl=get_settings().delivery_queue_url,
                                           MessageBody=json.dumps({"eier": t["eier"], "elementId": changeset_id}))


def _attachments(doc: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for op, group in doc.items():
        for o in group.get("vegobjekter", []) if isinstance(group, dict) else []:
            for e in o.get("egenskaper", []):
                for b in e.get("binærobjekt") or []:
                    found.append({**b, "egenskapTypeId": e["typeId"], "operasjon": op,
                                  "referanse": str(o.get("tempId") or o.get("nvdbId"))})
    return found


def full_item(owner: str, element: dict[str, Any]) -> dict[str, Any]:
    """The element with the changeset, its final result and its attachments (what is downloaded or pushed)."""
    doc = changesets.document(element["endringssettId"])
    meta = changesets.get(element["endringssettId"]) or {}
    resultat = changesets.result(element["endringssettId"], committed=bool(meta.get("committed")))
    return {**element, "endringssett": doc, "resultat": resultat or {},
            "vedlegg": _attachments(doc)}


def signature(key: str, body: bytes) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


class RetryLater(Exception):
    pass


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as answer:
        if not 200 <= answer.status < 300:
            raise RuntimeError(f"HTTP {answer.status}")


def push(owner: str, element_id: str, attempt: int, receipt_handle: str | None = None) -> None:
    """One try at a push. Raises RetryLater (after lengthening the message's pause) while tries remain."""
    element = store.get_element(owner, element_id)
    if element is None or element["levering"]["status"] != "VENTER":
        return  # a duplicate message for a delivered (or given-up) element
    t = element
    published = store.version(owner, t.get("utgaveId") or f"{t['tjenestekode']}#{t['utgavekode']}", int(t["versjon"]))
    url = str(published.oversendingsmetode.url) if published and published.oversendingsmetode.url else None
    item = full_item(owner, {k: v for k, v in element.items() if k != "levering"})
    body = json.dumps(item, ensure_ascii=False, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": element_id,
               SIGNATURE: signature(store.signing_key(owner), body)}
    try:
        if url is None:
            raise RuntimeError("utgaven har ingen push-url")
        _post(url, body, headers)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        settings = get_settings()
        if attempt >= settings.push_max_attempts:
            store.mark_delivery(owner, element_id, "DØD", attempt, error)
            logger.error("push given up", extra={"elementId": element_id, "alarm": GIVEN_UP_METRIC, "error": error})
            metrics.add_metric(name=GIVEN_UP_METRIC, unit=MetricUnit.Count, value=1)
            metrics.flush_metrics()
            return
        store.mark_delivery(owner, element_id, "VENTER", attempt, error)
        pause = min(43200, settings.push_first_pause_seconds * 2 ** (attempt - 1))
        if receipt_handle:  # the growing pause: the message becomes visible again after it
            aws.client("sqs").change_message_visibility(QueueUrl=settings.delivery_queue_url,
                                                        ReceiptHandle=receipt_handle, VisibilityTimeout=pause)
        raise RetryLater(f"forsøk {attempt} feilet ({error}); neste om {pause} s") from exc
    store.mark_delivery(owner, element_id, "LEVERT", attempt)


# --- the owner's side: download queue and signing key (administrators only; others get 404) -----


def _administered(who: Caller, eier: str) -> None:
    administered(who, eier)  # the same 404 as for the owner's editions


def list_queue(who: Caller, eier: str, antall: int, tjenestekode: str | None) -> list[dict[str, Any]]:
    _administered(who, eier)
    return store.list_queue(eier, min(antall, MAX_LIST), tjenestekode)


def _element(eier: str, element_id: str) -> dict[str, Any]:
    element = store.get_element(eier, element_id)
    if element is None:
        raise NotFound(f"Element {element_id} finnes ikke i nedlastingskøen til {eier}")
    return element


def get_item(who: Caller, eier: str, element_id: str) -> dict[str, Any]:
    """A queued element (or a pushed one, with its delivery status) with changeset, result and attachments."""
    _administered(who, eier)
    return full_item(eier, _element(eier, element_id))


def purge(who: Caller, eier: str, element_id: str) -> None:
    _administered(who, eier)
    store.purge_element(eier, _element(eier, element_id))


def signing_key(who: Caller, eier: str, *, rotate: bool) -> dict[str, str]:
    _administered(who, eier)
    return {"nøkkel": store.signing_key(eier, rotate=rotate), "algoritme": "HMAC-SHA256", "header": SIGNATURE}
