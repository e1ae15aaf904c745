"""Client input at the edges, through the local stack over HTTP; each once answered wrongly: a 500
(a tampered paging cursor, an id or number past what DynamoDB stores, an ``endretEtter`` at the
edge of the calendar), data silently altered (XML in ISO-8859-1, an uploaded document that is not
UTF-8), an invalid attachment type name stored, and the upload's register answering other XML than
a direct register. Each test says what the API should answer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests

from tests.support.client import Client, changeset, kum
from vegskriv.local.stack import LocalStack
from vegskriv.store import changes

pytestmark = pytest.mark.e2e
BIG = "9" * 45  # a valid integer, past int64 and past the 38 digits a DynamoDB number holds
UPLOADS = "/rest/v3/endringssett/opplasting"
OWNERS = "/rest/v1/tjenesteeiere"


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


# --- 500 for client input ---------------------------------------------------------------------------


@pytest.mark.parametrize("position", ["abc", "1.5"])
def test_a_tampered_cursor_of_the_object_listing_is_400(olanor: Client, position: str) -> None:
    """The cursor is opaque base64: one whose position is not an id must answer as ``ikke-en-markør`` does."""
    cursor = changes.encode_cursor("n", f"{position}|2026-01-01T00:00:00.000Z|5")
    r = olanor.request("GET", "/rest/v3/vegobjekter/83", params={"start": cursor})
    assert r.status_code == 400, r.text
    assert "start" in r.json()["message"]


@pytest.mark.parametrize(("method", "path", "params", "body"), [
    ("GET", f"/rest/v3/vegobjekter/{BIG}", None, None),
    ("GET", f"/rest/v1/oppdrag/{BIG}", None, None),
    ("GET", "/rest/v1/transaksjon", {"oppdragId": BIG}, None),
    ("GET", "/rest/v1/lås", {"oppdragId": BIG}, None),
    ("GET", "/rest/v3/vegnett/veglenkesekvenser", {"kommune": BIG}, None),
    ("POST", "/rest/v1/lås", None, {"vegobjekttyper": [{"typeId": 83}], "oppdragId": BIG,
                                    "stedfesting": [{"veglenkesekvensNvdbId": 1, "fra": 0, "til": 1}]}),
    ("PUT", "/rest/v3/vegobjekter", None, {"vegobjekter": [{"id": 5, "versjon": 1, "typeId": BIG,
                                                            "gyldighetsperiode": {"startdato": "2020-01-01"}}]}),
    # As a JSON number this is refused ("heltallet ... er større enn 9223372036854775807"); as a string it is
    # stored, and every run of the consumer then queries DynamoDB with it.
    ("POST", "/rest/v1/konsumenter", None, {"id": "stor", "navn": "k", "utvalg": {"vegobjekttyper": [BIG]},
                                            "mål": {"type": "DYNAMODB"}}),
])
def test_an_integer_too_large_for_dynamodb_is_refused_not_500(admin: Client, method: str, path: str,
                                                              params: dict[str, str] | None, body: Any) -> None:
    """JSON numbers are bounded to int64 (api/body.py); ids in paths, queries and numeric strings are not."""
    r = admin.request(method, path, params=params, data=None if body is None else json.dumps(body))
    assert r.status_code in (400, 404), r.text
    assert r.json()["message"] != "Intern feil; kontakt forvalter med X-Request-ID"


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_endret_etter_at_the_edge_of_the_calendar_is_400(olanor: Client, when: str) -> None:
    r = olanor.request("GET", "/rest/v3/vegobjekter/83", params={"endretEtter": when})
    assert r.status_code == 400, r.text
    assert "endretEtter" in r.json()["message"]


@pytest.mark.parametrize("listed", ['"annen",{etag}', '"annen" ,{etag}', "*"])
def test_if_none_match_with_a_list_or_star_answers_304(olanor: Client, listed: str) -> None:
    """RFC 9110 13.1.2: a comma-separated list (optional white space) or *; only ", " is split today."""
    etag = olanor.request("GET", "/rest/v3/vegobjekter/83").headers["ETag"]
    r = olanor.request("GET", "/rest/v3/vegobjekter/83", headers={"If-None-Match": listed.format(etag=etag)})
    assert r.status_code == 304, r.text


# --- data silently altered ----------------------------------------------------------------------------

NAME = "Kum på Ørland"


def kum_named(name: str) -> dict[str, Any]:
    obj = kum()
    obj["egenskaper"][0] = {"typeId": 1141, "verdi": [name]}
    return obj


def stored_name(client: Client, location: str) -> str:
    doc = client.request("GET", location[len(client.base):]).json()
    return doc["registrer"]["vegobjekter"][0]["egenskaper"][0]["verdi"][0]


def test_xml_in_iso_8859_1_keeps_its_letters(olanor: Client) -> None:
    """XML declares its encoding; a body in ISO-8859-1 must be read by it (or refused), not stored with U+FFFD."""
    body = ('<?xml version="1.0" encoding="ISO-8859-1"?>'
            '<endringssett xmlns="http://nvdb.vegvesen.no/apiskriv/domain/changeset/v3">'
            "<datakatalogversjon>2.38</datakatalogversjon><registrer><vegobjekter>"
            '<vegobjekt typeId="83" tempId="kum#1"><gyldighetsperiode><startdato>2024-09-27</startdato>'
            '</gyldighetsperiode><stedfesting><punkt veglenkesekvensNvdbId="1125766" posisjon="0.3" '
            f'sideposisjon="H"/></stedfesting><egenskaper><egenskap typeId="1141"><verdi>{NAME}</verdi>'
            "</egenskap></egenskaper></vegobjekt></vegobjekter></registrer></endringssett>")
    r = olanor.request("POST", "/rest/v3/endringssett", data=body.encode("iso-8859-1"),
                       headers={"Content-Type": "application/xml", "Accept": "application/json"})
    if r.status_code == 201:
        assert stored_name(olanor, r.headers["Location"]) == NAME
    else:
        assert r.status_code == 400, r.text


def upload(client: Client, content: bytes) -> str:
    form = client.request("POST", UPLOADS).json()
    sent = requests.post(form["url"], data=form["felter"], files={"file": ("endringssett", content)}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    return form["id"]


def test_an_uploaded_json_document_that_is_not_utf8_is_refused_as_a_direct_one_is(olanor: Client) -> None:
    latin1 = json.dumps(changeset(registrer=[kum_named(NAME)]), ensure_ascii=False).encode("iso-8859-1")
    direct = olanor.request("POST", "/rest/v3/endringssett", data=latin1)
    assert direct.status_code == 400 and "UTF-8" in direct.json()["message"]
    r = olanor.request("POST", f"{UPLOADS}/{upload(olanor, latin1)}/registrer")
    assert r.status_code == 400, f"{r.status_code}: stored {stored_name(olanor, r.headers['Location'])!r}"
    assert "UTF-8" in r.json()["message"]


# --- 2xx for input that should be refused ---------------------------------------------------------------


def test_an_attachment_type_name_with_a_trailing_newline_is_refused(admin: Client, olanor: Client) -> None:
    """"bare A-Z, a-z, 0-9 og _": re.match's $ also matches before a final newline."""
    assert admin.request("POST", OWNERS, data=json.dumps({"kode": "REV1", "navn": "Eier", "administratorer":
                                                          ["olanor"]})).status_code == 201
    assert olanor.request("POST", f"{OWNERS}/REV1/tjenester", data=json.dumps(
        {"tjenestekode": "T1", "navn": "T", "tjenestetype": "INNSENDING"})).status_code == 201
    r = olanor.request("POST", f"{OWNERS}/REV1/tjenester/T1/utgaver", data=json.dumps(
        {"utgavekode": "1", "navn": "U", "vedleggstyper": [{"navn": "Foto\n"}]}))
    assert r.status_code == 400, r.text
    assert "vedleggstyper" in r.json()["message"]


# --- an answer in the wrong form -----------------------------------------------------------------------


def test_register_from_an_upload_answers_the_same_xml_as_a_direct_register(olanor: Client) -> None:
    doc = json.dumps(changeset(registrer=[kum()]))
    xml = {"Accept": "application/xml"}
    direct = olanor.request("POST", "/rest/v3/endringssett", data=doc, headers=xml)
    uploaded = olanor.request("POST", f"{UPLOADS}/{upload(olanor, doc.encode())}/registrer", headers=xml)
    assert direct.status_code == uploaded.status_code == 201, uploaded.text

    def shape(text: bytes) -> tuple[str, list[str]]:
        root = ET.fromstring(text)
        return root.tag, [child.tag for child in root]

    assert shape(uploaded.content) == shape(direct.content)  # <ressurser><ressurs rel=.../>...


@pytest.mark.parametrize("header", ["X-NVDB-DryRun", "X-NVDB-DryRun-NoLocking"])
def test_a_dry_run_header_that_is_neither_yes_nor_no_is_refused_not_taken_as_no(olanor: Client, header: str) -> None:
    """A client that meant a dry run must not get a real registration because of a typo."""
    r = olanor.request("POST", "/rest/v3/endringssett", data=json.dumps(changeset(registrer=[kum()])),
                       headers={header: "kanskje"})
    assert r.status_code == 400, r.text
    assert header.lower() in r.json()["message"].lower()
    for yes in ("true", "TRUE", "JA", "1"):
        r = olanor.request("POST", "/rest/v3/endringssett", data=json.dumps(changeset(registrer=[kum()])),
                           headers={header: yes})
        assert r.status_code == 201, r.text


@pytest.mark.parametrize(("second", "said"), [({"versjon": 2, "typeId": 79}, "typeId 83"), ({}, "mer enn én gang")])
def test_an_import_gives_an_object_one_type_and_each_version_once(admin: Client, second: dict[str, Any],
                                                                 said: str) -> None:
    version = {"id": 7, "versjon": 1, "typeId": 83, "gyldighetsperiode": {"startdato": "2020-01-01"}}
    r = admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps({"vegobjekter": [version, {**version, **second}]}))
    assert r.status_code == 400, r.text
    assert said in r.json()["message"]
