"""Batched DynamoDB reads and writes, and the one Query/Scan pagination loop of the store.

BatchGetItem takes up to 100 keys and BatchWriteItem up to 25 items per request; independent
batches run in a small thread pool (boto3 clients are thread-safe, resources are not, so the
batches go through the low-level client). Unprocessed keys and items are sent again.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from vegskriv import aws

GET_BATCH = 100
WRITE_BATCH = 25
WORKERS = 4

_serialize = TypeSerializer().serialize
_deserialize = TypeDeserializer().deserialize


def items(call: Callable[..., dict[str, Any]], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Query or Scan (``table.query``/``table.scan``), page after page."""
    while True:
        page = call(**kwargs)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _chunks(values: list[Any], size: int) -> list[list[Any]]:
    return [values[i:i + size] for i in range(0, len(values), size)]


def _parallel(work: Callable[[list[Any]], Any], chunks: list[list[Any]]) -> list[Any]:
    if len(chunks) <= 1:
        return [work(c) for c in chunks]
    with ThreadPoolExecutor(max_workers=min(WORKERS, len(chunks))) as pool:
        # Each task runs in a copy of the caller's context (request-scoped context variables).
        futures = [pool.submit(contextvars.copy_context().run, work, c) for c in chunks]
        return [f.result() for f in futures]


def get_many(table_name: str, keys: list[dict[str, Any]], attributes: list[str] | None = None,
             ) -> list[dict[str, Any]]:
    """The items with these keys that exist (strongly consistent), in no particular order; only
    ``attributes`` of them if given (smaller answers where a caller needs no version lists)."""
    projection = {"ProjectionExpression": ", ".join(f"#a{i}" for i in range(len(attributes))),
                  "ExpressionAttributeNames": {f"#a{i}": a for i, a in enumerate(attributes)}} if attributes else {}

    def one_batch(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        request: dict[str, Any] = {table_name: {
            "Keys": [{k: _serialize(v) for k, v in key.items()} for key in batch], "ConsistentRead": True,
            **projection}}
        while request:
            answer = aws.client("dynamodb").batch_get_item(RequestItems=request)
            found += [{k: _deserialize(v) for k, v in item.items()}
                      for item in answer["Responses"].get(table_name, [])]
            request = answer.get("UnprocessedKeys") or {}
        return found

    unique = list({tuple(sorted(k.items())): k for k in keys}.values())
    return [item for found in _parallel(one_batch, _chunks(unique, GET_BATCH)) for item in found]


def send_batch(table_name: str, requests: list[dict[str, Any]]) -> None:
    """One BatchWriteItem of up to 25 ``{"PutRequest": {"Item": ...}}`` / ``{"DeleteRequest":
    {"Key": ...}}`` (plain Python values), repeated for what DynamoDB left unprocessed.
    Kept separate so fault-injection tests can cut in between writes."""
    def wire(request: dict[str, Any]) -> dict[str, Any]:
        (kind, body), = request.items()
        (field, value), = body.items()
        return {kind: {field: {k: _serialize(v) for k, v in value.items()}}}

    pending: dict[str, Any] = {table_name: [wire(r) for r in requests]}
    while pending:
        pending = aws.client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def write_many(table_name: str, requests: list[dict[str, Any]]) -> None:
    """Send the requests in batches of 25, a few batches at a time. Not atomic: callers make
    every write idempotent and let one later write decide visibility."""
    _parallel(lambda batch: send_batch(table_name, batch), _chunks(requests, WRITE_BATCH))
