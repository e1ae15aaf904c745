"""Large changesets within AWS's limits: gzip bodies on register and validator, bounded unpacking."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from tests.support.client import Client, changeset, kum
from vegskriv.auth import issue_dev_token
from vegskriv.client import ApiError, VegskrivClient
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e
SENT_LIMIT = 60_000  # MAX_BODY_BYTES here: the changeset below is ~4x that as JSON, ~1/10 gzipped
UNPACKED_LIMIT = 2_000_000
REGISTER = "/rest/v3/endringssett"


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"MAX_BODY_BYTES": str(SENT_LIMIT), "MAX_BODY_UNPACKED_BYTES": str(UNPACKED_LIMIT),
                                 "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


@pytest.fixture(scope="module")
def client(stack) -> VegskrivClient:
    # The client gzips documents from this size on (GZIP_FROM_BYTES, 1 MB, by default)
    return VegskrivClient(stack.url, issue_dev_token("olanor", ["0_bruker_fagdata"]), gzip_from_bytes=SENT_LIMIT // 2)


def large() -> dict[str, Any]:
    return changeset(registrer=[kum(f"kum#{i}", stedfesting={"punkt": [{"veglenkesekvensNvdbId": 1125766 + i % 3,
                                                                        "posisjon": 0.001 * (i + 1)}]})
                                for i in range(200)])


def post(olanor: Client, path: str, body: bytes, encoding: str | None = "gzip", **headers: str) -> Any:
    sent = {"Content-Type": "application/json", **headers}
    if encoding:
        sent["Content-Encoding"] = encoding
    return olanor.request("POST", path, data=body, headers=sent)


def test_a_gzip_body_over_the_sent_limit_unpacked_is_registered_and_runs(olanor: Client, client) -> None:
    doc = large()
    plain = json.dumps(doc).encode()
    assert len(plain) > SENT_LIMIT > len(gzip.compress(plain))
    refused = post(olanor, REGISTER, plain, encoding=None)
    assert refused.status_code == 413 and "MAX_BODY_BYTES" in refused.json()["message"]
    changeset_id = client.register(doc)
    client.start(changeset_id)
    status = client.follow(changeset_id, timeout=60)
    assert status.fremdrift.value.startswith("UTFØRT") and len(status.resultat.vegobjekter) == 200
    assert olanor.request("GET", f"{REGISTER}/{changeset_id}").json()["registrer"] == doc["registrer"]


def test_the_validator_reads_gzip_and_xml_may_be_gzipped_too(olanor: Client, client) -> None:
    assert VegskrivClient(client.url, client.token, gzip_from_bytes=0).validate(large()).fremdrift == "UTFØRT"
    xml = (b'<endringssett xmlns="http://nvdb.vegvesen.no/apiskriv/domain/changeset/v3">'
           b"<datakatalogversjon>2.38</datakatalogversjon></endringssett>")
    r = post(olanor, f"{REGISTER}/validator", gzip.compress(xml), **{"Content-Type": "application/xml"})
    assert r.status_code == 400 and "<fault" in r.text and "minst ett vegobjekt" in r.text  # read, then judged


def test_a_zip_bomb_answers_413_naming_the_unpacked_limit(olanor: Client) -> None:
    bomb = gzip.compress(b"[" + b" " * (UNPACKED_LIMIT * 5) + b"]", 9)
    assert len(bomb) < SENT_LIMIT
    r = post(olanor, REGISTER, bomb)
    assert r.status_code == 413 and "MAX_BODY_UNPACKED_BYTES" in r.json()["message"]
    assert f"{UNPACKED_LIMIT} byte" in r.json()["message"]


@pytest.mark.parametrize(("body", "encoding", "code", "words"), [
    (b"not gzip at all", "gzip", 400, "Ugyldig gzip"),
    (gzip.compress(b'{"a": 1}')[:-6], "gzip", 400, "Ugyldig gzip"),
    (b'{"a": 1}', "br", 415, "Content-Encoding br"),
], ids=["not-gzip", "cut-short", "brotli"])
def test_bodies_that_do_not_unpack_are_refused_naming_why(olanor: Client, body: bytes, encoding: str, code: int,
                                                          words: str) -> None:
    r = post(olanor, REGISTER, body, encoding=encoding)
    assert r.status_code == code and words in r.json()["message"], r.text


def test_the_cli_gzips_on_request(client, tmp_path, capsys, monkeypatch) -> None:
    from vegskriv.local.cli import main
    path = tmp_path / "stor.json"
    path.write_text(json.dumps(large()))
    monkeypatch.setenv("VEGSKRIV_URL", client.url)
    monkeypatch.setenv("VEGSKRIV_TOKEN", str(client.token))
    assert main(["valider", str(path), "--gzip"]) == 0, capsys.readouterr()


def test_an_error_from_the_api_is_still_its_message(client) -> None:
    with pytest.raises(ApiError) as refused:
        VegskrivClient(client.url, client.token, gzip_from_bytes=None).register(large())
    assert refused.value.status == 413
