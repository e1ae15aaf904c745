"""Build the project's normalized catalog from the shared Datakatalog extract.

Usage (from the repository root)::

    python scripts/build_catalog.py [--source ../shared/data/datakatalog/datakatalog-extract.json]
                                    [--target layers/vegskriv/vegskriv/data/datakatalog.json]

The generated file is committed: the project must run without ``../shared``, so the output is the
source of truth at runtime. Running the script twice on the same extract gives byte-identical output.
The format and every rule applied here are documented in ``docs/datakatalog.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "datakatalog" / "datakatalog-extract.json"
DEFAULT_TARGET = ROOT / "layers" / "vegskriv" / "vegskriv" / "data" / "datakatalog.json"

CATALOG_VERSION = "2.38"

# Association ids: list property 220000+N, association 200000+N (documented in the API and observed:
# the real 2.37 endringssett writes the 79→83 association as 220116 in registrer, 200116 in
# delvisOppdater).
LISTE_BASE = 220000
ASSOSIASJON_BASE = 200000

# Limits and descriptive fields copied verbatim from type-A property types when present.
ET_LIMITS = ("feltlengde", "desimaler", "min", "maks", "min_anbefalt", "maks_anbefalt", "feltmønster")
STEDFESTING_DETAILS = (
    "egenskapstype_id",
    "geometritype",
    "overlapp_ok",
    "kjørefelt_relevant",
    "sideposisjon_relevant",
    "innenfor_mor",
    "vegnettsajourhold_splitt",
)
STYRING_KEYS = ("tidsrom_relevant", "må_ha_mor", "en_versjon", "konnekteringslenke_ok", "abstrakt_type",
                "avledet", "sensitiv")

RULES = [
    "Ids, names, datatypes, enum values (id, verdi, kortnavn), viktighet, sensitivitet, limits, "
    "geometritype, stedfesting and relations are copied from the extract; nothing is invented.",
    "datatype null on an enum property: the extract's datatype_antatt (inferred from the values) is used; "
    "with no values and no datatype_antatt (60 Bru) the datatype is Tekst and verdier_ukjente is true, "
    "so any value of that datatype is accepted.",
    "Enum values of Heltall/Flyttall properties are stored as numbers (the XSD gives them as strings).",
    "tillatte_verdier[].kortnavn is the API's kortnavn for A types and the XSD enumeration code "
    "(xsd_enum_verdi) for B types.",
    "Source B (XSD) gives no viktighet, only multiplicity: påkrevd (minOccurs 1) becomes "
    "PÅKREVD_IKKE_ABSOLUTT, because real data omits such properties (the 2.37 endringssett leaves out "
    "11200 on 311 of 399 type-79 objects), so a missing one may only warn. Optional B properties have "
    "no viktighet (unknown, treated as optional). Source A keeps its real viktighet.",
    "Relations: liste_egenskapstype_id is 220000+N and assosiasjon_egenskapstype_id 200000+N; a missing "
    "one is derived from the other and the field is listed in the relation's 'antatt'.",
    "Relations derived as inverses by the extract are marked 'antatt': ['invers'].",
    "105 Fartsgrense (2019 API JSON) gets what the 2.38 XSD adds: enum values 19885 (5) and 19642 (120) "
    "of 2021, and property 11845 'Geometri, hjelpelinje' (geometritype not given by the source, so any "
    "geometry type is accepted).",
    "stedfesting details (overlapp_ok, kjørefelt_relevant, sideposisjon_relevant, innenfor_mor, "
    "vegnettsajourhold_splitt) exist only for A types; for the others they are absent here and "
    "vegskriv.catalog applies documented permissive defaults.",
    "Provenance fields (kilde*, beskrivelse, sosinvdbnavn, sorteringsnummer, ...) are dropped.",
]

ASSUMPTIONS = [
    "79 Stikkrenne/Kulvert → 83 Kum (220116/200116) was observed in a real changeset only: relasjonstype, "
    "innenfor_mor and min/max antall are unknown and left null (not guessed). Consumers must treat a null "
    "relasjonstype as unknown (neither composition nor aggregation rules can be assumed).",
    "Type versions are mixed: A types 14, 95, 105, 581 are 2019 API JSON, 103 is XSD 2.26, 174 is XSD "
    "2.22, the rest XSD 2.38. 'versjon' states the version vegskriv announces.",
    "60 Bru: enum values are not part of the extract (verdier_ukjente).",
]


def _enum_value(value: Any, datatype: str) -> Any:
    """XSD enum values are strings; numeric enums are stored as numbers so validation compares values."""
    if not isinstance(value, str):
        return value
    try:
        if datatype == "Heltall":
            return int(value)
        if datatype == "Flyttall":
            return float(value)
    except ValueError:
        return value
    return value


def _tillatt_verdi(raw: dict[str, Any], datatype: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": raw["id"], "verdi": _enum_value(raw["verdi"], datatype)}
    kortnavn = raw.get("kortnavn", raw.get("xsd_enum_verdi"))
    if kortnavn is not None:
        out["kortnavn"] = kortnavn
    return out


def _viktighet(raw: dict[str, Any], kilde: str) -> str | None:
    if kilde == "A":
        return raw.get("viktighet")
    return "PÅKREVD_IKKE_ABSOLUTT" if raw.get("påkrevd") else None


def normalize_egenskapstype(raw: dict[str, Any], kilde: str) -> dict[str, Any]:
    datatype = raw.get("datatype") or raw.get("datatype_antatt") or "Tekst"
    out: dict[str, Any] = {"id": raw["id"], "navn": raw["navn"], "datatype": datatype}
    if raw.get("enum"):
        out["enum"] = True
    if raw.get("geometritype"):
        out["geometritype"] = raw["geometritype"]
    viktighet = _viktighet(raw, kilde)
    if viktighet is not None:
        out["viktighet"] = viktighet
    if raw.get("sensitivitet") is not None:
        out["sensitivitet"] = raw["sensitivitet"]
    for key in ET_LIMITS:
        if raw.get(key) is not None:
            out[key] = raw[key]
    if raw.get("enhet"):
        out["enhet"] = raw["enhet"]
    if raw.get("enum"):
        if raw.get("tillatte_verdier_utelatt") or not raw.get("tillatte_verdier"):
            out["verdier_ukjente"] = True
        out["tillatte_verdier"] = [_tillatt_verdi(v, datatype) for v in raw.get("tillatte_verdier") or []]
    return out


def normalize_relasjon(raw: dict[str, Any]) -> dict[str, Any]:
    liste_id = raw.get("liste_egenskapstype_id")
    assosiasjon_id = raw.get("assosiasjon_egenskapstype_id")
    antatt: list[str] = []
    if liste_id is not None and assosiasjon_id is None:
        assosiasjon_id = liste_id - LISTE_BASE + ASSOSIASJON_BASE
        antatt.append("assosiasjon_egenskapstype_id")
    elif assosiasjon_id is not None and liste_id is None:
        liste_id = assosiasjon_id - ASSOSIASJON_BASE + LISTE_BASE
        antatt.append("liste_egenskapstype_id")
    if str(raw.get("kilde", "")).startswith("avledet (invers)"):
        antatt.append("invers")
    out: dict[str, Any] = {
        "liste_egenskapstype_id": liste_id,
        "assosiasjon_egenskapstype_id": assosiasjon_id,
        "navn": raw.get("navn"),
        "relasjonstype": raw.get("relasjonstype"),
        "innenfor_mor": raw.get("innenfor_mor"),
        "vegobjekttype": {"id": raw["vegobjekttype"]["id"], "navn": raw["vegobjekttype"]["navn"]},
        "min_antall": raw.get("min_antall"),
        "maks_antall": raw.get("maks_antall"),
    }
    if raw.get("viktighet"):
        out["viktighet"] = raw["viktighet"]
    if antatt:
        out["antatt"] = antatt
    return {k: v for k, v in out.items() if v is not None or k in ("liste_egenskapstype_id", "relasjonstype")}


def normalize_stedfesting(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": raw.get("stedfesting")}
    details = raw.get("stedfesting_detaljer") or {}
    for key in STEDFESTING_DETAILS:
        if details.get(key) is not None:
            out[key] = details[key]
    return out


def _merge_xsd_additions(vt: dict[str, Any], comparison: dict[str, Any]) -> None:
    """Type 105 comes from 2019 JSON; add what the 2.38 XSD has beyond it (ids and values are real)."""
    by_id = {et["id"]: et for et in vt["egenskapstyper"]}
    for et_id, values in (comparison.get("tillatte_verdier_kun_i_xsd") or {}).items():
        et = by_id[int(et_id)]
        known = {v["id"] for v in et["tillatte_verdier"]}
        et["tillatte_verdier"].extend(
            _tillatt_verdi(v, et["datatype"]) for v in values if v["id"] not in known
        )
    for raw in comparison.get("egenskapstyper_kun_i_xsd") or []:
        if raw["id"] not in by_id:
            vt["egenskapstyper"].append(normalize_egenskapstype(raw, "B"))


def normalize_vegobjekttype(raw: dict[str, Any]) -> dict[str, Any]:
    kilde = "A" if raw["kilde"].startswith("A") else "B"
    out: dict[str, Any] = {"id": raw["id"], "navn": raw["navn"]}
    if raw.get("kortnavn"):
        out["kortnavn"] = raw["kortnavn"]
    out["kilde"] = kilde
    out["datakatalogversjon"] = raw.get("datakatalogversjon")
    out["stedfesting"] = normalize_stedfesting(raw)
    styring = raw.get("styringsparametere") or {}
    if styring:
        out["styringsparametere"] = {k: styring[k] for k in STYRING_KEYS if k in styring}
    out["egenskapstyper"] = [normalize_egenskapstype(et, kilde) for et in raw["egenskapstyper"]]
    if raw.get("sammenligning_xsd"):
        _merge_xsd_additions(out, raw["sammenligning_xsd"])
    relasjoner = raw.get("relasjonstyper") or {}
    out["relasjonstyper"] = {
        side: [normalize_relasjon(r) for r in relasjoner.get(side) or []] for side in ("barn", "foreldre")
    }
    return out


def build(extract: dict[str, Any]) -> dict[str, Any]:
    meta = extract.get("_meta", {})
    vegobjekttyper = sorted(
        (normalize_vegobjekttype(vt) for vt in extract["vegobjekttyper"]), key=lambda vt: vt["id"]
    )
    return {
        "versjon": CATALOG_VERSION,
        "_meta": {
            "tittel": "vegskriv datakatalog (normalisert utdrag av NVDB Datakatalogen)",
            "kilde": "../shared/data/datakatalog/datakatalog-extract.json"
            f" (generert {meta.get('generert', 'ukjent')}), bygget med scripts/build_catalog.py",
            "kilder": {
                "A": "nvdb-vegdata/nvdb-api-client: NVDB API Les v3 GET /vegobjekttyper/{id} (2019)",
                "B": "vegvesen/NVDB-Datakatalogen GML/<id>.xsd (versjon per type i datakatalogversjon)",
                "D": "real NVDB API Skriv v3 endringssett 2.37 (LtGlahn/adhocanalyser): relation 79→83",
            },
            "lisens": "NLOD 1.0 (Norsk lisens for offentlige data, https://data.norge.no/nlod/no/1.0); "
            "data published by Statens vegvesen",
            "regler": RULES,
            "antagelser": ASSUMPTIONS,
            "dokumentasjon": "docs/datakatalog.md",
        },
        "datatyper": [
            {"id": d["id"], "navn": d["navn"], "kortnavn": d.get("kortnavn")} for d in extract["datatyper"]
        ],
        "vegobjekttyper": vegobjekttyper,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET)
    args = parser.parse_args(argv)
    if not args.source.exists():
        print(f"finner ikke {args.source}", file=sys.stderr)
        return 1
    catalog = build(json.loads(args.source.read_text(encoding="utf-8")))
    # One vegobjekttype per line block keeps diffs readable while the file stays small.
    text = json.dumps(catalog, ensure_ascii=False, indent=1) + "\n"
    args.target.write_text(text, encoding="utf-8")
    n_et = sum(len(vt["egenskapstyper"]) for vt in catalog["vegobjekttyper"])
    print(f"{args.target}: {len(catalog['vegobjekttyper'])} vegobjekttyper, {n_et} egenskapstyper, "
          f"{len(text)} tegn")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
