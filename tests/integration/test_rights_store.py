"""Data rights in DynamoDB (moto) and the /rest/v3/rettigheter API through a Powertools resolver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.support.tables import moto_tables
from vegskriv.api.app import handle
from vegskriv.changesets.rights import Datarettighet, Tilgang
from vegskriv.store import rights as store

TABLE = "test-ReferenceTable"
ADMIN = "9_system_admin"


@pytest.fixture(autouse=True)
def reference_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("DEFAULT_RIGHTS", raising=False)
    with moto_tables(monkeypatch, REFERENCE_TABLE=("ReferenceTable", TABLE)):
        yield


def grants(user: str, *tilganger: dict[str, Any]) -> Datarettighet:
    return Datarettighet.model_validate({"brukernavn": user, "tilganger": list(tilganger)})


# --- store -----------------------------------------------------------------------------------------


def test_put_get_delete() -> None:
    assert store.get("olanor") is None
    saved = store.put(grants("olanor", {"vegobjekttyper": [95], "kommuner": [301]}), endret_av="admin")
    assert saved.oppdatertAv == "admin" and saved.oppdatert is not None
    found = store.get("olanor")
    assert found == saved
    assert found.tilganger == [Tilgang(vegobjekttyper=[95], kommuner=[301])]
    store.put(grants("olanor", {"vegobjekttyper": "alle"}))
    assert store.get("olanor").tilganger == [Tilgang(vegobjekttyper="alle")]  # replaced, not merged
    assert store.delete("olanor") is True
    assert store.get("olanor") is None
    assert store.delete("olanor") is False


def test_items_live_under_the_rettighet_partition() -> None:
    store.put(grants("kari", {"vegobjekttyper": [83]}))
    item = boto3.resource("dynamodb", region_name="eu-north-1").Table(TABLE).get_item(
        Key={"pk": "RETTIGHET", "sk": "BRUKER#kari"})["Item"]
    assert item["brukernavn"] == "kari" and json.loads(item["data"])["tilganger"][0]["vegobjekttyper"] == [83]


def test_list_pages_by_username() -> None:
    table = boto3.resource("dynamodb", region_name="eu-north-1").Table(TABLE)
    table.put_item(Item={"pk": "VEGNETT", "sk": "VLS#000000000001", "data": "{}"})  # other reference data
    for user in ("d", "a", "c", "b", "e"):
        store.put(grants(user, {"vegobjekttyper": [95]}))
    page, cursor = store.list_rights(limit=2)
    assert [r.brukernavn for r in page] == ["a", "b"] and cursor == "b"
    page, cursor = store.list_rights(after=cursor, limit=2)
    assert [r.brukernavn for r in page] == ["c", "d"] and cursor == "d"
    page, cursor = store.list_rights(after=cursor, limit=2)
    assert [r.brukernavn for r in page] == ["e"] and cursor is None
    page, cursor = store.list_rights(limit=5)
    assert len(page) == 5 and cursor is None  # exactly a full page: no empty next page


# --- API -------------------------------------------------------------------------------------------



def call(method: str, path: str, *, user: str = "admin", roles: str = ADMIN, body: Any = None,
         query: dict[str, str] | None = None) -> tuple[int, Any]:
    event = {
        "resource": "/{proxy+}", "path": path, "httpMethod": method,
        "headers": {"Host": "127.0.0.1:3000", "Content-Type": "application/json"},
        "multiValueHeaders": {}, "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")}, "stageVariables": None,
        "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": method, "path": path, "stage": "v1",
                           "requestId": "r1", "authorizer": {"user": user, "roles": json.dumps(roles.split(","))}},
        "body": body if body is None or isinstance(body, str) else json.dumps(body), "isBase64Encoded": False,
    }
    response = handle(event, {})  # as in Lambda: the caller, roles and body validation
    return response["statusCode"], json.loads(response["body"]) if response["body"] else None


def test_own_rights_default_stored_and_admin() -> None:
    status, body = call("GET", "/rest/v3/rettigheter/meg", user="olanor", roles="0_bruker_fagdata,0_sensitive_role2")
    assert status == 200
    assert body == {"brukernavn": "olanor", "tilganger": [{"vegobjekttyper": "alle", "kommuner": [], "fylker": [],
                                                            "vegkategorier": []}],
                    "kilde": "standard", "sensitivitetsroller": ["0_sensitive_role2"]}
    store.put(grants("olanor", {"vegobjekttyper": [95]}))
    status, body = call("GET", "/rest/v3/rettigheter/meg", user="olanor", roles="0_bruker_fagdata")
    assert (status, body["kilde"], body["tilganger"][0]["vegobjekttyper"]) == (200, "tildelt", [95])
    status, body = call("GET", "/rest/v3/rettigheter/meg")
    assert (status, body["kilde"]) == (200, "administrator")


def test_default_rights_setting_shows_in_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_RIGHTS", "ingen")
    status, body = call("GET", "/rest/v3/rettigheter/meg", user="olanor", roles="0_bruker_fagdata")
    assert (status, body["tilganger"], body["kilde"]) == (200, [], "standard")


def test_admin_puts_gets_lists_and_deletes() -> None:
    doc = {"tilganger": [{"vegobjekttyper": [95, 96], "fylker": [3], "vegkategorier": ["E", "R"]}]}
    status, body = call("PUT", "/rest/v3/rettigheter/olanor", body=doc)
    assert status == 200 and body["brukernavn"] == "olanor" and body["oppdatertAv"] == "admin"
    status, body = call("GET", "/rest/v3/rettigheter/olanor")
    assert status == 200 and body["tilganger"][0]["fylker"] == [3] and body["kilde"] == "tildelt"
    # A GET answer sent back as is (server fields included) is accepted.
    assert call("PUT", "/rest/v3/rettigheter/olanor", body=body)[0] == 200
    store.put(grants("kari", {"vegobjekttyper": [83]}))
    status, body = call("GET", "/rest/v3/rettigheter", query={"antall": "1"})
    assert status == 200 and [r["brukernavn"] for r in body["objekter"]] == ["kari"]
    assert body["metadata"]["neste"]["start"] == "kari"
    status, body = call("GET", "/rest/v3/rettigheter", query={"antall": "1", "start": "kari"})
    assert [r["brukernavn"] for r in body["objekter"]] == ["olanor"] and "neste" not in body["metadata"]
    assert call("DELETE", "/rest/v3/rettigheter/olanor") == (204, None)
    assert call("DELETE", "/rest/v3/rettigheter/olanor")[0] == 404
    status, body = call("GET", "/rest/v3/rettigheter/olanor")
    assert (status, body["kilde"]) == (200, "standard")


def test_bad_input_names_the_path() -> None:
    bad = {"tilganger": [{"vegobjekttyper": [95], "vegkategorier": ["X"]}]}
    status, body = call("PUT", "/rest/v3/rettigheter/olanor", body=bad)
    assert status == 400 and "tilganger[0].vegkategorier[0]" in body["message"]
    status, body = call("PUT", "/rest/v3/rettigheter/olanor", body={"tilganger": [{"vegobjekttyper": [95],
                                                                                    "typerVeg": ["RAMPE"]}]})
    assert status == 400 and "tilganger[0].typerVeg" in body["message"]
    status, body = call("PUT", "/rest/v3/rettigheter/olanor", body={"brukernavn": "kari", "tilganger": []})
    assert status == 400 and "brukernavn" in body["message"]
    status, body = call("PUT", "/rest/v3/rettigheter/olanor", body="{ikke json")
    assert status == 400 and "Ugyldig JSON" in body["message"]
    status, body = call("PUT", "/rest/v3/rettigheter/olanor", body=[1])
    assert status == 400
    status, body = call("PUT", "/rest/v3/rettigheter/ola%20nor", body={"tilganger": []})
    assert status == 400 and "brukernavn" in body["message"]
    assert store.get("olanor") is None


@pytest.mark.parametrize(("method", "path", "roles", "expected"), [
    ("GET", "/rest/v3/rettigheter", "0_bruker_fagdata", 403),
    ("GET", "/rest/v3/rettigheter", "TjeNVDBAPIskriv/user", 200),
    ("GET", "/rest/v3/rettigheter/kari", "0_bruker_fagdata", 403),
    ("GET", "/rest/v3/rettigheter/kari", "5_fagdata_admin", 403),
    ("GET", "/rest/v3/rettigheter/kari", "TjeNVDBAPIskriv/user", 200),
    ("GET", "/rest/v3/rettigheter/olanor", "0_bruker_fagdata", 200),  # own record by name
    ("PUT", "/rest/v3/rettigheter/olanor", "0_bruker_fagdata", 403),
    ("PUT", "/rest/v3/rettigheter/kari", "TjeNVDBAPIskriv/user", 403),
    ("DELETE", "/rest/v3/rettigheter/kari", "5_fagdata_admin", 403),
])
def test_roles(method: str, path: str, roles: str, expected: int) -> None:
    store.put(grants("kari", {"vegobjekttyper": [83]}))
    body = {"tilganger": [{"vegobjekttyper": "alle"}]} if method == "PUT" else None
    assert call(method, path, user="olanor", roles=roles, body=body)[0] == expected
    assert store.get("kari").tilganger == [Tilgang(vegobjekttyper=[83])]  # nothing changed by a refusal
    assert store.get("olanor") is None
