"""Reads on the local stack that cost what they cost on DynamoDB: the page, not the table.

moto answers every Query (table or index) by sorting *all* items of the table and then walking
the partition, so paging N objects costs O(N²/page) and a 100,000-object provisioning run spends
its time in moto's sort. The patch hands moto's own ``Table.query`` only the items that can be
on the page - the partition's items whose sort key meets the key condition and lies after
``ExclusiveStartKey``, and (with ``Limit``) only the first ``Limit + 1`` of those in key order -
so its answer, ``LastEvaluatedKey`` and 1 MB rule included, is unchanged. Anything it does not
understand (filters of the legacy API, several key attributes, non-string/number keys) goes to
moto untouched.

moto then serializes an answer by walking botocore's output shape for every attribute value
(about 1 ms per item returned); an answer of items is already DynamoDB's JSON, so ``fast_json``
writes it with ``json.dumps`` (binary values base64, as the wire has them).
"""

from __future__ import annotations

import base64
import functools
import heapq
import inspect
import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from moto.dynamodb.comparisons import get_comparison_func
from moto.dynamodb.models.table import Table


def _raw(value: Any) -> Any:
    """A key attribute's value as DynamoDB orders it (strings by code point, numbers by value)."""
    if value is None:
        return None
    if value.type == "S":
        return value.value
    if value.type == "N":
        return Decimal(value.value)
    raise TypeError(value.type)


def _start_value(dct: dict[str, Any], attr: str) -> Any:
    (kind, value), = dct[attr].items()
    if kind == "S":
        return value
    if kind == "N":
        return Decimal(value)
    raise TypeError(kind)


def _candidates(table: Table, a: dict[str, Any]) -> list[Any] | None:
    """The items moto's query needs to see, or None to let it see everything."""
    if a.get("filter_kwargs") or len(a.get("range_key_conditions") or []) > 1:
        return None
    index_name = a.get("index_name")
    if index_name:
        index = table.get_index(index_name)
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        conditions = dict(a.get("hash_key_conditions") or [])
        if len(hashes) != 1 or len(ranges) != 1 or set(conditions) != set(hashes) or not table.range_key_attr:
            return None
        wanted = _raw(conditions[hashes[0]])
        items: Iterable[Any] = (i for part in table.items.values() for i in part.values()
                                if hashes[0] in i.attrs and ranges[0] in i.attrs and _raw(i.attrs[hashes[0]]) == wanted)
        order = [ranges[0], table.hash_key_attr, table.range_key_attr]
    else:
        if not table.range_key_attr or a["hash_key"] is None:
            return None
        items = table.items.get(a["hash_key"], {}).values()
        order = [table.range_key_attr]

    def key(item: Any) -> tuple[Any, ...]:
        return tuple(_raw(item.attrs.get(name)) for name in order)

    try:
        keyed = [(key(i), i) for i in items]
        forward = a.get("scan_index_forward", True) is not False
        start = a.get("exclusive_start_key")
        if start:
            after = tuple(_start_value(start, name) for name in order)
            keyed = [(k, i) for k, i in keyed if (k > after if forward else k < after)]
        matched = keyed
        comparison = a.get("range_comparison")
        if comparison:
            test = get_comparison_func(comparison)
            bounds = [_raw(v) for v in a["range_objs"]]
            matched = [(k, i) for k, i in keyed if test(k[0], *bounds)]
        limit = a.get("limit")
        if limit:  # + 1: moto sets LastEvaluatedKey when it sees one more item
            matched = (heapq.nsmallest if forward else heapq.nlargest)(int(limit) + 1, matched, key=lambda ki: ki[0])
        if matched and (not limit or len(matched) <= int(limit)):
            # moto also sets it on a next item that misses the key condition: keep the nearest one
            last = max(k for k, _ in matched) if forward else min(k for k, _ in matched)
            beyond = [(k, i) for k, i in keyed if (k > last if forward else k < last)]
            if beyond:
                matched.append(min(beyond, key=lambda ki: ki[0]) if forward else max(beyond, key=lambda ki: ki[0]))
    except TypeError:  # a key of another type (binary), or mixed types: moto decides
        return None
    return [i for _, i in matched]


def fast_query(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def query(self: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        candidates = _candidates(self, bound.arguments)
        if candidates is None:
            return original(self, *args, **kwargs)
        self.all_items = lambda: candidates  # type: ignore[method-assign]  # moto reads the table through it
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items
    return query


ITEM_ANSWERS = {"Item", "Items", "Responses", "Attributes", "Count", "ScannedCount", "LastEvaluatedKey",
                "UnprocessedKeys", "UnprocessedItems", "ConsumedCapacity"}


def _wire(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value))  # a datetime etc.: the answer goes to moto's serializer


def fast_json(original: Callable[..., Any]) -> Callable[..., Any]:
    """For ``ActionResult.execute_result`` (DynamoDB's results do not have their own)."""
    from moto.dynamodb.responses import DynamoResult

    @functools.wraps(original)
    def execute_result(self: Any, context: Any) -> Any:
        result = self.result
        if isinstance(self, DynamoResult) and isinstance(result, dict) and result and set(result) <= ITEM_ANSWERS:
            try:
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(result, default=_wire)
            except TypeError:
                pass
        return original(self, context)
    return execute_result
