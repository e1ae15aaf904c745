"""XML in and out: every shared excerpt survives JSON → XML → JSON and its XML fits the shipped schema."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.conftest import EXCERPTS
from vegskriv.api import xml, xsd
from vegskriv.changesets.models import Endringssett, Status
from vegskriv.errors import BadRequest

EXCERPT_FILES = sorted(EXCERPTS.glob("*.json"))
NS = {"c": xml.CHANGESET_NS}


def _json(doc: Endringssett) -> dict:
    return doc.model_dump(mode="json", by_alias=True, exclude_none=True)


@pytest.mark.parametrize("path", EXCERPT_FILES, ids=lambda p: p.name)
def test_excerpt_round_trip_json_xml_json(path):
    document = _json(Endringssett.model_validate_json(path.read_text()))
    text = xml.to_xml("endringssett", document)
    assert ET.fromstring(text).tag == f"{{{xml.CHANGESET_NS}}}endringssett"
    assert _json(Endringssett.model_validate(xml.from_xml(text))) == document


@pytest.mark.parametrize("path", EXCERPT_FILES, ids=lambda p: p.name)
def test_excerpt_xml_validates_against_the_shipped_schema(path):
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(str(xsd.DATA / "endringssett.xsd")))
    document = _json(Endringssett.model_validate_json(path.read_text()))
    parsed = etree.fromstring(xml.to_xml("endringssett", document))
    assert schema.validate(parsed), schema.error_log


def test_shipped_schemas_match_the_models():
    for name, text in xsd.shipped().items():
        assert (xsd.DATA / name).read_bytes() == text, f"run python -m vegskriv.api.xsd ({name} is stale)"


def test_nvdb_documentation_example_reads_as_the_json_document():
    # The register example of endringssett/api-referanse.md, as NVDB writes it.
    text = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
    <endringssett xmlns="{xml.CHANGESET_NS}">
      <datakatalogversjon>2.20</datakatalogversjon>
      <registrer><vegobjekter>
        <vegobjekt typeId="581" tempId="tunnel#1">
          <gyldighetsperiode><startdato>2020-01-01</startdato></gyldighetsperiode>
          <egenskaper><egenskap typeId="5225"><verdi>Grevlingtunnelen</verdi></egenskap></egenskaper>
          <assosiasjoner><assosiasjon typeId="220710"><nvdbId>45576767</nvdbId><tempId>løp#1</tempId>
          </assosiasjon></assosiasjoner>
          <stedfesting><punkt veglenkesekvensNvdbId="1125766" posisjon="0.3"/></stedfesting>
        </vegobjekt>
        <vegobjekt typeId="107" tempId="sving#1">
          <gyldighetsperiode><startdato>2020-01-01</startdato></gyldighetsperiode>
          <egenskaper><egenskap typeId="1"><struktur><medlem typeId="6085"><verdi>0.1</verdi></medlem></struktur>
          </egenskap><egenskap typeId="2"><binaer ressursId="e62a" format="image/png"/></egenskap></egenskaper>
          <stedfesting><sving nodeNvdbId="4656776"><fra veglenkesekvensNvdbId="8976873" posisjon="0.798"/>
            <til veglenkesekvensNvdbId="5776873" posisjon="0.348"/></sving></stedfesting>
        </vegobjekt>
      </vegobjekter></registrer>
    </endringssett>"""
    doc = Endringssett.model_validate(xml.from_xml(text))
    tunnel, turn = doc.registrer.vegobjekter
    assert (tunnel.typeId, tunnel.tempId, tunnel.egenskaper[0].verdi) == (581, "tunnel#1", ["Grevlingtunnelen"])
    [association] = tunnel.assosiasjoner
    assert [t.verdi for t in association.nvdbId] == [45576767] and [t.verdi for t in association.tempId] == ["løp#1"]
    assert tunnel.stedfesting.punkt[0].posisjon == 0.3
    assert [m.typeId for m in turn.egenskaper[0].raw_values()] == [6085]
    assert turn.egenskaper[1].raw_values()[0].ressursId == "e62a"
    [sving] = turn.stedfesting.sving
    assert (sving.fraVeglenkesekvensNvdbId, sving.tilPosisjon) == (8976873, 0.348)


def test_status_is_written_as_nvdb_does():
    status = Status.model_validate({
        "mottatt": "2020-05-29T07:54:45.886Z", "fremdrift": "AVVIST", "fremdriftOppdatert": "2020-05-29T07:54:45.886Z",
        "avvistårsak": "VALIDERINGSFEIL", "eier": "exttxa",
        "resultat": {"vegobjekter": [{"tempId": "tunnel#1", "feil": [
            {"kode": "UKJENT_EGENSKAPSTYPE", "melding": "Egenskapstypen 0 finnes ikke", "egenskapTypeId": 0}]}]},
        "ressurser": [{"rel": "self", "src": "http://h/rest/v3/endringssett/1/status"}]})
    text = xml.to_xml("status", status.model_dump(mode="json", exclude_none=True))
    root = ET.fromstring(text)
    assert root.find("c:mottatt", NS).text == "2020-05-29T09:54:45.886"  # Oslo summer time, milliseconds
    [error] = root.findall("c:resultat/c:vegobjekter/c:vegobjekt/c:feil/c:feil", NS)
    assert error.get("kode") == "UKJENT_EGENSKAPSTYPE" and error.find("c:egenskapTypeId", NS).text == "0"
    assert root.find("c:resultat/c:vegobjekter/c:vegobjekt", NS).get("tempId") == "tunnel#1"
    assert root.find("c:ressurser/c:ressurs", NS).get("src").endswith("/status")
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(str(xsd.DATA / "status.xsd")))
    assert schema.validate(etree.fromstring(text)), schema.error_log


@pytest.mark.parametrize("text", ["<endringssett>", '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
                                  "<a>" * 70 + "</a>" * 70])
def test_hostile_or_broken_xml_is_a_bad_request(text):
    with pytest.raises(BadRequest, match="Ugyldig XML"):
        xml.from_xml(text)


def test_json_lists_become_wrappers_and_repeated_elements():
    text = xml.to_xml("ressurser", [{"rel": "self", "src": "x"}, {"rel": "start", "src": "y"}])
    root = ET.fromstring(text)
    assert [r.get("rel") for r in root.findall("c:ressurs", NS)] == ["self", "start"]
    assert xml.from_xml(text) == [{"rel": "self", "src": "x"}, {"rel": "start", "src": "y"}]
