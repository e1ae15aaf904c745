"""What NVDB simplifies in a value before it is stored, shared by the rule (a warning) and the plan
(the stored value), so the two cannot disagree:

- FORENKLET_STEDFESTING: line elements of one location on the same sequence, with the same
  direction, side and lanes, that overlap or meet end to end become one element;
- FORENKLET_GEOMETRI: with ``validering.reduserPunkttetthet=JA``, a point equal to its neighbour is
  removed. NVDB's distance limit is a setting of its control panel; vegskriv removes only points
  that coincide, which are too close under any setting.
"""

from __future__ import annotations

from typing import Any

_RANGE = ("fra", "til")


def _key(e: dict[str, Any]) -> tuple[Any, ...]:
    rest = {k: v for k, v in e.items() if k not in _RANGE and k != "operasjon"}
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in rest.items()))


def merged_linjer(linjer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``linjer`` with touching or overlapping elements of equal attributes merged; a merged element
    takes the place of the first of its parts."""
    groups: dict[tuple[Any, ...], list[tuple[int, dict[str, Any]]]] = {}
    for i, e in enumerate(linjer):
        groups.setdefault(_key(e), []).append((i, e))
    placed: list[tuple[int, dict[str, Any]]] = []
    for members in groups.values():
        members.sort(key=lambda m: (m[1]["fra"], m[1]["til"]))
        first, current = members[0][0], dict(members[0][1])
        for i, e in members[1:]:
            if e["fra"] <= current["til"]:
                current["til"] = max(current["til"], e["til"])
                first = min(first, i)
            else:
                placed.append((first, current))
                first, current = i, dict(e)
        placed.append((first, current))
    return [e for _, e in sorted(placed, key=lambda p: p[0])]


def forenklet_stedfesting(stedfesting: dict[str, Any] | None) -> dict[str, Any] | None:
    """A dumped location with its line elements merged (element-wise changes are left alone)."""
    linjer = (stedfesting or {}).get("linje")
    if not linjer or any(e.get("operasjon") for e in linjer):
        return stedfesting
    return {**(stedfesting or {}), "linje": merged_linjer(linjer)}


def redusert_wkt(wkt: str) -> str | None:
    """The WKT without points equal to their neighbour, or None when there are none (or it does not
    parse: the value rules report that)."""
    import shapely
    from shapely.errors import GEOSException

    try:
        geom = shapely.from_wkt(wkt)
    except (GEOSException, TypeError, ValueError, NotImplementedError):  # NotImplementedError: a curve
        return None
    if geom is None or geom.geom_type == "Point":
        return None
    reduced = shapely.remove_repeated_points(geom, tolerance=0.0)
    if len(shapely.get_coordinates(reduced)) == len(shapely.get_coordinates(geom)):
        return None
    return str(shapely.to_wkt(reduced, rounding_precision=-1, output_dimension=3))


def redusert_punkttetthet(egenskaper: list[dict[str, Any]], objekt: Any) -> list[dict[str, Any]]:
    """Dumped properties with coinciding neighbour points removed when the object asks for it."""
    validering = getattr(objekt, "validering", None)
    if validering is None or validering.reduserPunkttetthet != "JA":
        return egenskaper
    for e in egenskaper:
        for g in e.get("geometri") or []:
            wkt = redusert_wkt(g["wkt"])
            if wkt is not None:
                g["wkt"] = wkt
    return egenskaper
