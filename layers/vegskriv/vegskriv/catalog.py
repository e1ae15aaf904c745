"""The data catalog (Datakatalog): models, loading and validation of property values.

Two input shapes are understood (see ``docs/datakatalog.md``):

* the project's own normalized format (``vegskriv/data/datakatalog.json``, built by
  ``scripts/build_catalog.py``), and
* the real NVDB API Les v3 ``/vegobjekttyper`` JSON (one type object or a list of them).

Validation follows NVDB API Skriv v3: varsel codes are the real ones from
``endringssett/behandlingsresultat.md`` of the API documentation, and value formats are the ones
real clients send (values as strings in lists, ``enum`` ids, WKT geometry with ``srid``).
Everything a check needs is precomputed per type when the catalog is loaded, because validation
runs for every object of every changeset (target: well above 5 000 objects per second).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import shapely
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from shapely.errors import GEOSException

from vegskriv.models import Egenskap, Geometri, Varsel
from vegskriv.settings import get_settings

# --- constants -------------------------------------------------------------------------------

LISTE_BASE = 220_000  # list property of a relation: 220000+N
ASSOSIASJON_BASE = 200_000  # the association inside it: 200000+N
_SERIES_SPAN = 20_000

PÅKREVD_ABSOLUTT = "PÅKREVD_ABSOLUTT"
PÅKREVD_IKKE_ABSOLUTT = "PÅKREVD_IKKE_ABSOLUTT"
BETINGET = "BETINGET"

# EUREF89 UTM zones 31-36 (25831-25836), EUREF89 UTM + NN2000 heights (5972-5976) and WGS 84.
SUPPORTED_SRIDS = frozenset({*range(25831, 25837), *range(5972, 5977), 4326})

_GEOMETRY_TYPES: dict[str, frozenset[str]] = {
    "PUNKT": frozenset({"Point"}),
    "LINJE": frozenset({"LineString", "MultiLineString"}),
    "FLATE": frozenset({"Polygon", "MultiPolygon"}),
}

DATATYPER = frozenset(
    {"Tekst", "Tegn", "Heltall", "Flyttall", "Dato", "Kortdato", "Klokkeslett", "Boolsk", "Geometri",
     "Struktur", "Binærobjekt"}
)
_SCALAR_DATATYPES = DATATYPER - {"Geometri", "Struktur", "Binærobjekt"}
_NUMERIC = frozenset({"Heltall", "Flyttall"})

# Long enum lists are cut in messages; the full list is in the catalog.
_MAX_LISTED_VALUES = 25


# --- value parsers (pure; each raises ValueError on a malformed value) -------------------------


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit alone accepts e.g. "²" and Arabic-Indic digits, which int() and the API refuse.
    return text.isascii() and text.isdigit()


def parse_heltall(value: object) -> int:
    """An integer given as JSON number or text ("2023", "-4", "+7")."""
    if isinstance(value, bool):
        raise ValueError("boolsk verdi er ikke et heltall")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError("desimaltall er ikke et heltall")
    if isinstance(value, str):
        text = value.strip()
        body = text[1:] if text[:1] in ("+", "-") else text
        if _is_ascii_digits(body):
            return int(text)
    raise ValueError(f"{value!r} er ikke et heltall")


def parse_flyttall(value: object) -> tuple[float, str]:
    """A decimal number as JSON number or text ("1.4", "-0.25", "3"); decimal point, no exponent.

    Returns the value and its unsigned decimal text, from which field width and number of
    decimals are counted the way the catalog defines them.
    """
    if isinstance(value, bool):
        raise ValueError("boolsk verdi er ikke et tall")
    if isinstance(value, int):
        return float(value), str(abs(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("tallet må være endelig")
        text = repr(abs(value))
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        return value, text
    if isinstance(value, str):
        text = value.strip()
        body = text[1:] if text[:1] in ("+", "-") else text
        whole, dot, fraction = body.partition(".")
        if _is_ascii_digits(whole) and (not dot or _is_ascii_digits(fraction)):
            return float(text), body
    raise ValueError(f"{value!r} er ikke et desimaltall")


def antall_desimaler(text: str) -> int:
    """Decimals of an unsigned decimal text; trailing zeros do not count ("1.40" has one)."""
    _, _, fraction = text.partition(".")
    return len(fraction.rstrip("0"))


def feltbredde(text: str) -> int:
    """Field width as the catalog defines it: significant digits plus the decimal point, if any."""
    whole, _, fraction = text.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return len(whole) + (len(fraction) + 1 if fraction else 0)


def parse_dato(value: object) -> date:
    """ISO 8601 calendar date (YYYY-MM-DD) or ååååmmdd."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        text = value.strip()
        parts: tuple[str, ...]
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            parts = (text[:4], text[5:7], text[8:])
        elif len(text) == 8:
            parts = (text[:4], text[4:6], text[6:])
        else:
            parts = ()
        if parts and all(_is_ascii_digits(p) for p in parts):
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
    raise ValueError(f"{value!r} er ikke en dato (ÅÅÅÅ-MM-DD eller ååååmmdd)")


def parse_kortdato(value: object) -> tuple[int, int]:
    """Month and day as mm-dd or mmdd (29 February is allowed: the date recurs every year)."""
    if isinstance(value, str):
        text = value.strip()
        parts: tuple[str, ...]
        if len(text) == 5 and text[2] == "-":
            parts = (text[:2], text[3:])
        elif len(text) == 4:
            parts = (text[:2], text[2:])
        else:
            parts = ()
        if parts and all(_is_ascii_digits(p) for p in parts):
            month, day = int(parts[0]), int(parts[1])
            date(2000, month, day)  # a leap year, so 02-29 passes; raises on 13-01, 04-31 ...
            return month, day
    raise ValueError(f"{value!r} er ikke en kortdato (mm-dd eller mmdd)")


def parse_klokkeslett(value: object) -> time:
    """ISO 8601 time of day (HH:MM or HH:MM:SS) or ttmm."""
    if isinstance(value, str):
        text = value.strip()
        parts: tuple[str, ...]
        if len(text) in (5, 8) and text[2] == ":" and (len(text) == 5 or text[5] == ":"):
            parts = (text[:2], text[3:5], text[6:] or "0")
        elif len(text) == 4:
            parts = (text[:2], text[2:], "0")
        else:
            parts = ()
        if parts and all(_is_ascii_digits(p) for p in parts):
            return time(int(parts[0]), int(parts[1]), int(parts[2]))
    raise ValueError(f"{value!r} er ikke et klokkeslett (TT:MM, TT:MM:SS eller ttmm)")


_BOOLSK = {"ja": True, "true": True, "nei": False, "false": False}


def parse_boolsk(value: object) -> bool:
    """JA, NEI, true or false in any case (or a JSON boolean)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        parsed = _BOOLSK.get(value.strip().lower())
        if parsed is not None:
            return parsed
    raise ValueError(f"{value!r} er ikke en boolsk verdi (JA/NEI/true/false)")


def parse_tekst(value: object) -> str:
    """Text; JSON numbers are accepted as their text (XML clients cannot tell them apart)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{value!r} er ikke tekst")


def _coordinate_dimensions(wkt: str) -> set[int]:
    """Number of ordinates in each coordinate tuple of a WKT text (only used to explain failures)."""
    body = wkt.partition("(")[2]
    for char in "()":
        body = body.replace(char, ",")
    return {len(part.split()) for part in body.split(",") if part.strip()}


class GeometriFeil(ValueError):
    def __init__(self, kode: str, melding: str) -> None:
        super().__init__(melding)
        self.kode = kode
        self.melding = melding


def parse_geometri(srid: int, wkt: str, geometritype: str | None = None) -> Any:
    """Parse and check one geometry value; raises :class:`GeometriFeil` with the varsel code."""
    if srid not in SUPPORTED_SRIDS:
        raise GeometriFeil("UGYLDIG_GEOMETRI_SRID",
                           f"SRID {srid} støttes ikke. Bruk EUREF89 UTM (25831-25836), EUREF89 UTM med "
                           "NN2000-høyder (5972-5976) eller WGS 84 (4326).")
    try:
        geom = shapely.from_wkt(wkt)
    except (GEOSException, TypeError, ValueError) as exc:
        if len(_coordinate_dimensions(wkt) & {2, 3}) == 2:
            raise GeometriFeil("GEOMETRI_MED_INKONSEKVENT_HØYDE",
                               "Geometrien har høyde (z) bare i noen punkter. Oppgi z i alle punkter "
                               "eller i ingen.") from exc
        raise GeometriFeil("UGYLDIG_GEOMETRIFORMAT",
                           f"Geometrien er ikke gyldig WKT ({str(exc).strip()}). Eksempel: "
                           "'POINT (218124.0 7023329.5 350.3)'.") from exc
    if geom is None or geom.is_empty:
        raise GeometriFeil("UGYLDIG_GEOMETRIFORMAT", "Geometrien er tom. Oppgi minst ett koordinat.")
    allowed = _GEOMETRY_TYPES.get(geometritype or "")
    if allowed is not None and geom.geom_type not in allowed:
        raise GeometriFeil("UGYLDIG_TYPE",
                           f"Geometritypen {geom.geom_type.upper()} passer ikke til egenskapstypen, som "
                           f"krever {geometritype} ({'/'.join(sorted(t.upper() for t in allowed))}).")
    if not geom.is_valid:
        raise GeometriFeil("IRREGULÆR_GEOMETRI",
                           f"Geometrien er ikke topologisk gyldig ({shapely.is_valid_reason(geom)}). "
                           "Rett opp f.eks. selvkryssende flater eller ugyldige koordinater.")
    return geom


# --- catalog models ---------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TillattVerdi(_Model):
    id: int
    verdi: str | int | float
    kortnavn: str | None = None


class Enhet(_Model):
    id: int | None = None
    navn: str | None = None
    kortnavn: str | None = None


Grense = int | float | str  # a limit: a number, or an ISO date for Dato properties


class Egenskapstype(_Model):
    id: int
    navn: str
    datatype: str = "Tekst"
    enum: bool = False
    geometritype: str | None = None
    viktighet: str | None = None
    sensitivitet: int | None = None
    feltlengde: int | None = None
    desimaler: int | None = None
    min: Grense | None = None
    maks: Grense | None = None
    min_anbefalt: Grense | None = None
    maks_anbefalt: Grense | None = None
    feltmønster: str | None = None
    enhet: Enhet | None = None
    tillatte_verdier: list[TillattVerdi] = Field(default_factory=list)
    # The enum values are not known (60 Bru in the extract): any value of the datatype passes.
    verdier_ukjente: bool = False
    # Only list properties (several values) have these; an ordinary property takes one value.
    min_antall: int | None = None
    maks_antall: int | None = None
    # Struktur: the member property types, when the catalog gives them.
    medlemmer: list[Egenskapstype] | None = None

    @property
    def liste(self) -> bool:
        """True for a list property, which takes several values (bounded by min/maks_antall)."""
        return self.maks_antall is not None

    @property
    def påkrevd(self) -> bool:
        return self.viktighet in (PÅKREVD_ABSOLUTT, PÅKREVD_IKKE_ABSOLUTT)

    def tillatt_verdi(self, enum_id: int) -> TillattVerdi | None:
        return next((v for v in self.tillatte_verdier if v.id == enum_id), None)


class TypeRef(_Model):
    id: int
    navn: str | None = None


class Relasjonstype(_Model):
    """A relation to another object type; ``vegobjekttype`` is the child (barn) or parent (foreldre)."""

    liste_egenskapstype_id: int | None = None
    assosiasjon_egenskapstype_id: int | None = None
    navn: str | None = None
    relasjonstype: str | None = None  # KOMPOSISJON / AGGREGERING; None = unknown
    innenfor_mor: str | None = None  # JA / NEI / MED_AVVIK
    vegobjekttype: TypeRef
    min_antall: int | None = None
    maks_antall: int | None = None
    viktighet: str | None = None
    antatt: list[str] = Field(default_factory=list)  # fields derived by the build rules, not the source

    @property
    def type_id(self) -> int:
        return self.vegobjekttype.id

    @property
    def child_type_id(self) -> int:
        """For a barn relation: the daughter type (alias kept for the changeset validator)."""
        return self.vegobjekttype.id

    @property
    def er_komposisjon(self) -> bool:
        return self.relasjonstype == "KOMPOSISJON"

    def ids(self) -> tuple[int, ...]:
        return tuple(i for i in (self.liste_egenskapstype_id, self.assosiasjon_egenskapstype_id) if i)


class Relasjoner(_Model):
    barn: list[Relasjonstype] = Field(default_factory=list)
    foreldre: list[Relasjonstype] = Field(default_factory=list)


class Stedfestingsregler(_Model):
    """How objects of a type are located on the network (from API Les ``stedfesting``)."""

    type: str | None = None  # PUNKT / LINJE / SVING
    egenskapstype_id: int | None = None
    geometritype: str | None = None
    overlapp_ok: bool | None = None
    kjørefelt_relevant: str | None = None  # JA / KAN / NEI
    sideposisjon_relevant: str | None = None  # JA / KAN / NEI
    retning_relevant: bool | None = None
    innenfor_mor: bool | None = None
    vegnettsajourhold_splitt: str | None = None


class Datatype(_Model):
    id: int
    navn: str
    kortnavn: str | None = None


class Vegobjekttype(_Model):
    id: int
    navn: str
    kortnavn: str | None = None
    kilde: str | None = None
    datakatalogversjon: str | None = None
    stedfesting: Stedfestingsregler = Field(default_factory=Stedfestingsregler)
    styringsparametere: dict[str, Any] = Field(default_factory=dict)
    egenskapstyper: list[Egenskapstype] = Field(default_factory=list)
    relasjonstyper: Relasjoner = Field(default_factory=Relasjoner)

    _container: _Container = PrivateAttr()
    _et_by_id: dict[int, Egenskapstype] = PrivateAttr(default_factory=dict)
    _barn_by_id: dict[int, Relasjonstype] = PrivateAttr(default_factory=dict)
    _foreldre_by_id: dict[int, Relasjonstype] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        self._container = _Container.build(
            f"Objektet, av typen {self.navn} ({self.id}),", self.egenskapstyper, OBJEKT_KODER
        )
        self._et_by_id = {et.id: et for et in self.egenskapstyper}
        # Both series name the same relation; N alone does not (it is an ordinary property id).
        self._barn_by_id = {i: r for r in self.relasjonstyper.barn for i in r.ids()}
        self._foreldre_by_id = {i: r for r in self.relasjonstyper.foreldre for i in r.ids()}

    # lookups

    def egenskapstype(self, type_id: int) -> Egenskapstype | None:
        return self._et_by_id.get(type_id)

    @property
    def egenskapstyper_by_id(self) -> dict[int, Egenskapstype]:
        return self._et_by_id

    def relation_by_id(self, type_id: int) -> Relasjonstype | None:
        """The child relation named by an association typeId, 220000+N or 200000+N."""
        return self._barn_by_id.get(type_id)

    def relation(self, type_id: int) -> Relasjonstype | None:
        """Alias of :meth:`relation_by_id` (the name the changeset validator uses)."""
        return self._barn_by_id.get(type_id)

    def parent_relation_by_id(self, type_id: int) -> Relasjonstype | None:
        return self._foreldre_by_id.get(type_id)

    def barn_av_type(self, type_id: int) -> list[Relasjonstype]:
        return [r for r in self.relasjonstyper.barn if r.vegobjekttype.id == type_id]

    # location rules; defaults apply when the source has no stedfesting details (XSD types) and
    # are chosen so that nothing valid in real traffic is refused (see docs/datakatalog.md).

    @property
    def stedfestingstype(self) -> str | None:
        return self.stedfesting.type

    @property
    def overlapp_tillatt(self) -> bool:
        return True if self.stedfesting.overlapp_ok is None else self.stedfesting.overlapp_ok

    @property
    def kjørefelt_relevant(self) -> str:
        return self.stedfesting.kjørefelt_relevant or "KAN"

    @property
    def tillater_kjørefelt(self) -> bool:
        return self.kjørefelt_relevant != "NEI"

    @property
    def sideposisjon_relevant(self) -> str:
        return self.stedfesting.sideposisjon_relevant or "KAN"

    @property
    def tillater_sideposisjon(self) -> bool:
        return self.sideposisjon_relevant != "NEI"

    @property
    def retning_påkrevd(self) -> bool:
        # No extract source states direction relevance; real 79/83 objects are located without it.
        return bool(self.stedfesting.retning_relevant)

    @property
    def innenfor_mor(self) -> bool:
        return bool(self.stedfesting.innenfor_mor)

    @property
    def må_ha_mor(self) -> bool:
        return bool(self.styringsparametere.get("må_ha_mor", False))

    @property
    def tidsrom_relevant(self) -> bool:
        return bool(self.styringsparametere.get("tidsrom_relevant", True))

    @property
    def en_versjon(self) -> bool:
        return bool(self.styringsparametere.get("en_versjon", False))


class Datakatalog(_Model):
    versjon: str
    meta: dict[str, Any] = Field(default_factory=dict, alias="_meta")
    datatyper: list[Datatype] = Field(default_factory=list)
    vegobjekttyper: list[Vegobjekttype] = Field(default_factory=list)

    _by_id: dict[int, Vegobjekttype] = PrivateAttr(default_factory=dict)
    _egenskapstype_ids: frozenset[int] = PrivateAttr(default=frozenset())

    def model_post_init(self, __context: Any) -> None:
        self._by_id = {vt.id: vt for vt in self.vegobjekttyper}
        self._egenskapstype_ids = frozenset(et.id for vt in self.vegobjekttyper for et in vt.egenskapstyper)

    def vegobjekttype(self, type_id: int) -> Vegobjekttype | None:
        return self._by_id.get(type_id)

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._by_id

    def egenskapstype_finnes(self, type_id: int) -> bool:
        """Whether any object type in the catalog has this property type."""
        return type_id in self._egenskapstype_ids

    def validate_egenskaper(self, vt: Vegobjekttype, egenskaper: Sequence[Egenskap], *, referanse: str,
                            complete: bool = True) -> tuple[list[Varsel], list[Varsel]]:
        return validate_egenskaper(vt, egenskaper, referanse=referanse, complete=complete, katalog=self)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- loading ----------------------------------------------------------------------------------


def _read(source: str | Path | dict[str, Any] | list[Any]) -> Any:
    if isinstance(source, dict | list):
        return source
    if isinstance(source, str) and source.lstrip()[:1] in ("{", "["):
        return json.loads(source)  # JSON text rather than a path
    return json.loads(Path(source).read_text(encoding="utf-8"))


def _is_les_shape(data: Any) -> bool:
    items = data if isinstance(data, list) else [data]
    return bool(items) and all(isinstance(i, dict) and "egenskapstyper" in i and "id" in i for i in items)


def load_catalog(source: str | Path | dict[str, Any] | list[Any]) -> Datakatalog:
    """Load a catalog from a path, JSON text or parsed JSON; the shape is detected.

    The project's own format has ``versjon`` and ``vegobjekttyper`` at the top; the NVDB API Les
    shape is one vegobjekttype object (``id``, ``egenskapstyper`` ...) or a list of them.
    """
    data = _read(source)
    if isinstance(data, dict) and "vegobjekttyper" in data and "versjon" in data:
        return Datakatalog.model_validate(data)
    if _is_les_shape(data):
        return from_nvdb_les(data)
    raise ValueError("Ukjent katalogformat: forventet vegskriv-format (versjon, vegobjekttyper) eller "
                     "NVDB API Les /vegobjekttyper (objekt eller liste med id og egenskapstyper).")


@cache
def default_catalog() -> Datakatalog:
    """The catalog shipped with the package (``vegskriv/data/datakatalog.json``), loaded once."""
    text = resources.files("vegskriv").joinpath("data", "datakatalog.json").read_text(encoding="utf-8")
    return Datakatalog.model_validate(json.loads(text))


# NVDB API Les ``egenskapstype`` / ``datatype`` names → normalized datatype.
_LES_DATATYPER = {
    "tekst": "Tekst", "tekstenum": "Tekst", "flerverdiattributt, tekst": "Tekst", "tegn": "Tegn",
    "heltall": "Heltall", "heltallenum": "Heltall", "flyttall": "Flyttall", "flyttallenum": "Flyttall",
    "dato": "Dato", "kortdato": "Kortdato", "klokkeslett": "Klokkeslett", "boolsk": "Boolsk",
    "boolean": "Boolsk", "geometri": "Geometri", "geompunkt": "Geometri", "geomlinje eller kurve": "Geometri",
    "geomflate": "Geometri", "struktur": "Struktur", "binærobjekt": "Binærobjekt",
}
_LES_GEOMETRITYPER = {"geompunkt": "PUNKT", "geomlinje eller kurve": "LINJE", "geomflate": "FLATE"}
# Les' older list shape: ``tilknytning`` 3 is composition and 2 aggregation (matches 581.json).
_TILKNYTNING = {3: "KOMPOSISJON", 2: "AGGREGERING"}
_ET_COPY = ("viktighet", "sensitivitet", "feltlengde", "desimaler", "min", "maks", "min_anbefalt",
            "maks_anbefalt", "feltmønster", "enhet", "geometritype")


def _les_datatype(raw: dict[str, Any]) -> tuple[str, bool]:
    """(datatype, enum) from Les' ``egenskapstype`` ("Tekstenum") and ``datatype``.

    Older responses mark enums only by ``datatype`` "FlerverdiAttributt, Tekst" plus tillatte_verdier.
    """
    kind = str(raw.get("egenskapstype") or "").lower()
    datatype_name = str(raw.get("datatype") or "").lower()
    enum = kind.endswith("enum") or datatype_name.startswith("flerverdi") or bool(raw.get("tillatte_verdier"))
    if kind in ("tall", "") and datatype_name.startswith("flerverdiattributt, tall"):
        kind = "heltall" if not raw.get("desimaler") else "flyttall"
    datatype = _LES_DATATYPER.get(kind) or _LES_DATATYPER.get(datatype_name) or "Tekst"
    return datatype, enum


def _les_egenskapstype(raw: dict[str, Any]) -> dict[str, Any]:
    datatype, enum = _les_datatype(raw)
    out: dict[str, Any] = {"id": raw["id"], "navn": raw["navn"], "datatype": datatype, "enum": enum}
    out.update({k: raw[k] for k in _ET_COPY if raw.get(k) is not None})
    if datatype == "Geometri" and "geometritype" not in out:
        out["geometritype"] = _LES_GEOMETRITYPER.get(str(raw.get("datatype") or "").lower())
    if enum:
        out["tillatte_verdier"] = [
            {"id": v["id"], "verdi": v.get("verdi"), "kortnavn": v.get("kortnavn")}
            for v in raw.get("tillatte_verdier") or []
        ]
        out["verdier_ukjente"] = not out["tillatte_verdier"]
    members = raw.get("medlemmer") or (raw.get("innhold") if isinstance(raw.get("innhold"), list) else None)
    if datatype == "Struktur" and members:
        out["medlemmer"] = [_les_egenskapstype(m) for m in members]
    return out


def _les_liste(raw: dict[str, Any]) -> dict[str, Any] | None:
    """A Les list of plain values (not of associations) becomes a list property with min/maks antall."""
    innhold = raw.get("innhold")
    if not isinstance(innhold, dict) or str(innhold.get("egenskapstype")) == "Assosiasjon":
        return None
    out = _les_egenskapstype({**innhold, "id": raw["id"], "navn": raw.get("navn") or innhold.get("navn")})
    out["viktighet"] = raw.get("viktighet", out.get("viktighet"))
    out["min_antall"] = raw.get("minimalt_antall_verdier", 0)
    out["maks_antall"] = raw.get("maksimalt_antall_verdier", 999999)
    return out


def _les_relasjon(raw: dict[str, Any]) -> dict[str, Any]:
    """One entry of Les ``relasjonstyper.barn/foreldre`` (or an association list in egenskapstyper)."""
    innhold = raw.get("innhold") or {}
    target = innhold.get("type") or {"id": innhold.get("vegobjekttypeid")}
    relasjonstype = innhold.get("relasjonstype") or _TILKNYTNING.get(innhold.get("tilknytning") or 0)
    innenfor = innhold.get("innenfor_mor")
    return {
        "liste_egenskapstype_id": raw.get("id"),
        "assosiasjon_egenskapstype_id": innhold.get("id"),
        "navn": raw.get("navn"),
        "relasjonstype": relasjonstype,
        "innenfor_mor": innenfor if isinstance(innenfor, str) else ("JA" if innenfor == 1 else None),
        "vegobjekttype": {"id": target["id"], "navn": target.get("navn")},
        "min_antall": raw.get("minimalt_antall_verdier"),
        "maks_antall": raw.get("maksimalt_antall_verdier"),
        "viktighet": raw.get("viktighet"),
    }


def _les_stedfesting(raw: dict[str, Any] | None) -> dict[str, Any]:
    if not raw:
        return {}
    # A list stedfesting (e.g. 105 "Liste av lokasjonsattributt") keeps the element in ``innhold``.
    merged = {**(raw.get("innhold") or {}), **raw} if isinstance(raw.get("innhold"), dict) else raw
    geometritype = merged.get("geometritype")
    name = str(merged.get("navn") or "").lower()
    kind = "SVING" if "sving" in name or geometritype == "SVING" else geometritype
    out = {k: merged.get(k) for k in ("geometritype", "overlapp_ok", "kjørefelt_relevant",
                                      "sideposisjon_relevant", "innenfor_mor", "vegnettsajourhold_splitt")}
    out["type"] = kind
    out["egenskapstype_id"] = raw.get("id")
    if "retning_relevant" in merged:
        out["retning_relevant"] = merged["retning_relevant"] in (True, "JA")
    return out


_LES_STYRING = ("tidsrom_relevant", "må_ha_mor", "en_versjon", "konnekteringslenke_ok", "abstrakt_type",
                "avledet", "sensitiv")


def _les_vegobjekttype(raw: dict[str, Any]) -> dict[str, Any]:
    egenskapstyper: list[dict[str, Any]] = []
    liste_relasjoner: list[dict[str, Any]] = []
    for et in raw.get("egenskapstyper") or []:
        kind = str(et.get("egenskapstype") or "")
        if kind == "Liste":
            as_list = _les_liste(et)
            if as_list is None:
                liste_relasjoner.append(_les_relasjon(et))
            else:
                egenskapstyper.append(as_list)
        elif kind not in ("Stedfesting", "Assosiasjon"):
            egenskapstyper.append(_les_egenskapstype(et))
    relasjoner = raw.get("relasjonstyper") or {}
    return {
        "id": raw["id"],
        "navn": raw["navn"],
        "kortnavn": raw.get("kortnavn"),
        "kilde": "NVDB API Les",
        "datakatalogversjon": raw.get("datakatalogversjon"),
        "stedfesting": _les_stedfesting(raw.get("stedfesting")),
        "styringsparametere": {k: raw[k] for k in _LES_STYRING if k in raw},
        "egenskapstyper": egenskapstyper,
        "relasjonstyper": {
            # Older responses list relations only as "Liste" property types; newer ones have both.
            "barn": [_les_relasjon(r) for r in relasjoner.get("barn") or []] or liste_relasjoner,
            "foreldre": [_les_relasjon(r) for r in relasjoner.get("foreldre") or []],
        },
    }


def from_nvdb_les(obj: dict[str, Any] | list[dict[str, Any]], *, versjon: str = "ukjent") -> Datakatalog:
    """Build a catalog from NVDB API Les v3 ``/vegobjekttyper`` JSON (one type or a list)."""
    types = obj if isinstance(obj, list) else [obj]
    return Datakatalog.model_validate({
        "versjon": versjon,
        "_meta": {"kilde": "NVDB API Les v3 /vegobjekttyper"},
        "vegobjekttyper": [_les_vegobjekttype(t) for t in types],
    })


# --- validation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Koder:
    """Varsel codes differ between an object's properties and a structure's members."""

    ukjent: str
    mangler: dict[str, tuple[str, bool, str]]  # viktighet → (code, is_error, wording)


OBJEKT_KODER = _Koder(
    ukjent="UKJENT_EGENSKAPSTYPE",
    mangler={
        PÅKREVD_ABSOLUTT: ("MANGLER_OBLIGATORISKE_EGENSKAPER", True, "påkrevd absolutt"),
        PÅKREVD_IKKE_ABSOLUTT: ("MANGLER_ANBEFALTE_EGENSKAPER", False, "påkrevd ikke absolutt"),
        BETINGET: ("MANGLER_BETINGET_PÅKREVDE_EGENSKAPER", False, "betinget"),
    },
)
STRUKTUR_KODER = _Koder(
    ukjent="UKJENT_MEDLEMSTYPE",
    mangler={
        PÅKREVD_ABSOLUTT: ("MANGLER_OBLIGATORISKE_MEDLEMMER", True, "påkrevd absolutt"),
        PÅKREVD_IKKE_ABSOLUTT: ("MANGLER_ANBEFALTE_MEDLEMMER", False, "påkrevd ikke absolutt"),
    },
)


def _enum_key(datatype: str, verdi: Any) -> Any:
    # Numeric enums compare by value ("80" == 80 == 80.0); text enums compare exactly.
    if datatype in _NUMERIC:
        try:
            return parse_flyttall(verdi)[0]
        except ValueError:
            return verdi
    return verdi if isinstance(verdi, str) else str(verdi)


def _parse_limit(datatype: str, limit: Grense | None) -> Any:
    if limit is None:
        return None
    try:
        if datatype == "Dato":
            return parse_dato(limit)
        if datatype in _NUMERIC:
            return parse_flyttall(limit)[0]
    except ValueError:
        return None  # an unusable limit is ignored rather than rejecting every value
    return None


@dataclass(slots=True)
class _Regel:
    """What validation needs of one property type, precomputed (plain attributes: no pydantic lookups)."""

    et: Egenskapstype
    id: int
    datatype: str
    enum: bool
    verdier_ukjente: bool
    liste: bool
    enum_ids: frozenset[int]
    enum_by_verdi: dict[Any, TillattVerdi]
    limits: tuple[Any, Any, Any, Any]  # min, maks, min_anbefalt, maks_anbefalt (parsed)
    has_limits: bool
    members: _Container | None

    @classmethod
    def build(cls, et: Egenskapstype) -> _Regel:
        limits = (_parse_limit(et.datatype, et.min), _parse_limit(et.datatype, et.maks),
                  _parse_limit(et.datatype, et.min_anbefalt), _parse_limit(et.datatype, et.maks_anbefalt))
        members = None
        if et.medlemmer is not None:
            members = _Container.build(f"Strukturegenskapen {et.navn} ({et.id})", et.medlemmer,
                                       STRUKTUR_KODER)
        return cls(
            et=et, id=et.id, datatype=et.datatype, enum=et.enum, verdier_ukjente=et.verdier_ukjente,
            liste=et.liste, enum_ids=frozenset(v.id for v in et.tillatte_verdier),
            enum_by_verdi={_enum_key(et.datatype, v.verdi): v for v in et.tillatte_verdier},
            limits=limits,
            has_limits=et.feltlengde is not None or et.desimaler is not None
            or any(x is not None for x in limits),
            members=members,
        )


@dataclass(slots=True)
class _Container:
    """Precomputed lookups for a set of property types (an object type or a structure)."""

    navn: str  # the subject of "mangler" messages
    by_id: dict[int, _Regel]
    required: tuple[tuple[str, tuple[Egenskapstype, ...]], ...]  # (viktighet, types) in severity order
    koder: _Koder

    @classmethod
    def build(cls, navn: str, egenskapstyper: Iterable[Egenskapstype], koder: _Koder) -> _Container:
        by_id = {et.id: _Regel.build(et) for et in egenskapstyper}
        required = tuple(
            (viktighet, tuple(r.et for r in by_id.values() if r.et.viktighet == viktighet))
            for viktighet in koder.mangler
        )
        return cls(navn, by_id, tuple((v, ets) for v, ets in required if ets), koder)


@dataclass(slots=True)
class _Sink:
    referanse: str
    feil: list[Varsel] = field(default_factory=list)
    advarsler: list[Varsel] = field(default_factory=list)

    def error(self, kode: str, melding: str, et_id: int | None = None) -> None:
        self.feil.append(Varsel(kode=kode, melding=melding, referanse=self.referanse, egenskapTypeId=et_id))

    def warning(self, kode: str, melding: str, et_id: int | None = None) -> None:
        self.advarsler.append(Varsel(kode=kode, melding=melding, referanse=self.referanse,
                                     egenskapTypeId=et_id))


def _navn(et: Egenskapstype | _Regel) -> str:
    if isinstance(et, _Regel):
        et = et.et
    return f"{et.navn} ({et.id})"


def _values_of(eg: Egenskap) -> tuple[str | None, list[Any], int]:
    """(form, values, number of non-empty forms): which of verdi/enum/geometri/medlem/binærobjekt is used."""
    form: str | None = None
    values: list[Any] = []
    forms = 0
    for name, given in (("verdi", eg.verdi), ("enum", eg.enum), ("geometri", eg.geometri),
                        ("medlem", eg.medlem), ("binærobjekt", eg.binaerobjekt)):
        if given:
            forms += 1
            if form is None:
                form, values = name, given
    return form, values, forms


_FORMAT_CODES = {
    "Heltall": "UGYLDIG_HELTALLFORMAT",
    "Flyttall": "UGYLDIG_FLYTTALLFORMAT",
    "Dato": "UGYLDIG_DATOFORMAT",
    "Kortdato": "UGYLDIG_KORTDATOFORMAT",
    "Klokkeslett": "UGYLDIG_TIDFORMAT",
    "Boolsk": "UGYLDIG_BOOLSK_FORMAT",
    "Tegn": "UGYLDIG_TEGNFORMAT",
    "Tekst": "UGYLDIG_TYPE",
}
_FORMAT_HINTS = {
    "Heltall": "et heltall, f.eks. \"2023\"",
    "Flyttall": "et desimaltall med punktum, f.eks. \"1.4\"",
    "Dato": "en dato på formen ÅÅÅÅ-MM-DD eller ååååmmdd",
    "Kortdato": "en kortdato på formen mm-dd eller mmdd",
    "Klokkeslett": "et klokkeslett på formen TT:MM, TT:MM:SS eller ttmm",
    "Boolsk": "JA, NEI, true eller false",
    "Tegn": "tekst",
    "Tekst": "tekst",
}


def _parse_scalar(datatype: str, value: Any) -> tuple[Any, str | None]:
    """(comparable value, decimal text for numbers). Raises ValueError on a malformed value."""
    if datatype == "Flyttall":
        return parse_flyttall(value)
    if datatype == "Heltall":
        number = parse_heltall(value)
        return number, str(abs(number))
    if datatype == "Dato":
        return parse_dato(value), None
    if datatype == "Kortdato":
        return parse_kortdato(value), None
    if datatype == "Klokkeslett":
        return parse_klokkeslett(value), None
    if datatype == "Boolsk":
        return parse_boolsk(value), None
    if datatype == "Tegn" and not isinstance(value, str):
        raise ValueError("tegn må være tekst")
    return parse_tekst(value), None


def _enum_message(et: Egenskapstype) -> str:
    values = [f"{v.verdi} ({v.id})" for v in et.tillatte_verdier[:_MAX_LISTED_VALUES]]
    rest = len(et.tillatte_verdier) - len(values)
    more = f", … og {rest} til" if rest > 0 else ""
    return (f"Verdien for egenskapstype {_navn(et)} må være en av følgende verdier: "
            f"[{', '.join(values)}{more}]")


def _check_limits(regel: _Regel, value: Any, text: str | None, sink: _Sink) -> None:
    et = regel.et
    name = _navn(et)
    if et.feltlengde is not None:
        width = len(value) if isinstance(value, str) else (feltbredde(text) if text is not None else None)
        if width is not None and width > et.feltlengde:
            sink.error("OVERSKRIDER_FELTLENGDE", f"Verdien for {name} har feltlengde {width}, men maksimal "
                       f"feltlengde er {et.feltlengde}. Forkort verdien.", et.id)
    if et.desimaler is not None and text is not None and et.datatype == "Flyttall":
        decimals = antall_desimaler(text)
        if decimals > et.desimaler:
            sink.error("FOR_MANGE_DESIMALER", f"Verdien for {name} har {decimals} desimaler, men høyst "
                       f"{et.desimaler} er tillatt. Rund av verdien.", et.id)
    low, high, low_rec, high_rec = regel.limits
    if isinstance(value, bool) or not isinstance(value, int | float | date):
        return
    try:
        if high is not None and value > high:
            sink.error("STØRRE_ENN_ABSOLUTT_MAKSIMUM", f"Verdien {value} for {name} er større enn absolutt "
                       f"maksimum {et.maks}.", et.id)
        elif high_rec is not None and value > high_rec:
            sink.warning("STØRRE_ENN_ANBEFALT_MAKSIMUM", f"Verdien {value} for {name} er større enn anbefalt "
                         f"maksimum {et.maks_anbefalt}. Kontroller verdien.", et.id)
        if low is not None and value < low:
            sink.error("MINDRE_ENN_ABSOLUTT_MINIMUM", f"Verdien {value} for {name} er mindre enn absolutt "
                       f"minimum {et.min}.", et.id)
        elif low_rec is not None and value < low_rec:
            sink.warning("MINDRE_ENN_ANBEFALT_MINIMUM", f"Verdien {value} for {name} er mindre enn anbefalt "
                         f"minimum {et.min_anbefalt}. Kontroller verdien.", et.id)
    except TypeError:
        return  # limit of another kind (e.g. a date limit on a number): not comparable, not checked


def _check_verdi(regel: _Regel, value: Any, sink: _Sink) -> None:
    datatype = regel.datatype
    try:
        parsed, text = _parse_scalar(datatype, value)
    except ValueError:
        sink.error(_FORMAT_CODES.get(datatype, "UGYLDIG_TYPE"),
                   f"Verdien {value!r} for {_navn(regel)} er ikke gyldig {datatype.lower()}; oppgi "
                   f"{_FORMAT_HINTS.get(datatype, datatype)}.", regel.id)
        return
    if regel.enum:
        if not regel.verdier_ukjente and _enum_key(datatype, parsed) not in regel.enum_by_verdi:
            sink.error("UGYLDIG_FLERVERDI", _enum_message(regel.et), regel.id)
        return
    if regel.has_limits:
        _check_limits(regel, parsed, text, sink)
    if datatype == "Tekst" and regel.et.feltlengde is None and isinstance(parsed, str):
        # Without a catalog width a text could be too large to store (README "Limits").
        limit = get_settings().max_text_length
        if len(parsed) > limit:
            sink.error("OVERSKRIDER_FELTLENGDE", f"Verdien for {_navn(regel)} har feltlengde {len(parsed)}, men "
                       f"tekst uten egen feltlengde kan ha høyst {limit} tegn. Forkort verdien.", regel.id)


def _check_enum(regel: _Regel, enum_id: Any, sink: _Sink) -> None:
    if not regel.enum:
        sink.error("IKKE_FLERVERDIEGENSKAP", f"Egenskapstype {_navn(regel)} har ingen tillatte verdier "
                   "(enum). Oppgi verdien i 'verdi' i stedet for 'enum'.", regel.id)
    elif not regel.verdier_ukjente and enum_id not in regel.enum_ids:
        sink.error("UGYLDIG_FLERVERDI", f"{_enum_message(regel.et)}; enum-id {enum_id} finnes ikke.",
                   regel.id)


def _check_geometri(regel: _Regel, g: Geometri, sink: _Sink) -> None:
    try:
        parse_geometri(g.srid, g.wkt, regel.et.geometritype)
    except GeometriFeil as exc:
        sink.error(exc.kode, f"{_navn(regel)}: {exc.melding}", regel.id)


_FORM_DATATYPES = {"geometri": "Geometri", "medlem": "Struktur", "binærobjekt": "Binærobjekt"}
_DATATYPE_FORMS = {v: k for k, v in _FORM_DATATYPES.items()}


def _check_egenskap(regel: _Regel, form: str, values: list[Any], sink: _Sink, complete: bool) -> None:
    datatype = regel.datatype
    expected = _FORM_DATATYPES.get(form)
    if expected is not None and datatype != expected:
        sink.error("UGYLDIG_TYPE", f"{_navn(regel)} har datatype {datatype}, men verdien er gitt som "
                   f"'{form}'. Oppgi verdien i '{_DATATYPE_FORMS.get(datatype, 'verdi')}'.", regel.id)
        return
    if expected is None and datatype not in _SCALAR_DATATYPES:
        sink.error("UGYLDIG_TYPE", f"{_navn(regel)} har datatype {datatype} og må oppgis som "
                   f"'{_DATATYPE_FORMS.get(datatype, 'verdi')}', ikke '{form}'.", regel.id)
        return
    if form == "verdi":
        for value in values:
            _check_verdi(regel, value, sink)
    elif form == "enum":
        for enum_id in values:
            _check_enum(regel, enum_id, sink)
    elif form == "geometri":
        for g in values:
            _check_geometri(regel, g, sink)
    elif form == "medlem" and regel.members is not None:
        _validate_container(regel.members, values, sink, complete=complete)


def _check_antall(regel: _Regel, n: int, sink: _Sink) -> None:
    et = regel.et
    name = _navn(et)
    if not regel.liste:
        if n > 1:
            # The real code for "this property takes one value"; the same typeId given twice lands here too.
            sink.error("EGENSKAPSTYPE_STØTTER_IKKE_MULTIPLE_VERDIER",
                       f"{name} tillater bare én verdi, men {n} er oppgitt. Oppgi én verdi.", et.id)
        return
    if et.maks_antall is not None and n > et.maks_antall:
        sink.error("FLERE_ENN_MAKSIMUM_ANTALL", f"{name} har {n} verdier, men høyst {et.maks_antall} er "
                   "tillatt.", et.id)
    if et.min_antall is not None and n < et.min_antall:
        sink.error("FÆRRE_ENN_MINIMUM_ANTALL", f"{name} har {n} verdier, men minst {et.min_antall} kreves.",
                   et.id)


def _unknown(container: _Container, type_id: int, sink: _Sink, katalog: Datakatalog | None) -> None:
    subject = container.navn.removesuffix(",")
    if container.koder is OBJEKT_KODER and katalog is not None and katalog.egenskapstype_finnes(type_id):
        sink.error("UGYLDIG_EGENSKAPSTYPE", f"Egenskapstypen {type_id} finnes i datakatalogen, men ikke for "
                   f"vegobjekttypen: {subject} kan ikke ha den. Fjern egenskapen.", type_id)
        return
    what = "Egenskapstypen" if container.koder is OBJEKT_KODER else "Medlemstypen"
    sink.error(container.koder.ukjent, f"{what} {type_id} finnes ikke i datakatalogen for {subject}. "
               "Fjern den eller bruk en gyldig typeId.", type_id)


def _missing(container: _Container, present: set[int], sink: _Sink) -> None:
    for viktighet, types in container.required:
        missing = [et for et in types if et.id not in present]
        if not missing:
            continue
        kode, is_error, wording = container.koder.mangler[viktighet]
        melding = (f"{container.navn} mangler egenskaper med viktighet '{wording}': "
                   f"[{', '.join(_navn(et) for et in missing)}]")
        if is_error:
            sink.error(kode, melding + ". Oppgi verdi for disse.")
        else:
            sink.warning(kode, melding)


def _validate_container(container: _Container, egenskaper: Sequence[Egenskap], sink: _Sink, *,
                        complete: bool, katalog: Datakatalog | None = None) -> None:
    by_id = container.by_id
    present: set[int] = set()
    counts: dict[int, int] = {}
    for eg in egenskaper:
        regel = by_id.get(eg.typeId)
        if regel is None:
            _unknown(container, eg.typeId, sink, katalog)
            continue
        if eg.operasjon == "slett":
            if not complete and regel.et.viktighet == PÅKREVD_ABSOLUTT:
                sink.error(container.koder.mangler[PÅKREVD_ABSOLUTT][0],
                           f"{_navn(regel)} har viktighet 'påkrevd absolutt' og kan ikke slettes. Oppgi en "
                           "ny verdi i stedet.", regel.id)
            continue
        form, values, forms = _values_of(eg)
        if form is None:
            continue  # no value: counts as missing in a complete object
        if forms > 1:
            sink.error("UGYLDIG_TYPE", f"{_navn(regel)} har verdi i flere former; oppgi bare én av verdi, "
                       "enum, geometri, medlem og binærobjekt.", regel.id)
            continue
        # The same typeId twice adds values to one property, so the count is judged on the sum.
        # A structure's ``medlem`` list is the members of one value, not several values.
        counts[regel.id] = counts.get(regel.id, 0) + (1 if form == "medlem" else len(values))
        present.add(regel.id)
        _check_egenskap(regel, form, values, sink, complete)
    for et_id, n in counts.items():
        regel = by_id[et_id]
        if n > 1 or regel.liste:
            _check_antall(regel, n, sink)
    if complete:
        _missing(container, present, sink)


def validate_egenskaper(vt: Vegobjekttype, egenskaper: Sequence[Egenskap], *, referanse: str,
                        complete: bool = True, katalog: Datakatalog | None = None
                        ) -> tuple[list[Varsel], list[Varsel]]:
    """Check an object's properties against its type; returns (feil, advarsler).

    ``complete`` is True when the whole object is given (registrer, oppdater, korriger), so missing
    required properties are reported; False for delvisOppdater/delvisKorriger, where only the given
    properties are checked (``operasjon: "slett"`` carries no value). With ``katalog`` an id known
    for another type gives UGYLDIG_EGENSKAPSTYPE instead of UKJENT_EGENSKAPSTYPE.
    """
    sink = _Sink(referanse)
    _validate_container(vt._container, egenskaper, sink, complete=complete, katalog=katalog)
    return sink.feil, sink.advarsler


def check_relasjon_antall(rel: Relasjonstype, antall: int, *, referanse: str, type_id: int | None = None
                          ) -> list[Varsel]:
    """FLERE_ENN_MAKSIMUM_ANTALL / FÆRRE_ENN_MINIMUM_ANTALL for the targets of one association."""
    sink = _Sink(referanse)
    et_id = type_id or rel.liste_egenskapstype_id
    target = rel.vegobjekttype
    navn = f"{rel.navn or 'Assosiasjonen'} ({et_id}) til {target.navn or 'vegobjekttype'} ({target.id})"
    if rel.maks_antall is not None and antall > rel.maks_antall:
        sink.error("FLERE_ENN_MAKSIMUM_ANTALL", f"{navn} har {antall} datterobjekter, men høyst "
                   f"{rel.maks_antall} er tillatt.", et_id)
    if rel.min_antall is not None and antall < rel.min_antall:
        sink.error("FÆRRE_ENN_MINIMUM_ANTALL", f"{navn} har {antall} datterobjekter, men minst "
                   f"{rel.min_antall} kreves.", et_id)
    return sink.feil

