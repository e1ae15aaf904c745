"""Catalog value rules, part 1: constants and pure parsers of property values (each raises ValueError)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Any

# --- constants -------------------------------------------------------------------------------

LISTE_BASE = 220_000  # list property of a relation: 220000+N
ASSOSIASJON_BASE = 200_000  # the association inside it: 200000+N
_SERIES_SPAN = 20_000

PÅKREVD_ABSOLUTT = "PÅKREVD_ABSOLUTT"
PÅKREVD_IKKE_ABSOLUTT = "PÅKREVD_IKKE_ABSOLUTT"
BETINGET = "BETINGET"

# EUREF89 UTM zones 31-36 (25831-25836), EUREF89 UTM + NN2000 heights (5972-5976), WGS 84 / UTM zones
# 31-36 (32631-32636; oppbygging.md's own geometry example is srid 32633) and WGS 84.
SUPPORTED_SRIDS = frozenset({*range(25831, 25837), *range(5972, 5977), *range(32631, 32637), 4326})

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


@dataclass(frozen=True, slots=True)
class Tolket:
    """One WKT text parsed, with what the rules ask of it (computed for many texts at once)."""

    geom: Any
    geom_type: str
    tom: bool
    gyldig: bool
    bounds: tuple[float, float, float, float]
    repeterte_punkter: bool  # a point equal to its neighbour (validering.reduserPunkttetthet)


# shapely.get_type_id → geom_type
_TYPE_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
               "GeometryCollection")


def tolk_wkt(wkts: Iterable[str]) -> dict[str, Tolket]:
    """Parse many WKT texts with one call of each of shapely's vectorised functions (per value the
    calls cost ~10 times more). Texts that do not parse are left out: :func:`parse_geometri` names
    their fault."""
    # Imported here: shapely brings numpy (~300 ms of a cold start) and most requests parse no geometry.
    import numpy as np
    import shapely

    unique = list(dict.fromkeys(wkts))
    if not unique:
        return {}
    try:
        geoms = shapely.from_wkt(np.array(unique, dtype=object), on_invalid="ignore")
    except NotImplementedError:  # a curve (CIRCULARSTRING ...) fails the whole call: leave those out
        geoms = np.array([_quiet(wkt) for wkt in unique], dtype=object)
    type_ids = shapely.get_type_id(geoms).tolist()
    empty = shapely.is_empty(geoms).tolist()
    valid = shapely.is_valid(geoms).tolist()
    bounds = shapely.bounds(geoms).tolist()
    counts = shapely.get_num_coordinates(geoms)
    repeated = (shapely.get_num_coordinates(shapely.remove_repeated_points(geoms, tolerance=0.0)) != counts).tolist()
    return {wkt: Tolket(geom, _TYPE_NAMES[type_id], tom, gyldig, tuple(box), rep)  # type: ignore[arg-type]
            for wkt, geom, type_id, tom, gyldig, box, rep in zip(unique, geoms.tolist(), type_ids, empty, valid,
                                                                  bounds, repeated, strict=True)
            if geom is not None}


def parse_geometri(srid: int, wkt: str, geometritype: str | None = None, tolket: Tolket | None = None) -> Any:
    """Parse and check one geometry value; raises :class:`GeometriFeil` with the varsel code.
    ``tolket`` is the text already parsed by :func:`tolk_wkt`."""
    if srid not in SUPPORTED_SRIDS:
        raise GeometriFeil("UGYLDIG_GEOMETRI_SRID",
                           f"SRID {srid} støttes ikke. Bruk EUREF89 UTM (25831-25836), EUREF89 UTM med "
                           "NN2000-høyder (5972-5976) eller WGS 84 (4326).")
    if tolket is None:
        tolket = tolk_wkt([wkt]).get(wkt) or _unparsed(wkt)
    if tolket.tom:
        raise GeometriFeil("UGYLDIG_GEOMETRIFORMAT", "Geometrien er tom. Oppgi minst ett koordinat.")
    allowed = _GEOMETRY_TYPES.get(geometritype or "")
    if allowed is not None and tolket.geom_type not in allowed:
        raise GeometriFeil("UGYLDIG_TYPE",
                           f"Geometritypen {tolket.geom_type.upper()} passer ikke til egenskapstypen, som "
                           f"krever {geometritype} ({'/'.join(sorted(t.upper() for t in allowed))}).")
    if not tolket.gyldig:
        import shapely

        raise GeometriFeil("IRREGULÆR_GEOMETRI",
                           f"Geometrien er ikke topologisk gyldig ({shapely.is_valid_reason(tolket.geom)}). "
                           "Rett opp f.eks. selvkryssende flater eller ugyldige koordinater.")
    return tolket.geom


def _quiet(wkt: str) -> Any:
    import shapely

    try:
        return shapely.from_wkt(wkt, on_invalid="ignore")
    except NotImplementedError:
        return None


def _unparsed(wkt: str) -> Tolket:
    """Why a text does not parse, as the varsel (parsed again, raising, for GEOS's own words)."""
    import shapely
    from shapely.errors import GEOSException

    try:
        shapely.from_wkt(wkt)
    except NotImplementedError as exc:  # shapely reads no curves (GEOS does, but not into shapely)
        raise GeometriFeil("UGYLDIG_GEOMETRIFORMAT",
                           f"Geometrien er ikke gyldig WKT for vegskriv ({exc}). Oppgi kurver som LINESTRING. "
                           "Eksempel: 'POINT (218124.0 7023329.5 350.3)'.") from exc
    except (GEOSException, TypeError, ValueError) as exc:
        if len(_coordinate_dimensions(wkt) & {2, 3}) == 2:
            raise GeometriFeil("GEOMETRI_MED_INKONSEKVENT_HØYDE",
                               "Geometrien har høyde (z) bare i noen punkter. Oppgi z i alle punkter "
                               "eller i ingen.") from exc
        raise GeometriFeil("UGYLDIG_GEOMETRIFORMAT",
                           f"Geometrien er ikke gyldig WKT ({str(exc).strip()}). Eksempel: "
                           "'POINT (218124.0 7023329.5 350.3)'.") from exc
    raise GeometriFeil("UGYLDIG_GEOMETRIFORMAT", "Geometrien er tom. Oppgi minst ett koordinat.")
