"""Chunked documents on moto: a reader that meets a rewrite half done never decodes a mix."""

from __future__ import annotations

import random
import string
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from vegskriv.errors import Unavailable
from vegskriv.store import blobs

KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(blobs, "CHUNK_BYTES", 200)  # several chunks from a small document
    with mock_aws():
        ddb = boto3.resource("dynamodb", region_name="eu-north-1")
        yield ddb.create_table(TableName="blobs", BillingMode="PAY_PER_REQUEST", KeySchema=KEYS,
                               AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                     {"AttributeName": "sk", "AttributeType": "S"}])


def document(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)  # random text: gzip cannot shrink it below several chunks
    return {"vegobjekter": ["".join(rng.choices(string.ascii_letters, k=300)) for _ in range(3)]}


def half_rewritten(table: Any) -> None:
    """RES written as document 1, then its first chunk replaced by document 2's first chunk."""
    blobs.put_blob(table, "ES#1", "RES", document(2))
    new_first = table.get_item(Key={"pk": "ES#1", "sk": "RES#0000"})["Item"]
    blobs.put_blob(table, "ES#1", "RES", document(1))
    table.put_item(Item=new_first)


def test_a_rewrite_half_done_is_read_again_until_it_is_whole(table: Any) -> None:
    half_rewritten(table)
    finish = threading.Timer(0.08, lambda: blobs.put_blob(table, "ES#1", "RES", document(2)))
    finish.start()
    try:
        assert blobs.get_blob(table, "ES#1", "RES") == document(2)
        assert blobs.get_first_blob(table, "ES#1", ("RES", "RESV")) == document(2)
    finally:
        finish.join()


def test_a_rewrite_that_stays_half_done_answers_503_not_a_decoding_error(table: Any) -> None:
    half_rewritten(table)
    began = time.monotonic()
    with pytest.raises(Unavailable) as raised:
        blobs.get_blob(table, "ES#1", "RES")
    assert raised.value.status == 503
    assert time.monotonic() - began < 2


def test_a_shorter_rewrite_reads_whole_and_leaves_no_chunks_behind(table: Any) -> None:
    blobs.put_blob(table, "ES#1", "RES", document(1))
    blobs.put_blob(table, "ES#1", "RES", {"kort": True})
    assert blobs.get_blob(table, "ES#1", "RES") == {"kort": True}
    assert [i["sk"] for i in table.scan()["Items"]] == ["RES#0000"]
