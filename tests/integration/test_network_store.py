"""The road network on moto: a sequence's links and ports are stored with it; a sequence stored
without them (an old network file) still reads back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from vegskriv import aws
from vegskriv.network import Veglenkesekvens
from vegskriv.settings import get_settings
from vegskriv.store import reference

TABLE = "test-ReferenceTable"
OLD = {"veglenkesekvensId": 11, "lengde": 100, "kommune": 301, "fylke": 3, "vegkategori": "K",
       "startdato": "2000-01-01", "sluttdato": None}


@pytest.fixture(autouse=True)
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REFERENCE_TABLE", TABLE)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        boto3.client("dynamodb", region_name="eu-north-1").create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}])
        reference._network_cache.clear()
        yield
        reference._network_cache.clear()
        aws.reset()
        get_settings.cache_clear()


def test_links_and_ports_are_stored_with_the_sequence_and_old_items_still_read():
    seq = Veglenkesekvens.model_validate({
        **OLD, "veglenkesekvensId": 12,
        "veglenker": [{"veglenkenummer": 1, "startposisjon": 0, "sluttposisjon": 1, "startport": 1, "sluttport": 2,
                       "type": "KONNEKTERING", "detaljnivå": "Vegtrase og kjørebane", "startdato": "2000-01-01"}],
        "porter": [{"id": 1, "tilkobling": {"nodeid": 7, "portnummer": 3}}, {"id": 2, "nodeid": 8}]})
    reference.save_network([seq])
    # An item written before links existed (no veglenker/porter keys in its data).
    reference._table().put_item(Item={"pk": "VEGNETT", "sk": "VLS#000000000011", "kommune": 301,
                                      "data": json.dumps(OLD)})
    reference._network_cache.clear()
    found = reference.veglenkesekvenser([11, 12])
    assert found[12] == seq and found[12].noder() == {7: 1, 8: 2}
    assert found[12].veglenker and found[12].veglenker[0].topologinivå == ["VEGTRASE", "KJOREBANE"]
    assert found[11].veglenker is None and found[11].porter is None and found[11].noder() == {}
