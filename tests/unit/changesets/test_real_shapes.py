"""The document shapes NVDB's own clients send (endringssett/oppbygging.md) are read with their meaning."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vegskriv.changesets.models import Endringssett

KUM = {"typeId": 83, "tempId": "kum#1", "gyldighetsperiode": {"startdato": "2024-09-27"}}


def doc(**extra) -> dict:
    return {"datakatalogversjon": "2.38", "registrer": {"vegobjekter": [dict(KUM)]}, **extra}


def test_id_and_status_of_a_fetched_changeset_are_ignored():
    parsed = Endringssett.model_validate(doc(id="63de0209", status={"fremdrift": "UTFØRT"}))
    assert "id" not in parsed.model_dump() and "status" not in parsed.model_dump()


def test_changeset_level_validering_applies_to_objects_without_their_own():
    korriger = {"nvdbId": 5, "versjon": 1, "typeId": 83}
    with pytest.raises(ValidationError, match="lestFraNvdb"):
        Endringssett.model_validate({"datakatalogversjon": "2.38", "korriger": {"vegobjekter": [korriger]}})
    parsed = Endringssett.model_validate({"datakatalogversjon": "2.38", "korriger": {"vegobjekter": [korriger]},
                                          "validering": {"lestFraNvdb": "2024-09-17T11:23:53"}})
    assert parsed.korriger.vegobjekter[0].validering.lestFraNvdb is not None
    own = {**KUM, "validering": {"overlappsautomatikk": "JA"}}
    parsed = Endringssett.model_validate({"datakatalogversjon": "2.38", "registrer": {"vegobjekter": [own]},
                                          "validering": {"overlappsautomatikk": "NEI"}})
    assert parsed.registrer.vegobjekter[0].validering.overlappsautomatikk == "JA"


def test_laasing_struktur_binaer_and_nested_sving():
    obj = {**KUM, "egenskaper": [{"typeId": 1, "struktur": {"medlem": [{"typeId": 6085, "verdi": ["0.1"]}]}},
                                 {"typeId": 2, "binaer": {"ressursId": "e62a", "format": "image/png"}}],
           "stedfesting": {"sving": [{"nodeNvdbId": 4656776,
                                      "fra": {"veglenkesekvensNvdbId": 8976873, "posisjon": 0.798},
                                      "til": {"veglenkesekvensNvdbId": 5776873, "posisjon": 0.348}}]}}
    parsed = Endringssett.model_validate({**doc(låsing={"vegnett": "NEI"}), "registrer": {"vegobjekter": [obj]}})
    struktur, binaer = parsed.registrer.vegobjekter[0].egenskaper
    assert [m.typeId for m in struktur.raw_values()] == [6085]
    assert [b.ressursId for b in binaer.raw_values()] == ["e62a"]
    assert parsed.registrer.vegobjekter[0].stedfesting.veglenkesekvenser() == {8976873, 5776873}


@pytest.mark.parametrize("value, read", [("ja", "JA"), ("Nei", "NEI"), ("true", "JA"), (False, "NEI")])
def test_ja_nei_in_any_case(value, read):
    lukk = {"nvdbId": 5, "versjon": 1, "typeId": 83, "lukkedato": "2024-01-01", "kaskadelukking": value}
    parsed = Endringssett.model_validate({"datakatalogversjon": "2.38", "lukk": {"vegobjekter": [lukk]}})
    assert parsed.lukk.vegobjekter[0].kaskadelukking == read
