"""The change index behind ``endretEtter``: a GSI (``ByChange``: typeId, endretNokkel) on the
object items, so finding what changed reads only what changed, never the whole table.

Every write of an object item stamps ``endret`` (the write time) and ``endretNokkel``
(``<max(endret, sluttdato)>#<nvdbId>``); one entry per object, moved forward by each write.
The rule that keeps a reader from seeing a change early or missing it:

- A changeset's overlay write moves the entry, but readers resolve it as the rest of the read
  side does: until the commit write they see the version list from before (never early).
- After the commit, while the changeset still holds its locks, the fold (``objects.fold_overlays``)
  rewrites its items in batches and so moves the entry again, to a time after the commit. A reader
  that read before that moment used a watermark earlier than it, so it finds the object next time
  (never missed). A cancelled changeset's drop moves it too (same content again).
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
    return objects.again(lambda: _changed(type_id, after_key=after_key, limit=limit))


def _changed(type_id: int, *, after_key: str, limit: int) -> tuple[list[dict[str, Any]], str | None, bool]:
    """Objects of a type whose entry lies after ``after_key`` (an ``endretEtter`` time or a cursor
    position), in key order: ``{"id", "endret", "versjoner"}`` with the visible versions ([] for a
    removed object). New objects of changesets not yet committed are left out. Also returns the
    key of the last entry read (None if none) and whether more may follow."""
    condition = Key("typeId").eq(type_id) & Key("endretNokkel").gt(after_key)
    page: list[dict[str, Any]] = []
    more = False
    for item in batch.items(objects._table().query, IndexName="ByChange", KeyConditionExpression=condition,
                            Limit=limit + 1):  # read the page, not 1 MB of the index
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


def count_changed(type_id: int, *, after_key: str) -> int:
    """Entries of the change index after ``after_key``: what a walk of the feed returns, objects
    and tombstones (a new object of a changeset not yet committed may already be counted)."""
    return objects._count(IndexName="ByChange",
                          KeyConditionExpression=Key("typeId").eq(type_id) & Key("endretNokkel").gt(after_key))


def parse_time(text: str) -> str:
    """An ISO time (or date) as the index's UTC form; ValueError if it is not one."""
    when = datetime.fromisoformat(text.strip().replace(" ", "T").replace("Z", "+00:00"))
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # year zero-padded, as the keys


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
