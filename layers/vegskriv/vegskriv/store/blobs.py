"""Large JSON documents stored as gzip chunks under one partition key.

A changeset of thousands of objects passes DynamoDB's 400 KB item limit; chunks keep it in the
same table (no second store to keep consistent). Writing is idempotent: the same document writes
the same chunks, and a shorter rewrite deletes the chunks it no longer needs.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from boto3.dynamodb.conditions import Key

CHUNK_BYTES = 350_000


def put_blob(table: Any, pk: str, prefix: str, value: Any) -> int:
    raw = gzip.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 6)
    parts = [raw[i:i + CHUNK_BYTES] for i in range(0, len(raw), CHUNK_BYTES)] or [b""]
    with table.batch_writer() as batch:
        for n, part in enumerate(parts):
            batch.put_item(Item={"pk": pk, "sk": f"{prefix}#{n:04d}", "del": part, "antall": len(parts)})
    # Drop leftovers of a longer earlier version (never read: 'antall' bounds the reader).
    stale = table.query(KeyConditionExpression=Key("pk").eq(pk) & Key("sk").begins_with(f"{prefix}#"),
                        ProjectionExpression="sk")["Items"][len(parts):]
    with table.batch_writer() as batch:
        for item in stale:
            batch.delete_item(Key={"pk": pk, "sk": item["sk"]})
    return len(parts)


def get_blob(table: Any, pk: str, prefix: str) -> Any | None:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(pk) & Key("sk").begins_with(f"{prefix}#"),
                              "ConsistentRead": True}
    while True:
        page = table.query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    if not items:
        return None
    count = int(items[0]["antall"])
    raw = b"".join(bytes(item["del"]) for item in items[:count])
    return json.loads(gzip.decompress(raw))
