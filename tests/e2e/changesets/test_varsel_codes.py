"""One case per varsel code: an input that must raise it and a close input that must not.

Table-driven over the HTTP API of one local stack. The synchronous validator
(``POST /rest/v3/endringssett/validator``) runs the same validation as the workflow and is used
wherever it suffices; the full workflow (register, start, poll) is used for what only it does:
rights (MANGLER_TILGANG / IKKE_AUTORISERT), effects on the read side, and one catalog code
end to end. A few codes need property types the default catalog extract lacks; the module loads
an extended copy of the default catalog and restores the default at the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.client import Client
from tests.support.varsel_cases import (
    BOOLSK,
    ENDE_HOLDT,
    ENDE_LEDIG,
    FARTSGRENSE_FINNES,
    FINNES_IKKE,
    KOMMENTAR_FELT,
    KORTDATO,
    KUM_2_VERSJONER,
    KUM_3_VERSJONER,
    KUM_HOLDT,
    KUM_LEST,
    KUM_LUKKET,
    LISTE,
    STIKKRENNE_FINNES,
    STRUKTUR,
    STRUKTUR_ANBEFALT,
    STRUKTUR_MEDLEM,
    TUNNEL_FJERN,
    TUNNEL_LUKK,
    TUNNELLOP_FRITT,
    TUNNELLOP_LUKK,
    VLS,
    VLS_OTHER_KOMMUNE,
    VLS_OVERLAP,
    assert_norwegian_messages,
    assosiasjon,
    bomstasjon,
    doc,
    extended_catalog,
    fartsgrense,
    feltstrekning,
    kommentar,
    kum83,
    linje,
    punkt,
    rekkverk,
    rekkverksende,
    stikkrenne,
    tunnel,
    tunnellop,
    with_egenskaper,
    world,
)
from vegskriv.catalog import default_catalog
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e

VALIDATOR = "/rest/v3/endringssett/validator"


# --- the stack --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    """Sequences of the sample network found through the API: one closed (historic), one new."""

    historic: int
    historic_end: str
    new: int
    new_start: str


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "1", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        admin = Client(running.url, "systemadmin", ("9_system_admin",))
        r = admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps({"vegobjekter": world()}))
        assert r.status_code == 200, r.text
        r = admin.request("PUT", "/rest/v3/datakatalog", data=json.dumps(extended_catalog()))
        assert r.status_code == 200, r.text
        try:
            yield running
        finally:
            r = admin.request("PUT", "/rest/v3/datakatalog", data=json.dumps(default_catalog().to_json()))
            assert r.status_code == 200, r.text
            restored = admin.request("GET", "/rest/v3/datakatalog/vegobjekttyper/297").json()
            assert KORTDATO not in {e["id"] for e in restored["egenskapstyper"]}




@pytest.fixture(scope="module")
def network(olanor) -> Network:
    page = olanor.request("GET", "/rest/v3/vegnett/veglenkesekvenser", params={"kommune": 301, "antall": 100})
    assert page.status_code == 200, page.text
    sequences = page.json()["objekter"]
    historic = next(s for s in sequences if s["sluttdato"])
    new = next(s for s in sequences if s["startdato"] > "2020-01-01" and not s["sluttdato"])
    return Network(historic["veglenkesekvensId"], historic["sluttdato"], new["veglenkesekvensId"], new["startdato"])


def validate(client: Client, document: dict[str, Any]) -> dict[str, Any]:
    r = client.request("POST", VALIDATOR, data=json.dumps(document))
    assert r.status_code == 200, r.text
    status = r.json()
    assert status["fremdrift"] in ("UTFØRT", "AVVIST")
    assert_norwegian_messages(status["resultat"])
    return status


def run(client: Client, document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    changeset_id, status = client.run(document)
    assert status["fremdrift"] in ("UTFØRT_OG_ETTERBEHANDLET", "AVVIST"), status
    assert_norwegian_messages(status["resultat"])
    return changeset_id, status


def _key(entry: dict[str, Any]) -> str:
    return entry["tempId"] if entry["operasjon"] == "registrer" else str(entry["nvdbId"])


def hits(status: dict[str, Any], kode: str) -> dict[str | None, list[tuple[str, dict[str, Any]]]]:
    """Where ``kode`` occurs: entry key (None = global) → [(list name, varsel)]."""
    found: dict[str | None, list[tuple[str, dict[str, Any]]]] = {}
    resultat = status["resultat"]
    for kind in ("feil", "advarsler", "notabener"):
        for v in resultat[kind]:
            if v["kode"] == kode:
                found.setdefault(None, []).append((kind, v))
        for entry in resultat["vegobjekter"]:
            for v in entry[kind]:
                if v["kode"] == kode:
                    found.setdefault(_key(entry), []).append((kind, v))
    return found


def assert_raised(status: dict[str, Any], kode: str, ref: str | None, *, egenskap: int | None = None,
                  advarsel: bool = False) -> list[dict[str, Any]]:
    """``kode`` sits on the entry of ``ref`` (the tempId for registrer, else the nvdbId; None = the
    changeset's own list), and nowhere else, in the right list and with the right context."""
    found = hits(status, kode)
    dump = json.dumps(status["resultat"], ensure_ascii=False)
    assert set(found) == {ref}, f"{kode} ventet på {ref}, fant {sorted(map(str, found))}: {dump}"
    kind = "advarsler" if advarsel else "feil"
    assert {k for k, _ in found[ref]} == {kind}, dump
    varsler = [v for _, v in found[ref]]
    for v in varsler:
        assert v.get("referanse") == ref, v
        if egenskap is not None:
            assert v.get("egenskapTypeId") == egenskap, v
    if advarsel:
        assert status["fremdrift"] in ("UTFØRT", "UTFØRT_OG_ETTERBEHANDLET"), dump  # a warning does not reject
    else:
        assert status["fremdrift"] == "AVVIST", dump
    return varsler


def assert_not_raised(status: dict[str, Any], kode: str, *, clean: bool = True) -> None:
    dump = json.dumps(status["resultat"], ensure_ascii=False)
    assert not hits(status, kode), dump
    if clean:
        assert status["fremdrift"] in ("UTFØRT", "UTFØRT_OG_ETTERBEHANDLET"), dump


# --- the table (validator) --------------------------------------------------------------------

Build = Callable[[Network], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    kode: str
    bad: Build
    good: Build
    ref: str | None  # the entry the varsel belongs to; None = global
    egenskap: int | None = None
    advarsel: bool = False


def case(kode: str, bad: Build, good: Build, ref: str | None, *, egenskap: int | None = None,
         advarsel: bool = False, form: str = "", xfail: str | None = None) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(Case(kode, bad, good, ref, egenskap, advarsel), id=f"{kode}{'-' + form if form else ''}",
                        marks=marks)


def reg(*objects: dict[str, Any], version: str = "2.38") -> dict[str, Any]:
    return doc(version, registrer=list(objects))


def kum_with(*changes: dict[str, Any], drop: tuple[int, ...] = (), **fields: Any) -> dict[str, Any]:
    return with_egenskaper(kum83(**fields), *changes, drop=drop)


def tunnel_with(*changes: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return with_egenskaper(tunnel(**fields), *changes)


def geometri(wkt: str = "POINT (218124.0 7023329.5 350.3)", srid: int = 25833) -> dict[str, Any]:
    return {"typeId": 4784, "geometri": [{"srid": srid, "wkt": wkt}]}


def delvis_kum(nvdb_id: int, versjon: int, op: str = "delvisOppdater", startdato: str | None = "2025-01-01",
               egenskaper: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"typeId": 83, "nvdbId": nvdb_id, "versjon": versjon, **fields}
    if startdato:
        obj["gyldighetsperiode"] = {"startdato": startdato}
    if egenskaper is not None:
        obj["egenskaper"] = egenskaper
    return doc(**{op: [obj]})


def delvis_daughter(nvdb_id: int, operasjon: str) -> dict[str, Any]:
    """delvisOppdater of the stored Stikkrenne: one Kum id added or removed through 220116."""
    return doc(delvisOppdater=[{"typeId": 79, "nvdbId": STIKKRENNE_FINNES, "versjon": 1,
                                "gyldighetsperiode": {"startdato": "2025-01-01"},
                                "assosiasjoner": [{"typeId": 220116,
                                                   "nvdbId": [{"verdi": nvdb_id, "operasjon": operasjon}]}]}])


def delvis_tunnellop(fra: float, til: float) -> dict[str, Any]:
    """delvisOppdater of the stored, unheld Tunnelløp (0.89-0.91): one line element added."""
    return doc(delvisOppdater=[{"typeId": 67, "nvdbId": TUNNELLOP_FRITT, "versjon": 1,
                                "gyldighetsperiode": {"startdato": "2025-01-01"},
                                "stedfesting": {"operasjon": "oppdater", "linje": [
                                    {"veglenkesekvensNvdbId": VLS, "fra": fra, "til": til, "operasjon": "ny"}]}}])


DYBDE = [{"typeId": 1586, "verdi": ["2.0"], "operasjon": "oppdater"}]
LEST = {"lestFraNvdb": "2024-06-01T12:00:00"}
MERKNAD = [{"typeId": 1086, "verdi": ["Ny merknad"], "operasjon": "oppdater"}]
T, K = "tunnel#1", "kum#1"


def lukk(nvdb_id: int, versjon: int, lukkedato: str = "2025-01-01", type_id: int = 83, **extra: Any) -> dict[str, Any]:
    return doc(lukk=[{"typeId": type_id, "nvdbId": nvdb_id, "versjon": versjon, "lukkedato": lukkedato, **extra}])


def fjern(nvdb_id: int, *versjoner: int | None, type_id: int = 83, **extra: Any) -> dict[str, Any]:
    return doc(fjern=[{"typeId": type_id, "nvdbId": nvdb_id, **({"versjon": v} if v else {}), **extra}
                      for v in versjoner])


CASES = [
    # catalog: types and property types
    case("UKJENT_VEGOBJEKTTYPE", lambda n: reg(kum83(typeId=424242)), lambda n: reg(kum83()), K),
    case("UKJENT_EGENSKAPSTYPE", lambda n: reg(kum_with({"typeId": 999999, "verdi": ["x"]})),
         lambda n: reg(kum_with({"typeId": 1447, "verdi": ["x"]})), K, egenskap=999999),
    case("UGYLDIG_EGENSKAPSTYPE", lambda n: reg(kum_with({"typeId": 5225, "verdi": ["x"]})),
         lambda n: reg(kum_with({"typeId": 1447, "verdi": ["x"]})), K, egenskap=5225, form="egenskap"),
    case("UGYLDIG_EGENSKAPSTYPE",
         lambda n: reg(tunnel(assosiasjoner=[assosiasjon(220116, temp_ids=("løp#1",))]), tunnellop()),
         lambda n: reg(tunnel(assosiasjoner=[assosiasjon(220710, temp_ids=("løp#1",))]), tunnellop()),
         T, egenskap=220116, form="assosiasjon"),
    case("MANGLER_OBLIGATORISKE_EGENSKAPER", lambda n: reg(with_egenskaper(fartsgrense(), drop=(2021,))),
         lambda n: reg(fartsgrense()), "fart#1"),
    case("MANGLER_OBLIGATORISKE_EGENSKAPER", lambda n: reg(fartsgrense(stedfesting=None)),
         lambda n: reg(fartsgrense()), "fart#1", egenskap=120105, form="stedfesting"),
    case("MANGLER_BETINGET_PÅKREVDE_EGENSKAPER", lambda n: reg(with_egenskaper(fartsgrense(), drop=(1891,))),
         lambda n: reg(fartsgrense()), "fart#1", advarsel=True),
    case("MANGLER_ANBEFALTE_EGENSKAPER", lambda n: reg(kum_with(drop=(1586,))), lambda n: reg(kum83()), K,
         advarsel=True),
    # catalog: values
    case("UGYLDIG_FLERVERDI", lambda n: reg(kum_with({"typeId": 1411, "verdi": ["Marsipan"]})),
         lambda n: reg(kum_with({"typeId": 1411, "verdi": ["Betong"]})), K, egenskap=1411, form="verdi"),
    case("UGYLDIG_FLERVERDI", lambda n: reg(kum_with({"typeId": 1411, "enum": [1]})),
         lambda n: reg(kum_with({"typeId": 1411, "verdi": ["Betong"]})), K, egenskap=1411, form="enum"),
    case("IKKE_FLERVERDIEGENSKAP", lambda n: reg(kum_with({"typeId": 1586, "enum": [1]})),
         lambda n: reg(kum_with({"typeId": 1586, "verdi": ["1.4"]})), K, egenskap=1586),
    case("UGYLDIG_TYPE", lambda n: reg(kum_with(geometri("LINESTRING (1 1, 2 2)"))),
         lambda n: reg(kum_with(geometri("POINT (218124 7023329)"))), K, egenskap=4784,
         form="geometritype"),
    case("UGYLDIG_TYPE", lambda n: reg(kum_with({**geometri("POINT (1 1)"), "typeId": 10470})),
         lambda n: reg(kum_with({"typeId": 10470, "verdi": ["Ingen"]})), K, egenskap=10470, form="verdiform"),
    case("UGYLDIG_TYPE", lambda n: reg(tunnel(stedfesting=linje((0.3, 0.4)))), lambda n: reg(tunnel()), T,
         egenskap=100581, form="stedfestingstype"),
    case("UGYLDIG_HELTALLFORMAT", lambda n: reg(kum_with({"typeId": 7065, "verdi": ["tjue"]})),
         lambda n: reg(kum_with({"typeId": 7065, "verdi": ["2020"]})), K, egenskap=7065),
    case("UGYLDIG_FLYTTALLFORMAT", lambda n: reg(kum_with({"typeId": 1586, "verdi": ["1,4"]})),
         lambda n: reg(kum_with({"typeId": 1586, "verdi": ["1.4"]})), K, egenskap=1586),
    case("UGYLDIG_DATOFORMAT", lambda n: reg(kum_with({"typeId": 12568, "verdi": ["31.12.2023"]})),
         lambda n: reg(kum_with({"typeId": 12568, "verdi": ["2023-12-31"]})), K, egenskap=12568),
    case("UGYLDIG_KORTDATOFORMAT", lambda n: reg(kommentar("kommentar#1", {"typeId": KORTDATO, "verdi": ["31.12"]})),
         lambda n: reg(kommentar("kommentar#1", {"typeId": KORTDATO, "verdi": ["12-31"]})), "kommentar#1",
         egenskap=KORTDATO),
    case("UGYLDIG_TIDFORMAT", lambda n: reg(with_egenskaper(bomstasjon(), {"typeId": 9407, "verdi": ["7.30"]})),
         lambda n: reg(with_egenskaper(bomstasjon(), {"typeId": 9407, "verdi": ["07:30"]})), "bom#1",
         egenskap=9407),
    case("UGYLDIG_BOOLSK_FORMAT", lambda n: reg(kommentar("kommentar#1", {"typeId": BOOLSK, "verdi": ["kanskje"]})),
         lambda n: reg(kommentar("kommentar#1", {"typeId": BOOLSK, "verdi": ["ja"]})), "kommentar#1",
         egenskap=BOOLSK),
    case("UGYLDIG_GEOMETRIFORMAT", lambda n: reg(kum_with(geometri("PUNKT (218124.0 7023329.5)"))),
         lambda n: reg(kum_with(geometri("POINT (218124.0 7023329.5)"))), K, egenskap=4784),
    case("UGYLDIG_GEOMETRI_SRID", lambda n: reg(kum_with(geometri(srid=4230))),
         lambda n: reg(kum_with(geometri(srid=25833))), K, egenskap=4784),
    case("OVERSKRIDER_FELTLENGDE", lambda n: reg(tunnel_with({"typeId": 5225, "verdi": ["x" * 51]})),
         lambda n: reg(tunnel_with({"typeId": 5225, "verdi": ["x" * 50]})), T, egenskap=5225),
    case("FOR_MANGE_DESIMALER", lambda n: reg(tunnel_with({"typeId": 11509, "verdi": ["4.55"]})),
         lambda n: reg(tunnel_with({"typeId": 11509, "verdi": ["4.50"]})), T, egenskap=11509),
    case("STØRRE_ENN_ABSOLUTT_MAKSIMUM", lambda n: reg(tunnel_with({"typeId": 8945, "verdi": ["30001"]})),
         lambda n: reg(tunnel_with({"typeId": 8945, "verdi": ["25000"]})), T, egenskap=8945),
    case("MINDRE_ENN_ABSOLUTT_MINIMUM", lambda n: reg(tunnel_with({"typeId": 10383, "verdi": ["1799"]})),
         lambda n: reg(tunnel_with({"typeId": 10383, "verdi": ["1900"]})), T, egenskap=10383),
    case("STØRRE_ENN_ANBEFALT_MAKSIMUM", lambda n: reg(tunnel_with({"typeId": 8945, "verdi": ["27000"]})),
         lambda n: reg(tunnel_with({"typeId": 8945, "verdi": ["26000"]})), T, egenskap=8945, advarsel=True),
    case("MINDRE_ENN_ANBEFALT_MINIMUM", lambda n: reg(tunnel_with({"typeId": 10383, "verdi": ["1850"]})),
         lambda n: reg(tunnel_with({"typeId": 10383, "verdi": ["1900"]})), T, egenskap=10383, advarsel=True),
    case("FLERE_ENN_MAKSIMUM_ANTALL",
         lambda n: reg(kommentar("kommentar#1", {"typeId": LISTE, "verdi": ["a", "b", "c", "d"]})),
         lambda n: reg(kommentar("kommentar#1", {"typeId": LISTE, "verdi": ["a", "b", "c"]})), "kommentar#1",
         egenskap=LISTE),
    case("FÆRRE_ENN_MINIMUM_ANTALL", lambda n: reg(kommentar("kommentar#1", {"typeId": LISTE, "verdi": ["a"]})),
         lambda n: reg(kommentar("kommentar#1", {"typeId": LISTE, "verdi": ["a", "b"]})), "kommentar#1",
         egenskap=LISTE),
    case("IKKE_GJELDENDE_DATAKATALOGVERSJON", lambda n: reg(kum83(), version="2.37"), lambda n: reg(kum83()), None,
         advarsel=True),
    # associations
    case("DATTEROBJEKT_FINNES_IKKE", lambda n: reg(tunnel(assosiasjoner=[assosiasjon(220710, temp_ids=("løp#9",))])),
         lambda n: reg(tunnel(assosiasjoner=[assosiasjon(220710, temp_ids=("løp#1",))]), tunnellop()),
         T, egenskap=220710, form="tempId"),
    case("DATTEROBJEKT_FINNES_IKKE",
         lambda n: reg(tunnel(assosiasjoner=[assosiasjon(200710, nvdb_ids=(FINNES_IKKE,))])),
         lambda n: reg(tunnel(assosiasjoner=[assosiasjon(200710, nvdb_ids=(TUNNELLOP_FRITT,))])),
         T, egenskap=200710, form="nvdbId"),
    case("DATTEROBJEKT_AV_FEIL_TYPE",
         lambda n: reg(tunnel(assosiasjoner=[assosiasjon(220710, temp_ids=(K,))]), kum83()),
         lambda n: reg(tunnel(assosiasjoner=[assosiasjon(220710, temp_ids=("løp#1",))]), tunnellop(), kum83()),
         T, egenskap=220710, form="tempId"),
    case("DATTEROBJEKT_AV_FEIL_TYPE",
         lambda n: reg(tunnel(assosiasjoner=[assosiasjon(220710, nvdb_ids=(KUM_2_VERSJONER,))])),
         lambda n: reg(tunnel(assosiasjoner=[assosiasjon(220710, nvdb_ids=(TUNNELLOP_FRITT,))])),
         T, egenskap=220710, form="nvdbId"),
    case("MANGLER_MOROBJEKT", lambda n: reg(rekkverksende()),
         lambda n: reg(rekkverk("rekkverk#1", "ende#1"), rekkverksende()), "ende#1"),
    case("DATTEROBJEKT_UTEN_MOR", lambda n: fjern(TUNNEL_FJERN, None, type_id=581, kaskadefjerning="NEI"),
         lambda n: fjern(TUNNEL_FJERN, None, type_id=581, kaskadefjerning="JA"), str(TUNNEL_FJERN), form="fjern"),
    case("UGYLDIG_MEDLEMSTYPE",
         lambda n: reg(kommentar("kommentar#1", {"typeId": STRUKTUR, "medlem": [{"typeId": 1086, "verdi": ["x"]}]})),
         lambda n: reg(kommentar("kommentar#1", {"typeId": STRUKTUR,
                                                 "medlem": [{"typeId": STRUKTUR_MEDLEM, "verdi": ["x"]}]})),
         "kommentar#1", egenskap=1086),
    case("MANGLER_ANBEFALTE_MEDLEMMER",
         lambda n: reg(kommentar("kommentar#1", {"typeId": STRUKTUR,
                                                 "medlem": [{"typeId": STRUKTUR_MEDLEM, "verdi": ["x"]}]})),
         lambda n: reg(kommentar("kommentar#1", {"typeId": STRUKTUR, "medlem": [
             {"typeId": STRUKTUR_MEDLEM, "verdi": ["x"]}, {"typeId": STRUKTUR_ANBEFALT, "verdi": ["y"]}]})),
         "kommentar#1", advarsel=True),
    case("KONFLIKT_MELLOM_VEGOBJEKTER",
         lambda n: {**delvis_kum(KUM_2_VERSJONER, 2, egenskaper=DYBDE),
                    "lukk": {"vegobjekter": [{"typeId": 83, "nvdbId": KUM_2_VERSJONER, "versjon": 2,
                                              "lukkedato": "2025-01-01"}]}},
         lambda n: {**delvis_kum(KUM_2_VERSJONER, 2, egenskaper=DYBDE),
                    "lukk": {"vegobjekter": [{"typeId": 83, "nvdbId": KUM_3_VERSJONER, "versjon": 3,
                                              "lukkedato": "2025-01-01"}]}},
         str(KUM_2_VERSJONER)),
    # mothers and daughters
    case("MER_ENN_ETT_MOROBJEKT",
         lambda n: reg(rekkverk("rekkverk#1", "ende#1"), rekkverk("rekkverk#2", "ende#1"), rekkverksende()),
         lambda n: reg(rekkverk("rekkverk#1", "ende#1"), rekkverksende()), "ende#1", form="i-endringssettet"),
    case("MER_ENN_ETT_MOROBJEKT", lambda n: reg(rekkverk("rekkverk#1", ENDE_HOLDT, (0.5, 0.6))),
         lambda n: reg(rekkverk("rekkverk#1", ENDE_LEDIG, sideposisjon="H")), "rekkverk#1", egenskap=220901,
         form="lagret-mor"),
    case("MER_ENN_ETT_MOROBJEKT", lambda n: reg(stikkrenne("stikk#1", KUM_HOLDT)),
         lambda n: reg(stikkrenne("stikk#1", KUM_2_VERSJONER)), "stikk#1", egenskap=220116, form="79-83"),
    case("STEDFESTING_UTENFOR_MOROBJEKT",
         lambda n: reg(rekkverk("rekkverk#1", "ende#1"), {**rekkverksende(), "stedfesting": punkt(0.7)}),
         lambda n: reg(rekkverk("rekkverk#1", "ende#1"), rekkverksende()), "ende#1", egenskap=220901),
    case("STEDFESTING_INNENFOR_MOROBJEKT_MEN_ANNEN_SIDEPOSISJON",
         lambda n: reg(rekkverk("rekkverk#1", "ende#1", sideposisjon="V"),
                       {**rekkverksende(), "stedfesting": punkt(0.5, sideposisjon="H")}),
         lambda n: reg(rekkverk("rekkverk#1", "ende#1", sideposisjon="H"),
                       {**rekkverksende(), "stedfesting": punkt(0.5, sideposisjon="H")}), "ende#1", egenskap=220901),
    case("STEDFESTING_INNENFOR_MOROBJEKT_MEN_ANNET_FELT",
         lambda n: reg(fartsgrense(stedfesting=linje((0.1, 0.2), kjørefelt=["2"]),
                                   assosiasjoner=[assosiasjon(220272, temp_ids=("kommentar#1",))]),
                       {**kommentar(), "stedfesting": punkt(0.15, kjørefelt=["1"])}),
         lambda n: reg(fartsgrense(stedfesting=linje((0.1, 0.2), kjørefelt=["1"]),
                                   assosiasjoner=[assosiasjon(220272, temp_ids=("kommentar#1",))]),
                       {**kommentar(), "stedfesting": punkt(0.15, kjørefelt=["1"])}), "kommentar#1", egenskap=220272),
    case("STEDFESTING_DEKKER_IKKE_DATTEROBJEKT", lambda n: reg(rekkverk("rekkverk#1", ENDE_LEDIG, (0.6, 0.7))),
         lambda n: reg(rekkverk("rekkverk#1", ENDE_LEDIG, (0.4, 0.5))), "rekkverk#1", egenskap=220901),
    case("STEDFESTING_DEKKER_DATTEROBJEKT_MEN_ANNEN_SIDEPOSISJON",
         lambda n: reg(rekkverk("rekkverk#1", ENDE_LEDIG, sideposisjon="V")),
         lambda n: reg(rekkverk("rekkverk#1", ENDE_LEDIG, sideposisjon="H")), "rekkverk#1", egenskap=220901),
    case("STEDFESTING_DEKKER_DATTEROBJEKT_MEN_ANNET_FELT",
         lambda n: reg(fartsgrense(stedfesting=linje((0.1, 0.2), kjørefelt=["2"]),
                                   assosiasjoner=[assosiasjon(220272, nvdb_ids=(KOMMENTAR_FELT,))])),
         lambda n: reg(fartsgrense(stedfesting=linje((0.1, 0.2), kjørefelt=["1"]),
                                   assosiasjoner=[assosiasjon(220272, nvdb_ids=(KOMMENTAR_FELT,))])),
         "fart#1", egenskap=220272),
    # the type's rules
    case("OVERLAPPSAUTOMATIKK_IKKE_PÅKREVD", lambda n: reg(tunnel(validering={"overlappsautomatikk": "JA"})),
         lambda n: reg(tunnel(validering={"overlappsautomatikk": "NEI"})), T, advarsel=True),
    case("VEGOBJEKTTYPE_TILLATER_KUN_EN_VERSJON",
         lambda n: doc(delvisOppdater=[{"typeId": 297, "nvdbId": KOMMENTAR_FELT, "versjon": 1,
                                        "gyldighetsperiode": {"startdato": "2025-01-01"}, "egenskaper": MERKNAD}]),
         lambda n: doc(delvisKorriger=[{"typeId": 297, "nvdbId": KOMMENTAR_FELT, "versjon": 1, "validering": LEST,
                                        "egenskaper": MERKNAD}]), str(KOMMENTAR_FELT)),
    case("VEGOBJEKTTYPE_ER_IKKE_TIDSROMRELEVANT",
         lambda n: reg(bomstasjon(gyldighetsperiode={"startdato": "2024-01-01", "sluttdato": "2025-01-01"})),
         lambda n: reg(bomstasjon()), "bom#1"),
    case("EGENSKAPSVERDI_FINNES_ALLEREDE", lambda n: delvis_daughter(KUM_HOLDT, "ny"),
         lambda n: delvis_daughter(KUM_LEST, "ny"), str(STIKKRENNE_FINNES), egenskap=220116),
    case("EGENSKAPSVERDI_FINNES_IKKE", lambda n: delvis_daughter(KUM_LEST, "slett"),
         lambda n: delvis_daughter(KUM_HOLDT, "slett"), str(STIKKRENNE_FINNES), egenskap=220116),
    case("EGENSKAPSVERDI_OVERLAPPER", lambda n: delvis_tunnellop(0.9, 0.95), lambda n: delvis_tunnellop(0.91, 0.95),
         str(TUNNELLOP_FRITT)),
    case("USAMMENHENGENDE_HISTORIKK",
         lambda n: delvis_kum(KUM_3_VERSJONER, 2, "delvisKorriger", "2016-06-01", DYBDE, validering=LEST),
         lambda n: delvis_kum(KUM_3_VERSJONER, 2, "delvisKorriger", "2016-01-01", DYBDE, validering=LEST),
         str(KUM_3_VERSJONER)),
    # location
    case("UKJENT_VEGLENKESEKVENS", lambda n: reg(kum83(stedfesting=punkt(vls=999_999_999))),
         lambda n: reg(kum83(stedfesting=punkt(vls=VLS))), K),
    case("VEGLENKESEKVENS_UGYLDIG_PÅ_TIDSPUNKT",
         lambda n: reg(kum83(stedfesting=punkt(vls=n.historic), gyldighetsperiode={"startdato": "2020-01-01"})),
         lambda n: reg(kum83(stedfesting=punkt(vls=n.historic),
                             gyldighetsperiode={"startdato": "2020-01-01", "sluttdato": n.historic_end})),
         K, form="historisk"),
    case("VEGLENKESEKVENS_UGYLDIG_PÅ_TIDSPUNKT",
         lambda n: reg(kum83(stedfesting=punkt(vls=n.new), gyldighetsperiode={"startdato": "2020-01-01"})),
         lambda n: reg(kum83(stedfesting=punkt(vls=n.new), gyldighetsperiode={"startdato": n.new_start})),
         K, form="ny"),
    case("MANGLER_RETNING", lambda n: reg(feltstrekning()), lambda n: reg(feltstrekning(retning="MED")), "felt#1"),
    case("UGYLDIG_SIDEPOSISJON", lambda n: reg(tunnel(stedfesting=punkt(sideposisjon="H"))),
         lambda n: reg(tunnel(stedfesting=punkt())), T, form="ikke-relevant"),
    case("UGYLDIG_SIDEPOSISJON", lambda n: reg(kum83(stedfesting=punkt(sideposisjon="X"))),
         lambda n: reg(kum83(stedfesting=punkt(sideposisjon="V"))), K, form="kode"),
    case("UGYLDIG_FELT", lambda n: reg(tunnel(stedfesting=punkt(kjørefelt=["1"]))),
         lambda n: reg(tunnel(stedfesting=punkt())), T, form="ikke-relevant"),
    case("UGYLDIG_FELT", lambda n: reg(fartsgrense(stedfesting=linje((0.1, 0.2), kjørefelt=["1", "0"]))),
         lambda n: reg(fartsgrense(stedfesting=linje((0.1, 0.2), kjørefelt=["1", "2K"]))), "fart#1", form="kode"),
    case("UGYLDIG_OVERLAPP", lambda n: reg(fartsgrense("fart#1", (0.1, 0.3), (0.2, 0.4))),
         lambda n: reg(fartsgrense("fart#1", (0.1, 0.2), (0.2, 0.4))), "fart#1", form="eget-objekt"),
    case("UGYLDIG_OVERLAPP", lambda n: reg(fartsgrense("fart#1", (0.4, 0.6), vls=VLS_OVERLAP)),
         lambda n: reg(fartsgrense("fart#1", (0.4, 0.6), vls=VLS_OVERLAP, validering={"overlappsautomatikk": "JA"})),
         "fart#1", form="eksisterende-objekt"),
    case("UGYLDIG_OVERLAPP", lambda n: reg(fartsgrense("fart#1", (0.4, 0.6), vls=VLS_OVERLAP)),
         lambda n: reg(fartsgrense("fart#1", (0.6, 0.8), vls=VLS_OVERLAP)), "fart#1",
         form="eksisterende-objekt-utenfor"),
    # existing data
    case("VEGOBJEKTET_FINNES_IKKE", lambda n: lukk(FINNES_IKKE, 1), lambda n: lukk(KUM_2_VERSJONER, 2),
         str(FINNES_IKKE)),
    case("VEGOBJEKTET_FINNES_IKKE", lambda n: lukk(KUM_2_VERSJONER, 2, type_id=79),
         lambda n: lukk(KUM_2_VERSJONER, 2), str(KUM_2_VERSJONER), form="feil-type"),
    case("VEGOBJEKTVERSJONEN_FINNES_IKKE",
         lambda n: delvis_kum(KUM_2_VERSJONER, 9, "delvisKorriger", None, DYBDE, validering=LEST),
         lambda n: delvis_kum(KUM_2_VERSJONER, 2, "delvisKorriger", None, DYBDE, validering=LEST),
         str(KUM_2_VERSJONER)),
    case("VEGOBJEKTVERSJONEN_FINNES_IKKE", lambda n: fjern(KUM_3_VERSJONER, 9), lambda n: fjern(KUM_3_VERSJONER, 3),
         str(KUM_3_VERSJONER), form="fjern"),
    case("VERSJONSKONFLIKT", lambda n: delvis_kum(KUM_2_VERSJONER, 1, egenskaper=DYBDE),
         lambda n: delvis_kum(KUM_2_VERSJONER, 2, egenskaper=DYBDE), str(KUM_2_VERSJONER)),
    case("UGYLDIG_STARTDATO", lambda n: delvis_kum(KUM_2_VERSJONER, 2, startdato="2015-06-01", egenskaper=DYBDE),
         lambda n: delvis_kum(KUM_2_VERSJONER, 2, startdato="2025-01-01", egenskaper=DYBDE), str(KUM_2_VERSJONER),
         form="ny-versjon"),
    case("UGYLDIG_STARTDATO", lambda n: lukk(KUM_2_VERSJONER, 2, lukkedato="2016-01-01"),
         lambda n: lukk(KUM_2_VERSJONER, 2, lukkedato="2016-01-02"), str(KUM_2_VERSJONER), form="lukkedato"),
    case("VEGOBJEKTET_ER_LUKKET", lambda n: lukk(KUM_LUKKET, 1), lambda n: lukk(KUM_2_VERSJONER, 2),
         str(KUM_LUKKET), form="lukk"),
    case("VEGOBJEKTET_ER_LUKKET", lambda n: delvis_kum(KUM_LUKKET, 1, startdato="2021-01-01", egenskaper=DYBDE),
         lambda n: delvis_kum(KUM_LUKKET, 1, startdato="2019-01-01", egenskaper=DYBDE), str(KUM_LUKKET),
         form="ny-versjon"),
    case("FJERNING_AV_USAMMENHENGENDE_VERSJONER", lambda n: fjern(KUM_3_VERSJONER, 3, 1),
         lambda n: fjern(KUM_3_VERSJONER, 3, 2), str(KUM_3_VERSJONER)),
    case("FJERNING_AV_HISTORISKE_VERSJONER", lambda n: fjern(KUM_3_VERSJONER, 1), lambda n: fjern(KUM_3_VERSJONER, 3),
         str(KUM_3_VERSJONER)),
    case("EGENSKAPEN_FINNES_IKKE",
         lambda n: delvis_kum(KUM_2_VERSJONER, 2, egenskaper=[{"typeId": 12568, "operasjon": "slett"}]),
         lambda n: delvis_kum(KUM_2_VERSJONER, 2, egenskaper=[{"typeId": 2079, "operasjon": "slett"}]),
         str(KUM_2_VERSJONER), egenskap=12568),
    case("UFULLSTENDIG_VEGOBJEKT", lambda n: delvis_kum(KUM_2_VERSJONER, 2),
         lambda n: delvis_kum(KUM_2_VERSJONER, 2, egenskaper=DYBDE), str(KUM_2_VERSJONER)),
]


@pytest.mark.parametrize("c", CASES)
def test_validator_raises_the_code_and_not_for_the_close_valid_input(olanor, network, c: Case):
    assert_raised(validate(olanor, c.bad(network)), c.kode, c.ref, egenskap=c.egenskap, advarsel=c.advarsel)
    assert_not_raised(validate(olanor, c.good(network)), c.kode)


# --- the workflow -----------------------------------------------------------------------------


def fremdrift_og_aarsak(client: Client, changeset_id: str) -> str:
    r = client.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdriftOgÅrsak")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    return r.text


def versions(client: Client, type_id: int, nvdb_id: int) -> list[dict[str, Any]]:
    r = client.request("GET", f"/rest/v3/vegobjekter/{type_id}/{nvdb_id}")
    assert r.status_code == 200, r.text
    return r.json()["versjoner"]


def test_catalog_code_in_the_workflow_rejects_with_valideringsfeil(olanor):
    bad = reg(kum_with({"typeId": 1411, "verdi": ["Marsipan"]}))
    changeset_id, status = run(olanor, bad)
    assert_raised(status, "UGYLDIG_FLERVERDI", K, egenskap=1411)
    assert status["avvistårsak"] == "VALIDERINGSFEIL"
    assert fremdrift_og_aarsak(olanor, changeset_id) == "AVVIST:VALIDERINGSFEIL"
    changeset_id, status = run(olanor, reg(kum_with({"typeId": 1411, "verdi": ["Betong"]})))
    assert_not_raised(status, "UGYLDIG_FLERVERDI")
    assert fremdrift_og_aarsak(olanor, changeset_id) == "UTFØRT_OG_ETTERBEHANDLET"


def test_mangler_tilgang_outside_the_users_kommune(stack, admin, olanor):
    r = admin.request("PUT", "/rest/v3/rettigheter/kari301",
                      data=json.dumps({"tilganger": [{"vegobjekttyper": "alle", "kommuner": [301]}]}))
    assert r.status_code == 200, r.text
    kari = Client(stack.url, "kari301")
    elsewhere = reg(kum83(stedfesting=punkt(vls=VLS_OTHER_KOMMUNE)))
    # Rights are a workflow matter: the validator does not check them.
    assert_not_raised(validate(kari, elsewhere), "MANGLER_TILGANG")
    changeset_id, status = run(kari, elsewhere)
    [varsel] = assert_raised(status, "MANGLER_TILGANG", K)
    assert "5001" in varsel["melding"]
    assert status["avvistårsak"] == "IKKE_AUTORISERT"
    assert fremdrift_og_aarsak(kari, changeset_id) == "AVVIST:IKKE_AUTORISERT"
    _, status = run(kari, reg(kum83(stedfesting=punkt(vls=VLS))))
    assert_not_raised(status, "MANGLER_TILGANG")


def test_vegobjektversjon_overskrevet_av_andre(olanor):
    def correction(read_at: str) -> dict[str, Any]:
        return delvis_kum(KUM_LEST, 1, "delvisKorriger", None, DYBDE, validering={"lestFraNvdb": read_at})

    _, status = run(olanor, correction("2023-12-01T12:00:00"))  # stored version changed 2024-01-01
    assert_raised(status, "VEGOBJEKTVERSJON_OVERSKREVET_AV_ANDRE", str(KUM_LEST))
    _, status = run(olanor, correction("2024-06-01T12:00:00"))
    assert_not_raised(status, "VEGOBJEKTVERSJON_OVERSKREVET_AV_ANDRE")
    [version] = versions(olanor, 83, KUM_LEST)
    assert {"typeId": 1586, "verdi": ["2.0"]} in version["egenskaper"]


def test_datterobjekt_uten_mor_when_closing_a_mother_without_cascade(olanor):
    _, status = run(olanor, lukk(TUNNEL_LUKK, 1, type_id=581, kaskadelukking="NEI"))
    [varsel] = assert_raised(status, "DATTEROBJEKT_UTEN_MOR", str(TUNNEL_LUKK))
    assert str(TUNNELLOP_LUKK) in varsel["melding"]
    assert "sluttdato" not in versions(olanor, 67, TUNNELLOP_LUKK)[-1]["gyldighetsperiode"]
    _, status = run(olanor, lukk(TUNNEL_LUKK, 1, type_id=581, kaskadelukking="JA"))
    assert_not_raised(status, "DATTEROBJEKT_UTEN_MOR")
    assert versions(olanor, 581, TUNNEL_LUKK)[-1]["gyldighetsperiode"]["sluttdato"] == "2025-01-01"
    assert versions(olanor, 67, TUNNELLOP_LUKK)[-1]["gyldighetsperiode"]["sluttdato"] == "2025-01-01"


def test_overlappsautomatikk_trims_the_existing_object(olanor):
    new = fartsgrense("fart#auto", (0.4, 0.6), vls=VLS_OVERLAP, validering={"overlappsautomatikk": "JA"})
    _, status = run(olanor, reg(new))
    assert_not_raised(status, "UGYLDIG_OVERLAPP")
    notes = [v for v in status["resultat"]["notabener"] if v["kode"] == "AUTOMATISK_OPPDATERING"]
    assert [v["referanse"] for v in notes] == [str(FARTSGRENSE_FINNES)], status["resultat"]
    existing = versions(olanor, 105, FARTSGRENSE_FINNES)
    assert [v["versjon"] for v in existing] == [1, 2]
    assert [(e["fra"], e["til"]) for e in existing[0]["stedfesting"]["linje"]] == [(0.0, 0.5)]
    assert existing[0]["gyldighetsperiode"] == {"startdato": "2015-01-01", "sluttdato": "2024-01-01"}
    assert existing[1]["gyldighetsperiode"] == {"startdato": "2024-01-01"}
    assert [(e["veglenkesekvensNvdbId"], e["fra"], e["til"]) for e in existing[1]["stedfesting"]["linje"]] == [
        (VLS_OVERLAP, 0.0, 0.4)]


# --- refused at registration ------------------------------------------------------------------


@pytest.mark.parametrize(("op", "obj", "path"), [
    ("korriger", {"typeId": 83, "nvdbId": KUM_3_VERSJONER, "versjon": 1, "gyldighetsperiode":
                  {"startdato": "2015-01-01"}, "egenskaper": kum83()["egenskaper"], "stedfesting": punkt(0.4)},
     "korriger.vegobjekter[0]"),
    ("delvisKorriger", {"typeId": 83, "nvdbId": KUM_3_VERSJONER, "versjon": 1, "egenskaper": DYBDE},
     "delvisKorriger.vegobjekter[0]"),
    ("oppdater", {"typeId": 83, "nvdbId": KUM_3_VERSJONER, "versjon": 3, "overskriv": "JA",
                  "egenskaper": kum83()["egenskaper"], "stedfesting": punkt(0.4)}, "oppdater.vegobjekter[0]"),
    ("delvisOppdater", {"typeId": 83, "nvdbId": KUM_3_VERSJONER, "versjon": 3, "overskriv": "JA",
                        "egenskaper": DYBDE}, "delvisOppdater.vegobjekter[0]"),
], ids=["korriger", "delvisKorriger", "oppdater-overskriv", "delvisOppdater-overskriv"])
def test_registration_refuses_in_place_changes_without_lest_fra_nvdb(olanor, op, obj, path):
    r = olanor.request("POST", "/rest/v3/endringssett", data=json.dumps(doc(**{op: [obj]})))
    assert r.status_code == 400, r.text
    message = r.json()["message"]
    assert path in message and "lestFraNvdb" in message
    accepted = olanor.request("POST", "/rest/v3/endringssett",
                              data=json.dumps(doc(**{op: [{**obj, "validering": LEST}]})))
    assert accepted.status_code == 201, accepted.text
    changeset_id = accepted.headers["Location"].rsplit("/", 1)[1]
    assert olanor.request("POST", f"/rest/v3/endringssett/{changeset_id}/kanseller").status_code == 202


def test_links_loaded_through_the_api_reach_the_validator(admin, olanor):
    # A sequence with a connection link in its middle; Tunnel (581) may not lie on one.
    sequence = {"veglenkesekvensId": 990_001, "lengde": 300, "kommune": 301, "fylke": 3, "vegkategori": "K",
                "startdato": "2000-01-01", "porter": [{"id": 1, "nodeid": 990_101}, {"id": 2, "nodeid": 990_102}],
                "veglenker": [{"veglenkenummer": 1, "startposisjon": 0, "sluttposisjon": 0.4, "startport": 1,
                               "startdato": "2000-01-01"},
                              {"veglenkenummer": 2, "startposisjon": 0.4, "sluttposisjon": 1, "sluttport": 2,
                               "type": "KONNEKTERING", "startdato": "2000-01-01"}]}
    r = admin.request("PUT", "/rest/v3/vegnett/veglenkesekvenser", data=json.dumps({"veglenkesekvenser": [sequence]}))
    assert r.status_code == 200, r.text
    stored = olanor.request("GET", "/rest/v3/vegnett/veglenkesekvenser/990001").json()
    assert [v["type"] for v in stored["veglenker"]] == ["HOVED", "KONNEKTERING"]
    assert_raised(validate(olanor, reg(tunnel(stedfesting=punkt(0.5, vls=990_001)))),
                  "STEDFESTET_PÅ_KONNEKTERINGSVEGLENKE", T)
    assert_not_raised(validate(olanor, reg(tunnel(stedfesting=punkt(0.3, vls=990_001)))),
                      "STEDFESTET_PÅ_KONNEKTERINGSVEGLENKE")
    # A turn from 990001 through its end node 990102 onto 990002, in NVDB's nested shape.
    onward = {**sequence, "veglenkesekvensId": 990_002, "porter": [{"id": 1, "nodeid": 990_102}], "veglenker": [
        {"veglenkenummer": 1, "startposisjon": 0, "sluttposisjon": 1, "startport": 1, "startdato": "2000-01-01"}]}
    r = admin.request("PUT", "/rest/v3/vegnett/veglenkesekvenser", data=json.dumps({"veglenkesekvenser": [onward]}))
    assert r.status_code == 200, r.text

    def sving(node: int) -> dict[str, Any]:
        return reg({"typeId": 573, "tempId": "sving#1", "gyldighetsperiode": {"startdato": "2020-01-01"},
                    "egenskaper": [], "stedfesting": {"sving": [{
                        "nodeNvdbId": node, "fra": {"veglenkesekvensNvdbId": 990_001, "posisjon": 0.99},
                        "til": {"veglenkesekvensNvdbId": 990_002, "posisjon": 0.01}}]}})

    assert_raised(validate(olanor, sving(4656776)), "UKJENT_NODE", "sving#1")
    assert_not_raised(validate(olanor, sving(990_102)), "UKJENT_NODE")
