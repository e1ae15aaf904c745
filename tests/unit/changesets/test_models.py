import json

import pytest
from pydantic import ValidationError

from tests.conftest import EXCERPTS
from vegskriv.changesets.models import TRANSITIONS, Endringssett, Fremdrift
from vegskriv.changesets.operations import normalize_association_type

EXCERPT_FILES = sorted(EXCERPTS.glob("*.json")) if EXCERPTS.exists() else []


@pytest.mark.parametrize("path", EXCERPT_FILES, ids=lambda p: p.name)
def test_real_excerpts_are_well_formed(path):
    doc = Endringssett.model_validate(json.loads(path.read_text()))
    assert doc.antall_vegobjekter() > 0


def _minimal(**extra):
    return {"datakatalogversjon": "2.38", "registrer": {"vegobjekter": [
        {"typeId": 83, "tempId": "k1", "gyldighetsperiode": {"startdato": "2024-01-01"}, **extra}]}}


def test_empty_changeset_is_refused():
    with pytest.raises(ValidationError, match="minst ett vegobjekt"):
        Endringssett.model_validate({"datakatalogversjon": "2.38"})


def test_unknown_field_is_refused_with_its_path():
    with pytest.raises(ValidationError) as exc:
        Endringssett.model_validate(_minimal(egenskapr=[]))
    assert exc.value.errors()[0]["loc"][:4] == ("registrer", "vegobjekter", 0, "egenskapr")


def test_line_location_needs_fra_before_til():
    with pytest.raises(ValidationError, match="fra må være mindre enn til"):
        Endringssett.model_validate(_minimal(stedfesting={"linje": [
            {"veglenkesekvensNvdbId": 1, "fra": 0.5, "til": 0.2}]}))


def test_duplicate_temp_ids_are_refused():
    doc = _minimal()
    doc["registrer"]["vegobjekter"].append(dict(doc["registrer"]["vegobjekter"][0]))
    with pytest.raises(ValidationError, match="tempId må være unik"):
        Endringssett.model_validate(doc)


def test_transitions_follow_the_contract_diagram():
    f = Fremdrift
    assert TRANSITIONS[f.IKKE_STARTET] == {f.VENTER, f.BEHANDLES, f.KANSELLERT}
    assert TRANSITIONS[f.UTFØRT] == {f.UTFØRT_OG_ETTERBEHANDLET}
    assert not TRANSITIONS[f.AVVIST] and not TRANSITIONS[f.KANSELLERT]


@pytest.mark.parametrize(("given", "expected"), [(220116, 220116), (200116, 220116), (116, None), (230000, None)])
def test_both_association_series_name_the_same_relation(given, expected):
    assert normalize_association_type(given) == expected


def test_backoff_grows_to_the_cap_and_never_overflows():
    from vegskriv.changesets.workflow import _backoff

    pauses = [_backoff(n) for n in (1, 2, 3, 20, 1023, 10**6)]
    assert pauses[:3] == [5, 10, 20]
    assert pauses[3:] == [21600] * 3
