"""Building blocks for the varsel-code table (tests/e2e/changesets/test_varsel_codes.py).

New objects shaped like real traffic (values in lists, location elements in lists), the stored
versions the existing-data codes need, and a catalog that extends the default one with what
the default extract lacks (Kortdato, Boolsk and list property types, a direction-relevant type,
a mother type for 14 Rekkverksende, a one-version type (297), a type that is not time-relevant (45)).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from tests.support.client import kum
from vegskriv.catalog import default_catalog

VLS = 1125766  # kommune 301, valid from 2010: the sequence most cases stand on
VLS_OTHER_KOMMUNE = 1125775  # kommune 5001
VLS_OVERLAP = 1125772  # kommune 301; only the cross-object overlap case uses it
VERSION = "2.38"

# --- new objects ------------------------------------------------------------------------------


def doc(version: str = VERSION, **operations: list[dict[str, Any]]) -> dict[str, Any]:
    return {"datakatalogversjon": version, **{op: {"vegobjekter": objs} for op, objs in operations.items()}}


def with_egenskaper(obj: dict[str, Any], *changes: dict[str, Any], drop: tuple[int, ...] = ()) -> dict[str, Any]:
    """``obj`` with the properties of ``changes`` replaced/added and the ids in ``drop`` removed."""
    obj = copy.deepcopy(obj)
    replaced = {c["typeId"] for c in changes} | set(drop)
    obj["egenskaper"] = [e for e in obj["egenskaper"] if e["typeId"] not in replaced] + list(changes)
    return obj


def punkt(posisjon: float = 0.3, vls: int = VLS, **extra: Any) -> dict[str, Any]:
    return {"punkt": [{"veglenkesekvensNvdbId": vls, "posisjon": posisjon, **extra}]}


def linje(*spans: tuple[float, float], vls: int = VLS, **extra: Any) -> dict[str, Any]:
    return {"linje": [{"veglenkesekvensNvdbId": vls, "fra": fra, "til": til, **extra} for fra, til in spans]}


def kum83(temp_id: str = "kum#1", **changes: Any) -> dict[str, Any]:
    """A complete Kum (83): no feil and no advarsler in the default catalog."""
    return kum(temp_id, **changes)


def tunnel(temp_id: str = "tunnel#1", **changes: Any) -> dict[str, Any]:
    """Tunnel (581): PUNKT, no side position, no lanes; Navn has feltlengde 50; the length and
    opening year have absolute and recommended limits."""
    obj = {"typeId": 581, "tempId": temp_id, "gyldighetsperiode": {"startdato": "2020-01-01"},
           "stedfesting": punkt(0.3),
           "egenskaper": [{"typeId": 5225, "verdi": ["Grevlingtunnelen"]},
                          {"typeId": 8945, "verdi": ["2500"]}, {"typeId": 10383, "verdi": ["1995"]},
                          {"typeId": 11509, "verdi": ["4.5"]}]}
    obj.update(changes)
    return obj


def tunnellop(temp_id: str = "løp#1", **changes: Any) -> dict[str, Any]:
    """Tunnelløp (67), the composed daughter of 581 through 220710."""
    obj = {"typeId": 67, "tempId": temp_id, "gyldighetsperiode": {"startdato": "2020-01-01"},
           "stedfesting": linje((0.29, 0.31)), "egenskaper": [{"typeId": 1081, "verdi": ["Løp A"]}]}
    obj.update(changes)
    return obj


def fartsgrense(temp_id: str = "fart#1", *spans: tuple[float, float], vls: int = VLS, **changes: Any) -> dict[str, Any]:
    """Fartsgrense (105): LINJE, overlap forbidden, lanes allowed, 2021 påkrevd absolutt, 1891 and
    9155 betinget."""
    obj = {"typeId": 105, "tempId": temp_id, "gyldighetsperiode": {"startdato": "2024-01-01"},
           "stedfesting": linje(*(spans or ((0.1, 0.2),)), vls=vls),
           "egenskaper": [{"typeId": 2021, "verdi": ["80"]}, {"typeId": 5127, "verdi": ["2024-01-01"]},
                          {"typeId": 1891, "verdi": ["V-2024-17"]}, {"typeId": 9155, "verdi": ["2024/123"]}]}
    obj.update(changes)
    return obj


def bomstasjon(temp_id: str = "bom#1", **changes: Any) -> dict[str, Any]:
    """Bomstasjon (45): has Klokkeslett properties (9407 Rushtid morgen, fra)."""
    obj = {"typeId": 45, "tempId": temp_id, "gyldighetsperiode": {"startdato": "2024-01-01"},
           "stedfesting": punkt(0.6), "egenskaper": [{"typeId": 1078, "verdi": ["Bom Nord"]},
                                                     {"typeId": 9407, "verdi": ["07:00"]}]}
    obj.update(changes)
    return obj


def kommentar(temp_id: str = "kommentar#1", *extra: dict[str, Any]) -> dict[str, Any]:
    """Kommentar (297), which the extended catalog gives the test-only properties 990001-990003."""
    return {"typeId": 297, "tempId": temp_id, "gyldighetsperiode": {"startdato": "2024-01-01"},
            "stedfesting": punkt(0.2), "egenskaper": [{"typeId": 1086, "verdi": ["Merknad"]}, *extra]}


def feltstrekning(temp_id: str = "felt#1", **element: Any) -> dict[str, Any]:
    """Feltstrekning (616), direction relevant in the extended catalog."""
    return {"typeId": 616, "tempId": temp_id, "gyldighetsperiode": {"startdato": "2024-01-01"},
            "stedfesting": linje((0.1, 0.2), **element), "egenskaper": [{"typeId": 5528, "verdi": ["1#2"]}]}


def rekkverksende(temp_id: str = "ende#1") -> dict[str, Any]:
    """Rekkverksende (14): må ha mor."""
    return {"typeId": 14, "tempId": temp_id, "gyldighetsperiode": {"startdato": "2024-01-01"},
            "stedfesting": punkt(0.5), "egenskaper": [{"typeId": 1303, "verdi": ["4.5"]}]}


def rekkverk(temp_id: str, daughter: str | int, span: tuple[float, float] = (0.4, 0.5), **element: Any
             ) -> dict[str, Any]:
    """Rekkverk (5, extended catalog) holding ``daughter`` (a 14: tempId, or nvdbId when an int)
    through 220901, whose daughters must lie inside it."""
    target = {"tempId": [{"verdi": daughter}]} if isinstance(daughter, str) else {"nvdbId": [{"verdi": daughter}]}
    return {"typeId": 5, "tempId": temp_id, "gyldighetsperiode": {"startdato": "2024-01-01"},
            "stedfesting": linje(span, **element), "egenskaper": [],
            "assosiasjoner": [{"typeId": REKKVERK_TIL_ENDE, **target}]}


def assosiasjon(type_id: int, *, temp_ids: tuple[str, ...] = (), nvdb_ids: tuple[int, ...] = ()) -> dict[str, Any]:
    return {"typeId": type_id, "tempId": [{"verdi": t} for t in temp_ids],
            "nvdbId": [{"verdi": n} for n in nvdb_ids]}


# --- existing data ----------------------------------------------------------------------------

KUM_2_VERSJONER = 7001  # v1 2015-2016, v2 from 2016 (open)
KUM_LUKKET = 7002  # one version 2015-01-01 .. 2020-01-01
KUM_3_VERSJONER = 7003  # v1 2015, v2 2016, v3 2017 (open)
KUM_LEST = 7004  # sistEndret 2024-01-01T00:00:00Z
TUNNEL_LUKK = 7010  # 581 with composed daughter TUNNELLOP_LUKK
TUNNELLOP_LUKK = 7011
TUNNEL_FJERN = 7012  # 581 with composed daughter TUNNELLOP_FJERN
TUNNELLOP_FJERN = 7013
TUNNELLOP_FRITT = 7020  # a 67 nobody holds
FARTSGRENSE_FINNES = 7105  # 105 on VLS_OVERLAP 0.0-0.5
REKKVERK_FINNES = 7030  # 5 on VLS 0.5-0.6, holding ENDE_HOLDT
ENDE_HOLDT = 7031  # 14 at 0.55
ENDE_LEDIG = 7032  # 14 at 0.5, sideposisjon H, no mother
KOMMENTAR_FELT = 7033  # 297 at 0.15 in lane 1, no mother
STIKKRENNE_FINNES = 7040  # 79 at 0.45, holding KUM_HOLDT through 220116
KUM_HOLDT = 7041  # 83 at 0.45
FINNES_IKKE = 6999


def stored(nvdb_id: int, type_id: int, versjon: int, start: str, end: str | None, egenskaper: list[dict[str, Any]],
           stedfesting: dict[str, Any], assosiasjoner: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": nvdb_id, "versjon": versjon, "typeId": type_id,
            "gyldighetsperiode": {"startdato": start, **({"sluttdato": end} if end else {})},
            "egenskaper": copy.deepcopy(egenskaper), "stedfesting": stedfesting,
            "assosiasjoner": assosiasjoner or [],
            "metadata": {"endringssettId": "import", "sistEndret": "2024-01-01T00:00:00Z"}}


def _kum_versions(nvdb_id: int, starts: list[str], closed: str | None = None) -> list[dict[str, Any]]:
    props = kum83()["egenskaper"] + [{"typeId": 2079, "verdi": ["0.8"]}]
    ends = [*starts[1:], closed]
    return [stored(nvdb_id, 83, i + 1, start, end, props, punkt(0.4))
            for i, (start, end) in enumerate(zip(starts, ends, strict=True))]


def world() -> list[dict[str, Any]]:
    tunnel_props = tunnel()["egenskaper"]
    lop_props = tunnellop()["egenskaper"]
    return [
        *_kum_versions(KUM_2_VERSJONER, ["2015-01-01", "2016-01-01"]),
        *_kum_versions(KUM_LUKKET, ["2015-01-01"], closed="2020-01-01"),
        *_kum_versions(KUM_3_VERSJONER, ["2015-01-01", "2016-01-01", "2017-01-01"]),
        *_kum_versions(KUM_LEST, ["2015-01-01"]),
        stored(TUNNEL_LUKK, 581, 1, "2015-01-01", None, tunnel_props, punkt(0.7),
               [{"typeId": 220710, "nvdbId": [TUNNELLOP_LUKK]}]),
        stored(TUNNELLOP_LUKK, 67, 1, "2015-01-01", None, lop_props, linje((0.69, 0.71))),
        stored(TUNNEL_FJERN, 581, 1, "2015-01-01", None, tunnel_props, punkt(0.8),
               [{"typeId": 220710, "nvdbId": [TUNNELLOP_FJERN]}]),
        stored(TUNNELLOP_FJERN, 67, 1, "2015-01-01", None, lop_props, linje((0.79, 0.81))),
        stored(TUNNELLOP_FRITT, 67, 1, "2015-01-01", None, lop_props, linje((0.89, 0.91))),
        stored(FARTSGRENSE_FINNES, 105, 1, "2015-01-01", None, fartsgrense()["egenskaper"],
               linje((0.0, 0.5), vls=VLS_OVERLAP)),
        stored(REKKVERK_FINNES, 5, 1, "2015-01-01", None, [], linje((0.5, 0.6)),
               [{"typeId": REKKVERK_TIL_ENDE, "nvdbId": [ENDE_HOLDT]}]),
        stored(ENDE_HOLDT, 14, 1, "2015-01-01", None, rekkverksende()["egenskaper"], punkt(0.55)),
        stored(ENDE_LEDIG, 14, 1, "2015-01-01", None, rekkverksende()["egenskaper"], punkt(0.5, sideposisjon="H")),
        stored(KOMMENTAR_FELT, 297, 1, "2015-01-01", None, kommentar()["egenskaper"], punkt(0.15, kjørefelt=["1"])),
        stored(STIKKRENNE_FINNES, 79, 1, "2015-01-01", None, [], punkt(0.45),
               [{"typeId": 220116, "nvdbId": [KUM_HOLDT]}]),
        *_kum_versions(KUM_HOLDT, ["2015-01-01"]),
    ]


def stikkrenne(temp_id: str = "stikk#1", *kummer: int) -> dict[str, Any]:
    """Stikkrenne/Kulvert (79) holding stored Kum (83) objects through 220116 (as in excerpt 03)."""
    return {"typeId": 79, "tempId": temp_id, "gyldighetsperiode": {"startdato": "2024-01-01"},
            "stedfesting": punkt(0.45), "egenskaper": [],
            "assosiasjoner": [assosiasjon(220116, nvdb_ids=kummer)]}


# --- the extended catalog ---------------------------------------------------------------------

KORTDATO = 990001
BOOLSK = 990002
LISTE = 990003  # a list property: 2 to 3 values
REKKVERK_TIL_ENDE = 220901
STRUKTUR = 990004  # a Struktur property of 297 with one member, STRUKTUR_MEDLEM
STRUKTUR_MEDLEM = 990005
STRUKTUR_ANBEFALT = 990006


def extended_catalog() -> dict[str, Any]:
    """The default catalog plus what the codes need and the extract lacks; nothing else changes
    except that 616 Feltstrekning becomes direction relevant (no other case uses 616), 297 Kommentar
    allows one version and 45 Bomstasjon is not time-relevant (their other cases only register);
    573 Svingerestriksjon is added."""
    data = default_catalog().to_json()
    types = {t["id"]: t for t in data["vegobjekttyper"]}
    types[297]["egenskapstyper"] += [
        {"id": KORTDATO, "navn": "Test: årlig dato", "datatype": "Kortdato", "viktighet": "OPSJONELL"},
        {"id": BOOLSK, "navn": "Test: flagg", "datatype": "Boolsk", "viktighet": "OPSJONELL"},
        {"id": LISTE, "navn": "Test: liste", "datatype": "Tekst", "viktighet": "OPSJONELL",
         "min_antall": 2, "maks_antall": 3},
    ]
    types[616].setdefault("stedfesting", {})["retning_relevant"] = True
    types[297]["egenskapstyper"].append(
        {"id": STRUKTUR, "navn": "Test: struktur", "datatype": "Struktur", "viktighet": "OPSJONELL",
         "medlemmer": [{"id": STRUKTUR_MEDLEM, "navn": "Test: medlem", "datatype": "Tekst"},
                       {"id": STRUKTUR_ANBEFALT, "navn": "Test: anbefalt medlem", "datatype": "Tekst",
                        "viktighet": "PÅKREVD_IKKE_ABSOLUTT"}]})
    types[297]["styringsparametere"] = {**(types[297].get("styringsparametere") or {}), "en_versjon": True}
    types[45]["styringsparametere"] = {**(types[45].get("styringsparametere") or {}), "tidsrom_relevant": False}
    data["vegobjekttyper"].append({
        "id": 5, "navn": "Rekkverk", "stedfesting": {"type": "LINJE", "geometritype": "LINJE"},
        "relasjonstyper": {"barn": [{"liste_egenskapstype_id": REKKVERK_TIL_ENDE,
                                     "assosiasjon_egenskapstype_id": REKKVERK_TIL_ENDE - 20_000,
                                     "navn": "Liste av assosiert Rekkverksende", "relasjonstype": "KOMPOSISJON",
                                     "innenfor_mor": "JA",
                                     "vegobjekttype": {"id": 14, "navn": "Rekkverksende"}}]}})
    # The extract has no turn type; Svingerestriksjon (573) carries the node codes' cases.
    data["vegobjekttyper"].append({"id": 573, "navn": "Svingerestriksjon", "stedfesting": {"type": "SVING"}})
    return data


# --- varsler ----------------------------------------------------------------------------------

_NORSK = re.compile(r"[æøå]|\b(ikke|er|må|mangler|finnes|har|og|av|til|kan|skal|eller|enn|verdien|oppgi|angi|krever|"
                    r"som|en|et|i|fra|med|ble)\b", re.IGNORECASE)
_ENGELSK = re.compile(r"\b(the|must|is|not|invalid|missing|value|should)\b", re.IGNORECASE)


def all_varsler(resultat: dict[str, Any]) -> list[dict[str, Any]]:
    found = [v for kind in ("feil", "advarsler", "notabener") for v in resultat.get(kind) or []]
    for entry in resultat.get("vegobjekter") or []:
        found += [v for kind in ("feil", "advarsler", "notabener") for v in entry.get(kind) or []]
    return found


def assert_norwegian_messages(resultat: dict[str, Any]) -> None:
    for v in all_varsler(resultat):
        melding = (v.get("melding") or "").strip()
        assert melding, f"{v['kode']} mangler melding"
        assert _NORSK.search(melding) and not _ENGELSK.search(melding), f"{v['kode']}: ikke norsk? {melding!r}"
