"""/rest/v1/oppdrag/{id} and /rest/v1/transaksjon?oppdragId= read the one changeset by its key, not
the metadata of every changeset (a table of many changesets answers one look-up with one item)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.support.tables import create_template_table
from vegskriv import aws
from vegskriv.api.app import handle
from vegskriv.changesets.models import Fremdrift as F
from vegskriv.settings import get_settings
from vegskriv.store import changesets

TABLE = "test-ChangesetsTable"


@pytest.fixture(autouse=True)
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CHANGESETS_TABLE", TABLE)
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        create_template_table("ChangesetsTable", TABLE)
        yield
    aws.reset()
    get_settings.cache_clear()


def _call(path: str, query: dict[str, str] | None = None) -> tuple[int, Any]:
    event = {"path": path, "httpMethod": "GET", "headers": {"Host": "127.0.0.1"}, "multiValueHeaders": {},
             "queryStringParameters": query, "multiValueQueryStringParameters": None,
             "requestContext": {"stage": "v1", "authorizer": {"user": "olanor", "roles": "[]"}},
             "body": None, "isBase64Encoded": False}
    response = handle(event, None)
    return response["statusCode"], json.loads(response["body"])


def _items_read() -> list[int]:
    """Items each DynamoDB read returns from now on (Query/Scan 'Count', GetItem 1)."""
    read: list[int] = []

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in ("Query", "Scan"):
            read.append(parsed.get("ScannedCount", parsed.get("Count", 0)))
        elif model.name == "GetItem":
            read.append(1 if "Item" in parsed else 0)

    aws.dynamodb().meta.client.meta.events.register("after-call.dynamodb", after)
    return read


def test_one_oppdrag_and_its_transaksjon_are_read_by_key() -> None:
    for n in range(13):
        changesets.create(f"es-{n}", {"eier": "olanor"}, {"registrer": {}})
        changesets.transition(f"es-{n}", (F.IKKE_STARTET,), F.BEHANDLES)
        changesets.transition(f"es-{n}", (F.BEHANDLES,), F.UTFØRT, committed=True, oppdragId=1000 + n,
                              transaksjonTidspunkt=changesets.now_iso())
        changesets.save_plan(f"es-{n}", {"vegobjekter": [], "writes": []})
    read = _items_read()
    status, oppdrag = _call("/rest/v1/oppdrag/1007")
    assert status == 200 and oppdrag["endringssettId"] == "es-7"
    assert sum(read) <= 1, read
    read.clear()
    status, found = _call("/rest/v1/transaksjon", {"oppdragId": "1012"})
    assert status == 200 and [t["endringssettId"] for t in found["transaksjon"]] == ["es-12"]
    assert _call("/rest/v1/transaksjon", {"endringssettId": "es-3"})[1]["transaksjon"][0]["oppdragId"] == 1003
    assert sum(read) <= 4, read  # the META (or the index entry) and the plan of each, not 13 changesets
    assert _call("/rest/v1/oppdrag/999")[0] == 404
