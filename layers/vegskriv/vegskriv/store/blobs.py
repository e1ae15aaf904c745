"""Large JSON documents stored as gzip chunks under one partition key.

A changeset of thousands of objects passes DynamoDB's 400 KB item limit; chunks keep it in the
same table (no second store to keep consistent). Writing is idempotent: the same document writes
the same chunks, and a shorter rewrite deletes the chunks it no longer needs.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from boto3.dynamodb.conditions import Key

from vegskriv.errors import Unavailable
from vegskriv.store.batch import items

CHUNK_BYTES = 350_000
_READ_ATTEMPTS = 5


def put_blob(table: Any, pk: str, prefix: str, value: Any) -> int:
    raw = gzip.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 6)
    parts = [raw[i:i + CHUNK_BYTES] for i in range(0, len(raw), CHUNK_BYTES)] or [b""]
    # Chunks are separate items, so a reader can meet a rewrite half done; each names the
    # document it belongs to (deterministic, so rewriting the same document stays idempotent).
    gen = hashlib.blake2b(raw, digest_size=8).hexdigest()
    with table.batch_writer() as batch:
        for n, part in enumerate(parts):
            batch.put_item(Item={"pk": pk, "sk": f"{prefix}#{n:04d}", "del": part, "antall": len(parts), "gen": gen})
    # Drop leftovers of a longer earlier version (never read: 'antall' bounds the reader).
    stale = list(items(table.query, KeyConditionExpression=Key("pk").eq(pk) & Key("sk").begins_with(f"{prefix}#"),
                       ProjectionExpression="sk"))[len(parts):]
    with table.batch_writer() as batch:
        for item in stale:
            batch.delete_item(Key={"pk": pk, "sk": item["sk"]})
    return len(parts)


class _Torn(Exception):
    """The chunks read belong to two writes of the document (a rewrite in progress)."""


def _decode(chunks: list[dict[str, Any]]) -> Any:
    count = int(chunks[0]["antall"])
    mine = chunks[:count]
    if len(mine) < count or len({chunk.get("gen") for chunk in mine}) > 1:
        raise _Torn
    raw = b"".join(bytes(chunk["del"]) for chunk in mine)
    return json.loads(gzip.decompress(raw))


def _read(read: Callable[[], Any]) -> Any:
    """Read again while a rewrite is half done (it finishes in milliseconds); 503 if it stays so."""
    for attempt in range(_READ_ATTEMPTS):
        try:
            return read()
        except _Torn:
            time.sleep(0.05 * (attempt + 1))
    raise Unavailable("Dokumentet skrives om akkurat nå; prøv igjen om litt.")


def get_blob(table: Any, pk: str, prefix: str) -> Any | None:
    def read() -> Any | None:
        chunks = list(items(table.query, KeyConditionExpression=Key("pk").eq(pk)
                            & Key("sk").begins_with(f"{prefix}#"), ConsistentRead=True))
        return _decode(chunks) if chunks else None
    return _read(read)


def get_first_blob(table: Any, pk: str, prefixes: tuple[str, ...]) -> Any | None:
    """The first of ``prefixes`` that is stored, in one Query: the shortest begins all the others."""
    stem = min(prefixes, key=len)

    def read() -> Any | None:
        found: dict[str, list[dict[str, Any]]] = {}
        for chunk in items(table.query, KeyConditionExpression=Key("pk").eq(pk) & Key("sk").begins_with(stem),
                           ConsistentRead=True):
            found.setdefault(str(chunk["sk"]).rpartition("#")[0], []).append(chunk)
        return next((_decode(found[p]) for p in prefixes if p in found), None)
    return _read(read)
