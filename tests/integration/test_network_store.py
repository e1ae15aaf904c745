"""The road network on moto: a sequence's links and ports are stored with it; a sequence stored
without them (an old network file) still reads back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.tables import moto_tables
from vegskriv.network import Veglenkesekvens
from vegskriv.store import reference

TABLE = "test-ReferenceTable"
OLD = {"veglenkesekvensId": 11, "lengde": 100, "kommune": 301, "fylke": 3, "vegkategori": "K",
       "startdato": "2000-01-01", "sluttdato": None}


@pytest.fixture(autouse=True)
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with moto_tables(monkeypatch, REFERENCE_TABLE=("ReferenceTable", TABLE)):
        reference._network_cache.clear()
        yield
        reference._network_cache.clear()


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


def _call(method: str, path: str, body: object = None) -> tuple[int, object]:
    from vegskriv.api.app import handle

    event = {"path": path, "httpMethod": method, "headers": {"Host": "127.0.0.1", "Content-Type": "application/json"},
             "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "requestContext": {"stage": "v1", "authorizer": {"user": "admin", "roles": '["9_system_admin"]'}},
             "body": None if body is None else json.dumps(body), "isBase64Encoded": False}
    response = handle(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_a_bare_list_loads_and_a_sequence_without_links_reads_back_without_nulls():
    # Powertools passes a JSON list on whole only to a body typed as a sequence (else its first element).
    assert _call("PUT", "/rest/v3/vegnett/veglenkesekvenser", [OLD, {**OLD, "veglenkesekvensId": 12}]) == (
        200, {"antall": 2})
    status, text = _call("PUT", "/rest/v3/vegnett/veglenkesekvenser", [{**OLD, "veglenkesekvensId": "x"}])
    assert status == 400 and text["message"].startswith("[0].veglenkesekvensId: ")  # type: ignore[index]
    status, found = _call("GET", "/rest/v3/vegnett/veglenkesekvenser/11")
    assert status == 200 and found == {**OLD, "lengde": 100.0}  # no "veglenker": null, "porter": null
    page = _call("GET", "/rest/v3/vegnett/veglenkesekvenser")[1]
    assert [set(s) for s in page["objekter"]] == [set(OLD)] * 2  # type: ignore[index]
