"""The object store on moto: batched reads and writes, visibility at the commit write, undo, spill."""

from __future__ import annotations

import random
import string
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from moto import mock_aws

from tests.support.fixtures import history
from vegskriv import aws
from vegskriv.settings import get_settings
from vegskriv.store import objects
from vegskriv.store.objects import OverlayConflict, Write

OBJECTS, CHANGESETS = "test-ObjectsTable", "test-ChangesetsTable"
KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]


@pytest.fixture(autouse=True)
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OBJECTS_TABLE", OBJECTS)
    monkeypatch.setenv("CHANGESETS_TABLE", CHANGESETS)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        ddb = boto3.client("dynamodb", region_name="eu-north-1")
        ddb.create_table(TableName=CHANGESETS, BillingMode="PAY_PER_REQUEST", KeySchema=KEYS,
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "S"}])
        ddb.create_table(TableName=OBJECTS, BillingMode="PAY_PER_REQUEST", KeySchema=KEYS, AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": t} for n, t in
            (("pk", "S"), ("sk", "S"), ("typeId", "N"), ("objektNokkel", "S"))],
            GlobalSecondaryIndexes=[{"IndexName": "ByType", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
                {"AttributeName": "typeId", "KeyType": "HASH"},
                {"AttributeName": "objektNokkel", "KeyType": "RANGE"}]}])
        yield
    aws.reset()
    get_settings.cache_clear()


@pytest.fixture
def calls() -> Counter[str]:
    """DynamoDB operations the store's client makes."""
    seen: Counter[str] = Counter()
    aws.client("dynamodb").meta.events.register("after-call.dynamodb", lambda model, **_: seen.update([model.name]))
    aws.dynamodb().meta.client.meta.events.register("after-call.dynamodb",
                                                    lambda model, **_: seen.update([model.name]))
    return seen


def state(changeset_id: str, fremdrift: str, committed: bool = False) -> None:
    aws.table(CHANGESETS).put_item(Item={"pk": f"ES#{changeset_id}", "sk": "META", "id": changeset_id,
                                         "fremdrift": fremdrift, **({"committed": True} if committed else {})})


def new_version(nvdb_id: int, changeset_id: str, versjon: int = 1, **extra: Any) -> dict[str, Any]:
    [v] = history(nvdb_id, 83, 1, vls=72817 + nvdb_id % 3)
    return {**v, "versjon": versjon, "metadata": {"endringssettId": changeset_id}, **extra}


def test_many_objects_are_written_and_read_in_batches_and_appear_at_the_commit(calls):
    state("cs1", "BEHANDLES")
    ids = list(range(1000, 1250))
    calls.clear()
    objects.write_overlays("cs1", [Write(n, 1, 83, new_version(n, "cs1")) for n in ids])
    # 250 object items and 250 location entries in batches of 25, after reading 100 objects a request;
    # and what the fold will write, stored as one blob (one write, one look for leftovers).
    assert calls == {"BatchGetItem": 3, "BatchWriteItem": 21, "Query": 1}
    assert objects.versions_many(ids) == {n: [] for n in ids}  # written, not committed
    state("cs1", "UTFØRT", committed=True)
    calls.clear()
    found = objects.versions_many(ids)
    assert [found[n][0]["metadata"]["endringssettId"] for n in ids] == ["cs1"] * 250
    assert calls == {"BatchGetItem": 3, "GetItem": 1}  # one look at cs1's state for the whole answer


def test_a_change_shows_the_old_versions_until_the_commit_and_cancel_restores_them():
    objects.import_versions(history(7, 83, 2))
    state("cs2", "BEHANDLES")
    closed = {**history(7, 83, 2)[1], "gyldighetsperiode": {"startdato": "2016-01-01", "sluttdato": "2024-09-27"}}
    writes = [Write(7, 2, 83, closed), Write(8, 1, 83, new_version(8, "cs2"))]
    objects.write_overlays("cs2", writes)
    objects.write_overlays("cs2", writes)  # a re-run after a crash keeps what readers saw
    assert objects.versions(7) == history(7, 83, 2) and objects.versions(8) == []
    assert objects.versions(7, committed=lambda cs: cs == "cs2")[1] == closed
    objects.drop_overlays("cs2", [w.key() for w in writes])
    objects.drop_overlays("cs2", [w.key() for w in writes])
    assert objects.versions_many([7, 8]) == {7: history(7, 83, 2), 8: []}
    assert objects.versions(7, committed=lambda cs: True) == history(7, 83, 2)


def test_a_later_changeset_builds_on_a_committed_one_and_a_live_uncommitted_one_blocks_it():
    state("a", "UTFØRT", committed=True)
    objects.write_overlays("a", [Write(9, 1, 83, new_version(9, "a"))])
    state("b", "BEHANDLES")
    objects.write_overlays("b", [Write(9, 2, 83, new_version(9, "b", versjon=2))])
    assert [v["versjon"] for v in objects.versions(9)] == [1]
    state("c", "BEHANDLES")
    with pytest.raises(OverlayConflict):  # b has not ended: its lease must have run out under it
        objects.write_overlays("c", [Write(9, 3, 83, new_version(9, "c", versjon=3))])
    state("b", "KANSELLERT")  # ended without cleaning up: c builds on what readers saw
    objects.write_overlays("c", [Write(9, 3, 83, new_version(9, "c", versjon=3))])
    assert [v["versjon"] for v in objects.versions(9, committed=lambda cs: cs in ("a", "c"))] == [1, 3]


def test_versions_too_large_for_one_item_are_spilled_and_read_back():
    rng = random.Random(1)
    big = ["".join(rng.choices(string.ascii_letters, k=150_000)) for _ in range(4)]  # ~450 KB gzipped
    versions = [{**history(11, 83, 4)[i], "merknad": big[i]} for i in range(4)]
    objects.import_versions(versions)
    assert objects.versions(11) == versions
    state("d", "BEHANDLES")
    objects.write_overlays("d", [Write(11, 5, 83, new_version(11, "d", versjon=5))])
    assert objects.versions(11) == versions
    assert objects.versions(11, committed=lambda cs: True) == [*versions, new_version(11, "d", versjon=5)]


def chunk_keys() -> set[str]:
    return {i["sk"] for i in aws.table(OBJECTS).scan()["Items"] if i["sk"].startswith("C#")}


def named_chunks() -> set[str]:
    [item] = aws.table(OBJECTS).query(KeyConditionExpression=Key("pk").eq("O#11") & Key("sk").eq("O"))["Items"]
    return {k["sk"] for name in ("vRef", "prevRef") if name in item for k in objects._chunk_keys("O#11", item[name])}


def test_chunks_no_item_names_any_more_are_deleted_when_the_item_is_rewritten():
    rng = random.Random(2)
    versions = [{**history(11, 83, 4)[i], "merknad": "".join(rng.choices(string.ascii_letters, k=150_000))}
                for i in range(4)]
    objects.import_versions(versions[:3])
    objects.import_versions(versions[3:])  # the list of three is rewritten as a list of four
    assert chunk_keys() == named_chunks() and len(chunk_keys()) == 2
    for name, versjon in (("f", 5), ("g", 6)):
        state(name, "BEHANDLES")
        objects.write_overlays(name, [Write(11, versjon, 83, {**versions[3], "versjon": versjon, "merknad": name})])
        objects.write_overlays(name, [Write(11, versjon, 83, {**versions[3], "versjon": versjon, "merknad": name})])
        state(name, "UTFØRT", committed=True)
        assert chunk_keys() == named_chunks()  # prev (what readers saw) kept its chunks across the rewrite
        assert [v["versjon"] for v in objects.versions(11)] == [*range(1, versjon + 1)]
        objects.fold_overlays(name, [objects.Write(11, versjon, 83, None).key()])
        assert chunk_keys() == named_chunks()  # the fold let go of prev's chunks, kept v's
        assert [v["versjon"] for v in objects.versions(11)] == [*range(1, versjon + 1)]
    state("h", "BEHANDLES")
    objects.write_overlays("h", [Write(11, 7, 83, {**versions[0], "versjon": 7})])
    objects.drop_overlays("h", [objects.Write(11, 7, 83, None).key()])
    assert chunk_keys() == named_chunks() and [v["versjon"] for v in objects.versions(11)] == [*range(1, 7)]


def test_list_by_type_pages_by_nvdb_id_and_leaves_out_what_is_not_visible():
    objects.import_versions([v for n in (1, 2, 3, 4) for v in history(n, 83, 2)])
    state("e", "BEHANDLES")
    objects.write_overlays("e", [Write(5, 1, 83, new_version(5, "e"))])
    first, cursor = objects.list_by_type(83, after_nvdb_id=None, limit=3)
    assert [(o["id"], o["versjon"]) for o in first] == [(1, 2), (2, 2), (3, 2)] and cursor == 3
    rest, cursor = objects.list_by_type(83, after_nvdb_id=3, limit=3)
    assert [o["id"] for o in rest] == [4] and cursor is None
    assert objects.on_sequence(83, 72817) == [1, 2, 3, 4]


def test_reads_bring_back_the_version_lists_not_the_index_keys_and_stamps():
    objects.import_versions(history(31, 83, 3))
    answered: Counter[str] = Counter()
    aws.client("dynamodb").meta.events.register(
        "after-call.dynamodb.BatchGetItem",
        lambda parsed, **_: answered.update(n for found in parsed["Responses"].values() for i in found for n in i))
    assert objects.versions_many([31]) == {31: history(31, 83, 3)}
    assert answered["v"] == 1 and not {"sk", "typeId", "objektNokkel", "endret", "endretNokkel"} & set(answered)
