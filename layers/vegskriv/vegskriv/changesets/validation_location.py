"""Warnings about what NVDB does to a location or geometry before storing it, and a property that
names another municipality than the road network the object is located on (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vegskriv import catalog as cat
from vegskriv.changesets.forenkling import merged_linjer, redusert_wkt
from vegskriv.changesets.location import self_overlaps
from vegskriv.changesets.models import Varsel
from vegskriv.network import Veglenkesekvens
from vegskriv.settings import get_settings


def location_warnings(o: Any, vt: cat.Vegobjekttype, network: dict[int, Veglenkesekvens], ref: str,
                      geometrier: Mapping[str, cat.Tolket] | None = None) -> list[Varsel]:
    """``geometrier``: the changeset's WKT texts already parsed (:func:`vegskriv.catalog.tolk_wkt`)."""
    return (_simplified_location(o, vt, ref) + _municipality(o, network, ref)
            + _point_density(o, ref, geometrier or {}))


def too_short(o: Any, vt: cat.Vegobjekttype, network: dict[int, Veglenkesekvens], ref: str) -> list[Varsel]:
    """STEDFESTING_MED_FOR_LITEN_UTSTREKNING: the line elements together are shorter than the
    minimum (MIN_STEDFESTING_METER), measured on the sequences' lengths in the network."""
    linjer = (o.stedfesting.linje or []) if o.stedfesting is not None else []
    if not linjer or any(e.operasjon for e in linjer) or any(e.veglenkesekvensNvdbId not in network for e in linjer):
        return []  # element-wise changes are judged with the stored location; unknown sequences are reported
    merged = merged_linjer([e.model_dump(mode="json", exclude_none=True) for e in linjer])
    meter = sum((e["til"] - e["fra"]) * network[e["veglenkesekvensNvdbId"]].lengde for e in merged)
    minimum = get_settings().min_stedfesting_meter
    if meter >= minimum:
        return []
    return [Varsel(kode="STEDFESTING_MED_FOR_LITEN_UTSTREKNING",
                   melding=f"Stedfestingen er {meter:.2f} m lang, kortere enn minimumslengden {minimum:g} m. "
                           "Utvid stedfestingen eller bruk en punktstedfesting.",
                   referanse=ref, egenskapTypeId=vt.stedfesting.egenskapstype_id)]


def _simplified_location(o: Any, vt: cat.Vegobjekttype, ref: str) -> list[Varsel]:
    linjer = (o.stedfesting.linje or []) if o.stedfesting is not None else []
    if len(linjer) < 2 or any(e.operasjon for e in linjer):
        return []
    if not vt.overlapp_tillatt and self_overlaps(linjer):
        return []  # UGYLDIG_OVERLAPP already: nothing is stored
    given = [e.model_dump(mode="json", exclude_none=True) for e in linjer]
    merged = merged_linjer(given)
    if len(merged) == len(given):
        return []
    return [Varsel(kode="FORENKLET_STEDFESTING",
                   melding=f"Stedfestingen har {len(given)} linjeelementer som overlapper eller ligger butt i "
                           f"butt; de lagres som {len(merged)} sammenslåtte elementer.",
                   referanse=ref, egenskapTypeId=vt.stedfesting.egenskapstype_id)]


def _municipality(o: Any, network: dict[int, Veglenkesekvens], ref: str) -> list[Varsel]:
    if o.stedfesting is None:
        return []
    kommuner = {network[v].kommune for v in o.stedfesting.veglenkesekvenser() if v in network}
    if not kommuner:
        return []
    found: list[Varsel] = []
    for e in o.egenskaper:
        for g in e.geometri or []:
            if g.kommune is not None and g.kommune.isdigit() and int(g.kommune) not in kommuner:
                listed = ", ".join(f"{k:04d}" for k in sorted(kommuner))
                found.append(Varsel(kode="TVETYDIG_KOMMUNETILHØRIGHET",
                                    melding=f"Geometrien oppgir kommune {g.kommune}, men vegobjektet er stedfestet "
                                            f"på vegnett i kommune {listed}. Kontroller kommune i geometrien.",
                                    referanse=ref, egenskapTypeId=e.typeId))
    return found


def _point_density(o: Any, ref: str, geometrier: Mapping[str, cat.Tolket]) -> list[Varsel]:
    if o.validering is None or o.validering.reduserPunkttetthet != "JA":
        return []
    return [Varsel(kode="FORENKLET_GEOMETRI",
                   melding="Geometrien har nabopunkter som faller sammen; de er slått sammen til ett punkt "
                           "(validering.reduserPunkttetthet=JA).", referanse=ref, egenskapTypeId=e.typeId)
            for e in o.egenskaper for g in e.geometri or [] if _reducible(g.wkt, geometrier)]


def _reducible(wkt: str, geometrier: Mapping[str, cat.Tolket]) -> bool:
    """Whether :func:`redusert_wkt` would change the text (asked of the parsed one when there is one)."""
    tolket = geometrier.get(wkt)
    if tolket is None:
        return redusert_wkt(wkt) is not None
    return tolket.geom_type != "Point" and tolket.repeterte_punkter
