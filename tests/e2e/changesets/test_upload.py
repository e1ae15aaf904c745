"""The two-step upload: a presigned S3 POST (the stack's moto server), then registrer from S3."""

from __future__ import annotations

import gzip
import json
import os
import uuid
from typing import Any

import pytest
import requests

from tests.support.client import Client, changeset, kum
from vegskriv.auth import issue_dev_token
from vegskriv.client import VegskrivClient
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e
SENT_LIMIT = 4_000  # MAX_BODY_BYTES here: the changeset below is more than that even gzipped
UPLOAD_LIMIT = 400_000  # MAX_OPPLASTING_BYTES here
UPLOADS = "/rest/v3/endringssett/opplasting"


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"MAX_BODY_BYTES": str(SENT_LIMIT), "MAX_OPPLASTING_BYTES": str(UPLOAD_LIMIT),
                                 "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


def large() -> dict[str, Any]:
    # Random tempIds: a changeset of like objects gzips a hundredfold.
    return changeset(registrer=[kum(f"kum#{uuid.uuid4().hex}",
                                    stedfesting={"punkt": [{"veglenkesekvensNvdbId": 1125766 + i % 3,
                                                            "posisjon": 0.001 * (i + 1)}]}) for i in range(200)])


def upload(user: Client, content: bytes) -> dict[str, Any]:
    """Ask for an upload and post ``content`` to S3 as the answer says; the answer."""
    answer = user.request("POST", UPLOADS)
    assert answer.status_code == 201, answer.text
    form = answer.json()
    if content:
        sent = requests.post(form["url"], data=form["felter"], files={"file": ("endringssett", content)}, timeout=30)
        assert sent.status_code in (200, 201, 204), sent.text
    return form


def registrer(user: Client, upload_id: str, **headers: str) -> requests.Response:
    return user.request("POST", f"{UPLOADS}/{upload_id}/registrer", headers=headers)


def test_a_changeset_too_large_even_gzipped_is_uploaded_registered_and_runs(olanor: Client) -> None:
    doc = large()
    packed = gzip.compress(json.dumps(doc).encode())
    assert len(packed) > SENT_LIMIT
    direct = olanor.request("POST", "/rest/v3/endringssett", data=packed,
                            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert direct.status_code == 413
    form = upload(olanor, packed)
    assert form["maksBytes"] == UPLOAD_LIMIT and form["metode"] == "POST" and form["url"].startswith("http://127.0.0.1:")
    r = registrer(olanor, form["id"])
    assert r.status_code == 201, r.text
    changeset_id = r.headers["Location"].rsplit("/", 1)[1]
    assert {link["rel"] for link in r.json()} >= {"self", "start", "status"}
    assert registrer(olanor, form["id"]).headers["Location"] == r.headers["Location"]  # twice: the same changeset
    olanor.start(changeset_id)
    status = VegskrivClient(olanor.base, issue_dev_token("olanor", ["0_bruker_fagdata"])).follow(changeset_id,
                                                                                                    timeout=60)
    # follow() stops at UTFØRT; post-processing may finish before the status is read
    assert status.fremdrift.value in {"UTFØRT", "UTFØRT_OG_ETTERBEHANDLET"}
    assert len(status.resultat.vegobjekter) == 200
    assert olanor.request("GET", f"/rest/v3/endringssett/{changeset_id}").json()["registrer"] == doc["registrer"]


def test_xml_is_read_and_judged_as_a_direct_request_would_be(olanor: Client) -> None:
    xml = (b'<endringssett xmlns="http://nvdb.vegvesen.no/apiskriv/domain/changeset/v3">'
           b"<datakatalogversjon>2.38</datakatalogversjon></endringssett>")
    r = registrer(olanor, upload(olanor, xml)["id"])
    assert r.status_code == 400 and "minst ett vegobjekt" in r.json()["message"], r.text
    bad = registrer(olanor, upload(olanor, json.dumps(changeset(registrer=[kum(typeId="x")])).encode())["id"])
    assert bad.status_code == 400 and "registrer.vegobjekter[0].typeId" in bad.json()["message"], bad.text


def test_unknown_expired_and_other_users_uploads_answer_404(olanor: Client, stack: LocalStack) -> None:
    assert registrer(olanor, str(uuid.uuid4())).status_code == 404
    assert registrer(olanor, "ikke-en-id").status_code == 404
    form = upload(olanor, json.dumps(large()).encode())
    karinor = Client(olanor.base, "karinor")
    r = registrer(karinor, form["id"])
    assert r.status_code == 404 and form["id"] in r.json()["message"]
    s3, bucket = stack.client("s3"), os.environ["UPLOAD_BUCKET"]
    key = f"{form['id']}/billett"
    ticket = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps({**ticket, "registreresInnen": 1}).encode())
    assert registrer(olanor, form["id"]).status_code == 404


def test_registering_before_the_document_is_uploaded_answers_409(olanor: Client) -> None:
    form = upload(olanor, b"")
    r = registrer(olanor, form["id"])
    assert r.status_code == 409 and "ikke lastet opp" in r.json()["message"]


def test_a_document_over_the_upload_limit_answers_413(olanor: Client) -> None:
    r = registrer(olanor, upload(olanor, b" " * (UPLOAD_LIMIT + 1))["id"])
    assert r.status_code == 413 and "MAX_OPPLASTING_BYTES" in r.json()["message"]


def test_the_client_uploads_on_its_own_above_its_threshold(olanor: Client, stack: LocalStack, tmp_path, capsys,
                                                           monkeypatch) -> None:
    token = issue_dev_token("olanor", ["0_bruker_fagdata"])
    client = VegskrivClient(olanor.base, token, gzip_from_bytes=0, upload_from_bytes=SENT_LIMIT)
    changeset_id = client.register(large())  # direct, it would answer 413
    assert client.status(changeset_id, resultat=False).fremdrift.value == "IKKE_STARTET"

    from vegskriv.local.cli import main
    s3, bucket = stack.client("s3"), os.environ["UPLOAD_BUCKET"]
    before = s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    path = tmp_path / "liten.json"
    path.write_text(json.dumps(changeset(registrer=[kum()])))
    monkeypatch.setenv("VEGSKRIV_URL", olanor.base)
    monkeypatch.setenv("VEGSKRIV_TOKEN", token)
    assert main(["send", str(path), "--opplasting"]) == 0, capsys.readouterr()
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == before + 3  # billett, dokument, registrert


def test_openapi_offers_both_steps_with_their_answers(olanor: Client) -> None:
    paths = olanor.request("GET", "/openapi.json").json()["paths"]
    assert "201" in paths[UPLOADS]["post"]["responses"]
    assert {"201", "404", "409", "413"} <= set(paths[UPLOADS + "/{opplasting_id}/registrer"]["post"]["responses"])
    assert "Content-Encoding: gzip" in paths["/rest/v3/endringssett"]["post"]["description"]
