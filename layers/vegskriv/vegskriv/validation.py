"""Validation of a changeset against the catalog, the road network and existing data (pure).

The workflow gathers what the rules need (catalog, the sequences and objects the changeset
refers to) and calls :func:`validate`; nothing here touches AWS, so every rule is unit-testable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vegskriv import catalog as cat
from vegskriv.models import (
    Endringssett,
    Resultat,
    Varsel,
    VegobjektResultat,
)
from vegskriv.network import Veglenkesekvens
from vegskriv.operations import normalize_association_type


@dataclass
class Context:
    catalog: cat.Datakatalog
    current_catalog_version: str
    network: dict[int, Veglenkesekvens]
    existing: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


def referenced_sequences(doc: Endringssett) -> set[int]:
    ids: set[int] = set()
    for _, objects in doc.operations():
        for o in objects:
            stedfesting = getattr(o, "stedfesting", None)
            if stedfesting is not None:
                ids |= stedfesting.veglenkesekvenser()
    return ids


def referenced_objects(doc: Endringssett) -> set[int]:
    ids: set[int] = set()
    for _, objects in doc.operations():
        for o in objects:
            if getattr(o, "nvdbId", None):
                ids.add(o.nvdbId)
            for a in getattr(o, "assosiasjoner", None) or []:
                ids |= {int(t.verdi) for t in a.nvdbId if str(t.verdi).isdigit()}
    return ids


def _v(kode: str, melding: str, referanse: str, egenskap: int | None = None) -> Varsel:
    return Varsel(kode=kode, melding=melding, referanse=referanse, egenskapTypeId=egenskap)


def validate(doc: Endringssett, ctx: Context) -> Resultat:
    resultat = Resultat()
    if doc.datakatalogversjon != ctx.current_catalog_version:
        resultat.advarsler.append(Varsel(
            kode="IKKE_GJELDENDE_DATAKATALOGVERSJON",
            melding=f"Endringssettet er laget for datakatalogversjon {doc.datakatalogversjon}, men gjeldende "
                    f"versjon er {ctx.current_catalog_version}. Kontroller endringssettet mot gjeldende datakatalog."))
    new_types = {o.tempId: o.typeId for o in (doc.registrer.vegobjekter if doc.registrer else [])}
    seen_versions: set[tuple[int, int]] = set()

    for op, objects in doc.operations():
        for o in objects:
            entry = VegobjektResultat(typeId=o.typeId, operasjon=op, tempId=getattr(o, "tempId", None),
                                      nvdbId=getattr(o, "nvdbId", None), versjon=getattr(o, "versjon", None))
            ref = o.tempId if op == "registrer" else f"{o.nvdbId}"
            resultat.vegobjekter.append(entry)
            vt = ctx.catalog.vegobjekttype(o.typeId)
            if vt is None:
                entry.feil.append(_v("UKJENT_VEGOBJEKTTYPE",
                                     f"Vegobjekttypen {o.typeId} finnes ikke i datakatalogen.", ref))
                continue
            if op != "registrer":
                key = (o.nvdbId, o.versjon)
                if key in seen_versions:
                    entry.feil.append(_v("FLERE_OPERASJONER_PÅ_SAMME_VEGOBJEKTVERSJON",
                                         f"Vegobjekt {o.nvdbId} versjon {o.versjon} har mer enn én operasjon i "
                                         "endringssettet. Bare én operasjon per vegobjektversjon er tillatt.", ref))
                seen_versions.add(key)
                _check_existing(op, o, ctx, entry, ref)
            if op in ("lukk", "fjern"):
                continue
            partial = op.startswith("delvis")
            feil, advarsler = ctx.catalog.validate_egenskaper(vt, o.egenskaper, referanse=ref, complete=not partial)
            entry.feil.extend(feil)
            entry.advarsler.extend(advarsler)
            _check_location(o, ctx, entry, ref, partial)
            _check_associations(o, ctx, entry, ref, new_types)
    return resultat


def _period(o: Any, ctx: Context) -> tuple[date | None, date | None]:
    periode = getattr(o, "gyldighetsperiode", None)
    start = periode.startdato if periode else None
    slutt = periode.sluttdato if periode else None
    if start is None and getattr(o, "nvdbId", None) in ctx.existing:
        old = _find_version(ctx.existing[o.nvdbId], o.versjon)
        if old:
            start = date.fromisoformat(old["gyldighetsperiode"]["startdato"])
    return start, slutt


def _check_location(o: Any, ctx: Context, entry: VegobjektResultat, ref: str, partial: bool) -> None:
    stedfesting = o.stedfesting
    if stedfesting is None:
        return
    start, slutt = _period(o, ctx)
    for vls_id in sorted(stedfesting.veglenkesekvenser()):
        seq = ctx.network.get(vls_id)
        if seq is None:
            entry.feil.append(_v("UKJENT_VEGLENKESEKVENS",
                                 f"Veglenkesekvens {vls_id} finnes ikke i vegnettet. Kontroller "
                                 "veglenkesekvensNvdbId i stedfestingen.", ref))
        elif start is not None and not seq.gyldig_i(start, slutt):
            entry.feil.append(_v("VEGLENKESEKVENS_UGYLDIG_PÅ_TIDSPUNKT",
                                 f"Veglenkesekvens {vls_id} er ikke gyldig i hele vegobjektets gyldighetsperiode "
                                 f"(fra {start}{' til ' + str(slutt) if slutt else ''}); veglenkesekvensen er gyldig "
                                 f"fra {seq.startdato}{' til ' + str(seq.sluttdato) if seq.sluttdato else ''}.", ref))


def _check_associations(o: Any, ctx: Context, entry: VegobjektResultat, ref: str, new_types: dict[str, int]) -> None:
    vt = ctx.catalog.vegobjekttype(o.typeId)
    for a in o.assosiasjoner:
        if a.operasjon == "slett":
            continue
        relation = vt.relation_by_id(a.typeId) if normalize_association_type(a.typeId) else None
        if relation is None:
            entry.feil.append(_v("UKJENT_EGENSKAPSTYPE",
                                 f"Assosiasjonstypen {a.typeId} finnes ikke for vegobjekttype {o.typeId}.",
                                 ref, a.typeId))
            continue
        child_type = relation.child_type_id
        for target in a.tempId:
            if target.operasjon == "slett":
                continue
            actual = new_types.get(str(target.verdi))
            if actual is None:
                entry.feil.append(_v("DATTEROBJEKT_FINNES_IKKE",
                                     f"Datterobjektet med tempId {target.verdi} registreres ikke i endringssettet.",
                                     ref, a.typeId))
            elif actual != child_type:
                entry.feil.append(_v("DATTEROBJEKT_AV_FEIL_TYPE",
                                     f"Datterobjektet {target.verdi} er av type {actual}, men assosiasjonen "
                                     f"{a.typeId} krever type {child_type}.", ref, a.typeId))
        for target in a.nvdbId:
            if target.operasjon == "slett":
                continue
            versions = ctx.existing.get(int(target.verdi)) if str(target.verdi).isdigit() else None
            if not versions:
                entry.feil.append(_v("DATTEROBJEKT_FINNES_IKKE",
                                     f"Datterobjektet {target.verdi} finnes ikke i NVDB.", ref, a.typeId))
            elif versions[-1]["typeId"] != child_type:
                entry.feil.append(_v("DATTEROBJEKT_AV_FEIL_TYPE",
                                     f"Datterobjektet {target.verdi} er av type {versions[-1]['typeId']}, men "
                                     f"assosiasjonen {a.typeId} krever type {child_type}.", ref, a.typeId))


def _find_version(versions: list[dict[str, Any]], versjon: int) -> dict[str, Any] | None:
    return next((v for v in versions if v["versjon"] == versjon), None)


def _check_existing(op: str, o: Any, ctx: Context, entry: VegobjektResultat, ref: str) -> None:
    versions = ctx.existing.get(o.nvdbId) or []
    add: Callable[[str, str], None] = lambda kode, melding: entry.feil.append(_v(kode, melding, ref))  # noqa: E731
    if not versions:
        add("VEGOBJEKTET_FINNES_IKKE", f"Vegobjekt {o.nvdbId} finnes ikke i NVDB.")
        return
    latest = versions[-1]
    if latest["typeId"] != o.typeId:
        add("VEGOBJEKTET_FINNES_IKKE", f"Vegobjekt {o.nvdbId} er av type {latest['typeId']}, ikke {o.typeId}.")
        return
    old = _find_version(versions, o.versjon)
    if old is None:
        add("VEGOBJEKTVERSJONEN_FINNES_IKKE",
            f"Vegobjekt {o.nvdbId} har ingen versjon {o.versjon}; siste versjon er {latest['versjon']}.")
        return
    latest_only = op in ("oppdater", "delvisOppdater", "lukk")
    if latest_only and o.versjon != latest["versjon"]:
        add("VERSJONSKONFLIKT", f"Versjon {o.versjon} av vegobjekt {o.nvdbId} er ikke siste versjon "
                                f"(siste er {latest['versjon']}). Hent vegobjektet på nytt og gjenta endringen.")
        return
    closed = old["gyldighetsperiode"].get("sluttdato")
    if op == "lukk" and closed:
        add("VEGOBJEKTET_ER_LUKKET", f"Vegobjekt {o.nvdbId} er allerede lukket med sluttdato {closed}.")
    if op in ("oppdater", "delvisOppdater") and getattr(o, "overskriv", None) != "JA":
        periode = o.gyldighetsperiode
        if periode is None or periode.startdato is None:
            add("UGYLDIG_STARTDATO", "Ny versjon må ha gyldighetsperiode med startdato.")
        elif periode.startdato <= date.fromisoformat(old["gyldighetsperiode"]["startdato"]):
            add("UGYLDIG_STARTDATO", f"Startdato {periode.startdato} for ny versjon må være etter startdato "
                                     f"{old['gyldighetsperiode']['startdato']} for versjon {o.versjon}.")
        elif closed and op == "oppdater":
            add("VEGOBJEKTET_ER_LUKKET", f"Vegobjekt {o.nvdbId} er lukket ({closed}) og kan ikke oppdateres.")
    if op == "lukk" and not closed:
        start = old["gyldighetsperiode"]["startdato"]
        if o.lukkedato.isoformat() <= start:
            add("UGYLDIG_SLUTTDATO", f"Lukkedato {o.lukkedato} må være etter startdato {start}.")
