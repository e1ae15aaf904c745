"""A changeset is parsed from JSON in one pass (issue 9: parse + validate ≥ 20,000 objects/s)."""

import json
import tracemalloc

import pytest
from pydantic import ValidationError

from bench.objects import build_objects, changeset
from vegskriv.changesets.models import Endringssett


@pytest.mark.parametrize("shared_validering", [False, True])
def test_json_is_read_straight_into_models_without_a_python_copy_first(shared_validering: bool) -> None:
    doc = changeset(build_objects(150))
    if shared_validering:
        doc["validering"] = {"lestFraNvdb": "2024-06-01T12:00:00"}
    text = json.dumps(doc)
    tracemalloc.start()
    try:
        parsed = Endringssett.model_validate_json(text)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert parsed.antall_vegobjekter() == 150
    # Going through dicts first held the whole document twice (+52 % over the models at the peak).
    assert (peak - kept) / kept < 0.1


def test_shared_validering_reaches_objects_without_their_own_and_is_checked_per_object() -> None:
    own = {"lestFraNvdb": "2024-01-01T00:00:00"}
    body = {"datakatalogversjon": "2.38", "validering": {"lestFraNvdb": "2024-06-01T12:00:00"},
            "korriger": {"vegobjekter": [{"nvdbId": 5, "versjon": 1, "typeId": 83},
                                         {"nvdbId": 6, "versjon": 1, "typeId": 83, "validering": own}]}}
    first, second = Endringssett.model_validate_json(json.dumps(body)).korriger.vegobjekter
    assert first.validering.lestFraNvdb.isoformat() == "2024-06-01T12:00:00"
    assert second.validering.lestFraNvdb.isoformat() == "2024-01-01T00:00:00"

    del body["validering"]
    body["oppdater"] = {"vegobjekter": [{"nvdbId": 7, "versjon": 2, "typeId": 83, "overskriv": "ja"}]}
    with pytest.raises(ValidationError) as caught:
        Endringssett.model_validate_json(json.dumps(body))
    message = str(caught.value)
    assert "oppdater.vegobjekter[0]: overskriv=JA krever validering.lestFraNvdb" in message
    assert "korriger.vegobjekter[0]: korrigering krever validering.lestFraNvdb" in message
    assert "korriger.vegobjekter[1]" not in message
