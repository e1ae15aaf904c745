"""Lock storage: one META item per lock and one *cell* item per (object type, veglenkesekvens).

A cell lists the locks holding it (kind, ranges, lease expiry) and carries a version number, so
a claim is a conditional write on exactly the cells that matter. A set of cells is taken in a
fixed order and rolled back on the first conflict: a holder never waits while holding part of
what it needs (all or none, and no deadlocks). Leases that passed their expiry count as gone.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from vegskriv import aws
from vegskriv.changesets.locks import Cell, Claim, conflicts
from vegskriv.settings import get_settings
from vegskriv.store.changesets import now_iso

MAX_CELL_RETRIES = 10


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


def get(lock_id: str) -> dict[str, Any] | None:
    item = _table().get_item(Key=_meta_key(lock_id), ConsistentRead=True).get("Item")
    return _plain(item) if item else None


def live(meta: dict[str, Any] | None, now: float | None = None) -> bool:
    return meta is not None and int(meta["utloper"]) > (now or time.time())


def acquire(lock_id: str, claims: dict[Cell, Claim], lease_seconds: int) -> Outcome:
    """Take every cell or none. Idempotent for the same lock id."""
    table = _table()
    now = time.time()
    expiry = int(now) + lease_seconds
    taken: list[Cell] = []
    for cell in sorted(claims):
        claim = claims[cell]
        for _ in range(MAX_CELL_RETRIES):
            item = table.get_item(Key=_cell_key(cell), ConsistentRead=True).get("Item") or {}
            holders: dict[str, Any] = item.get("h") or {}
            blocking = {other: h for other, h in holders.items()
                        if other != lock_id and int(h["utloper"]) > now
                        and conflicts(claim, Claim(kind=h["kind"], ranges=[tuple(r) for r in json.loads(h["r"])]))}
            if blocking:
                release_cells(lock_id, taken)
                return Outcome(False, sorted(blocking), min(int(h["utloper"]) for h in blocking.values()))
            version = int(item.get("ver", 0))
            try:
                table.update_item(
                    Key=_cell_key(cell),
                    UpdateExpression="SET h = if_not_exists(h, :empty), ver = :next",
                    ConditionExpression="attribute_not_exists(ver) OR ver = :ver",
                    ExpressionAttributeValues={":empty": {}, ":next": version + 1, ":ver": version})
                table.update_item(
                    Key=_cell_key(cell), UpdateExpression="SET h.#id = :claim",
                    ConditionExpression="ver = :next", ExpressionAttributeNames={"#id": lock_id},
                    ExpressionAttributeValues={":next": version + 1, ":claim": {
                        "kind": claim.kind, "r": json.dumps(claim.ranges), "utloper": expiry}})
            except ClientError as exc:
                if not _failed_condition(exc):
                    raise
                continue  # someone changed the cell between our read and write: read again
            taken.append(cell)
            break
        else:
            release_cells(lock_id, taken)
            return Outcome(False, [])
    return Outcome(True)


def renew(lock_id: str, lease_seconds: int) -> None:
    """Extend a live lease (the holder is alive). No-op for a lock that is gone."""
    meta = get(lock_id)
    if meta is None:
        return
    expiry = int(time.time()) + lease_seconds
    table = _table()
    with _ignore_missing():
        table.update_item(Key=_meta_key(lock_id), UpdateExpression="SET utloper = :e",
                          ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":e": expiry})
    for t, v, _, _ in json.loads(meta["celler"]):
        with _ignore_missing():
            table.update_item(Key=_cell_key((t, v)), UpdateExpression="SET h.#id.utloper = :e",
                              ConditionExpression="attribute_exists(h.#id)", ExpressionAttributeNames={"#id": lock_id},
                              ExpressionAttributeValues={":e": expiry})


class _ignore_missing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        return isinstance(exc, ClientError) and _failed_condition(exc)


def release_cells(lock_id: str, cells: list[Cell]) -> None:
    table = _table()
    for cell in cells:
        with _ignore_missing():
            table.update_item(Key=_cell_key(cell), UpdateExpression="REMOVE h.#id",
                              ConditionExpression="attribute_exists(h.#id)", ExpressionAttributeNames={"#id": lock_id})


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
