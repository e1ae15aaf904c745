"""Lock storage: one META item per lock and one *cell* item per (object type, veglenkesekvens).

A cell lists the locks holding it (kind, ranges, lease expiry) and carries a version number that
every write of the cell bumps, so a claim is a conditional write on exactly the cells that matter.
The cells of a claim are read in one BatchGetItem and written in one transaction (up to 100 cells
each; larger sets go in a fixed order and are rolled back on the first conflict): a holder never
waits while holding part of what it needs (all or none, and no deadlocks). Leases that passed
their expiry count as gone. Renewing and releasing are one transaction per 100 cells as well.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr
from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from vegskriv import aws
from vegskriv.changesets.locks import Cell, Claim, conflicts
from vegskriv.settings import get_settings
from vegskriv.store.batch import get_many
from vegskriv.store.changesets import now_iso

MAX_CELL_RETRIES = 10
TRANSACTION_ITEMS = 100  # DynamoDB's limit per TransactWriteItems
serialize = TypeSerializer().serialize


def _table() -> Any:
    return aws.table(get_settings().locks_table)


def _meta_key(lock_id: str) -> dict[str, str]:
    return {"pk": f"LAS#{lock_id}", "sk": "META"}


def _cell_key(cell: Cell) -> dict[str, str]:
    return {"pk": f"CELLE#{cell[0]}#{cell[1]}", "sk": "CELLE"}


def _failed_condition(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


@dataclass
class Outcome:
    acquired: bool
    blockers: list[str] = field(default_factory=list)
    earliest_expiry: int | None = None  # epoch seconds when the first blocking lease runs out


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    result = {}
    for key, value in item.items():
        if type(value).__name__ == "Decimal":
            value = int(value)
        elif isinstance(value, set):
            value = sorted(value)
        result[key] = value
    return result


def create_meta(lock_id: str, *, eier: str, kind: str, claims: dict[Cell, Claim], lease_seconds: int,
                endringssett_id: str | None = None, oppdrag_id: int | None = None) -> dict[str, Any]:
    item = {**_meta_key(lock_id), "id": lock_id, "eier": eier, "type": kind, "opprettet": now_iso(),
            "utloper": int(time.time()) + lease_seconds,
            "celler": json.dumps([[c[0], c[1], claim.kind, claim.ranges] for c, claim in sorted(claims.items())])}
    if endringssett_id:
        item["endringssettId"] = endringssett_id
    if oppdrag_id is not None:
        item["oppdragId"] = oppdrag_id
    _table().put_item(Item=item)
    return _plain(item)


def record_cells(lock_id: str, claims: dict[Cell, Claim]) -> None:
    """Say in META every cell the lock may hold, before taking them: renew and release go by it."""
    _table().update_item(Key=_meta_key(lock_id), UpdateExpression="SET celler = :c",
                         ExpressionAttributeValues={":c": json.dumps(
                             [[c[0], c[1], claim.kind, claim.ranges] for c, claim in sorted(claims.items())])})


def get(lock_id: str) -> dict[str, Any] | None:
    item = _table().get_item(Key=_meta_key(lock_id), ConsistentRead=True).get("Item")
    return _plain(item) if item else None


def live(meta: dict[str, Any] | None, now: float | None = None) -> bool:
    return meta is not None and int(meta["utloper"]) > (now or time.time())


def _transact(updates: list[dict[str, Any]]) -> list[int] | None:
    """One TransactWriteItems of these Update requests (plain values): [] when all were written;
    else nothing was, and the indexes of those whose condition failed (None: none did, a
    concurrent transaction on the same cells cancelled it)."""
    table = get_settings().locks_table
    wire = [{"Update": {**u, "TableName": table, "Key": {k: serialize(v) for k, v in u["Key"].items()},
                        **({"ExpressionAttributeValues": {k: serialize(v) for k, v in
                                                          u["ExpressionAttributeValues"].items()}}
                           if "ExpressionAttributeValues" in u else {})}} for u in updates]
    try:
        aws.client("dynamodb").transact_write_items(TransactItems=wire)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons") or []
        return [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"] or None
    return []


def _bump(update: str, lock_id: str, condition: str, values: dict[str, Any], cell: Cell) -> dict[str, Any]:
    return {"Key": _cell_key(cell), "UpdateExpression": f"{update} ADD ver :one",
            "ConditionExpression": condition, "ExpressionAttributeNames": {"#id": lock_id},
            "ExpressionAttributeValues": {":one": 1, **values}}


def _on_held_cells(lock_id: str, cells: list[Cell], update: str, values: dict[str, Any]) -> None:
    """Apply ``update`` to this lock's entry in each cell that still has it (others are skipped)."""
    for chunk in [cells[i:i + TRANSACTION_ITEMS] for i in range(0, len(cells), TRANSACTION_ITEMS)]:
        for _ in range(MAX_CELL_RETRIES):
            failed = _transact([_bump(update, lock_id, "attribute_exists(h.#id)", values, c) for c in chunk])
            if failed == []:
                break
            if failed is not None:  # those cells no longer hold the lock: the rest again, if any
                chunk = [c for i, c in enumerate(chunk) if i not in failed]
                if not chunk:
                    break
        else:
            raise RuntimeError(f"låsen {lock_id}: cellene endret seg {MAX_CELL_RETRIES} ganger under skriving")


def _take(lock_id: str, cells: list[Cell], claims: dict[Cell, Claim], expiry: int, now: float) -> Outcome | None:
    """Take these (≤100) cells in one transaction: an Outcome, or None if a cell changed meanwhile."""
    found = {(int(i["pk"].split("#")[1]), int(i["pk"].split("#")[2])): i
             for i in get_many(get_settings().locks_table, [_cell_key(c) for c in cells])}
    updates = []
    blocking: dict[str, Any] = {}
    for cell in cells:
        item = found.get(cell) or {}
        holders: dict[str, Any] = dict(item.get("h") or {})
        blocking |= {other: h for other, h in holders.items()
                     if other != lock_id and int(h["utloper"]) > now
                     and conflicts(claims[cell], Claim(kind=h["kind"], ranges=[tuple(r) for r in json.loads(h["r"])]))}
        holders[lock_id] = {"kind": claims[cell].kind, "r": json.dumps(claims[cell].ranges), "utloper": expiry}
        # The whole holder map is written under the version read: any write since then cancels it.
        version = item.get("ver")
        updates.append({"Key": _cell_key(cell), "UpdateExpression": "SET h = :h ADD ver :one",
                        "ConditionExpression": "attribute_not_exists(ver)" if version is None else "ver = :ver",
                        "ExpressionAttributeValues": {":h": holders, ":one": 1,
                                                      **({} if version is None else {":ver": int(version)})}})
    if blocking:
        return Outcome(False, sorted(blocking), min(int(h["utloper"]) for h in blocking.values()))
    return Outcome(True) if _transact(updates) == [] else None


def acquire(lock_id: str, claims: dict[Cell, Claim], lease_seconds: int) -> Outcome:
    """Take every cell or none. Idempotent for the same lock id."""
    now = time.time()
    expiry = int(now) + lease_seconds
    ordered = sorted(claims)
    taken: list[Cell] = []
    for chunk in [ordered[i:i + TRANSACTION_ITEMS] for i in range(0, len(ordered), TRANSACTION_ITEMS)]:
        for _ in range(MAX_CELL_RETRIES):
            outcome = _take(lock_id, chunk, claims, expiry, now)
            if outcome is not None:
                break  # else someone changed a cell between our read and write: read again
        if outcome is None or not outcome.acquired:
            release_cells(lock_id, taken)
            return outcome or Outcome(False, [])
        taken += chunk
    return Outcome(True)


def renew(lock_id: str, lease_seconds: int) -> None:
    """Extend a live lease (the holder is alive). No-op for a lock that is gone."""
    meta = get(lock_id)
    if meta is None:
        return
    expiry = int(time.time()) + lease_seconds
    with _ignore_missing():
        _table().update_item(Key=_meta_key(lock_id), UpdateExpression="SET utloper = :e",
                             ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":e": expiry})
    _on_held_cells(lock_id, [(t, v) for t, v, _, _ in json.loads(meta["celler"])], "SET h.#id.utloper = :e",
                   {":e": expiry})


class _ignore_missing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        return isinstance(exc, ClientError) and _failed_condition(exc)


def release_cells(lock_id: str, cells: list[Cell]) -> None:
    _on_held_cells(lock_id, cells, "REMOVE h.#id", {})


def release(lock_id: str) -> list[str]:
    """Drop the lock; returns the changesets that were waiting on it (to be woken)."""
    table = _table()
    old = table.delete_item(Key=_meta_key(lock_id), ReturnValues="ALL_OLD").get("Attributes")
    if not old:
        return []
    release_cells(lock_id, [(t, v) for t, v, _, _ in json.loads(old["celler"])])
    return sorted(old.get("ventende") or [])


def add_waiter(lock_id: str, changeset_id: str) -> bool:
    """Record that a changeset waits on this lock. False if the lock is already gone."""
    try:
        _table().update_item(Key=_meta_key(lock_id), UpdateExpression="ADD ventende :cs",
                             ConditionExpression="attribute_exists(pk)",
                             ExpressionAttributeValues={":cs": {changeset_id}})
    except ClientError as exc:
        if _failed_condition(exc):
            return False
        raise
    return True


def search(*, eier: str | None = None, oppdrag_id: int | None = None) -> list[dict[str, Any]]:
    table = _table()
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"FilterExpression": Attr("sk").eq("META")}
    if eier is not None:
        kwargs["FilterExpression"] &= Attr("eier").eq(eier)
    if oppdrag_id is not None:
        kwargs["FilterExpression"] &= Attr("oppdragId").eq(oppdrag_id)
    while True:
        page = table.scan(**kwargs)
        items.extend(_plain(i) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda i: i["opprettet"])


def new_id() -> str:
    return str(uuid.uuid4())


def present(meta: dict[str, Any]) -> dict[str, Any]:
    """The API shape of a lock."""
    cells = json.loads(meta["celler"])
    types: dict[int, str] = {}
    for t, _, kind, _ in cells:
        types[t] = "NORMAL" if "NORMAL" in (types.get(t), kind) else kind
    stretches = sorted({(v, fra, til) for _, v, _, ranges in cells for fra, til in ranges})
    return {"id": meta["id"], "eier": meta["eier"], "type": meta["type"], "oppdragId": meta.get("oppdragId"),
            "endringssettId": meta.get("endringssettId"), "opprettet": meta["opprettet"],
            "utløper": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(meta["utloper"]))),
            "vegobjekttyper": [{"typeId": t, "låstype": k} for t, k in sorted(types.items())],
            "stedfesting": [{"veglenkesekvensNvdbId": v, "fra": fra, "til": til} for v, fra, til in stretches],
            "blokkerer": meta.get("ventende") or []}
