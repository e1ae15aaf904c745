"""Rules on a parsed geometry value beyond its form: where its points lie and its quality fields.

Pure; each function returns ``(kode, melding)`` pairs. vegskriv transforms no coordinates (no proj
library), so the outline is checked only for values given in zone 33 itself; a WGS 84 value is
checked only for whether any transformation is possible at all (docs/varselkoder.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from vegskriv.changesets.models import Egenskap, Kvalitet

# EUREF89 UTM33N (NVDB's own grid) without and with NN2000 heights.
UTM33_SRIDS = frozenset({25833, 5973})
# The outline of zone 33 as NVDB uses it for all of Norway (it is not the 12°E–18°E band):
# 10°W–35°E, 57°N–82°N (mainland, sea areas, Svalbard, Jan Mayen) projected to zone 33, rounded out.
UTM33_OMRISS = (-1_000_000.0, 6_300_000.0, 1_800_000.0, 9_300_000.0)
WGS84 = 4326

# SOSI code lists of the quality fields (oppbygging.md "kvalitet"): målemetode is a code of at most
# two digits (real changesets carry 0 and 96), synbarhet 0 (fully visible) to 3 (not visible);
# nøyaktighet and toleranse are centimetres.
_KODER = {"målemetode": range(0, 100), "målemetodeHøyde": range(0, 100), "synbarhet": range(0, 4)}
_CENTIMETER = ("nøyaktighet", "nøyaktighetHøyde", "toleranse")


def wkts(egenskaper: Iterable[Egenskap]) -> Iterator[str]:
    """Every geometry text of the properties (structure members too), for :func:`vegskriv.catalog.values.tolk_wkt`."""
    for e in egenskaper:
        for g in e.geometri or []:
            yield g.wkt
        if e.medlem or e.struktur is not None:
            yield from wkts((e.medlem or []) + (e.struktur.medlem if e.struktur is not None else []))


def _points(geom: Any) -> list[tuple[float, ...]]:
    import shapely

    return [tuple(c) for c in shapely.get_coordinates(geom).tolist()]


def check_position(srid: int, geom: Any, bounds: tuple[float, float, float, float] | None = None
                   ) -> list[tuple[str, str]]:
    """``bounds`` (minx, miny, maxx, maxy), when known, settles the common case without reading
    each point: a zone 33 value whose box lies inside the outline."""
    if srid != WGS84 and srid not in UTM33_SRIDS:
        return []
    if bounds is not None and srid in UTM33_SRIDS:
        minx, miny, maxx, maxy = UTM33_OMRISS
        if minx <= bounds[0] and bounds[2] <= maxx and miny <= bounds[1] and bounds[3] <= maxy:
            return []
    points = _points(geom)
    if srid == WGS84:
        # Either axis order is read; a pair that is no longitude/latitude either way cannot be transformed.
        bad = [p for p in points
               if not ((abs(p[0]) <= 180 and abs(p[1]) <= 90) or (abs(p[0]) <= 90 and abs(p[1]) <= 180))]
        if bad:
            return [("UGYLDIG_GEOMETRITRANSFORMASJON",
                     f"Koordinatet ({bad[0][0]} {bad[0][1]}) er ikke en gyldig lengde/bredde i WGS 84 (4326) og "
                     "kan ikke transformeres til EUREF89/UTM33N.")]
    if srid in UTM33_SRIDS:
        minx, miny, maxx, maxy = UTM33_OMRISS
        outside = [p for p in points if not (minx <= p[0] <= maxx and miny <= p[1] <= maxy)]
        if outside:
            return [("GEOMETRI_UTENFOR_OMRISSET_AV_EUREF89_UTM33N",
                     f"Punktet ({outside[0][0]} {outside[0][1]}) ligger utenfor omrisset av EUREF89/UTM33N "
                     f"(øst {minx:.0f}–{maxx:.0f}, nord {miny:.0f}–{maxy:.0f}). Kontroller SRID og "
                     "aksenes rekkefølge (øst nord).")]
    return []


def check_kvalitet(kvalitet: Kvalitet | None) -> list[tuple[str, str]]:
    if kvalitet is None:
        return []
    found: list[tuple[str, str]] = []
    for name, allowed in _KODER.items():
        value = getattr(kvalitet, name)
        if value is not None and value not in allowed:
            found.append(("UGYLDIG_KVALITETSPARAMETER",
                          f"kvalitet.{name} {value} er ikke en gyldig kode ({allowed.start}–{allowed.stop - 1})."))
    for name in _CENTIMETER:
        value = getattr(kvalitet, name)
        if value is not None and value < 0:
            found.append(("UGYLDIG_KVALITETSPARAMETER",
                          f"kvalitet.{name} {value} er negativ; verdien er et antall centimeter (0 eller mer)."))
    return found
