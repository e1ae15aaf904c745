"""Rules the validator once got wrong: each test is what NVDB API Skriv v3's documentation says should happen
(nvdb-vegdata/apiskrivdokumentasjon, endringssett/oppbygging.md and behandlingsresultat.md)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.support import varsel_cases as vc
from tests.unit.catalog.test_values import SYNTETISK, e, run
from tests.unit.changesets.test_validation import NETWORK, READ, ctx, doc, kum, stored, updated
from vegskriv.catalog import Datakatalog, Vegobjekttype, load_catalog, validate_egenskaper
from vegskriv.changesets.models import Egenskap, Endringssett
from vegskriv.changesets.validation import Context, validate
from vegskriv.network import Veglenkesekvens

# --- property values ----------------------------------------------------------------------------


@pytest.mark.parametrize(("egenskap", "kode"), [
    # oppbygging.md "Struktur": <egenskap typeId><struktur><medlem typeId>..., "Hvert medlem i en stuktur
    # ... må følge datatype og verdiområde for denne"
    (e(5, struktur={"medlem": [{"typeId": 51, "verdi": ["Storgata"]}, {"typeId": 52, "verdi": ["sju"]}]}),
     "UGYLDIG_HELTALLFORMAT"),
    # behandlingsresultat.md MANGLER_OBLIGATORISKE_MEDLEMMER (51 Gate is påkrevd absolutt)
    (e(5, struktur={"medlem": [{"typeId": 52, "verdi": ["7"]}]}), "MANGLER_OBLIGATORISKE_MEDLEMMER"),
    # oppbygging.md "Binærobjekt": <binaer ressursId format/>; UGYLDIG_TYPE: "en verdi av en annen datatype"
    (e(2, binaer={"ressursId": "e62a6896", "format": "image/png"}), "UGYLDIG_TYPE"),
])
def test_values_in_nvdbs_own_struktur_and_binaer_shapes_are_validated(egenskap: Egenskap, kode: str) -> None:
    feil, _, _ = run(SYNTETISK, [egenskap], complete=True)  # registrer: the whole object
    assert kode in feil


def test_a_geometry_in_the_srid_of_nvdbs_own_example_is_accepted() -> None:
    """oppbygging.md "Geometri": the example is <srid>32633</srid> (WGS 84 / UTM 33N), and "Koordinater i
    grunnrisset kan bruke de fleste anerkjente koordinatreferansesystemer som er i bruk i Norge ... NVDB API
    Skriv vil automatisk konvertere disse koordinatene til EUREF89/UTM33N"."""
    feil, _, _ = run(vt_kum(), [e(4784, geometri=[{"srid": 32633, "wkt": "POINT Z (278220 7034016 123.45)"}])])
    assert "UGYLDIG_GEOMETRI_SRID" not in feil


def vt_kum() -> Vegobjekttype:
    from vegskriv.catalog import default_catalog

    found = default_catalog().vegobjekttype(83)
    assert found is not None
    return found


def test_klokkeslett_limits_of_the_catalog_are_checked() -> None:
    """oppbygging.md "Klokkeslett": "Datakatalogen definerer en minimums- og maksimumsverdi for hver
    klokkeslettegenskap. NVDB API Skriv validerer at klokkeslettegenskaper i endringssettet er i tråd med
    dette kravet." (behandlingsresultat.md STØRRE_ENN_ABSOLUTT_MAKSIMUM / MINDRE_ENN_ABSOLUTT_MINIMUM)"""
    vt = Vegobjekttype.model_validate({"id": 990010, "navn": "Test", "egenskapstyper": [
        {"id": 1, "navn": "Rushtid morgen, fra", "datatype": "Klokkeslett", "min": "06:00", "maks": "09:00"}]})

    def codes(value: str) -> list[str]:
        return [v.kode for v in validate_egenskaper(vt, [Egenskap(typeId=1, verdi=[value])], referanse="t")[0]]

    assert codes("07:30") == []
    assert codes("23:00") == ["STØRRE_ENN_ABSOLUTT_MAKSIMUM"]
    assert codes("0500") == ["MINDRE_ENN_ABSOLUTT_MINIMUM"]


# --- dates and the road network -------------------------------------------------------------------


def _closing_network() -> dict[int, Veglenkesekvens]:
    network = dict(NETWORK)
    network[3325547] = Veglenkesekvens(veglenkesekvensId=3325547, lengde=500, kommune=5059, fylke=50,
                                       vegkategori="E", startdato=date(2000, 1, 1), sluttdato=date(2022, 1, 1))
    return network


@pytest.mark.parametrize("d", [
    # korriger of historic version 1 (2020-01-01 .. 2021-01-01): its period is unchanged
    updated("korriger", validering=READ, gyldighetsperiode={"startdato": "2020-01-01"}),
    # a new version of an object closed 2021-06-01 ends then too (operations._changed_version)
    updated("oppdater", versjon=2, gyldighetsperiode={"startdato": "2021-03-01"}),
])
def test_the_network_is_judged_for_the_versions_own_period_when_it_has_an_end(d: Endringssett) -> None:
    """oppbygging.md "Om stedfesting": "De vegnettselementene som et vegobjekt er stedfestet på må ha
    sammenfallende levetid med vegobjektet"; behandlingsresultat.md VEGLENKESEKVENS_UGYLDIG_PÅ_TIDSPUNKT:
    "ikke gyldig i hele vegobjektversjonens levetid". The sequence (2000 .. 2022) covers every version of
    the object (2020 .. 2021-06-01)."""
    existing = {5001: [stored(slutt="2021-01-01"), stored(versjon=2, start="2021-01-01", slutt="2021-06-01")]}
    assert [v.kode for v in validate(d, ctx(existing, _closing_network())).vegobjekter[0].feil] == []


# --- one operation per version ----------------------------------------------------------------------


@pytest.mark.parametrize("other", [
    {"oppdater": {"vegobjekter": [{**{k: v for k, v in kum().items() if k not in ("tempId", "validering")},
                                   "nvdbId": 5001, "versjon": 1, "gyldighetsperiode": {"startdato": "2024-05-01"}}]}},
    {"lukk": {"vegobjekter": [{"typeId": 83, "nvdbId": 5001, "versjon": 1, "lukkedato": "2024-05-01"}]}},
])
def test_fjern_of_the_whole_object_conflicts_with_another_operation_on_its_versions(other: dict) -> None:
    """oppbygging.md: "det kan bare utføres én operasjon per vegobjektversjon", and fjern without versjon
    removes "**alle** versjoner". Accepted, the plan writes a version 2 and deletes version 1 (an object
    left with a version 2 only)."""
    d = doc(**other, fjern={"vegobjekter": [{"typeId": 83, "nvdbId": 5001, "kaskadefjerning": "NEI"}]})
    result = validate(d, ctx({5001: [stored()]}))
    assert "KONFLIKT_MELLOM_VEGOBJEKTER" in {v.kode for entry in result.vegobjekter for v in entry.feil}


# --- mothers and daughters ------------------------------------------------------------------------


def _extended() -> Context:
    existing: dict[int, list[dict]] = {}
    for version in vc.world():
        existing.setdefault(version["id"], []).append(version)
    network = {vc.VLS: Veglenkesekvens(veglenkesekvensId=vc.VLS, lengde=500, kommune=301, fylke=3,
                                       vegkategori="K", startdato=date(2010, 1, 1))}
    return Context(catalog=load_catalog(vc.extended_catalog()), current_catalog_version="2.38", network=network,
                   existing=existing)


REKKVERK = {"typeId": 5, "nvdbId": vc.REKKVERK_FINNES, "versjon": 1, "gyldighetsperiode": {"startdato": "2024-01-01"}}


@pytest.mark.parametrize("ops", [
    {"delvisOppdater": {"vegobjekter": [{**REKKVERK, "assosiasjoner": [
        {"typeId": vc.REKKVERK_TIL_ENDE, "operasjon": "oppdater",
         "nvdbId": [{"verdi": vc.ENDE_HOLDT, "operasjon": "slett"}]}]}]}},
    {"delvisOppdater": {"vegobjekter": [{**REKKVERK, "assosiasjoner": [
        {"typeId": vc.REKKVERK_TIL_ENDE, "operasjon": "slett"}]}]}},
    {"oppdater": {"vegobjekter": [{**REKKVERK, "stedfesting": vc.linje((0.5, 0.6)), "egenskaper": []}]}},
])
def test_a_daughter_that_must_have_a_mother_cannot_be_left_without_one(ops: dict) -> None:
    """behandlingsresultat.md DATTEROBJEKT_UTEN_MOR: "Vegobjektet er av en type som krever morobjekt, men vil
    ikke ha det etter at endringssettet er utført." ENDE_HOLDT (14 Rekkverksende, må ha mor) has one mother,
    REKKVERK_FINNES; each changeset takes it out of that mother's association."""
    result = validate(Endringssett.model_validate({"datakatalogversjon": "2.38", **ops}), _extended())
    assert "DATTEROBJEKT_UTEN_MOR" in {v.kode for entry in result.vegobjekter for v in entry.feil}


def test_a_complete_daughter_list_with_operasjon_oppdater_is_counted() -> None:
    """oppbygging.md "Delvise assosiasjoner": with operasjon="oppdater" "Man må da angi komplett liste med
    datterobjektid'er"; FLERE_ENN_MAKSIMUM_ANTALL is given for the same list without operasjon."""
    catalog = Datakatalog.model_validate({"versjon": "t", "vegobjekttyper": [
        {"id": 900, "navn": "Mor", "stedfesting": {"type": "PUNKT"}, "relasjonstyper": {"barn": [
            {"liste_egenskapstype_id": 220999, "relasjonstype": "AGGREGERING", "maks_antall": 1,
             "vegobjekttype": {"id": 901}}]}},
        {"id": 901, "navn": "Datter", "stedfesting": {"type": "PUNKT"}}]})

    def version(nvdb_id: int, type_id: int) -> dict:
        return {"id": nvdb_id, "versjon": 1, "typeId": type_id, "gyldighetsperiode": {"startdato": "2020-01-01"},
                "egenskaper": [], "assosiasjoner": [],
                "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": 72817, "posisjon": 0.5}]}}

    context = Context(catalog=catalog, current_catalog_version="t", network=NETWORK,
                      existing={10: [version(10, 900)], 11: [version(11, 901)], 12: [version(12, 901)]})
    d = Endringssett.model_validate({"datakatalogversjon": "t", "delvisOppdater": {"vegobjekter": [
        {"typeId": 900, "nvdbId": 10, "versjon": 1, "gyldighetsperiode": {"startdato": "2024-01-01"},
         "assosiasjoner": [{"typeId": 220999, "operasjon": "oppdater",
                            "nvdbId": [{"verdi": 11}, {"verdi": 12}]}]}]}})
    assert [v.kode for v in validate(d, context).vegobjekter[0].feil] == ["FLERE_ENN_MAKSIMUM_ANTALL"]


def test_the_daughters_a_changed_mother_holds_are_read_before_validation() -> None:
    """A full oppdater need not name the daughters it drops: they are read anyway, so the rule above
    also holds outside tests that hand the validator every stored object."""
    from vegskriv.changesets.referenced import gather_existing

    world: dict[int, list[dict]] = {}
    for version in vc.world():
        world.setdefault(version["id"], []).append(version)
    asked: list[int] = []

    def fetch(ids: list[int]) -> dict[int, list[dict]]:
        asked.extend(ids)
        return {i: world[i] for i in ids if i in world}

    d = Endringssett.model_validate({"datakatalogversjon": "2.38", "oppdater": {"vegobjekter": [
        {**REKKVERK, "stedfesting": vc.linje((0.5, 0.6)), "egenskaper": []}]}})
    existing = gather_existing(d, load_catalog(vc.extended_catalog()), fetch)
    assert vc.ENDE_HOLDT in existing and vc.ENDE_HOLDT in asked
