"""Reads on the local stack that cost what they cost on DynamoDB: the page, not the table.

moto answers every Query (table or index) by sorting *all* items of the table and then walking
the partition, so paging N objects costs O(N²/page) and a 100,000-object provisioning run spends
its time in moto's sort. The patch hands moto's own ``Table.query`` only the items that can be
on the page - the partition's items whose sort key meets the key condition and lies after
``ExclusiveStartKey``, and (with ``Limit``) only the first ``Limit + 1`` of those in key order -
so its answer, ``LastEvaluatedKey`` and 1 MB rule included, is unchanged. A forward Query finds
its page in a sorted view of the partition (or index partition), built once and kept in step with
every write (a bisect each), so a walk of N items in pages costs about N, not N²/page, also when
the walk writes the partition it reads. Anything it does not
understand (filters of the legacy API, several key attributes, non-string/number keys) goes to
moto untouched.

moto then serializes an answer by walking botocore's output shape for every attribute value
(about 1 ms per item returned); an answer of items is already DynamoDB's JSON, so ``fast_json``
writes it with ``json.dumps`` (binary values base64, as the wire has them).

And moto backs a TransactWriteItems up by deep-copying every table it touches (about a second per
transaction once a table holds 100,000 items); ``item_rollback`` keeps the items the transaction
touches instead, and puts them back if it is cancelled.
"""

from __future__ import annotations

import base64
import bisect
import contextvars
import copy
import functools
import heapq
import inspect
import json
import weakref
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from moto.dynamodb.comparisons import get_comparison_func
from moto.dynamodb.models.dynamo_type import DynamoType
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


# id(table) -> (a weak reference to it, {view name: (keys, items)}); a view is one partition of the
# table or of an index, in key order, built on the first Query that reads it and then kept in step
# with every write (a FULL provisioning run reads and writes the same partition in every chunk).
_STATE: dict[int, tuple[Any, dict[Any, tuple[list[Any], list[Any]]]]] = {}


def _views(table: Table) -> dict[Any, tuple[list[Any], list[Any]]]:
    state = _STATE.get(id(table))
    if state is None or state[0]() is not table:  # a new table (or one restored by a failed transaction)
        state = _STATE[id(table)] = (weakref.ref(table), {})
    return state[1]


def _places(table: Table, item: Any) -> list[tuple[Any, tuple[Any, ...]]]:
    """(view name, key) of every view the item belongs in: its partition of the table, and of each
    index (one hash and one range attribute) whose key attributes it has."""
    if item is None or not table.range_key_attr:
        return []
    attrs = item.attrs
    hash_key, range_key = _raw(attrs[table.hash_key_attr]), _raw(attrs[table.range_key_attr])
    places: list[tuple[Any, tuple[Any, ...]]] = [((None, hash_key), (range_key,))]
    for index in table.all_indexes():
        hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
        ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
        if len(hashes) == 1 and len(ranges) == 1 and hashes[0] in attrs and ranges[0] in attrs:
            places.append(((index.name, _raw(attrs[hashes[0]])), (_raw(attrs[ranges[0]]), hash_key, range_key)))
    return places


def _moved(table: Table, before: list[tuple[Any, tuple[Any, ...]]], item: Any) -> None:
    """Keep the table's views in step with a write: the item was at ``before`` and is now ``item``
    (None when deleted). A key is unique within a view, so each step is one bisect."""
    views = _views(table)
    if not views:
        return
    try:
        after = _places(table, item)
        for name, key in before:
            view = views.get(name)
            if view is not None:
                at = bisect.bisect_left(view[0], key)
                if at < len(view[0]) and view[0][at] == key:
                    del view[0][at], view[1][at]
        for name, key in after:
            view = views.get(name)
            if view is not None:
                at = bisect.bisect_left(view[0], key)
                if at < len(view[0]) and view[0][at] == key:
                    view[1][at] = item
                else:
                    view[0].insert(at, key)
                    view[1].insert(at, item)
    except TypeError:  # a key of another type (binary), or mixed types: built again when next read
        views.clear()


def _current(table: Table, item_attrs: dict[str, Any]) -> Any:
    """The item a put with these attributes replaces, if any (tables with a sort key only)."""
    range_attr = table.range_key_attr
    try:
        partition = table.items.get(DynamoType(item_attrs[table.hash_key_attr]))
        return partition.get(DynamoType(item_attrs[range_attr])) if partition and range_attr else None
    except (KeyError, TypeError, AttributeError):
        return None


def maintaining_put(original: Callable[..., Any]) -> Callable[..., Any]:
    """For ``Table.put_item``: every put of moto's batch, transaction and single-item calls."""
    @functools.wraps(original)
    def put_item(self: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        before = _places(self, _current(self, item_attrs)) if _views(self) and self.range_key_attr else []
        item = original(self, item_attrs, *args, **kwargs)
        _moved(self, before, item)
        return item
    return put_item


def maintaining_delete(original: Callable[..., Any]) -> Callable[..., Any]:
    """For ``Table.delete_item``: it answers the item it removed."""
    @functools.wraps(original)
    def delete_item(self: Table, *args: Any, **kwargs: Any) -> Any:
        item = original(self, *args, **kwargs)
        _moved(self, _places(self, item), None)
        return item
    return delete_item


def maintaining_update(original: Callable[..., Any]) -> Callable[..., Any]:
    """For the backend's ``update_item``, which changes an existing item in place (or puts a new one
    first): where the item was before, where it is after."""
    @functools.wraps(original)
    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        table = self.tables.get(table_name)
        if table is None or not _views(table) or not table.range_key_attr:
            return original(self, table_name, key, *args, **kwargs)
        before = _places(table, _current(table, key))
        try:
            item = original(self, table_name, key, *args, **kwargs)
        except Exception:
            _views(table).clear()  # it may have changed the item before failing: built again when read
            raise
        _moved(table, before, _current(table, key))
        return item
    return update_item


def _view(table: Table, name: Any, keyed: Callable[[], list[tuple[Any, Any]]]) -> tuple[list[Any], list[Any]]:
    views = _views(table)
    view = views.get(name)
    if view is None:
        ordered = sorted(keyed(), key=lambda ki: ki[0])
        view = views[name] = ([k for k, _ in ordered], [i for _, i in ordered])
    return view


_LOWER_BOUNDED = {"EQ", "GE", "GT", "BETWEEN", "BEGINS_WITH"}


def _forward_page(keys: list[Any], ordered: list[Any], a: dict[str, Any], after: tuple[Any, ...] | None) -> list[Any]:
    """What the unsorted path below gives for a forward Query, found in a sorted view: the items
    meeting the key condition after ``after`` (at most ``Limit + 1``), and the nearest item beyond
    the last of them when the page is not full (a key condition is an interval of the sort key)."""
    position = bisect.bisect_right(keys, after) if after is not None else 0
    comparison = a.get("range_comparison")
    test = get_comparison_func(comparison) if comparison else None
    bounds = [_raw(v) for v in a["range_objs"]] if comparison else []
    if comparison in _LOWER_BOUNDED:
        position = max(position, bisect.bisect_left(keys, (bounds[0],)))
    limit = int(a["limit"]) + 1 if a.get("limit") else None
    matched: list[Any] = []
    for index in range(position, len(keys)):
        if test is None or test(keys[index][0], *bounds):
            matched.append(ordered[index])
            if limit is not None and len(matched) == limit:
                break
        elif matched:
            matched.append(ordered[index])  # the nearest item beyond the last match
            break
    return matched


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
        forward = a.get("scan_index_forward", True) is not False
        start = a.get("exclusive_start_key")
        if forward:
            keys, ordered = _view(table, (index_name, _raw(a["hash_key"]) if not index_name else wanted),
                                  lambda: [(key(i), i) for i in items])
            return _forward_page(keys, ordered, a, tuple(_start_value(start, n) for n in order) if start else None)
        keyed = [(key(i), i) for i in items]
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


def install(patches: Any) -> None:
    """Into the local stack's undo list (``moto_patches.Patches``): Query given its page, the sorted
    views kept in step with every write, item answers written as JSON."""
    from moto.core.responses import ActionResult
    from moto.dynamodb.models import DynamoDBBackend

    patches.replace(Table, "query", fast_query(Table.__dict__["query"]))
    patches.replace(Table, "put_item", maintaining_put(Table.__dict__["put_item"]))
    patches.replace(Table, "delete_item", maintaining_delete(Table.__dict__["delete_item"]))
    patches.replace(DynamoDBBackend, "update_item", maintaining_update(DynamoDBBackend.__dict__["update_item"]))
    patches.replace(ActionResult, "execute_result", fast_json(ActionResult.__dict__["execute_result"]))
    import moto.dynamodb.models as models

    patches.replace(models, "copy", _TablesNotCopied())
    patches.replace(DynamoDBBackend, "transact_write_items",
                    item_rollback(DynamoDBBackend.__dict__["transact_write_items"]))


_KEEP_ITEMS = contextvars.ContextVar("keep_items", default=False)


class _TablesNotCopied:
    """The ``copy`` module as moto's DynamoDB backend sees it: inside :func:`item_rollback` a Table is
    not deep-copied (its touched items are kept instead); everything else is the real module."""

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        return value if _KEEP_ITEMS.get() and isinstance(value, Table) else copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def item_rollback(transact: Callable[..., Any]) -> Callable[..., Any]:
    """For the backend's ``transact_write_items``: the items each operation touches are read first,
    and a cancelled transaction puts them back (or removes what it created), as moto's whole-table
    copy would have."""
    @functools.wraps(transact)
    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> Any:
        try:
            kept = [_kept(backend, *next(iter(entry.items()))) for entry in transact_items]
        except Exception:  # an operation moto will refuse anyway: let it, with its own backup
            return transact(backend, transact_items)
        token = _KEEP_ITEMS.set(True)
        try:
            return transact(backend, transact_items)
        except Exception:
            for table_name, key, attributes in reversed([k for k in kept if k is not None]):
                if attributes is None:
                    backend.delete_item(table_name, key)
                else:
                    backend.tables[table_name].put_item(attributes)
            raise
        finally:
            _KEEP_ITEMS.reset(token)
    return transact_write_items


def _kept(backend: Any, kind: str, op: dict[str, Any]) -> tuple[str, dict[str, Any], Any] | None:
    """(table, key, the item's attributes now or None) for an operation that writes."""
    if kind == "ConditionCheck":
        return None
    table = backend.get_table(op["TableName"])
    if kind == "Put":
        names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
        key = {name: op["Item"][name] for name in names}
    else:
        key = op["Key"]
    current = backend.get_item(op["TableName"], key)
    return op["TableName"], key, None if current is None else copy.deepcopy(current.to_json()["Attributes"])
