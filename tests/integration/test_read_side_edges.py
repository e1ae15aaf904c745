"""Read side, in process on moto: a walk of GET /rest/v3/vegobjekter/{typeId} as an NVDB client
makes it (follow neste.href until a page is empty), against the change feed and a consumer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.support.fixtures import history
from tests.support.tables import moto_tables
from vegskriv.network import Veglenkesekvens
from vegskriv.store import changesets, objects, reference

TYPE = 83
IN, OUT = 301, 5001  # kommuner
VLS_IN, VLS_OUT = 11, 12


@pytest.fixture(autouse=True)
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ENDRET_OVERLAPP_SEKUNDER", "0")
    with moto_tables(monkeypatch, OBJECTS_TABLE=("ObjectsTable", "test-ObjectsTable"),
                     CHANGESETS_TABLE=("ChangesetsTable", "test-ChangesetsTable"),
                     REFERENCE_TABLE=("ReferenceTable", "test-ReferenceTable")):
        reference._network_cache.clear()
        changesets._committed.clear()
        reference.save_network([Veglenkesekvens.model_validate(
            {"veglenkesekvensId": vls, "lengde": 100, "kommune": kommune, "fylke": 3, "vegkategori": "K",
             "startdato": "2000-01-01"}) for vls, kommune in ((VLS_IN, IN), (VLS_OUT, OUT))])
        yield
        reference._network_cache.clear()


def get(path: str, **params: Any) -> dict[str, Any]:
    from vegskriv.api.app import handle

    query = {k: str(v) for k, v in params.items()}
    event = {"path": path, "httpMethod": "GET", "headers": {"Host": "127.0.0.1"}, "multiValueHeaders": {},
             "queryStringParameters": query or None,
             "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
             "requestContext": {"stage": "v1", "authorizer": {"user": "olanor", "roles": '["0_bruker_fagdata"]'}},
             "body": None, "isBase64Encoded": False}
    response = handle(event, None)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def walk(**params: Any) -> tuple[list[dict[str, Any]], str]:
    """Every object of a walk as an NVDB client makes it: follow neste.href until a page is empty."""
    answer = get(f"/rest/v3/vegobjekter/{TYPE}", **params)
    found, tidspunkt = list(answer["objekter"]), answer["metadata"]["tidspunkt"]
    while answer["metadata"]["returnert"]:
        href = urlsplit(answer["metadata"]["neste"]["href"])
        answer = get(href.path, **dict(parse_qsl(href.query)))
        found += answer["objekter"]
    return found, tidspunkt


def test_a_kommune_walk_does_not_end_before_the_objects_in_the_kommune():
    """README: with a kommune filter the read reads on until the page is full, so a real NVDB
    client, which stops at an empty page, does not stop early."""
    outside = [v for n in range(1, 26) for v in history(n, TYPE, 1, vls=VLS_OUT)]
    inside = history(100, TYPE, 1, vls=VLS_IN)
    objects.import_versions(outside + inside)
    found, _ = walk(antall=1, kommune=IN)
    assert [o["id"] for o in found] == [100]


def test_an_object_closed_before_a_walk_is_not_listed_as_current():
    """A consumer loads a walk, then follows endretEtter=tidspunkt; an object already closed (its
    tombstone lies before the walk) must not be in the walk, or the consumer keeps it for good."""
    objects.import_versions([*history(1, TYPE, 1, vls=VLS_IN), *history(2, TYPE, 2, vls=VLS_IN, closed="2020-01-01")])
    found, tidspunkt = walk(antall=100)
    assert [o["id"] for o in found] == [1]
    assert get(f"/rest/v3/vegobjekter/{TYPE}")["metadata"]["antall"] == 1  # the hits of the walk
    later, _ = walk(antall=100, endretEtter=tidspunkt)
    assert later == []


def test_a_large_object_reads_while_the_changeset_changing_it_commits_and_folds(monkeypatch):
    """A reader decided the changeset had not committed (so it shows prev), and the commit and
    the fold come before it fetches prev's chunks: the fold deleted them. It must still answer."""
    import random
    import string

    from vegskriv import aws
    from vegskriv.api.app import handle

    rng = random.Random(3)
    versions = [{**history(11, TYPE, 3, vls=VLS_IN)[i],
                 "merknad": "".join(rng.choices(string.ascii_letters, k=150_000))} for i in range(3)]
    objects.import_versions(versions)
    meta = {"pk": "ES#cs-big", "sk": "META", "id": "cs-big", "fremdrift": "BEHANDLES"}
    aws.table("test-ChangesetsTable").put_item(Item=meta)
    objects.write_overlays("cs-big", [objects.Write(11, 4, TYPE, {**versions[2], "versjon": 4, "merknad": "kort"})])
    real = changesets.get

    def read_just_before_the_commit(changeset_id: str) -> dict | None:
        answer = real(changeset_id)
        if changeset_id == "cs-big" and answer and not answer.get("committed"):  # commit and fold land now
            aws.table("test-ChangesetsTable").put_item(Item={**meta, "fremdrift": "UTFØRT", "committed": True})
            objects.fold_overlays("cs-big", [objects.Write(11, 4, TYPE, None).key()], held=True)
        return answer

    monkeypatch.setattr(changesets, "get", read_just_before_the_commit)
    event = {"path": f"/rest/v3/vegobjekter/{TYPE}/11", "httpMethod": "GET", "headers": {"Host": "127.0.0.1"},
             "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
             "requestContext": {"stage": "v1", "authorizer": {"user": "olanor", "roles": '["0_bruker_fagdata"]'}},
             "body": None, "isBase64Encoded": False}
    response = handle(event, None)
    assert response["statusCode"] == 200, response["body"]
    assert [v["versjon"] for v in json.loads(response["body"])["versjoner"]] in ([1, 2, 3], [1, 2, 3, 4])


@pytest.mark.parametrize("endret_etter", ["0999-12-31", "0500-01-01T00:00:00Z", "0005-01-01"])
def test_an_early_endret_etter_lists_every_change(endret_etter):
    """Any ISO time before the changes lists them (a year under 1000 is still a time before 2026)."""
    objects.import_versions(history(1, TYPE, 1, vls=VLS_IN))
    found, _ = walk(antall=100, endretEtter=endret_etter)
    assert [o["id"] for o in found] == [1]
