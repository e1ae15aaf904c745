"""Requests `make fuzz` (schemathesis) found answered 500: each must get a 4xx that says what is wrong.

Found on 2026-12-05 (seed 40418365733276476020749737484927964785): a JSON body that is not UTF-8,
form content types on routes that read a JSON body, an epoch beyond the year 9999, a change to an
edition with ``vedleggstyper: null``, and a binary value with an empty ``ressursId``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.client import Client
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e
NOT_UTF8 = b"\xff\x1eV\xfe1"
OWNER = "/rest/v1/tjenesteeiere"


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


def send(client: Client, method: str, path: str, body: bytes | str, content_type: str) -> tuple[int, str]:
    r = client.request(method, path, data=body, headers={"Content-Type": content_type})
    return r.status_code, r.json()["message"]


@pytest.mark.parametrize("path", ["/rest/v3/endringssett", "/rest/v3/endringssett/validator", OWNER,
                                  "/rest/v1/konsumenter"])
def test_a_json_body_that_is_not_utf8_is_refused(olanor: Client, path: str) -> None:
    status, message = send(olanor, "POST", path, NOT_UTF8, "application/json")
    assert status == 400
    assert "UTF-8" in message


@pytest.mark.parametrize("content_type", ["multipart/form-data", "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded"])
@pytest.mark.parametrize("path", ["/rest/v3/endringssett", OWNER, "/rest/v1/konsumenter"])
def test_form_bodies_are_refused_where_a_json_body_is_read(olanor: Client, path: str, content_type: str) -> None:
    status, message = send(olanor, "POST", path, json.dumps({"navn": "0", "kode": "0"}), content_type)
    assert status == 415
    assert content_type in message and "application/json" in message


@pytest.mark.parametrize("path", ["/rest/v1/statistikk", "/rest/v3/endringssett"])
def test_an_epoch_past_the_year_9999_is_refused(olanor: Client, path: str) -> None:
    r = olanor.request("GET", path, params={"fraEpochMs": 0, "tilEpochMs": 1283895498845070})
    assert r.status_code == 400
    assert "tilEpochMs" in r.json()["message"]
    assert olanor.request("GET", path, params={"tilEpochMs": 253402300799999}).status_code == 200


def test_changing_an_edition_with_vedleggstyper_null_reaches_the_owner_check(admin: Client) -> None:
    assert admin.request("POST", OWNER, json={"kode": "etat", "navn": "Etaten", "administratorer": []}
                         ).status_code == 201
    change: dict[str, Any] = {"navn": "Ny", "vedleggstyper": None, "skjema": None, "master": None}
    r = admin.request("PATCH", f"{OWNER}/etat/tjenester/finnes-ikke/utgaver/1", json=change)
    assert r.status_code == 404, r.text


def test_a_binary_value_with_an_empty_ressursid_is_refused(olanor: Client) -> None:
    doc = {"datakatalogversjon": "2.38", "delvisOppdater": {"vegobjekter": [{
        "typeId": 83, "nvdbId": 1, "versjon": 1,
        "egenskaper": [{"typeId": 1, "binaer": [{"format": "pdf", "ressursId": ""}]}]}]}}
    r = olanor.request("POST", "/rest/v3/endringssett/validator", json=doc)
    assert r.status_code == 400
    assert "ressursId" in r.json()["message"]


@pytest.mark.parametrize("escape", ["\\u0001", "\\ud800", "\\uffff"])
def test_text_xml_cannot_carry_is_refused(olanor: Client, escape: str) -> None:
    """Found by tests/unit/api/test_xml_properties.py: such a value made answers in XML not well-formed
    (and an unpaired surrogate cannot be stored as UTF-8)."""
    body = '{"datakatalogversjon": "2.38", "registrer": {"vegobjekter": [{"typeId": 83, "tempId": "k' + escape + '"}]}}'
    status, message = send(olanor, "POST", "/rest/v3/endringssett", body, "application/json")
    assert status == 400
    assert "registrer.vegobjekter[0].tempId" in message and "XML" in message
