"""Property value validation against the catalog: one case per varsel code, parsers, real excerpts."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vegskriv.catalog import (
    SUPPORTED_SRIDS,
    Datakatalog,
    GeometriFeil,
    Relasjonstype,
    Vegobjekttype,
    antall_desimaler,
    check_relasjon_antall,
    default_catalog,
    feltbredde,
    parse_boolsk,
    parse_dato,
    parse_flyttall,
    parse_geometri,
    parse_heltall,
    parse_klokkeslett,
    parse_kortdato,
    validate_egenskaper,
)
from vegskriv.changesets.models import Egenskap, Endringssett, NyttVegobjekt

ENDRINGSSETT = Path(__file__).resolve().parents[4] / "shared" / "data" / "endringssett"
REF = "tempId#1"

KATALOG = default_catalog()

# A type with the datatypes and list/struktur shapes the real extract lacks (Kortdato, Boolsk, Tegn,
# a list property, a structure with members); ids are made up and live only in these tests.
SYNTETISK = Vegobjekttype.model_validate({
    "id": 990001,
    "navn": "Testtype",
    "egenskapstyper": [
        {"id": 1, "navn": "Frist", "datatype": "Kortdato"},
        {"id": 2, "navn": "Aktiv", "datatype": "Boolsk"},
        {"id": 3, "navn": "Kode", "datatype": "Tegn"},
        {"id": 4, "navn": "Merknader", "datatype": "Tekst", "min_antall": 2, "maks_antall": 3},
        {"id": 5, "navn": "Adresse", "datatype": "Struktur", "medlemmer": [
            {"id": 51, "navn": "Gate", "datatype": "Tekst", "viktighet": "PÅKREVD_ABSOLUTT"},
            {"id": 52, "navn": "Nummer", "datatype": "Heltall"},
        ]},
        {"id": 6, "navn": "Bilde", "datatype": "Binærobjekt"},
    ],
})


def vt(type_id: int) -> Vegobjekttype:
    found = KATALOG.vegobjekttype(type_id)
    assert found is not None
    return found


def e(type_id: int, **kw: Any) -> Egenskap:
    return Egenskap.model_validate({"typeId": type_id, **kw})


def geo(wkt: str, srid: int = 25833) -> list[dict[str, Any]]:
    return [{"srid": srid, "wkt": wkt}]


def run(vtype: Vegobjekttype, egenskaper: list[Egenskap], *, complete: bool = False,
        katalog: Datakatalog | None = None) -> tuple[set[str], set[str], list[Any]]:
    feil, advarsler = validate_egenskaper(vtype, egenskaper, referanse=REF, complete=complete, katalog=katalog)
    return {v.kode for v in feil}, {v.kode for v in advarsler}, feil + advarsler


# --- one case per code: an input that raises it, and a close valid input that does not ---------


@dataclass
class Case:
    kode: str
    type_id: int
    bad: list[Egenskap]
    good: list[Egenskap]
    complete: bool = False
    advarsel: bool = False
    egenskap: int | None = None  # expected egenskapTypeId; None for object-level varsler
    katalog: bool = False


# 83 Kum with every B-påkrevd property, shaped like the real excerpt 04.
KUM_FULL = [
    e(1141, verdi=["Standard kum"]), e(1269, verdi=["Drenering"]), e(1411, verdi=["Betong"]),
    e(2290, verdi=["Kuppelrist, høy"]), e(1586, verdi=["1.4"]), e(7065, verdi=["2023"]),
    e(10470, verdi=["Ingen"]), e(4784, geometri=geo("POINT (218124.0 7023329.4 350.3)")),
]
KUM_UTEN_MATERIAL = [x for x in KUM_FULL if x.typeId != 1411]
FARTSGRENSE_FULL = [e(2021, verdi=["80"]), e(1891, verdi=["V-12"]), e(5127, verdi=["2020-01-01"]),
                    e(9155, verdi=["A-1"])]

CASES = [
    Case("UKJENT_EGENSKAPSTYPE", 83, [e(999999, verdi=["x"])], [e(1411, verdi=["Betong"])], egenskap=999999),
    Case("UGYLDIG_EGENSKAPSTYPE", 83, [e(5225, verdi=["x"])], [e(1411, verdi=["Betong"])], egenskap=5225,
         katalog=True),
    Case("MANGLER_OBLIGATORISKE_EGENSKAPER", 105, FARTSGRENSE_FULL[1:], FARTSGRENSE_FULL, complete=True),
    Case("MANGLER_ANBEFALTE_EGENSKAPER", 83, KUM_UTEN_MATERIAL, KUM_FULL, complete=True, advarsel=True),
    Case("MANGLER_BETINGET_PÅKREVDE_EGENSKAPER", 105, [FARTSGRENSE_FULL[0], FARTSGRENSE_FULL[2]],
         FARTSGRENSE_FULL, complete=True, advarsel=True),
    Case("UGYLDIG_FLERVERDI", 83, [e(1411, verdi=["betong"])], [e(1411, verdi=["Betong"])], egenskap=1411),
    Case("IKKE_FLERVERDIEGENSKAP", 83, [e(1586, enum=[2211])], [e(1586, verdi=["1.4"])], egenskap=1586),
    Case("EGENSKAPSTYPE_STØTTER_IKKE_MULTIPLE_VERDIER", 83, [e(1586, verdi=["1.4", "1.5"])],
         [e(1586, verdi=["1.4"])], egenskap=1586),
    Case("UGYLDIG_TYPE", 83, [e(1411, geometri=geo("POINT (1 2)"))], [e(1411, verdi=["Betong"])],
         egenskap=1411),
    Case("UGYLDIG_HELTALLFORMAT", 83, [e(7065, verdi=["20x3"])], [e(7065, verdi=["2023"])], egenskap=7065),
    Case("UGYLDIG_FLYTTALLFORMAT", 83, [e(1586, verdi=["1,4"])], [e(1586, verdi=["1.4"])], egenskap=1586),
    Case("UGYLDIG_DATOFORMAT", 83, [e(12568, verdi=["2024-13-01"])], [e(12568, verdi=["2024-12-01"])],
         egenskap=12568),
    Case("UGYLDIG_KORTDATOFORMAT", 990001, [e(1, verdi=["02-30"])], [e(1, verdi=["02-29"])], egenskap=1),
    Case("UGYLDIG_TIDFORMAT", 45, [e(9407, verdi=["25:00"])], [e(9407, verdi=["07:30"])], egenskap=9407),
    Case("UGYLDIG_BOOLSK_FORMAT", 990001, [e(2, verdi=["kanskje"])], [e(2, verdi=["Ja"])], egenskap=2),
    Case("UGYLDIG_TEGNFORMAT", 990001, [e(3, verdi=[7])], [e(3, verdi=["7"])], egenskap=3),
    Case("UGYLDIG_GEOMETRIFORMAT", 83, [e(4784, geometri=geo("POINT (218124.0 7023329.4"))],
         [e(4784, geometri=geo("POINT (218124.0 7023329.4)"))], egenskap=4784),
    Case("UGYLDIG_GEOMETRI_SRID", 83, [e(4784, geometri=geo("POINT (1 2)", srid=3857))],
         [e(4784, geometri=geo("POINT (218124 7023329)", srid=5973))], egenskap=4784),
    Case("GEOMETRI_MED_INKONSEKVENT_HØYDE", 79, [e(5899, geometri=geo("LINESTRING (1 2 3, 4 5)"))],
         [e(5899, geometri=geo("LINESTRING (218001 7023002 3, 218004 7023005 6)"))], egenskap=5899),
    Case("IRREGULÆR_GEOMETRI", 79, [e(5902, geometri=geo("POLYGON ((0 0, 1 1, 1 0, 0 1, 0 0))"))],
         [e(5902, geometri=geo("POLYGON ((218000 7023000, 218001 7023000, 218001 7023001, 218000 7023001, "
                               "218000 7023000))"))], egenskap=5902),
    Case("OVERSKRIDER_FELTLENGDE", 581, [e(9306, verdi=["12345678901"])], [e(9306, verdi=["1234567890"])],
         egenskap=9306),
    Case("FOR_MANGE_DESIMALER", 581, [e(11509, verdi=["1.25"])], [e(11509, verdi=["1.20"])], egenskap=11509),
    Case("STØRRE_ENN_ABSOLUTT_MAKSIMUM", 581, [e(8945, verdi=["30001"])], [e(8945, verdi=["25000"])],
         egenskap=8945),
    Case("MINDRE_ENN_ABSOLUTT_MINIMUM", 581, [e(10383, verdi=[1799])], [e(10383, verdi=[1950])],
         egenskap=10383),
    Case("STØRRE_ENN_ANBEFALT_MAKSIMUM", 581, [e(8945, verdi=["27000"])], [e(8945, verdi=["26000"])],
         advarsel=True, egenskap=8945),
    Case("MINDRE_ENN_ANBEFALT_MINIMUM", 581, [e(9507, verdi=["19791231"])], [e(9507, verdi=["1980-01-01"])],
         advarsel=True, egenskap=9507),
    Case("FLERE_ENN_MAKSIMUM_ANTALL", 990001, [e(4, verdi=["a", "b"]), e(4, verdi=["c", "d"])],
         [e(4, verdi=["a", "b"]), e(4, verdi=["c"])], egenskap=4),
    Case("FÆRRE_ENN_MINIMUM_ANTALL", 990001, [e(4, verdi=["a"])], [e(4, verdi=["a", "b"])], egenskap=4),
    Case("UKJENT_MEDLEMSTYPE", 990001, [e(5, medlem=[{"typeId": 53, "verdi": ["x"]}])],
         [e(5, medlem=[{"typeId": 52, "verdi": ["7"]}])], egenskap=53),
    Case("MANGLER_OBLIGATORISKE_MEDLEMMER", 990001, [e(5, medlem=[{"typeId": 52, "verdi": ["7"]}])],
         [e(5, medlem=[{"typeId": 51, "verdi": ["Storgata"]}, {"typeId": 52, "verdi": ["7"]}])],
         complete=True),
]


def _vtype(case: Case) -> Vegobjekttype:
    return SYNTETISK if case.type_id == SYNTETISK.id else vt(case.type_id)


def test_every_case_is_distinct() -> None:
    assert len({c.kode for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.kode)
def test_code_is_raised(case: Case) -> None:
    feil, advarsler, varsler = run(_vtype(case), case.bad, complete=case.complete,
                                   katalog=KATALOG if case.katalog else None)
    assert case.kode in (advarsler if case.advarsel else feil)
    if case.advarsel:
        assert case.kode not in feil
    varsel = next(v for v in varsler if v.kode == case.kode)
    assert varsel.referanse == REF
    assert varsel.egenskapTypeId == case.egenskap
    assert len(varsel.melding) > 20


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.kode)
def test_close_valid_input_passes(case: Case) -> None:
    feil, advarsler, _ = run(_vtype(case), case.good, complete=case.complete,
                             katalog=KATALOG if case.katalog else None)
    assert case.kode not in feil | advarsler
    assert not feil


# --- details of the rules ----------------------------------------------------------------------


def test_fartsgrense_numeric_enum_in_every_form() -> None:
    fartsgrense = vt(105)
    for given_value in ({"verdi": ["80"]}, {"verdi": [80]}, {"verdi": [80.0]}, {"enum": [2738]},
                        {"verdi": ["5"]}):
        assert run(fartsgrense, [e(2021, **given_value)])[0] == set()
    assert run(fartsgrense, [e(2021, verdi=["85"])])[0] == {"UGYLDIG_FLERVERDI"}
    assert run(fartsgrense, [e(2021, enum=[2211])])[0] == {"UGYLDIG_FLERVERDI"}


def test_enum_message_lists_allowed_values() -> None:
    _, _, varsler = run(vt(581), [e(9134, verdi=["G"])])
    assert "Tunnelklasse, prosjektert (9134) må være en av følgende verdier" in varsler[0].melding
    assert "A (12172)" in varsler[0].melding


def test_missing_required_lists_names_in_one_varsel() -> None:
    feil, _ = validate_egenskaper(vt(105), [], referanse=REF, complete=True)
    assert [v.kode for v in feil] == ["MANGLER_OBLIGATORISKE_EGENSKAPER"]
    assert "Fartsgrense (2021)" in feil[0].melding and feil[0].egenskapTypeId is None


def test_partial_checks_only_given_properties() -> None:
    kum = vt(83)
    assert run(kum, [e(1411, verdi=["Betong"])], complete=False) == (set(), set(), [])
    assert run(kum, [e(1411, operasjon="slett")], complete=False)[0] == set()


def test_partial_cannot_delete_absolutely_required() -> None:
    feil = run(vt(105), [e(2021, operasjon="slett")], complete=False)[0]
    assert feil == {"MANGLER_OBLIGATORISKE_EGENSKAPER"}


def test_slett_in_complete_object_counts_as_missing() -> None:
    _, advarsler, _ = run(vt(83), [*KUM_UTEN_MATERIAL, e(1411, operasjon="slett")], complete=True)
    assert "MANGLER_ANBEFALTE_EGENSKAPER" in advarsler


def test_duplicate_type_id_is_one_property_with_two_values() -> None:
    feil = run(vt(83), [e(1411, verdi=["Betong"]), e(1411, verdi=["Plast"])])[0]
    assert feil == {"EGENSKAPSTYPE_STØTTER_IKKE_MULTIPLE_VERDIER"}


def test_value_given_in_two_forms_is_refused() -> None:
    assert run(vt(83), [e(1411, verdi=["Betong"], enum=[2211])])[0] == {"UGYLDIG_TYPE"}


@pytest.mark.parametrize("wkt,geometri_id", [
    ("LINESTRING (0 0, 1 1)", 4780),  # 79 punkt
    ("POINT (0 0)", 5899),  # 79 linje
    ("POINT (0 0)", 5902),  # 79 flate
])
def test_wrong_geometry_type_is_ugyldig_type(wkt: str, geometri_id: int) -> None:
    assert run(vt(79), [e(geometri_id, geometri=geo(wkt))])[0] == {"UGYLDIG_TYPE"}


@pytest.mark.parametrize("wkt,geometri_id", [
    ("POINT Z (218000 7023000 1)", 4780),
    ("MULTILINESTRING ((218000 7023000, 218001 7023001), (218002 7023002, 218003 7023003))", 5899),
    ("MULTIPOLYGON (((218000 7023000, 218001 7023000, 218001 7023001, 218000 7023000)))", 5902),
])
def test_accepted_geometry_types(wkt: str, geometri_id: int) -> None:
    assert run(vt(79), [e(geometri_id, geometri=geo(wkt))])[0] == set()


def test_verdi_on_geometry_property_is_ugyldig_type() -> None:
    assert run(vt(83), [e(4784, verdi=["POINT (1 2)"])])[0] == {"UGYLDIG_TYPE"}


def test_binaerobjekt_only_on_binary_properties() -> None:
    bilde = {"binærobjekt": [{"ressursId": "r1", "format": "image/png"}]}
    assert run(SYNTETISK, [e(6, **bilde)])[0] == set()
    assert run(SYNTETISK, [e(3, **bilde)])[0] == {"UGYLDIG_TYPE"}
    assert run(SYNTETISK, [e(6, verdi=["r1"])])[0] == {"UGYLDIG_TYPE"}


def test_unknown_enum_values_accept_any_text() -> None:
    assert run(vt(60), [e(1263, verdi=["Hva som helst"]), e(9182, enum=[123])])[0] == set()


def test_text_accepts_json_numbers() -> None:
    assert run(vt(83), [e(10470, verdi=[123])])[0] == set()


def test_relation_count_helper() -> None:
    rel = Relasjonstype.model_validate({"liste_egenskapstype_id": 220001, "vegobjekttype": {"id": 1},
                                        "min_antall": 1, "maks_antall": 2})
    assert [v.kode for v in check_relasjon_antall(rel, 3, referanse=REF)] == ["FLERE_ENN_MAKSIMUM_ANTALL"]
    assert [v.kode for v in check_relasjon_antall(rel, 0, referanse=REF)] == ["FÆRRE_ENN_MINIMUM_ANTALL"]
    assert check_relasjon_antall(rel, 2, referanse=REF) == []


# --- real excerpts ----------------------------------------------------------------------------


def _excerpts(*patterns: str) -> list[Path]:
    if not ENDRINGSSETT.exists():
        pytest.skip("../shared/data/endringssett not available")
    return sorted(p for pattern in patterns for p in ENDRINGSSETT.glob(pattern))


def test_real_registrer_excerpts_have_no_feil() -> None:
    files = _excerpts("03_*.json", "04_*.json")
    assert len(files) == 2
    checked = 0
    for path in files:
        doc = Endringssett.model_validate(json.loads(path.read_text(encoding="utf-8")))
        assert doc.registrer is not None
        for o in doc.registrer.vegobjekter:
            feil, _ = KATALOG.validate_egenskaper(vt(o.typeId), o.egenskaper, referanse=o.tempId)
            assert feil == [], (path.name, o.tempId, feil)
            checked += 1
    assert checked == 4


def test_real_delvis_oppdater_excerpt_has_no_feil() -> None:
    for path in _excerpts("06_*.json"):
        doc = Endringssett.model_validate(json.loads(path.read_text(encoding="utf-8")))
        assert doc.delvisOppdater is not None
        for o in doc.delvisOppdater.vegobjekter:
            feil, _ = KATALOG.validate_egenskaper(vt(o.typeId), o.egenskaper, referanse=str(o.nvdbId),
                                                  complete=False)
            assert feil == []


def test_many_realistic_objects_validate_clean() -> None:
    """Realistic type-83 objects give no feil (throughput is measured by `make bench`, not here)."""
    objs = [NyttVegobjekt.model_validate({
        "typeId": 83, "tempId": f"kum#{i}", "gyldighetsperiode": {"startdato": "2024-09-27"},
        "egenskaper": [
            {"typeId": 2079, "verdi": ["0.8"]}, {"typeId": 1411, "verdi": ["Betong"]},
            {"typeId": 1141, "verdi": ["Standard kum"]}, {"typeId": 1586, "verdi": [f"{1 + i % 7 / 10}"]},
            {"typeId": 2388, "verdi": ["19"]}, {"typeId": 1269, "verdi": ["Drenering"]},
            {"typeId": 10470, "verdi": ["Ingen"]}, {"typeId": 1727, "verdi": ["1"]},
            {"typeId": 11070, "verdi": ["06/2024"]}, {"typeId": 5816, "verdi": ["Stat, Statens vegvesen"]},
            {"typeId": 2290, "verdi": ["Kuppelrist, høy"]}, {"typeId": 7065, "verdi": ["2023"]},
            {"typeId": 4784, "geometri": [{"srid": 25833, "wkt": f"POINT (218124.{i} 7023329.4 350.303)"}]},
        ],
    }) for i in range(2000)]
    kum = vt(83)
    for o in objs:
        feil, _ = validate_egenskaper(kum, o.egenskaper, referanse=o.tempId)
        assert not feil


# --- parsers (property-based) -----------------------------------------------------------------


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_heltall_round_trip(n: int) -> None:
    assert parse_heltall(str(n)) == n
    assert parse_heltall(n) == n
    assert parse_heltall(f"+{n}" if n >= 0 else str(n)) == n


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
def test_flyttall_round_trip(d: Decimal) -> None:
    text = format(d, "f")
    value, digits = parse_flyttall(text)
    assert value == pytest.approx(float(d))
    assert antall_desimaler(digits) <= 4
    assert feltbredde(digits) <= len(text.lstrip("-"))


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_flyttall_accepts_json_numbers(x: float) -> None:
    value, digits = parse_flyttall(x)
    assert value == x
    assert Decimal(digits) == abs(Decimal(repr(x)))


@given(st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31)))
def test_dato_both_formats(d: date) -> None:
    assert parse_dato(d.isoformat()) == d
    assert parse_dato(d.strftime("%Y%m%d")) == d


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 12, 31)))
def test_kortdato_both_formats(d: date) -> None:
    assert parse_kortdato(d.strftime("%m-%d")) == (d.month, d.day)
    assert parse_kortdato(d.strftime("%m%d")) == (d.month, d.day)


@given(st.times())
def test_klokkeslett_formats(t: time) -> None:
    minute = t.replace(second=0, microsecond=0)
    assert parse_klokkeslett(t.strftime("%H:%M:%S")) == t.replace(microsecond=0)
    assert parse_klokkeslett(t.strftime("%H:%M")) == minute
    assert parse_klokkeslett(t.strftime("%H%M")) == minute


@given(st.sampled_from(["ja", "nei", "true", "false"]), st.lists(st.booleans(), min_size=5, max_size=5))
def test_boolsk_any_case(word: str, upper: list[bool]) -> None:
    mixed = "".join(c.upper() if u else c for c, u in zip(word, upper, strict=False))
    assert parse_boolsk(mixed) is (word in ("ja", "true"))


PARSERS = [parse_heltall, parse_flyttall, parse_dato, parse_kortdato, parse_klokkeslett, parse_boolsk]


def _only_value_error(value: Any) -> None:
    for parser in PARSERS:
        with contextlib.suppress(ValueError):
            parser(value)


@given(st.one_of(st.text(max_size=12), st.integers(), st.floats(), st.booleans(), st.none()))
def test_parsers_only_raise_value_error(value: Any) -> None:
    _only_value_error(value)


@given(st.text(alphabet="0123456789-:.+ eE,", max_size=12))
def test_parsers_only_raise_value_error_on_digit_soup(text: str) -> None:
    _only_value_error(text)


@given(st.sampled_from(sorted(SUPPORTED_SRIDS)),
       st.floats(min_value=-1e7, max_value=1e7), st.floats(min_value=-1e7, max_value=1e7),
       st.one_of(st.none(), st.floats(min_value=-1000, max_value=10000)))
def test_points_parse_in_every_supported_srid(srid: int, x: float, y: float, z: float | None) -> None:
    wkt = f"POINT ({x!r} {y!r})" if z is None else f"POINT ({x!r} {y!r} {z!r})"
    geom = parse_geometri(srid, wkt, "PUNKT")
    assert geom.geom_type == "Point" and geom.has_z is (z is not None)


@given(st.integers(min_value=0, max_value=100_000).filter(lambda s: s not in SUPPORTED_SRIDS))
def test_unsupported_srids_are_refused(srid: int) -> None:
    with pytest.raises(GeometriFeil) as exc:
        parse_geometri(srid, "POINT (1 2)", "PUNKT")
    assert exc.value.kode == "UGYLDIG_GEOMETRI_SRID"


@given(st.text(max_size=40))
def test_random_wkt_gives_a_geometry_code_not_a_crash(wkt: str) -> None:
    try:
        parse_geometri(25833, wkt, None)
    except GeometriFeil as exc:
        assert exc.kode in {"UGYLDIG_GEOMETRIFORMAT", "GEOMETRI_MED_INKONSEKVENT_HØYDE", "IRREGULÆR_GEOMETRI"}
