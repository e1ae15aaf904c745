"""Object versions with all-or-nothing visibility, read and written in batches.

One item per object (pk ``O#<nvdbId>``, sk ``O``) holds every version of it, so BatchGetItem
fetches all versions of 100 objects in one request. A changeset never makes part of itself
visible: it rewrites the items it changes as ``{cs, v, prevCs, prev}`` - its own version list
``v`` and the list readers saw before (``prev``, absent for a new object). Readers show ``v`` if
``cs`` has committed, else ``prev``; so the changeset's single commit write flips all of its
objects at once. The fold after it only drops ``prev`` and moves the change index.

Only a changeset holding the locks on an object writes its item (import aside), so the writes
need no conditions and go in BatchWriteItem; rewriting an item is idempotent. A version list
is gzip-compressed JSON; one too large for the item (DynamoDB ends items at 400 KB) is spilled
to chunk items keyed by the digest of its bytes. Packing is deterministic, so a list kept across a
rewrite keeps its chunks; chunks the rewritten item no longer names are deleted after it is written.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from vegskriv import aws
from vegskriv.errors import Unavailable
from vegskriv.settings import get_settings
from vegskriv.store import batch, changesets

IMPORT = "import"
OBJECT_SK = "O"
# Largest version JSON we store (README "Limits"): a bound on one object, not a storage need (lists spill).
MAX_VERSION_BYTES = 200_000
INLINE_BYTES = 300_000  # compressed bytes kept in the object item; the rest of 400 KB is names/keys
CHUNK_BYTES = 350_000


def _table() -> Any:
    return aws.table(get_settings().objects_table)


def object_pk(nvdb_id: int) -> str:
    return f"O#{nvdb_id}"


def object_key(nvdb_id: int) -> str:
    return f"{nvdb_id:015d}"


def _key(nvdb_id: int) -> dict[str, str]:
    return {"pk": object_pk(nvdb_id), "sk": OBJECT_SK}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _due(versions: list[dict[str, Any]]) -> str:
    """When the object stops being current ("" if it does not): the change index lists it again then."""
    end = (versions[-1].get("gyldighetsperiode") or {}).get("sluttdato") if versions else None
    return f"{str(end)[:10]}T00:00:00.000Z" if end else ""


def stamp(nvdb_id: int, due: str, at: str | None = None) -> dict[str, str]:
    """Change-index attributes of an object item (store/changes.py has the rule)."""
    endret = at or now_iso()
    return {"endret": endret, "endretNokkel": f"{max(endret, due)}#{object_key(nvdb_id)}", "slutt": due}


@dataclass(frozen=True)
class Write:
    """One version a changeset writes: its new content, or None to remove it."""

    nvdb_id: int
    versjon: int
    type_id: int
    data: dict[str, Any] | None  # None = remove the version

    def key(self) -> dict[str, str]:
        return _key(self.nvdb_id)


class OverlayConflict(Exception):
    """Another changeset that has not ended holds uncommitted changes to the same object."""


# ------------------------------------------------------------------ encoding


def _pack(versions: list[dict[str, Any]]) -> bytes:
    # mtime=0: the same list packs to the same bytes, hence the same chunk keys.
    return gzip.compress(json.dumps(versions, ensure_ascii=False, separators=(",", ":")).encode(), 6, mtime=0)


def _unpack(raw: bytes) -> list[dict[str, Any]]:
    return list(json.loads(gzip.decompress(raw)))


def _chunk_keys(pk: str, ref: dict[str, Any]) -> list[dict[str, str]]:
    return [{"pk": pk, "sk": f"C#{ref['h']}#{n:04d}"} for n in range(int(ref["n"]))]


def _store_lists(pk: str, lists: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Attributes for the object item, and chunk items for lists too large to keep in it."""
    packed = {name: _pack(v) for name, v in lists.items()}
    attributes: dict[str, Any] = {}
    chunks: list[dict[str, Any]] = []
    inline = 0
    for name, raw in sorted(packed.items(), key=lambda kv: len(kv[1])):
        if inline + len(raw) <= INLINE_BYTES:
            attributes[name] = raw
            inline += len(raw)
            continue
        ref = {"h": hashlib.sha256(raw).hexdigest()[:32], "n": -(-len(raw) // CHUNK_BYTES)}
        for key, start in zip(_chunk_keys(pk, ref), range(0, len(raw), CHUNK_BYTES), strict=True):
            chunks.append({**key, "del": raw[start:start + CHUNK_BYTES]})
        attributes[f"{name}Ref"] = ref
    return attributes, chunks


def _lists(items: list[dict[str, Any]], pick: Callable[[dict[str, Any]], str | None],
           ) -> dict[str, list[dict[str, Any]]]:
    """The list ``pick`` names (``v``, ``prev`` or None) of each object item, by pk; spilled
    chunks come in one batched read."""
    names = {item["pk"]: pick(item) for item in items}
    wanted = [k for item in items if f"{names[item['pk']]}Ref" in item
              for k in _chunk_keys(item["pk"], item[f"{names[item['pk']]}Ref"])]
    chunks = {(c["pk"], c["sk"]): bytes(c["del"]) for c in batch.get_many(_table().name, wanted)} if wanted else {}
    decoded: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        name = names[item["pk"]]
        if name in item:
            decoded[item["pk"]] = _unpack(bytes(item[name]))
        elif f"{name}Ref" in item:
            keys = _chunk_keys(item["pk"], item[f"{name}Ref"])
            if any((k["pk"], k["sk"]) not in chunks for k in keys):
                raise Rewritten(item["pk"])  # rewritten (folded) since it was read: read it again
            decoded[item["pk"]] = _unpack(b"".join(chunks[(k["pk"], k["sk"])] for k in keys))
    return decoded


class Rewritten(Exception):
    """An item read names chunks its rewrite has since deleted (a fold after the commit)."""


def again(read: Callable[[], Any]) -> Any:
    """``read`` once more while items it read were rewritten under it (milliseconds); 503 if it stays so."""
    for _ in range(5):
        try:
            return read()
        except Rewritten:
            continue
    raise Unavailable("vegobjektene ble skrevet om mens de ble lest; prøv igjen")


# ------------------------------------------------------------------ reading


def _resolve(items: list[dict[str, Any]], committed: Callable[[str], bool]) -> dict[int, list[dict[str, Any]]]:
    """Visible versions of each object item, deciding every changeset once for the whole answer.

    Commits only go one way, and an item's ``prevCs`` is a changeset that had committed when the
    item was written; so a changeset counts as committed if any item names it there.
    """
    decided: dict[str, bool] = {IMPORT: True}
    decided.update({item["prevCs"]: True for item in items if item.get("prevCs")})
    for item in items:
        if item["cs"] not in decided:
            decided[item["cs"]] = committed(item["cs"])
    lists = _lists(items, lambda item: "v" if decided[item["cs"]] else "prev")
    return {int(item["nvdbId"]): lists[item["pk"]] for item in items if lists.get(item["pk"])}


# What resolving and rewriting an object item needs: not its index keys and stamps.
READ = ["pk", "nvdbId", "cs", "prevCs", "v", "prev", "vRef", "prevRef"]


def _read(nvdb_ids: Iterable[int]) -> list[dict[str, Any]]:
    return batch.get_many(_table().name, [_key(n) for n in set(nvdb_ids)], READ)


def versions(nvdb_id: int, *, committed: Callable[[str], bool] = changesets.is_committed) -> list[dict[str, Any]]:
    """Every visible version of an object, oldest first."""
    return again(lambda: _resolve(_read([nvdb_id]), committed)).get(nvdb_id, [])


def versions_many(nvdb_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every visible version of each object (objects without any map to []), in batched reads."""
    visible = again(lambda: _resolve(_read(nvdb_ids), changesets.is_committed))
    return {n: visible.get(n, []) for n in nvdb_ids}


def list_by_type(type_id: int, *, after_nvdb_id: int | None, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    return again(lambda: _list_by_type(type_id, after_nvdb_id=after_nvdb_id, limit=limit))


def _list_by_type(type_id: int, *, after_nvdb_id: int | None, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """Current (newest visible) version of objects of one type, ordered by nvdbId, with a cursor.

    Reads up to ``limit`` objects, then resolves visibility once for all of them; objects that
    are not visible (yet) are left out of the page, so a page may hold fewer.
    """
    condition: Any = Key("typeId").eq(type_id)
    if after_nvdb_id is not None:
        condition &= Key("objektNokkel").gt(object_key(after_nvdb_id))
    page: list[dict[str, Any]] = []
    cursor: int | None = None
    # Limit: without it every page reads (and bills) up to 1 MB of the index to keep ``limit``;
    # the projection: what _resolve reads, not the index keys (less to send and to parse)
    for item in batch.items(_table().query, IndexName="ByType", KeyConditionExpression=condition, Limit=limit + 1,
                            ProjectionExpression=LISTED):
        if len(page) == limit:
            cursor = int(page[-1]["nvdbId"])
            break
        page.append(item)
    visible = _resolve(page, changesets.is_committed)
    return [visible[int(i["nvdbId"])][-1] for i in page if int(i["nvdbId"]) in visible], cursor


LISTED = "pk, nvdbId, cs, prevCs, v, prev, vRef, prevRef"


def count_by_type(type_id: int) -> int:
    """Objects of a type that have versions, in COUNT reads of the index (DynamoDB keeps no count).
    Read as stored: a changeset between its writes and its commit may already be counted."""
    today = f"{datetime.now(UTC).date().isoformat()}T00:00:00.000Z"  # current: no slutt, or one after today
    return _count(IndexName="ByType", KeyConditionExpression=Key("typeId").eq(type_id),
                  FilterExpression=(Attr("v").size().gt(len(_pack([]))) | Attr("vRef").exists())
                  & (Attr("slutt").not_exists() | Attr("slutt").eq("") | Attr("slutt").gt(today)))


def _count(**kwargs: Any) -> int:
    total = 0
    while True:
        page = _table().query(Select="COUNT", **kwargs)
        total += int(page["Count"])
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def on_sequence(type_id: int, vls: int) -> list[int]:
    return [int(i["nvdbId"]) for i in batch.items(_table().query,
                                                  KeyConditionExpression=Key("pk").eq(f"STED#{type_id}#{vls}"))]


# ------------------------------------------------------------------ writing


def _sequences(versions: list[dict[str, Any]]) -> set[int]:
    return {e["veglenkesekvensNvdbId"] for v in versions for kind in ("punkt", "linje")
            for e in (v.get("stedfesting") or {}).get(kind) or []}


def _location_index(type_id: int, nvdb_id: int, new: list[dict[str, Any]],
                    old: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Candidates for 'which objects of this type lie on this sequence' (overlap checks). Entries
    are never removed: readers check the object's current location, so stale ones cost a read."""
    return [{"PutRequest": {"Item": {"pk": f"STED#{type_id}#{vls}", "sk": object_pk(nvdb_id), "nvdbId": nvdb_id}}}
            for vls in sorted(_sequences(new) - _sequences(old))]


def _object_item(nvdb_id: int, type_id: int, cs: str, new: list[dict[str, Any]],
                 prev_cs: str | None, prev: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    pk = object_pk(nvdb_id)
    attributes, chunks = _store_lists(pk, {"v": new, **({"prev": prev} if prev is not None else {})})
    item = {"pk": pk, "sk": OBJECT_SK, "nvdbId": nvdb_id, "typeId": type_id, "objektNokkel": object_key(nvdb_id),
            "cs": cs, **({"prevCs": prev_cs} if prev_cs else {}), **attributes, **stamp(nvdb_id, _due(new))}
    # Chunks first: a batch that dies half-way leaves unreferenced chunks, never a dangling item.
    return [{"PutRequest": {"Item": c}} for c in chunks] + [{"PutRequest": {"Item": item}}]


def _merged(base: list[dict[str, Any]], changes: dict[int, dict[str, Any] | None]) -> list[dict[str, Any]]:
    by_version = {int(v["versjon"]): v for v in base}
    for versjon, data in changes.items():
        if data is None:
            by_version.pop(versjon, None)
        else:
            by_version[versjon] = data
    return [by_version[k] for k in sorted(by_version)]


def _stale_chunks(old_items: list[dict[str, Any]], requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deletes of the chunks the rewritten items named and no longer name."""
    kept = {(r["PutRequest"]["Item"]["pk"], r["PutRequest"]["Item"]["sk"]) for r in requests if "PutRequest" in r}
    stale = {(key["pk"], key["sk"]) for item in old_items for name in ("vRef", "prevRef") if name in item
             for key in _chunk_keys(item["pk"], item[name])} - kept
    return [{"DeleteRequest": {"Key": {"pk": pk, "sk": sk}}} for pk, sk in sorted(stale)]


def _send(requests: list[dict[str, Any]], old_items: list[dict[str, Any]] | None = None) -> None:
    """Chunks before the items naming them: chunk batches finish before item batches start; the
    chunks ``old_items`` named and the new items do not go last (a crash before leaves garbage,
    never a dangling reference)."""
    chunks = [r for r in requests if r.get("PutRequest", {}).get("Item", {}).get("sk", "").startswith("C#")]
    rest = [r for r in requests if r not in chunks] if chunks else requests
    for part in (chunks, rest, _stale_chunks(old_items or [], requests)):
        if part:
            batch.write_many(_table().name, part)


def write_overlays(changeset_id: str, writes: list[Write]) -> None:
    """Write the changeset's new version lists, invisible until its commit write. Safe to repeat:
    an item the changeset already wrote keeps the ``prev`` it recorded."""
    by_object: dict[int, dict[int, dict[str, Any] | None]] = {}
    types: dict[int, int] = {}
    for w in writes:  # the last write of a version wins
        by_object.setdefault(w.nvdb_id, {})[w.versjon] = w.data
        types[w.nvdb_id] = w.type_id
    items = _read(by_object)
    foreign = {i["cs"] for i in items if i["cs"] not in (changeset_id, IMPORT)}
    committed = {cs: changesets.is_committed(cs) for cs in foreign}
    live = [cs for cs, done in committed.items() if not done and _active(cs)]
    if live:  # only when a lock lease ran out under a changeset that is still working
        raise OverlayConflict("et vegobjekt i endringssettet endres samtidig av et annet endringssett")

    def shows_v(item: dict[str, Any]) -> bool:
        return bool(item["cs"] == IMPORT or committed.get(item["cs"]))

    lists = _lists(items, lambda item: "v" if shows_v(item) else "prev")
    requests: list[dict[str, Any]] = []
    folded: list[dict[str, Any]] = []
    found = {int(i["nvdbId"]): i for i in items}
    for nvdb_id, changes in by_object.items():
        item = found.get(nvdb_id)
        base_cs: str | None = None
        base: list[dict[str, Any]] | None = None
        if item is not None:
            base_cs = item["cs"] if shows_v(item) else item.get("prevCs")
            base = lists.get(item["pk"])
        new = _merged(base or [], changes)
        written = _object_item(nvdb_id, types[nvdb_id], changeset_id, new, base_cs, base)
        folded.append(_folded(written[-1]["PutRequest"]["Item"], _due(new)))
        requests += written + _location_index(types[nvdb_id], nvdb_id, new, base or [])
    _send(requests, items)
    changesets.save_fold(changeset_id, folded)


def _folded(item: dict[str, Any], due: str) -> dict[str, Any]:
    """What the fold will write for an overlay item (stamped then), as JSON: its own list as packed
    (or the chunks it names) and the chunks of ``prev`` it no longer needs - so the fold need
    not read, decode and re-pack the version lists."""
    own = {"v": base64.b64encode(item["v"]).decode()} if "v" in item else {"vRef": item["vRef"]}
    kept = {k["sk"] for k in _chunk_keys(item["pk"], item["vRef"])} if "vRef" in item else set()
    drop = sorted({k["sk"] for k in _chunk_keys(item["pk"], item["prevRef"])} - kept) if "prevRef" in item else []
    return {"pk": item["pk"], "nvdbId": item["nvdbId"], "typeId": item["typeId"], "due": due, "drop": drop, **own}


def _active(changeset_id: str) -> bool:
    from vegskriv.changesets.models import TERMINAL, Fremdrift  # the store does not need models at import

    meta = changesets.get(changeset_id)
    return meta is not None and Fremdrift(meta["fremdrift"]) not in TERMINAL and not meta.get("avbrytes")


def fold_overlays(changeset_id: str, keys: list[dict[str, str]], *, held: bool = False) -> None:
    """After the commit, while the changeset still holds the locks: rewrite its items without the
    ``prev`` no reader needs any more, stamped now - the change index's move past the commit
    (store/changes.py), in BatchWriteItem instead of one update per object. Idempotent.

    The items come from what the overlay write stored for the fold (``FOLD``). ``held``: the caller
    holds a lease on them that lasts longer than the fold, so no other changeset can have written
    them (imports aside, as for the overlay write) and nothing is read. Otherwise the fold reads
    which items are still this changeset's: a lease that ran out may have let another one in."""
    folded = {f["pk"]: f for f in changesets.fold(changeset_id) or []}
    ours = set(folded) if held else {
        i["pk"] for i in batch.get_many(_table().name, [k for k in keys if k["pk"] in folded], ["pk", "cs"])
        if i["cs"] == changeset_id}
    at = now_iso()
    items: list[dict[str, Any]] = []
    drops: list[dict[str, Any]] = []
    for f in (folded[pk] for pk in sorted(ours)):
        own = {"v": base64.b64decode(f["v"])} if "v" in f else {"vRef": f["vRef"]}
        items.append({"PutRequest": {"Item": {
            "pk": f["pk"], "sk": OBJECT_SK, "nvdbId": f["nvdbId"], "typeId": f["typeId"],
            "objektNokkel": object_key(f["nvdbId"]), "cs": changeset_id, **own, **stamp(f["nvdbId"], f["due"], at)}}})
        drops += [{"DeleteRequest": {"Key": {"pk": f["pk"], "sk": sk}}} for sk in f["drop"]]
    for part in (items, drops):  # the chunks go once no item names them
        if part:
            batch.write_many(_table().name, part)
    unfolded = [k for k in keys if k["pk"] not in folded]  # overlays written before FOLD was stored
    if unfolded:
        _fold_by_reading(changeset_id, unfolded)


def _fold_by_reading(changeset_id: str, keys: list[dict[str, str]]) -> None:
    ours = [i for i in batch.get_many(_table().name, keys) if i["cs"] == changeset_id]
    lists = _lists(ours, lambda _: "v")
    requests: list[dict[str, Any]] = []
    for item in ours:
        requests += _object_item(int(item["nvdbId"]), int(item["typeId"]), changeset_id,
                                 lists.get(item["pk"], []), None, None)
    _send(requests, ours)


def drop_overlays(changeset_id: str, keys: list[dict[str, str]]) -> None:
    """Undo the writes of a changeset that will never commit (cancelled, rejected): its items get
    back the version list readers saw, or go if the object is new. Idempotent."""
    ours = [i for i in batch.get_many(_table().name, keys) if i["cs"] == changeset_id]
    lists = _lists(ours, lambda _: "prev")
    requests: list[dict[str, Any]] = []
    for item in ours:
        prev = lists.get(item["pk"])
        if item.get("prevCs") and prev is not None:
            requests += _object_item(int(item["nvdbId"]), int(item["typeId"]), item["prevCs"], prev, None, None)
        else:
            requests.append({"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}})
    _send(requests, ours)


def import_versions(versions: list[dict[str, Any]]) -> int:
    """Load existing object versions as they are (migration from another NVDB, test fixtures);
    an imported version replaces a stored one with the same number."""
    by_object: dict[int, dict[int, dict[str, Any] | None]] = {}
    types: dict[int, int] = {}
    for v in versions:
        by_object.setdefault(v["id"], {})[v["versjon"]] = v
        types[v["id"]] = v["typeId"]
    stored = _read(by_object)
    visible = _resolve(stored, changesets.is_committed)
    requests: list[dict[str, Any]] = []
    for nvdb_id, changes in by_object.items():
        old = visible.get(nvdb_id, [])
        new = _merged(old, changes)
        requests += _object_item(nvdb_id, types[nvdb_id], IMPORT, new, None, None)
        requests += _location_index(types[nvdb_id], nvdb_id, new, old)
    _send(requests, stored)
    return len(versions)


def allocate_ids(count: int, counter: str = "NVDBID") -> int:
    """Reserve ``count`` new ids from a counter; returns the first. Callers store what they got
    to stay idempotent."""
    ref = aws.table(get_settings().reference_table)
    result = ref.update_item(Key={"pk": "TELLER", "sk": counter}, UpdateExpression="ADD verdi :n",
                             ExpressionAttributeValues={":n": count}, ReturnValues="UPDATED_NEW")
    last = int(result["Attributes"]["verdi"])
    return FIRST_NVDB_ID + last - count


FIRST_NVDB_ID = 1_100_000_000
