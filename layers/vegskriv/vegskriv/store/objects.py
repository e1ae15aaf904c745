"""Object versions with all-or-nothing visibility.

Each version is one item (pk ``O#<nvdbId>``, sk ``V#<versjon>``). A changeset never overwrites
what readers see: it writes a *pending* overlay ``{cs, data}`` on the items it changes (new
versions have only the overlay). The changeset's single commit write flips every overlay to
visible at once, because readers resolve an overlay by asking whether its changeset committed.
Post-processing then folds overlays into the items; that is idempotent and invisible to readers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from vegskriv import aws
from vegskriv.settings import get_settings
from vegskriv.store import changesets

DELETED = "__fjernet__"
# Largest version JSON we store: an item holds a version and its pending overlay, and DynamoDB
# items end at 400 KB (409,600 bytes, attribute names included); the rest is keys and names.
MAX_VERSION_BYTES = 200_000


def _table() -> Any:
    return aws.table(get_settings().objects_table)


def object_pk(nvdb_id: int) -> str:
    return f"O#{nvdb_id}"


def version_sk(versjon: int) -> str:
    return f"V#{versjon:06d}"


def object_key(nvdb_id: int, versjon: int) -> str:
    return f"{nvdb_id:015d}#{versjon:06d}"


@dataclass(frozen=True)
class Write:
    """One overlay the effectuation writes: the new content of a version, or DELETED."""

    nvdb_id: int
    versjon: int
    type_id: int
    data: dict[str, Any] | None  # None = remove the version

    def key(self) -> dict[str, str]:
        return {"pk": object_pk(self.nvdb_id), "sk": version_sk(self.versjon)}


class OverlayConflict(Exception):
    """Another uncommitted changeset holds an overlay on the same version."""


def _resolve(items: list[dict[str, Any]], committed: Callable[[str], bool]) -> list[dict[str, Any] | None]:
    """Visible content of each item, deciding every changeset once for the whole answer.

    An answer may span several reads while a commit and its fold happen. Commits only ever go
    one way, so a changeset counts as committed if any item shows it (folded content names its
    changeset) or the commit check says so; then all of its overlays in the answer are visible.
    """
    decided: dict[str, bool] = {item["cs"]: True for item in items if item.get("cs") and item.get("data")}
    for item in items:
        pending = item.get("pending")
        if pending and pending["cs"] not in decided:
            decided[pending["cs"]] = committed(pending["cs"])
    visible: list[dict[str, Any] | None] = []
    for item in items:
        pending = item.get("pending")
        raw = pending["data"] if pending and decided[pending["cs"]] else item.get("data")
        visible.append(None if raw is None or raw == DELETED else json.loads(raw))
    return visible


def versions(nvdb_id: int, *, committed: Callable[[str], bool] = changesets.is_committed) -> list[dict[str, Any]]:
    """Every visible version of an object, oldest first."""
    items = _table().query(KeyConditionExpression=Key("pk").eq(object_pk(nvdb_id)),
                           ConsistentRead=True)["Items"]
    return [v for v in _resolve(items, committed) if v is not None]


def versions_many(nvdb_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    return {n: versions(n) for n in nvdb_ids}


def list_by_type(type_id: int, *, after_nvdb_id: int | None, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """Current (newest visible) version of objects of one type, ordered by nvdbId, with a cursor.

    Reads the versions of up to ``limit`` objects, then resolves visibility once for all of them;
    objects that are not visible (yet) are left out of the page, so a page may hold fewer.
    """
    kwargs: dict[str, Any] = {"IndexName": "ByType", "KeyConditionExpression": Key("typeId").eq(type_id)}
    if after_nvdb_id is not None:
        kwargs["KeyConditionExpression"] &= Key("objektNokkel").gt(object_key(after_nvdb_id, 999_999))
    items: list[dict[str, Any]] = []
    seen: list[int] = []
    cursor: int | None = None
    while cursor is None:
        page = _table().query(**kwargs)
        for item in page["Items"]:
            nvdb_id = int(item["nvdbId"])
            if not seen or seen[-1] != nvdb_id:
                if len(seen) == limit:
                    cursor = seen[-1]
                    break
                seen.append(nvdb_id)
            items.append(item)
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    latest: dict[int, dict[str, Any]] = {}
    for item, data in zip(items, _resolve(items, changesets.is_committed), strict=True):
        if data is not None:
            latest[int(item["nvdbId"])] = data
    return [latest[n] for n in seen if n in latest], cursor


def _location_index(table: Any, type_id: int, nvdb_id: int, data: dict[str, Any] | None) -> None:
    """Candidates for 'which objects of this type lie on this sequence' (overlap checks). Entries
    are never removed: readers check the object's current location, so stale ones cost a read."""
    sequences = {e["veglenkesekvensNvdbId"] for kind in ("punkt", "linje")
                 for e in ((data or {}).get("stedfesting") or {}).get(kind) or []}
    for vls in sequences:
        table.put_item(Item={"pk": f"STED#{type_id}#{vls}", "sk": object_pk(nvdb_id), "nvdbId": nvdb_id})


def on_sequence(type_id: int, vls: int) -> list[int]:
    items = _table().query(KeyConditionExpression=Key("pk").eq(f"STED#{type_id}#{vls}"))["Items"]
    return [int(i["nvdbId"]) for i in items]


def import_versions(versions: list[dict[str, Any]]) -> int:
    """Load existing object versions as they are (migration from another NVDB, test fixtures)."""
    table = _table()
    for v in versions:
        table.put_item(Item={"pk": object_pk(v["id"]), "sk": version_sk(v["versjon"]), "nvdbId": v["id"],
                             "versjon": v["versjon"], "typeId": v["typeId"],
                             "objektNokkel": object_key(v["id"], v["versjon"]), "cs": "import",
                             "data": json.dumps(v, ensure_ascii=False, separators=(",", ":"))})
        _location_index(table, v["typeId"], v["id"], v)
    return len(versions)


def _apply(table: Any, op: dict[str, Any]) -> None:
    """One conditional write ({"Update": ...} or {"Delete": ...}). Writes go one by one, not in
    transactions: visibility comes from the commit write anyway, and moto copies the whole table
    for every transaction item, which made the local stack quadratic in the changeset size.
    Kept separate so fault-injection tests can cut in."""
    (kind, args), = op.items()
    args = {k: v for k, v in args.items() if k != "TableName"}
    if kind == "Update":
        table.update_item(**args)
    else:
        table.delete_item(**args)


def _conditional_writes(table: Any, ops: list[dict[str, Any]], conflict: str) -> None:
    for op in ops:
        try:
            _apply(table, op)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise OverlayConflict(conflict) from exc
            raise


def write_overlays(changeset_id: str, writes: list[Write]) -> None:
    """Write the pending overlays of a changeset, each a conditional write. Safe to repeat: the
    condition admits our own overlay, so a re-run after a crash rewrites the same content."""
    table = _table()
    latest = {(w.nvdb_id, w.versjon): w for w in writes}  # one write per version; the last wins
    items = []
    for w in latest.values():
        data = DELETED if w.data is None else json.dumps(w.data, ensure_ascii=False, separators=(",", ":"))
        items.append({"Update": {
            "TableName": table.name, "Key": w.key(),
            "UpdateExpression": "SET pending = :p, nvdbId = :n, versjon = :v, typeId = :t, objektNokkel = :k",
            "ConditionExpression": "attribute_not_exists(pending) OR pending.cs = :cs",
            "ExpressionAttributeValues": ({":p": {"cs": changeset_id, "data": data}, ":n": w.nvdb_id,
                                                 ":v": w.versjon, ":t": w.type_id, ":cs": changeset_id,
                                                 ":k": object_key(w.nvdb_id, w.versjon)})}})
    _conditional_writes(table, items, "et vegobjekt i endringssettet endres samtidig av et annet endringssett")
    with table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
        for w in latest.values():
            _location_index(batch, w.type_id, w.nvdb_id, w.data)


def _get_many(table: Any, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        request: dict[str, Any] = {table.name: {"Keys": keys[start:start + 100], "ConsistentRead": True}}
        while request:
            answer = aws.dynamodb().batch_get_item(RequestItems=request)
            found.extend(answer["Responses"].get(table.name, []))
            request = answer.get("UnprocessedKeys") or {}
    return found


def fold_overlays(changeset_id: str, keys: list[dict[str, str]]) -> None:
    """After commit: make overlays the items' own content. Idempotent; readers see no difference."""
    table = _table()
    unique = list({(k["pk"], k["sk"]): k for k in keys}.values())
    items = []
    for item in _get_many(table, unique):
        pending = item.get("pending")
        if not pending or pending["cs"] != changeset_id:
            continue  # already folded
        key = {"pk": item["pk"], "sk": item["sk"]}
        condition: dict[str, Any] = {"ConditionExpression": "pending.cs = :cs",
                                     "ExpressionAttributeValues": ({":cs": changeset_id})}
        if pending["data"] == DELETED:
            items.append({"Delete": {"TableName": table.name, "Key": key, **condition}})
        else:
            condition["ExpressionAttributeValues"].update({":d": pending["data"]})
            items.append({"Update": {"TableName": table.name, "Key": key,
                                     "UpdateExpression": "SET #d = :d, cs = :cs REMOVE pending",
                                     "ExpressionAttributeNames": {"#d": "data"}, **condition}})
    _conditional_writes(table, items, "overlegget ble endret under etterbehandlingen")



def drop_overlays(changeset_id: str, keys: list[dict[str, str]]) -> None:
    """Remove the pending overlays of a changeset that will never commit (cancelled, rejected).
    Idempotent; a version that exists only as our overlay goes entirely."""
    table = _table()
    unique = list({(k["pk"], k["sk"]): k for k in keys}.values())
    items = []
    for item in _get_many(table, unique):
        pending = item.get("pending")
        if not pending or pending["cs"] != changeset_id:
            continue
        key = {"pk": item["pk"], "sk": item["sk"]}
        condition: dict[str, Any] = {"ConditionExpression": "pending.cs = :cs",
                                     "ExpressionAttributeValues": {":cs": changeset_id}}
        if "data" in item:
            items.append({"Update": {"TableName": table.name, "Key": key, "UpdateExpression": "REMOVE pending",
                                     **condition}})
        else:
            items.append({"Delete": {"TableName": table.name, "Key": key, **condition}})
    _conditional_writes(table, items, "overlegget ble endret mens det ble fjernet")


def allocate_ids(count: int, counter: str = "NVDBID") -> int:
    """Reserve ``count`` new ids from a counter; returns the first. Callers store what they got
    to stay idempotent."""
    ref = aws.table(get_settings().reference_table)
    result = ref.update_item(Key={"pk": "TELLER", "sk": counter}, UpdateExpression="ADD verdi :n",
                             ExpressionAttributeValues={":n": count}, ReturnValues="UPDATED_NEW")
    last = int(result["Attributes"]["verdi"])
    return FIRST_NVDB_ID + last - count


FIRST_NVDB_ID = 1_100_000_000
