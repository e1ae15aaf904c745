"""The change index behind ``endretEtter``: a GSI (``ByChange``: typeId, endretNokkel) on the
object items, so finding what changed reads only what changed, never the whole table.

Every write of an object item stamps ``endret`` (the write time) and ``endretNokkel``
(``<max(endret, sluttdato)>#<nvdbId>``); one entry per object, moved forward by each write.
The rule that keeps a reader from seeing a change early or missing it:

- A changeset's overlay write moves the entry, but readers resolve it as the rest of the read
  side does: until the commit write they see the version list from before (never early).
- After the commit, post-processing (``restamp``) moves the entry again, to a time after the
  commit. A reader that read before that moment used a watermark earlier than it, so it finds the
  object next time (never missed). A cancelled changeset's drop moves it too (same content again).
- Clocks of writers and readers differ, a stamp is taken just before its write lands and the GSI
  lags the table: a reader's next watermark (``tidspunkt``) is its read time minus an overlap
  (``ENDRET_OVERLAPP_SEKUNDER``, 120 s); what it reads again is unchanged and costs a compare.
- A closed object's key is at least its sluttdato, so it is listed (again) once it stops being
  current, although no write happens then.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from vegskriv import aws
from vegskriv.provisioning.diff import is_current
from vegskriv.settings import get_settings
from vegskriv.store import batch, changesets, objects, reference


def watermark() -> str:
    """The ``tidspunkt`` a reader passes as ``endretEtter`` next time (see the module rule)."""
    overlap = timedelta(seconds=get_settings().change_overlap_seconds)
    return (datetime.now(UTC) - overlap).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def encode_cursor(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> str:
    """The position in a cursor made by ``encode_cursor(kind, ...)``; ValueError if it is not one."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(cursor) from exc
    found, _, value = text.partition(":")
    if found != kind or not value:
        raise ValueError(cursor)
    return value


def changed(type_id: int, *, after_key: str, limit: int) -> tuple[list[dict[str, Any]], str | None, bool]:
    """Objects of a type whose entry lies after ``after_key`` (an ``endretEtter`` time or a cursor
    position), in key order: ``{"id", "endret", "versjoner"}`` with the visible versions ([] for a
    removed object). New objects of changesets not yet committed are left out. Also returns the
    key of the last entry read (None if none) and whether more may follow."""
    condition = Key("typeId").eq(type_id) & Key("endretNokkel").gt(after_key)
    page: list[dict[str, Any]] = []
    more = False
    for item in batch.items(objects._table().query, IndexName="ByChange", KeyConditionExpression=condition):
        if len(page) == limit:
            more = True
            break
        page.append(item)
    decided = {objects.IMPORT: True}
    for item in page:
        if item["cs"] not in decided:
            decided[item["cs"]] = changesets.is_committed(item["cs"])
    lists = objects._lists(page, lambda item: "v" if decided[item["cs"]] else "prev")
    found = [{"id": int(i["nvdbId"]), "endret": str(i["endret"]), "versjoner": lists.get(i["pk"], [])}
             for i in page if decided[i["cs"]] or "prev" in i or "prevRef" in i]
    return found, (str(page[-1]["endretNokkel"]) if page else None), more


def parse_time(text: str) -> str:
    """An ISO time (or date) as the index's UTC form; ValueError if it is not one."""
    when = datetime.fromisoformat(text.strip().replace(" ", "T").replace("Z", "+00:00"))
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sequences(version: dict[str, Any]) -> set[int]:
    stedfesting = version.get("stedfesting") or {}
    return {int(e["veglenkesekvensNvdbId"]) for kind in ("punkt", "linje") for e in stedfesting.get(kind) or []}


def kommuner_of(found: list[dict[str, Any]]) -> dict[int, list[int]]:
    """The kommuner each version lies in (by id), from its veglenkesekvenser, in one batched lookup."""
    network = reference.veglenkesekvenser({s for v in found for s in sequences(v)})
    return {int(v["id"]): sorted({network[s].kommune for s in sequences(v) if s in network}) for v in found}


@dataclass(frozen=True)
class Change:
    """One entry of the change feed: the current version, or None for a tombstone (removed,
    closed, or no longer in the kommuner asked for)."""

    id: int
    endret: str
    version: dict[str, Any] | None


def feed(type_id: int, *, after_key: str, limit: int, kommuner: set[int] | None = None,
         today: date | None = None) -> tuple[list[Change], str | None, bool]:
    """``changed`` as a consumer needs it: current objects and tombstones."""
    found, last, more = changed(type_id, after_key=after_key, limit=limit)
    day = today or datetime.now(UTC).date()
    newest = [c["versjoner"][-1] for c in found if c["versjoner"] and is_current(c["versjoner"][-1], day)]
    where = kommuner_of(newest) if kommuner else {}
    keep = {int(v["id"]): v for v in newest if not kommuner or kommuner & set(where[int(v["id"])])}
    return [Change(c["id"], c["endret"], keep.get(c["id"])) for c in found], last, more


TRANSACTION_ITEMS = 100  # DynamoDB's limit of actions in one TransactWriteItems
TRANSACTION_BYTES = 2_000_000  # the items of one transaction stay well under its 4 MB aggregate
MAX_RESTAMP_TRIES = 5


def _groups(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The items in transactions of at most 100, and of a size well under the 4 MB limit."""
    groups: list[list[dict[str, Any]]] = [[]]
    size = 0
    for item in items:
        weight = 1_000 + sum(len(bytes(item[name])) for name in ("v", "prev") if name in item)
        if groups[-1] and (len(groups[-1]) == TRANSACTION_ITEMS or size + weight > TRANSACTION_BYTES):
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += weight
    return [g for g in groups if g]


def restamp(changeset_id: str, nvdb_ids: list[int]) -> None:
    """After the commit: move the changeset's objects in the index to now (the module rule).
    An item another changeset has written since is left to that changeset's own restamp.

    The updates are conditional (the locks are let go before post-processing), so they go as
    transactions of up to 100: one request per 100 objects instead of one each. A transaction is
    all or nothing, so when a condition fails the others of it go again without that item."""
    table = objects._table()
    items = batch.get_many(table.name, [{"pk": objects.object_pk(n), "sk": objects.OBJECT_SK}
                                        for n in set(nvdb_ids)])
    mine = [i for i in items if i["cs"] == changeset_id]
    lists = objects._lists(mine, lambda _: "v")

    def update(item: dict[str, Any], at: str) -> dict[str, Any]:
        attributes = objects.stamp(int(item["nvdbId"]), lists.get(item["pk"], []), at)
        return {"Update": {
            "TableName": table.name, "Key": {"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}},
            "UpdateExpression": "SET endret = :e, endretNokkel = :k", "ConditionExpression": "cs = :cs",
            "ExpressionAttributeValues": {":e": {"S": attributes["endret"]},
                                          ":k": {"S": attributes["endretNokkel"]}, ":cs": {"S": changeset_id}}}}

    def move(group: list[dict[str, Any]]) -> None:
        for _ in range(MAX_RESTAMP_TRIES):
            if not group:
                return
            at = objects.now_iso()  # taken just before the write lands (the module rule)
            try:  # the low-level client: it is safe to share between the pool's threads
                aws.client("dynamodb").transact_write_items(TransactItems=[update(i, at) for i in group])
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
                # Written by a changeset since: its own restamp moves it. A conflict: all again.
                group = [i for i, r in zip(group, reasons or [{}] * len(group), strict=True)
                         if r.get("Code") != "ConditionalCheckFailed"]
        raise RuntimeError(f"endringssett {changeset_id}: indeksen kunne ikke flyttes etter {MAX_RESTAMP_TRIES} forsøk")

    batch._parallel(move, _groups(mine))
