"""The local stack's Query (vegskriv/local/moto_query.py): moto's answers, at the cost of a page."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from vegskriv.local.moto_query import fast_query

KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-north-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST", KeySchema=KEYS, AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": t} for n, t in (("pk", "S"), ("sk", "S"), ("typeId", "N"),
                                                                   ("nokkel", "S"))],
            GlobalSecondaryIndexes=[{"IndexName": "ByType", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
                {"AttributeName": "typeId", "KeyType": "HASH"}, {"AttributeName": "nokkel", "KeyType": "RANGE"}]}])
        rnd = random.Random(7)
        for n in range(400):
            item = {"pk": {"S": f"P#{n % 4}"}, "sk": {"S": f"{rnd.randrange(10**6):07d}"}, "x": {"S": "y" * (n % 5)}}
            if n % 7:  # some items are not in the index
                item |= {"typeId": {"N": str(n % 3)}, "nokkel": {"S": f"{rnd.randrange(50):03d}#{n}"}}
            client.put_item(TableName="t", Item=item)
        yield client


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :h", "ExpressionAttributeValues": {":h": {"S": "P#1"}}},
    {"KeyConditionExpression": "pk = :h", "ExpressionAttributeValues": {":h": {"S": "P#2"}}, "Limit": 7},
    {"KeyConditionExpression": "pk = :h AND sk > :a", "ExpressionAttributeValues": {
        ":h": {"S": "P#3"}, ":a": {"S": "0500000"}}, "Limit": 10, "ScanIndexForward": False},
    {"KeyConditionExpression": "pk = :h AND sk BETWEEN :a AND :b", "ExpressionAttributeValues": {
        ":h": {"S": "P#0"}, ":a": {"S": "02"}, ":b": {"S": "08"}}, "Limit": 5},
    {"KeyConditionExpression": "pk = :h AND begins_with(sk, :a)", "ExpressionAttributeValues": {
        ":h": {"S": "P#0"}, ":a": {"S": "00"}}},
    {"IndexName": "ByType", "KeyConditionExpression": "typeId = :t", "ExpressionAttributeValues": {":t": {"N": "1"}},
     "Limit": 9},
    {"IndexName": "ByType", "KeyConditionExpression": "typeId = :t AND nokkel > :a", "ExpressionAttributeValues": {
        ":t": {"N": "2"}, ":a": {"S": "020"}}, "Limit": 4, "ScanIndexForward": False},
    {"IndexName": "ByType", "KeyConditionExpression": "typeId = :t AND nokkel >= :a", "ExpressionAttributeValues": {
        ":t": {"N": "0"}, ":a": {"S": "010"}}, "FilterExpression": "attribute_exists(x)", "Limit": 11},
]


def _all_pages(client: Any, query: dict[str, Any]) -> list[Any]:
    pages, kwargs = [], dict(query)
    while True:
        page = client.query(TableName="t", **kwargs)
        pages.append((page["Items"], page.get("LastEvaluatedKey"), page["ScannedCount"]))
        if "LastEvaluatedKey" not in page:
            return pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_pages_are_moto_s_own_answers(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [_all_pages(ddb, q) for q in QUERIES]
    monkeypatch.setattr(Table, "query", fast_query(Table.__dict__["query"]))
    assert [_all_pages(ddb, q) for q in QUERIES] == expected


def test_a_page_costs_the_page_not_the_table(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    original = Table.__dict__["query"]

    @functools.wraps(original)
    def counting(self: Table, *args: Any, **kwargs: Any) -> Any:
        seen.append(len(self.all_items()))  # what moto's query walks and sorts
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Table, "query", fast_query(counting))
    ddb.query(TableName="t", IndexName="ByType", KeyConditionExpression="typeId = :t",
              ExpressionAttributeValues={":t": {"N": "1"}}, Limit=5)
    ddb.query(TableName="t", KeyConditionExpression="pk = :h", ExpressionAttributeValues={":h": {"S": "P#1"}},
              Limit=5)
    assert seen == [6, 6]


def _answers(client: Any) -> list[Any]:
    """Every kind of item answer, binary and nested values included (ResponseMetadata aside)."""
    client.put_item(TableName="t", Item={"pk": {"S": "Z"}, "sk": {"S": "1"}, "b": {"B": b"\x00\xff"},
                                         "n": {"N": "1.50"}, "m": {"M": {"s": {"BS": [b"1"]}, "l": {"L": [
                                             {"NULL": True}, {"BOOL": False}, {"SS": ["a", "b"]}, {"NS": ["2"]}]}}}})
    calls = [
        lambda: client.get_item(TableName="t", Key={"pk": {"S": "Z"}, "sk": {"S": "1"}}),
        lambda: client.get_item(TableName="t", Key={"pk": {"S": "Z"}, "sk": {"S": "2"}}),
        lambda: client.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "Z"}, "sk": {"S": "1"}}]}}),
        lambda: client.query(TableName="t", KeyConditionExpression="pk = :h", ReturnConsumedCapacity="TOTAL",
                             ExpressionAttributeValues={":h": {"S": "P#1"}}, Limit=3),
        lambda: client.scan(TableName="t", Limit=2),
        lambda: client.update_item(TableName="t", Key={"pk": {"S": "Z"}, "sk": {"S": "1"}}, ReturnValues="ALL_NEW",
                                   UpdateExpression="SET x = :x", ExpressionAttributeValues={":x": {"B": b"\x01"}}),
        lambda: client.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": {"pk": {"S": "Z"},
                                                                                     "sk": {"S": "3"}}}}]}),
        lambda: client.delete_item(TableName="t", Key={"pk": {"S": "Z"}, "sk": {"S": "3"}}, ReturnValues="ALL_OLD"),
        lambda: client.describe_table(TableName="t")["Table"]["KeySchema"],
    ]
    answers = []
    for call in calls:
        answer = call()
        if isinstance(answer, dict):
            answer.pop("ResponseMetadata", None)
        answers.append(answer)
    return answers


def test_item_answers_are_the_ones_moto_serializes(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.responses import ActionResult

    from vegskriv.local.moto_query import fast_json

    expected = _answers(ddb)
    monkeypatch.setattr(ActionResult, "execute_result", fast_json(ActionResult.__dict__["execute_result"]))
    assert _answers(ddb) == expected


def _maintained(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    from vegskriv.local.moto_query import maintaining_delete, maintaining_put, maintaining_update

    monkeypatch.setattr(Table, "put_item", maintaining_put(Table.__dict__["put_item"]))
    monkeypatch.setattr(Table, "delete_item", maintaining_delete(Table.__dict__["delete_item"]))
    monkeypatch.setattr(DynamoDBBackend, "update_item", maintaining_update(DynamoDBBackend.__dict__["update_item"]))


def test_a_page_after_writes_is_still_moto_s_own_answer(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sorted views follow the table's writes (put, update in place, delete, batch)."""
    _maintained(monkeypatch)
    original = Table.__dict__["query"]
    fast = fast_query(original)

    def both(kwargs: dict[str, Any]) -> list[Any]:
        answers = []
        for query in (fast, original):
            monkeypatch.setattr(Table, "query", query)
            answer = ddb.query(TableName="t", **kwargs)
            answer.pop("ResponseMetadata")
            answers.append(answer)
        return answers

    for kwargs in ({"KeyConditionExpression": "pk = :h", "ExpressionAttributeValues": {":h": {"S": "P#1"}}},
                   {"IndexName": "ByType", "KeyConditionExpression": "typeId = :t",
                    "ExpressionAttributeValues": {":t": {"N": "1"}}}):
        first, moto_first = both({**kwargs, "Limit": 5})
        assert first == moto_first
        last = first["LastEvaluatedKey"]
        following = both({**kwargs, "Limit": 2, "ExclusiveStartKey": last})[1]["Items"]
        # right after the first page: a new item, an item moved there (update in place), one deleted
        ddb.put_item(TableName="t", Item={"pk": last["pk"], "sk": {"S": last["sk"]["S"] + "0"}, "typeId": {"N": "1"},
                                          "nokkel": {"S": last.get("nokkel", {"S": "000"})["S"] + "0"}})
        ddb.update_item(TableName="t", Key={k: first["Items"][0][k] for k in ("pk", "sk")}, UpdateExpression=(
            "SET typeId = :t, nokkel = :n"), ExpressionAttributeValues={":t": {"N": "1"}, ":n": {
                "S": last.get("nokkel", {"S": "000"})["S"] + "1"}})
        gone = {k: following[1][k] for k in ("pk", "sk")}
        ddb.batch_write_item(RequestItems={"t": [{"DeleteRequest": {"Key": gone}}]})
        second, moto_second = both({**kwargs, "Limit": 5, "ExclusiveStartKey": last})
        assert second == moto_second and second["Items"] != following[:2]


@pytest.mark.parametrize("patched", [False, True])
def test_a_cancelled_transaction_leaves_every_item_as_it_was(ddb: Any, patched: bool) -> None:
    """With the local stack's item rollback (and with moto's own whole-table copy, for comparison): a
    put, an update and a delete that ran before the failing check are all undone; a clean one stays."""
    from vegskriv.local.moto_patches import Patches
    from vegskriv.local.moto_query import install

    patches = Patches()
    if patched:
        install(patches)
    try:
        ddb.put_item(TableName="t", Item={"pk": {"S": "T"}, "sk": {"S": "b"}, "v": {"N": "1"}})
        ddb.put_item(TableName="t", Item={"pk": {"S": "T"}, "sk": {"S": "c"}, "v": {"N": "1"}})
        before = ddb.scan(TableName="t")["Items"]
        key = {"pk": {"S": "T"}}
        ops = [{"Put": {"TableName": "t", "Item": {**key, "sk": {"S": "a"}}}},
               {"Update": {"TableName": "t", "Key": {**key, "sk": {"S": "b"}}, "UpdateExpression": "SET v = :two",
                           "ExpressionAttributeValues": {":two": {"N": "2"}}}},
               {"Delete": {"TableName": "t", "Key": {**key, "sk": {"S": "c"}}}}]
        failing = {"ConditionCheck": {"TableName": "t", "Key": {**key, "sk": {"S": "x"}},
                                      "ConditionExpression": "attribute_exists(pk)"}}
        with pytest.raises(ddb.exceptions.TransactionCanceledException):
            ddb.transact_write_items(TransactItems=[*ops, failing])
        assert sorted(map(str, ddb.scan(TableName="t")["Items"])) == sorted(map(str, before))
        ddb.transact_write_items(TransactItems=ops)
        got = {i["sk"]["S"]: i.get("v") for i in ddb.query(TableName="t", KeyConditionExpression="pk = :h",
                                                             ExpressionAttributeValues={":h": {"S": "T"}})["Items"]}
        assert got == {"a": None, "b": {"N": "2"}}
    finally:
        patches.undo()


def test_views_kept_in_step_through_many_writes_are_moto_s_answers(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A walk that writes the partitions it reads (as a FULL provisioning run does): random puts,
    overwrites that move an item within an index, updates in place (a new item among them), deletes,
    a failing conditional update and a cancelled transaction, each followed by pages read through the
    views and by moto alone."""
    from moto.core.responses import ActionResult

    from vegskriv.local.moto_query import fast_json

    _maintained(monkeypatch)
    monkeypatch.setattr(ActionResult, "execute_result", fast_json(ActionResult.__dict__["execute_result"]))
    original = Table.__dict__["query"]
    fast = fast_query(original)
    rnd = random.Random(11)

    def answers(kwargs: dict[str, Any]) -> list[Any]:
        got = []
        for query in (fast, original):
            monkeypatch.setattr(Table, "query", query)
            got.append(_all_pages(ddb, kwargs))
        return got

    def key() -> dict[str, Any]:
        return {"pk": {"S": f"P#{rnd.randrange(4)}"}, "sk": {"S": f"{rnd.randrange(10**6):07d}"}}

    for step in range(30):
        kind = step % 4 if step % 10 != 9 else 4 + step // 10 % 2  # failures (which drop views) rarely
        if kind == 0:
            ddb.put_item(TableName="t", Item={**key(), "typeId": {"N": str(rnd.randrange(3))},
                                              "nokkel": {"S": f"{rnd.randrange(50):03d}#p{step}"}})
        elif kind == 1:  # an existing item put again, elsewhere in the index (or out of it)
            item = rnd.choice(ddb.scan(TableName="t", Limit=50)["Items"])
            item = {k: v for k, v in item.items() if k not in ("typeId", "nokkel")}
            if step % 3:
                item |= {"typeId": {"N": "1"}, "nokkel": {"S": f"{rnd.randrange(50):03d}#m{step}"}}
            ddb.put_item(TableName="t", Item=item)
        elif kind == 2:
            ddb.update_item(TableName="t", Key=key(), UpdateExpression="SET typeId = :t, nokkel = :n",
                            ExpressionAttributeValues={":t": {"N": "2"}, ":n": {"S": f"{step:03d}#u"}})
        elif kind == 3:
            item = rnd.choice(ddb.scan(TableName="t", Limit=80)["Items"])
            ddb.delete_item(TableName="t", Key={"pk": item["pk"], "sk": item["sk"]})
        elif kind == 4:
            with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
                ddb.update_item(TableName="t", Key=key(), UpdateExpression="SET x = :x", ExpressionAttributeValues={
                    ":x": {"S": "z"}}, ConditionExpression="attribute_exists(pk)")
        else:
            with pytest.raises(ddb.exceptions.TransactionCanceledException):
                ddb.transact_write_items(TransactItems=[
                    {"Put": {"TableName": "t", "Item": {**key(), "typeId": {"N": "0"}, "nokkel": {"S": "000#t"}}}},
                    {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "none"}, "sk": {"S": "none"}},
                                        "ConditionExpression": "attribute_exists(pk)"}}])
        for query in QUERIES:
            fast_pages, moto_pages = answers({**query, "Limit": 60})
            assert fast_pages == moto_pages, (step, query)


def test_a_walk_that_writes_its_partition_sorts_it_once(ddb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a FULL run does to the consumer's copy: read a page, write into the partition, read the
    next page. The partition is sorted for the first page only (then O(N²) per walk, not O(N))."""
    from vegskriv.local import moto_query

    _maintained(monkeypatch)
    monkeypatch.setattr(Table, "query", fast_query(Table.__dict__["query"]))
    sorts: list[int] = []

    def counting_sorted(items: Any, **kwargs: Any) -> list[Any]:
        result = sorted(items, **kwargs)
        sorts.append(len(result))
        return result

    monkeypatch.setattr(moto_query, "sorted", counting_sorted, raising=False)
    kwargs: dict[str, Any] = {"KeyConditionExpression": "pk = :h", "ExpressionAttributeValues": {":h": {"S": "P#1"}},
                              "Limit": 10}
    seen = 0
    while True:
        page = ddb.query(TableName="t", **kwargs)
        seen += len(page["Items"])
        for item in page["Items"]:
            ddb.put_item(TableName="t", Item={**item, "sk": {"S": item["sk"]["S"] + "~"}})  # after it: read later
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    assert sorts == [100]
    assert seen > 100  # the items written behind the walk were read too, as on DynamoDB
