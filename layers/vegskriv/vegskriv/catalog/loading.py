"""Loading a catalog: the project's normalized JSON and the real NVDB API Les v3 /vegobjekttyper shape."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from vegskriv.catalog.model import Datakatalog

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


