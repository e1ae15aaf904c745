"""Written from NVDB's documentation: binaere_objekter/api-referanse.md (upload, form upload,
download, BINÆRVERDI_FINNES_IKKE), oppdrag_og_transaksjoner/api-referanse.md, the status links and
blokkerendeLåser (laaser/introduksjon.md, migrering_fra_v2.md), the validator's skipLocation and
skipAssociations and X-NVDB-DryRun-NoLocking (endringssett/api-referanse.md)."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import EXCERPTS
from tests.support.client import Client, changeset, kum
from vegskriv.api.xml import TASK_NS, TRANSACTION_NS
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))  # not UTF-8: travels base64-encoded
LIMIT = 2000


@pytest.fixture(scope="module")
def stack():
    env = {"WAIT_FIRST_SECONDS": "1", "POWERTOOLS_LOG_LEVEL": "CRITICAL", "BINARY_MAX_BYTES": str(LIMIT),
           "BINARY_MEDIA_TYPES": "image/png,application/xml"}
    with LocalStack(port=0, env=env) as running:
        yield running


def upload(client: Client, body: bytes, content_type: str = "image/png", **headers: str):
    return client.request("POST", "/rest/v3/binaer", data=body, headers={"Content-Type": content_type, **headers})


def test_upload_answers_201_with_the_id_as_json_string_and_download_gives_it_back(olanor):
    r = upload(olanor, PNG, **{"Content-Disposition": 'filename="N808080-1.png"'})
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    binary_id = r.json()
    assert str(uuid.UUID(binary_id)) == binary_id
    assert r.headers["Location"] == f"{olanor.base}/rest/v3/binaer/{binary_id}"
    got = olanor.request("GET", f"/rest/v3/binaer/{binary_id}", headers={"Accept": "*/*"})
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["Content-Type"] == "image/png"
    assert got.headers["Content-Disposition"] == 'filename="N808080-1.png"'


def test_upload_from_a_web_page_form_with_the_field_named_content(olanor):
    r = olanor.request("POST", "/rest/v3/binaer", headers={"Content-Type": None},
                       files={"content": ("skilt.png", PNG, "image/png")})
    assert r.status_code == 201, r.text
    got = olanor.request("GET", r.headers["Location"][len(olanor.base):])
    assert got.content == PNG and got.headers["Content-Type"] == "image/png"
    assert got.headers["Content-Disposition"] == 'filename="skilt.png"'
    wrong = olanor.request("POST", "/rest/v3/binaer", headers={"Content-Type": None},
                           files={"fil": ("skilt.png", PNG, "image/png")})
    assert wrong.status_code == 400 and "content" in wrong.json()["message"]


def test_size_and_media_type_limits_and_unknown_ids(olanor, admin):
    assert upload(olanor, b"x" * (LIMIT + 1)).status_code == 413
    assert upload(olanor, b"x" * LIMIT).status_code == 201
    r = upload(olanor, b"MZ...", "application/x-msdownload")
    assert r.status_code == 415 and "image/png" in r.json()["message"]
    assert olanor.request("GET", f"/rest/v3/binaer/{uuid.uuid4()}").status_code == 404


def test_an_uploaded_xml_file_comes_back_byte_for_byte(olanor):
    drawing = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><g/></svg>\n'
    r = upload(olanor, drawing, "application/xml")
    assert r.status_code == 201, r.text
    got = olanor.request("GET", f"/rest/v3/binaer/{r.json()}")
    assert got.content == drawing and got.headers["Content-Type"] == "application/xml"


def with_picture(ressurs_id: str) -> dict:
    obj = kum("kum#bilde")
    obj["egenskaper"].append({"typeId": 1141, "binaer": {"ressursId": ressurs_id, "format": "image/png"}})
    return obj


def codes(status: dict) -> set[str]:
    return {v["kode"] for o in status["resultat"]["vegobjekter"] for v in o["feil"]}


def test_a_reference_to_a_binary_that_does_not_exist_is_binaerverdi_finnes_ikke(olanor):
    # The extract has no Binærobjekt property, so the value is also of the wrong type: only the
    # existence check differs between the two.
    uploaded = upload(olanor, PNG).json()
    validated = olanor.request("POST", "/rest/v3/endringssett/validator",
                               data=json.dumps(changeset(registrer=[with_picture(str(uuid.uuid4()))])))
    assert validated.status_code == 200 and "BINÆRVERDI_FINNES_IKKE" in codes(validated.json())
    validated = olanor.request("POST", "/rest/v3/endringssett/validator",
                               data=json.dumps(changeset(registrer=[with_picture(uploaded)])))
    assert "BINÆRVERDI_FINNES_IKKE" not in codes(validated.json())
    _, status = olanor.run(changeset(registrer=[with_picture("finnes-ikke")]))
    assert status["fremdrift"] == "AVVIST" and "BINÆRVERDI_FINNES_IKKE" in codes(status)


def test_status_links_to_its_oppdrag_which_links_to_its_transaksjon(olanor, admin):
    changeset_id, status = olanor.run(changeset(registrer=[kum("kum#oppdrag")]))
    oppdrag_id = status["transaksjon"]["oppdragId"]
    links = {link["rel"]: link["src"] for link in status["ressurser"]}
    assert links["self"].endswith(f"/rest/v3/endringssett/{changeset_id}/status")
    assert links["oppdrag"] == f"{olanor.base}/rest/v1/oppdrag/{oppdrag_id}"
    oppdrag = olanor.request("GET", links["oppdrag"][len(olanor.base):]).json()
    assert oppdrag["id"] == oppdrag_id and oppdrag["bruker"]["brukernavn"] == "olanor"
    assert oppdrag["sluttidspunkt"].endswith("Z")
    refs = {link["rel"]: link["src"] for link in oppdrag["ressurser"]}
    assert refs["transaksjoner"] == f"{olanor.base}/rest/v1/transaksjon?oppdragId={oppdrag_id}"
    found = olanor.request("GET", refs["transaksjoner"][len(olanor.base):]).json()
    assert found["antallTotalt"] == 1
    [transaksjon] = found["transaksjon"]
    assert transaksjon["oppdragId"] == oppdrag_id and transaksjon["brukernavn"] == "olanor"
    assert transaksjon["tidspunkt"] == status["transaksjon"]["tidspunkt"]
    [objekttype] = transaksjon["objekttyper"]
    [objekt] = objekttype["objekter"]
    nvdb_id = status["resultat"]["vegobjekter"][0]["nvdbId"]
    assert (objekttype["typeId"], objekttype["objekttype"]) == (83, "VEGOBJEKT")
    assert (objekt["objektId"], objekt["transaksjonstype"], objekt["objektversjon"]) == (nvdb_id, "NY", 1)
    by_object = olanor.request("GET", "/rest/v1/transaksjon", params={"vegobjektId": nvdb_id}).json()
    assert [t["oppdragId"] for t in by_object["transaksjon"]] == [oppdrag_id]
    by_changeset = olanor.request("GET", "/rest/v1/transaksjon", params={"endringssettId": changeset_id}).json()
    assert [t["oppdragId"] for t in by_changeset["transaksjon"]] == [oppdrag_id]
    mine = olanor.request("GET", "/rest/v1/oppdrag", params={"eier": "olanor", "antall": 1000}).json()
    assert oppdrag_id in [o["id"] for o in mine["oppdrag"]]
    assert olanor.request("GET", "/rest/v1/oppdrag", params={"eier": "annen"}).json()["antallTotalt"] == 0
    other = Client(olanor.base, "annen")
    assert other.request("GET", f"/rest/v1/oppdrag/{oppdrag_id}").status_code == 404  # like a changeset
    assert admin.request("GET", f"/rest/v1/oppdrag/{oppdrag_id}").status_code == 200


def test_oppdrag_and_transaksjon_in_xml_and_the_documented_parameter_rules(olanor):
    _, status = olanor.run(changeset(registrer=[kum("kum#xml")]))
    oppdrag_id = status["transaksjon"]["oppdragId"]
    r = olanor.request("GET", f"/rest/v1/oppdrag/{oppdrag_id}", headers={"Accept": "application/xml"})
    root = ET.fromstring(r.content)
    assert root.tag == f"{{{TASK_NS}}}oppdrag" and root.get("id") == str(oppdrag_id)
    r = olanor.request("GET", "/rest/v1/oppdrag", params={"antall": 1}, headers={"Accept": "application/xml"})
    root = ET.fromstring(r.content)
    assert root.tag == f"{{{TASK_NS}}}oppdragliste" and len(root.findall(f"{{{TASK_NS}}}oppdrag")) == 1
    r = olanor.request("GET", "/rest/v1/transaksjon", params={"oppdragId": oppdrag_id},
                       headers={"Accept": "application/xml"})
    ns = {"t": TRANSACTION_NS}
    root = ET.fromstring(r.content)
    assert root.tag == f"{{{TRANSACTION_NS}}}transaksjoner" and root.get("antallTotalt") == "1"
    assert root.find("t:transaksjon/t:oppdragId", ns).text == str(oppdrag_id)
    assert root.find("t:transaksjon/t:objekttyper/t:objekttype/t:objekter/t:objekt/t:transaksjonstype",
                     ns).text == "NY"
    for params in ({}, {"endringssettId": "x", "oppdragId": 1}, {"vegobjektId": 1, "nettelementId": 1}):
        r = olanor.request("GET", "/rest/v1/transaksjon", params=params)
        assert r.status_code == 400, params
    assert olanor.request("GET", "/rest/v1/oppdrag/999999999").status_code == 404


def external_lock(admin: Client, seconds: int = 600) -> str:
    r = admin.request("POST", "/rest/v1/lås", data=json.dumps({
        "vegobjekttyper": [{"typeId": 83, "låstype": "NORMAL"}], "varighetSekunder": seconds,
        "stedfesting": [{"veglenkesekvensNvdbId": 1125766, "fra": 0.0, "til": 1.0}]}))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_waiting_status_names_the_blocking_locks_and_their_holders(olanor, admin):
    lock_id = external_lock(admin)
    try:
        waiting = olanor.register(changeset(registrer=[kum("kum#venter")]), **{"X-NVDB-DryRun": "true"})
        olanor.start(waiting)
        assert olanor.wait(waiting, until={"VENTER"}) == "VENTER"
        status = olanor.status(waiting)
        assert status["venteårsak"] == "VENTER_PÅ_LÅS"
        assert [(b["id"], b["eier"]) for b in status["blokkerendeLåser"]] == [(lock_id, "systemadmin")]
        r = olanor.request("GET", f"/rest/v3/endringssett/{waiting}/status", headers={"Accept": "application/xml"})
        assert b"<blokkerendeL\xc3\xa5ser><l\xc3\xa5s id=\"" + lock_id.encode() in r.content
    finally:
        admin.request("DELETE", f"/rest/v1/lås/{lock_id}")
    assert olanor.wait(waiting, until={"UTFØRT"}) == "UTFØRT"
    assert "blokkerendeLåser" not in olanor.status(waiting)


def test_dry_run_nolocking_takes_no_locks_so_a_held_lock_does_not_stop_it(olanor, admin):
    lock_id = external_lock(admin)
    try:
        unlocked = olanor.register(changeset(registrer=[kum("kum#ulåst")]), **{"X-NVDB-DryRun-NoLocking": "true"})
        olanor.start(unlocked)
        assert olanor.wait(unlocked, until={"UTFØRT", "AVVIST", "VENTER"}) == "UTFØRT"
        status = olanor.status(unlocked)
        assert status["behandlingsparametere"]["dryrun"] is True and not codes(status)
        assert admin.request("GET", "/rest/v1/lås", params={"eier": "olanor"}).json()["antallTotalt"] == 0
    finally:
        admin.request("DELETE", f"/rest/v1/lås/{lock_id}")


def test_validator_skip_location_and_skip_associations(olanor):
    nowhere = kum("kum#ingensteds", stedfesting={"punkt": [{"veglenkesekvensNvdbId": 999999999, "posisjon": 0.5}]})
    url = "/rest/v3/endringssett/validator"
    body = json.dumps(changeset(registrer=[nowhere]))
    assert "UKJENT_VEGLENKESEKVENS" in codes(olanor.request("POST", url, data=body).json())
    skipped = olanor.request("POST", url, data=body, params={"skipLocation": "JA"}).json()
    assert skipped["fremdrift"] == "UTFØRT" and not codes(skipped)
    # The excerpt's Stikkrenne without the two Kummer it names as daughters.
    daughterless = json.loads((EXCERPTS / "03_utdrag_registrer_79_med_assosiasjon_220116_til_to_83.json").read_text())
    objects = daughterless["registrer"]["vegobjekter"]
    daughterless["registrer"]["vegobjekter"] = [o for o in objects if o["typeId"] == 79]
    body = json.dumps(daughterless)
    assert "DATTEROBJEKT_FINNES_IKKE" in codes(olanor.request("POST", url, data=body).json())
    skipped = olanor.request("POST", url, data=body, params={"skipAssociations": "ja", "useObjectList": "NEI"}).json()
    assert "DATTEROBJEKT_FINNES_IKKE" not in codes(skipped)


def test_get_changeset_honours_inkluder_resultat_and_inkluder_varsler(olanor):
    doc = changeset(registrer=[kum("kum#varsler")])
    doc["datakatalogversjon"] = "2.37"  # a warning (IKKE_GJELDENDE_DATAKATALOGVERSJON), still accepted
    changeset_id, _ = olanor.run(doc)
    path = f"/rest/v3/endringssett/{changeset_id}"
    for suffix in ("", "/status"):
        full = olanor.request("GET", path + suffix).json()
        full = full.get("status", full)
        assert full["resultat"]["advarsler"] and full["resultat"]["vegobjekter"][0]["nvdbId"]
        quiet = olanor.request("GET", path + suffix, params={"inkluderVarsler": "NEI"}).json()
        quiet = quiet.get("status", quiet)
        assert not quiet["resultat"].get("advarsler") and quiet["resultat"]["vegobjekter"][0]["nvdbId"]
        bare = olanor.request("GET", path + suffix, params={"inkluderResultat": "NEI"}).json()
        assert "resultat" not in bare.get("status", bare)
