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

from vegskriv.catalog.geometri_regler import wkts
from vegskriv.catalog.loading import default_catalog, from_nvdb_les, load_catalog
from vegskriv.catalog.model import Datakatalog, Egenskapstype, Relasjonstype, Stedfestingsregler, Vegobjekttype
from vegskriv.catalog.rules import Forberedt, check_relasjon_antall, validate_egenskaper
from vegskriv.catalog.values import (
    SUPPORTED_SRIDS,
    GeometriFeil,
    Tolket,
    antall_desimaler,
    feltbredde,
    parse_boolsk,
    parse_dato,
    parse_flyttall,
    parse_geometri,
    parse_heltall,
    parse_klokkeslett,
    parse_kortdato,
    tolk_wkt,
)

__all__ = [
    "SUPPORTED_SRIDS",
    "Datakatalog",
    "Egenskapstype",
    "Forberedt",
    "GeometriFeil",
    "Relasjonstype",
    "Stedfestingsregler",
    "Tolket",
    "Vegobjekttype",
    "antall_desimaler",
    "check_relasjon_antall",
    "default_catalog",
    "feltbredde",
    "from_nvdb_les",
    "load_catalog",
    "parse_boolsk",
    "parse_dato",
    "parse_flyttall",
    "parse_geometri",
    "parse_heltall",
    "parse_klokkeslett",
    "parse_kortdato",
    "tolk_wkt",
    "validate_egenskaper",
    "wkts",
]
