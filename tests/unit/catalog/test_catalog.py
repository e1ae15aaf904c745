"""The normalized catalog file, its models and lookups, and loading both input shapes."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from vegskriv.catalog import (
    Datakatalog,
    Vegobjekttype,
    default_catalog,
    from_nvdb_les,
    load_catalog,
)
from vegskriv.changesets.models import Egenskap

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared" / "data" / "datakatalog" / "datakatalog-extract.json"
PACKAGED = ROOT / "layers" / "vegskriv" / "vegskriv" / "data" / "datakatalog.json"

REAL_TYPES = {
    14: "Rekkverksende", 45: "Bomstasjon", 47: "Trafikklomme", 60: "Bru", 67: "Tunnelløp",
    79: "Stikkrenne/Kulvert", 83: "Kum", 95: "Skiltpunkt", 103: "Fartsdemper", 105: "Fartsgrense",
    174: "Gangfelt", 297: "Kommentar", 540: "Trafikkmengde", 581: "Tunnel", 583: "Vegbredde",
    591: "Høydebegrensning", 616: "Feltstrekning", 821: "Funksjonell vegklasse",
    836: "Vegoppmerking, forsterket",
}


@pytest.fixture(scope="module")
def katalog() -> Datakatalog:
    return default_catalog()


# --- the packaged file ------------------------------------------------------------------------


def test_packaged_file_has_all_19_real_types(katalog: Datakatalog) -> None:
    assert katalog.versjon == "2.38"
    assert {vt.id: vt.navn for vt in katalog.vegobjekttyper} == REAL_TYPES
    assert "NLOD 1.0" in katalog.meta["lisens"]
    assert katalog.meta["regler"] and katalog.meta["antagelser"]


def test_default_catalog_is_cached() -> None:
    assert default_catalog() is default_catalog()


def test_real_property_types_are_kept(katalog: Datakatalog) -> None:
    kum = katalog.vegobjekttype(83)
    assert kum is not None
    geometri = kum.egenskapstype(4784)
    assert geometri is not None and geometri.datatype == "Geometri" and geometri.geometritype == "PUNKT"
    lokk = kum.egenskapstype(2290)
    assert lokk is not None and lokk.enum and lokk.datatype == "Tekst"
    assert "Kuppelrist, høy" in {v.verdi for v in lokk.tillatte_verdier}
    # B (XSD) "påkrevd" becomes PÅKREVD_IKKE_ABSOLUTT; optional B properties have no viktighet.
    assert kum.egenskapstype(1141).viktighet == "PÅKREVD_IKKE_ABSOLUTT"  # type: ignore[union-attr]
    assert kum.egenskapstype(1447).viktighet is None  # type: ignore[union-attr]


def test_type_a_keeps_real_viktighet_and_limits(katalog: Datakatalog) -> None:
    tunnel = katalog.vegobjekttype(581)
    assert tunnel is not None
    lengde = tunnel.egenskapstype(8945)
    assert lengde is not None
    assert (lengde.viktighet, lengde.feltlengde, lengde.min, lengde.maks) == ("PÅKREVD_IKKE_ABSOLUTT", 5, 0, 30000)
    assert (lengde.min_anbefalt, lengde.maks_anbefalt) == (0, 26000)
    stigning = tunnel.egenskapstype(11509)
    assert stigning is not None and stigning.desimaler == 1
    fartsgrense = katalog.vegobjekttype(105).egenskapstype(2021)  # type: ignore[union-attr]
    assert fartsgrense is not None and fartsgrense.viktighet == "PÅKREVD_ABSOLUTT"
    # numeric enum values are numbers, including the two the 2.38 XSD adds
    assert {5, 80, 120} <= {v.verdi for v in fartsgrense.tillatte_verdier}


def test_numeric_xsd_enum_values_are_numbers(katalog: Datakatalog) -> None:
    retning = katalog.vegobjekttype(79).egenskapstype(2049)  # type: ignore[union-attr]
    assert retning is not None and retning.datatype == "Heltall"
    assert all(isinstance(v.verdi, int) for v in retning.tillatte_verdier)


def test_bru_enums_without_values_are_marked(katalog: Datakatalog) -> None:
    brukategori = katalog.vegobjekttype(60).egenskapstype(1263)  # type: ignore[union-attr]
    assert brukategori is not None and brukategori.enum and brukategori.verdier_ukjente


def test_property_counts_match_the_extract(katalog: Datakatalog) -> None:
    if not SHARED.exists():
        pytest.skip("../shared not available")
    extract = json.loads(SHARED.read_text(encoding="utf-8"))
    for raw in extract["vegobjekttyper"]:
        vt = katalog.vegobjekttype(raw["id"])
        assert vt is not None
        extra = 1 if raw["id"] == 105 else 0  # 11845 from the 2.38 XSD
        assert len(vt.egenskapstyper) == len(raw["egenskapstyper"]) + extra


def test_packaged_file_is_what_the_build_script_produces() -> None:
    if not SHARED.exists():
        pytest.skip("../shared not available")
    spec = importlib.util.spec_from_file_location("build_catalog", ROOT / "scripts" / "build_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(json.loads(SHARED.read_text(encoding="utf-8")))
    assert built == json.loads(PACKAGED.read_text(encoding="utf-8"))


# --- relations --------------------------------------------------------------------------------


def test_relation_by_list_and_association_id(katalog: Datakatalog) -> None:
    stikkrenne = katalog.vegobjekttype(79)
    assert stikkrenne is not None
    for type_id in (220116, 200116):
        rel = stikkrenne.relation_by_id(type_id)
        assert rel is not None and rel.child_type_id == 83
    assert stikkrenne.relation_by_id(116) is None  # N alone is an ordinary property id
    assert stikkrenne.relation(200116) is stikkrenne.relation_by_id(220116)
    rel = stikkrenne.relation_by_id(220116)
    assert rel is not None
    # observed in real data only: relation kind unknown, association id derived and marked
    assert rel.relasjonstype is None and "assosiasjon_egenskapstype_id" in rel.antatt
    kum = katalog.vegobjekttype(83)
    assert kum is not None
    parent = kum.parent_relation_by_id(200116)
    assert parent is not None and parent.type_id == 79


def test_relation_kinds_from_api_types(katalog: Datakatalog) -> None:
    tunnel = katalog.vegobjekttype(581)
    assert tunnel is not None
    tunnelløp = tunnel.relation_by_id(200710)
    assert tunnelløp is not None and tunnelløp.child_type_id == 67 and tunnelløp.er_komposisjon
    bygning = tunnel.relation_by_id(220778)
    assert bygning is not None and bygning.relasjonstype == "AGGREGERING"
    assert (bygning.min_antall, bygning.maks_antall) == (0, 999999)
    kommentar = tunnel.relation_by_id(220711)
    assert kommentar is not None and kommentar.innenfor_mor == "JA"


# --- location helpers -------------------------------------------------------------------------


def test_stedfesting_helpers_from_api_types(katalog: Datakatalog) -> None:
    tunnel, fartsgrense, rekkverksende, skiltpunkt = (
        katalog.vegobjekttype(i) for i in (581, 105, 14, 95)
    )
    assert tunnel is not None and fartsgrense is not None and rekkverksende is not None
    assert skiltpunkt is not None
    assert tunnel.stedfestingstype == "PUNKT" and tunnel.overlapp_tillatt
    assert not tunnel.tillater_kjørefelt and not tunnel.tillater_sideposisjon
    assert fartsgrense.stedfestingstype == "LINJE" and not fartsgrense.overlapp_tillatt
    assert fartsgrense.tillater_kjørefelt and not fartsgrense.tillater_sideposisjon
    assert rekkverksende.må_ha_mor and rekkverksende.tillater_sideposisjon
    assert skiltpunkt.kjørefelt_relevant == "KAN"


def test_stedfesting_defaults_for_xsd_types(katalog: Datakatalog) -> None:
    kum = katalog.vegobjekttype(83)
    assert kum is not None
    assert kum.stedfestingstype == "PUNKT"
    assert kum.overlapp_tillatt and kum.tillater_sideposisjon and kum.tillater_kjørefelt
    assert not kum.retning_påkrevd and not kum.må_ha_mor and kum.tidsrom_relevant


# --- loading ----------------------------------------------------------------------------------


def test_load_own_format_from_path_text_and_dict(tmp_path: Path, katalog: Datakatalog) -> None:
    data = katalog.to_json()
    path = tmp_path / "k.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    for source in (path, str(path), json.dumps(data), data):
        loaded = load_catalog(source)
        assert [vt.id for vt in loaded.vegobjekttyper] == sorted(REAL_TYPES)
        assert loaded.vegobjekttype(79).relation_by_id(200116) is not None  # type: ignore[union-attr]


def test_load_rejects_unknown_shape() -> None:
    with pytest.raises(ValueError, match="Ukjent katalogformat"):
        load_catalog({"foo": 1})


# A trimmed NVDB API Les v3 GET /vegobjekttyper/581 response (field names and shapes as in
# nvdb-vegdata/nvdb-api-client src/test/resources/jsonresponse/vegobjekttyper/581.json).
LES_581: dict[str, Any] = {
    "id": 581,
    "navn": "Tunnel",
    "kortnavn": "tusy",
    "stedfesting": {
        "id": 100581, "navn": "PunktTilknytning", "egenskapstype": "Stedfesting", "datatype": "GeomPunkt",
        "viktighet": "IKKE_SATT", "geometritype": "PUNKT", "overlapp_ok": True, "kjørefelt_relevant": "NEI",
        "sideposisjon_relevant": "NEI", "innenfor_mor": False, "vegnettsajourhold_splitt": "KAN_IKKE_SPLITTES",
    },
    "tidsrom_relevant": True,
    "må_ha_mor": False,
    "en_versjon": False,
    "egenskapstyper": [
        {
            "id": 220710, "navn": "Assosierte Tunnelløp", "egenskapstype": "Liste", "datatype": "Liste",
            "viktighet": "IKKE_SATT", "maksimalt_antall_verdier": 999999, "minimalt_antall_verdier": 0,
            "innhold": {"id": 200710, "navn": "Assosiert Tunnelløp", "egenskapstype": "Assosiasjon",
                        "datatype": "Assosiasjon", "tilknytning": 3, "vegobjekttypeid": 67, "innenfor_mor": 0},
        },
        {
            "id": 220752, "navn": "Assosierte Tunnelløp uten trafikk", "egenskapstype": "Liste",
            "datatype": "Liste", "maksimalt_antall_verdier": 999999, "minimalt_antall_verdier": 0,
            "innhold": {"id": 200752, "egenskapstype": "Assosiasjon", "datatype": "Assosiasjon",
                        "tilknytning": 2, "vegobjekttypeid": 447, "innenfor_mor": 0},
        },
        {"id": 5225, "navn": "Navn", "egenskapstype": "Tekst", "datatype": "Tekst", "sensitivitet": 0,
         "viktighet": "PÅKREVD_IKKE_ABSOLUTT", "feltlengde": 50},
        {
            "id": 9134, "navn": "Tunnelklasse, prosjektert", "egenskapstype": "Tekst",
            "datatype": "FlerverdiAttributt, Tekst", "viktighet": "PÅKREVD_IKKE_ABSOLUTT", "feltlengde": 15,
            "tillatte_verdier": [
                {"id": 12176, "kortnavn": "E", "type": "Tekst", "verdi": "E"},
                {"id": 12172, "kortnavn": "A", "type": "Tekst", "verdi": "A"},
            ],
        },
        {
            "id": 3947, "navn": "Antall parallelle hovedløp", "egenskapstype": "Heltall",
            "datatype": "Flerverdiattributt, Tall", "viktighet": "PÅKREVD_IKKE_ABSOLUTT", "feltlengde": 1,
            "tillatte_verdier": [{"id": 5011, "kortnavn": "1", "type": "Heltall", "verdi": 1},
                                 {"id": 5012, "kortnavn": "2", "type": "Heltall", "verdi": 2}],
            "enhet": {"id": 12, "navn": "Stykker", "kortnavn": "stk"},
        },
        {"id": 8945, "navn": "Lengde, offisiell", "egenskapstype": "Heltall", "datatype": "Tall",
         "viktighet": "PÅKREVD_IKKE_ABSOLUTT", "min_anbefalt": 0, "maks_anbefalt": 26000, "min": 0,
         "maks": 30000, "feltlengde": 5},
        {"id": 11509, "navn": "Stigning, offisiell", "egenskapstype": "Flyttall", "datatype": "Tall",
         "viktighet": "OPSJONELL", "min": 0, "maks": 20, "desimaler": 1, "feltlengde": 4},
        {"id": 11448, "navn": "Sikkerhetsgodkjenningsdato", "egenskapstype": "Dato", "datatype": "Dato",
         "viktighet": "BETINGET", "feltmønster": "ååååmmdd"},
        {"id": 6891, "navn": "Geometri, punkt", "egenskapstype": "Geometri", "datatype": "GeomPunkt",
         "viktighet": "PÅKREVD_IKKE_ABSOLUTT", "geometritype": "PUNKT"},
    ],
    "relasjonstyper": {
        "foreldre": [],
        "barn": [
            {"id": 220710, "navn": "Assosierte Tunnelløp", "egenskapstype": "Liste",
             "maksimalt_antall_verdier": 999999, "minimalt_antall_verdier": 0,
             "innhold": {"relasjonstype": "KOMPOSISJON", "id": 200710, "navn": "Tunnel",
                         "egenskapstype": "Assosiasjon", "type": {"id": 67, "navn": "Tunnelløp"}}},
            {"id": 220711, "navn": "Assosierte Kommentar", "egenskapstype": "Liste",
             "maksimalt_antall_verdier": 999999, "minimalt_antall_verdier": 0,
             "innhold": {"innenfor_mor": "JA", "relasjonstype": "KOMPOSISJON", "id": 200711, "navn": "Tunnel",
                         "egenskapstype": "Assosiasjon", "type": {"id": 297, "navn": "Kommentar"}}},
        ],
    },
}


def _tunnel(katalog: Datakatalog) -> Vegobjekttype:
    vt = katalog.vegobjekttype(581)
    assert vt is not None
    return vt


def test_from_nvdb_les_single_type() -> None:
    tunnel = _tunnel(from_nvdb_les(LES_581, versjon="2.12"))
    assert {et.id for et in tunnel.egenskapstyper} == {5225, 9134, 3947, 8945, 11509, 11448, 6891}
    klasse = tunnel.egenskapstype(9134)
    assert klasse is not None and klasse.enum and klasse.datatype == "Tekst"
    antall = tunnel.egenskapstype(3947)
    assert antall is not None and antall.enum and antall.datatype == "Heltall"
    stigning = tunnel.egenskapstype(11509)
    assert stigning is not None and stigning.datatype == "Flyttall" and stigning.desimaler == 1
    geometri = tunnel.egenskapstype(6891)
    assert geometri is not None and geometri.geometritype == "PUNKT"
    assert tunnel.stedfestingstype == "PUNKT" and not tunnel.tillater_sideposisjon
    rel = tunnel.relation_by_id(200711)
    assert rel is not None and rel.child_type_id == 297 and rel.innenfor_mor == "JA"


def test_from_nvdb_les_without_relasjonstyper_uses_list_properties() -> None:
    older = copy.deepcopy(LES_581)
    del older["relasjonstyper"]
    tunnel = _tunnel(load_catalog(older))
    tunnelløp = tunnel.relation_by_id(220710)
    assert tunnelløp is not None and tunnelløp.child_type_id == 67 and tunnelløp.er_komposisjon
    uten_trafikk = tunnel.relation_by_id(200752)
    assert uten_trafikk is not None and uten_trafikk.relasjonstype == "AGGREGERING"


def test_from_nvdb_les_list_and_list_stedfesting() -> None:
    fartsgrense = {
        "id": 105, "navn": "Fartsgrense",
        "stedfesting": {"id": 120105, "navn": "Liste av lokasjonsattributt", "egenskapstype": "Liste",
                        "innhold": {"id": 100105, "navn": "StrekningTilknytning", "geometritype": "LINJE",
                                    "overlapp_ok": False, "kjørefelt_relevant": "KAN",
                                    "sideposisjon_relevant": "NEI"}},
        "egenskapstyper": [{"id": 2021, "navn": "Fartsgrense", "egenskapstype": "Heltallenum",
                            "datatype": "Tall", "viktighet": "PÅKREVD_ABSOLUTT",
                            "tillatte_verdier": [{"id": 2738, "verdi": 80}]}],
    }
    loaded = load_catalog([LES_581, fartsgrense])
    vt = loaded.vegobjekttype(105)
    assert vt is not None and _tunnel(loaded).id == 581
    assert vt.stedfestingstype == "LINJE" and not vt.overlapp_tillatt and not vt.tillater_sideposisjon
    feil, _ = loaded.validate_egenskaper(vt, [Egenskap(typeId=2021, verdi=["80"])], referanse="x")
    assert feil == []


def test_from_nvdb_les_plain_list_property() -> None:
    raw = {"id": 9000, "navn": "Test", "egenskapstyper": [
        {"id": 230001, "navn": "Liste av tekst", "egenskapstype": "Liste", "minimalt_antall_verdier": 1,
         "maksimalt_antall_verdier": 3,
         "innhold": {"id": 1, "navn": "Tekst", "egenskapstype": "Tekst", "datatype": "Tekst"}}]}
    vt = from_nvdb_les(raw).vegobjekttype(9000)
    assert vt is not None
    et = vt.egenskapstype(230001)
    assert et is not None and et.liste and (et.min_antall, et.maks_antall) == (1, 3)


def test_catalog_loaded_from_les_validates() -> None:
    katalog = load_catalog(LES_581)
    tunnel = _tunnel(katalog)
    feil, _ = katalog.validate_egenskaper(
        tunnel, [Egenskap(typeId=9134, verdi=["Q"]), Egenskap(typeId=8945, verdi=["40000"])],
        referanse="t#1", complete=False)
    assert {v.kode for v in feil} == {"UGYLDIG_FLERVERDI", "STØRRE_ENN_ABSOLUTT_MAKSIMUM"}
