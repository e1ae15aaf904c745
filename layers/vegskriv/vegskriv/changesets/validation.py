"""Validation of a changeset against the catalog, the road network and existing data (pure).

The workflow gathers what the rules need (catalog, the sequences and objects the changeset
refers to, and the composed daughters a cascade reaches) and calls :func:`validate`; nothing
here touches AWS, so every rule is unit-testable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from vegskriv import catalog as cat
from vegskriv.changesets.location import check_location, extents, overlaps
from vegskriv.changesets.models import (
    Endringssett,
    Resultat,
    Stedfesting,
    Varsel,
    VegobjektResultat,
    felt,
    gc_paused,
)
from vegskriv.changesets.operations import composed_daughters, normalize_association_type
from vegskriv.changesets.validation_binary import Lookup, check_binaries
from vegskriv.changesets.validation_location import location_warnings, too_short
from vegskriv.changesets.validation_network import network_rules
from vegskriv.changesets.validation_partial import check_elements
from vegskriv.changesets.validation_relations import check_orphans, check_relations, mother_cells
from vegskriv.network import Veglenkesekvens

NORWAY = ZoneInfo("Europe/Oslo")
Versions = dict[int, list[dict[str, Any]]]


@dataclass
class Context:
    catalog: cat.Datakatalog
    current_catalog_version: str
    network: dict[int, Veglenkesekvens]
    existing: Versions = field(default_factory=dict)
    # (typeId, veglenkesekvens) → nvdbIds of objects of that type located there (for overlap rules)
    on_sequence: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    binaries: Lookup | None = None  # which ressursIds exist (BINÆRVERDI_FINNES_IKKE); None: not checked
    skip_location: bool = False  # the validator's skipLocation / skipAssociations
    skip_associations: bool = False


def overlap_cells(doc: Endringssett, catalog: cat.Datakatalog,
                  existing: Versions | None = None) -> set[tuple[int, int]]:
    """The (type, sequence) pairs where a no-overlap type gets a line location in this changeset, and
    where a stored mother may already hold a daughter the changeset gives a new mother (also on
    the stored daughter's own sequences when ``existing`` is given)."""
    cells = mother_cells(doc, catalog, existing)
    for _, objects in doc.operations():
        for o in objects:
            vt = catalog.vegobjekttype(o.typeId)
            stedfesting = felt(o, "stedfesting")
            if vt is not None and not vt.overlapp_tillatt and stedfesting is not None:
                cells |= {(o.typeId, vls) for vls, _, _ in extents(stedfesting)}
    return cells


def _v(kode: str, melding: str, referanse: str, egenskap: int | None = None) -> Varsel:
    return Varsel(kode=kode, melding=melding, referanse=referanse, egenskapTypeId=egenskap)


def _find_version(versions: list[dict[str, Any]], versjon: int | None) -> dict[str, Any] | None:
    return next((v for v in versions if v["versjon"] == versjon), None)


def validate(doc: Endringssett, ctx: Context) -> Resultat:
    with gc_paused():
        return _validate(doc, ctx)


def _validate(doc: Endringssett, ctx: Context) -> Resultat:
    resultat = Resultat()
    if doc.datakatalogversjon != ctx.current_catalog_version:
        resultat.advarsler.append(Varsel(
            kode="IKKE_GJELDENDE_DATAKATALOGVERSJON",
            melding=f"Datakatalogversjonen i endringssettet ({doc.datakatalogversjon}) er ulik gjeldende "
                    f"datakatalogversjon {ctx.current_catalog_version}. Kontroller endringssettet mot gjeldende "
                    "datakatalog."))
    new_types = {o.tempId: o.typeId for o in (doc.registrer.vegobjekter if doc.registrer else [])}
    mothers = _mothers_in_changeset(doc, ctx.catalog, new_types)
    seen_versions: set[tuple[int, int | None]] = set()
    removals = _removals(doc)
    forberedt = cat.Forberedt(geometrier=cat.tolk_wkt(
        wkt for _, objects in doc.operations() for o in objects for wkt in cat.wkts(felt(o, "egenskaper") or [])))
    handled: set[int] | None = None

    for op, objects in doc.operations():
        for o in objects:
            entry = VegobjektResultat(typeId=o.typeId, operasjon=op, tempId=felt(o, "tempId"),
                                      nvdbId=felt(o, "nvdbId"), versjon=felt(o, "versjon"))
            resultat.vegobjekter.append(entry)
            ref = o.tempId if op == "registrer" else f"{o.nvdbId}"
            vt = ctx.catalog.vegobjekttype(o.typeId)
            if vt is None:
                entry.feil.append(_v("UKJENT_VEGOBJEKTTYPE",
                                     f"Vegobjekttypen {o.typeId} finnes ikke i datakatalogen.", ref))
                continue
            if op == "registrer":
                if vt.må_ha_mor and o.tempId not in mothers and not ctx.skip_associations:
                    entry.feil.append(_v("MANGLER_MOROBJEKT",
                                         f"Vegobjekttypen {vt.navn} ({vt.id}) krever morobjekt. Registrer "
                                         f"{o.tempId} som datterobjekt i en assosiasjon fra et morobjekt.", ref))
            else:
                key = (o.nvdbId, o.versjon)
                if key in seen_versions:
                    entry.feil.append(_v("KONFLIKT_MELLOM_VEGOBJEKTER",
                                         f"Vegobjekt {o.nvdbId} versjon {o.versjon} har mer enn én operasjon i "
                                         "endringssettet. Bare én operasjon per vegobjektversjon er tillatt.", ref))
                seen_versions.add(key)
                if op != "fjern" and o.nvdbId in removals and removals[o.nvdbId] is None:
                    entry.feil.append(_v("KONFLIKT_MELLOM_VEGOBJEKTER",
                                         f"Vegobjekt {o.nvdbId} fjernes helt (fjern uten versjon) i samme "
                                         f"endringssett; {op} av versjon {o.versjon} kan ikke utføres i tillegg.",
                                         ref))
                if not _check_existing(op, o, ctx, entry, ref, removals):
                    continue
            _check_type_rules(op, o, vt, ctx, entry, ref)
            if op in ("lukk", "fjern"):
                _check_cascade(op, o, ctx, entry, ref, doc)
                continue
            partial = op.startswith("delvis")
            if partial:
                _check_partial(op, o, vt, ctx, entry, ref)
            feil, advarsler = ctx.catalog.validate_egenskaper(vt, o.egenskaper, referanse=ref, complete=not partial,
                                                              forberedt=forberedt)
            entry.feil.extend(feil)
            entry.advarsler.extend(advarsler)
            if not ctx.skip_location:
                _check_location(o, vt, ctx, entry, ref, partial, forberedt.geometrier)
            if not vt.overlapp_tillatt and not ctx.skip_location:
                if handled is None:
                    handled = changed_objects(doc)  # once: per object it made the rule quadratic
                _check_overlap(o, ctx, entry, ref, doc, handled)
            if not ctx.skip_associations:
                _check_associations(o, vt, ctx, entry, ref, new_types)
    entries: dict[str, VegobjektResultat] = {}
    for e in resultat.vegobjekter:
        entries.setdefault(e.tempId if e.operasjon == "registrer" and e.tempId else str(e.nvdbId), e)
    if not ctx.skip_associations:
        check_relations(doc, ctx.catalog, ctx.existing, ctx.on_sequence, entries)
        check_orphans(doc, ctx.catalog, ctx.existing, entries)
    check_binaries(doc, entries, ctx.binaries)
    return resultat


def _mothers_in_changeset(doc: Endringssett, catalog: cat.Datakatalog, new_types: dict[str, int]) -> set[str]:
    """tempIds that some object in the changeset takes as a daughter through a valid relation."""
    found: set[str] = set()
    for _, objects in doc.operations():
        for o in objects:
            vt = catalog.vegobjekttype(o.typeId)
            for a in felt(o, "assosiasjoner") or []:
                relation = vt.relation_by_id(a.typeId) if vt is not None and a.operasjon != "slett" else None
                if relation is None:
                    continue
                found |= {str(t.verdi) for t in a.tempId if t.operasjon != "slett"
                          and new_types.get(str(t.verdi)) == relation.child_type_id}
    return found


def _removals(doc: Endringssett) -> dict[int, set[int] | None]:
    """nvdbId → versions removed by fjern (None = the whole object)."""
    result: dict[int, set[int] | None] = {}
    for f in doc.fjern.vegobjekter if doc.fjern else []:
        if f.versjon is None or result.get(f.nvdbId, set()) is None:
            result[f.nvdbId] = None
        else:
            current = result.setdefault(f.nvdbId, set())
            assert current is not None
            current.add(f.versjon)
    return result


def _period(o: Any, ctx: Context) -> tuple[date | None, date | None]:
    periode = felt(o, "gyldighetsperiode")
    start = periode.startdato if periode else None
    slutt = periode.sluttdato if periode else None
    if felt(o, "nvdbId") in ctx.existing:
        # what operations._changed_version writes: the stored version's period, the given fields replaced
        old = _find_version(ctx.existing[o.nvdbId], o.versjon)
        if old and start is None:
            start = date.fromisoformat(old["gyldighetsperiode"]["startdato"])
        if old and slutt is None and old["gyldighetsperiode"].get("sluttdato"):
            slutt = date.fromisoformat(old["gyldighetsperiode"]["sluttdato"])
    return start, slutt


def _check_location(o: Any, vt: cat.Vegobjekttype, ctx: Context, entry: VegobjektResultat, ref: str,
                    partial: bool, geometrier: dict[str, cat.Tolket]) -> None:
    start, slutt = _period(o, ctx)
    feil, advarsler = check_location(vt, o.stedfesting, referanse=ref, network=ctx.network, start=start,
                                     slutt=slutt, delvis=partial)
    entry.feil.extend(feil + too_short(o, vt, ctx.network, ref) + network_rules(o, vt, ctx.network, start, slutt, ref))
    entry.advarsler.extend(advarsler + location_warnings(o, vt, ctx.network, ref, geometrier))


def overlapping_objects(o: Any, ctx: Context, doc: Endringssett, handled: set[int] | None = None
                        ) -> list[dict[str, Any]]:
    """Current versions of other objects of the same type whose line location overlaps ``o``'s
    during its validity. Objects the changeset itself changes (``handled``: their nvdbIds, computed
    when not given) are left to their own operation."""
    mine = extents(o.stedfesting)
    if not mine:
        return []
    if handled is None:
        handled = changed_objects(doc)
    start = o.gyldighetsperiode.startdato.isoformat() if o.gyldighetsperiode and o.gyldighetsperiode.startdato \
        else "0000-00-00"
    found: dict[int, dict[str, Any]] = {}
    for vls in {v for v, _, _ in mine}:
        for other in ctx.on_sequence.get((o.typeId, vls), []):
            versions = ctx.existing.get(other) or []
            if other in handled or other in found or not versions:
                continue
            latest = versions[-1]
            end = latest["gyldighetsperiode"].get("sluttdato")
            if latest["typeId"] != o.typeId or (end and end <= start):
                continue
            theirs = extents(Stedfesting.model_validate(latest["stedfesting"])) if latest.get("stedfesting") else []
            if overlaps(mine, theirs):
                found[other] = latest
    return list(found.values())


def changed_objects(doc: Endringssett) -> set[int]:
    """The nvdbIds of the existing objects the changeset changes."""
    return {x.nvdbId for _, objs in doc.operations() for x in objs if felt(x, "nvdbId")}


def _check_overlap(o: Any, ctx: Context, entry: VegobjektResultat, ref: str, doc: Endringssett,
                   handled: set[int]) -> None:
    others = overlapping_objects(o, ctx, doc, handled)
    automatic = o.validering is not None and o.validering.overlappsautomatikk == "JA"
    if others and not automatic:
        ids = ", ".join(str(v["id"]) for v in others)
        entry.feil.append(_v("UGYLDIG_OVERLAPP",
                             f"Vegobjekttype {o.typeId} tillater ikke overlapp, men stedfestingen overlapper "
                             f"vegobjekt {ids}. Juster stedfestingen, eller bestill validering.overlappsautomatikk=JA "
                             "for å korte inn de andre.", ref))


def _check_associations(o: Any, vt: cat.Vegobjekttype, ctx: Context, entry: VegobjektResultat, ref: str,
                        new_types: dict[str, int]) -> None:
    for a in o.assosiasjoner:
        if a.operasjon == "slett":
            continue
        relation = vt.relation_by_id(a.typeId) if normalize_association_type(a.typeId) else None
        if relation is None:
            entry.feil.append(_v("UGYLDIG_EGENSKAPSTYPE",
                                 f"Assosiasjonstypen {a.typeId} finnes ikke for vegobjekttype {vt.navn} ({vt.id}). "
                                 "Bruk typeId 220000+N eller 200000+N fra datakatalogens relasjonstyper.",
                                 ref, a.typeId))
            continue
        child_type = relation.child_type_id
        incremental = any(t.operasjon for t in (*a.tempId, *a.nvdbId))
        if not incremental:  # a full list of daughters (also with operasjon=oppdater): its size must fit
            entry.feil.extend(cat.check_relasjon_antall(relation, len(a.tempId) + len(a.nvdbId), referanse=ref,
                                                        type_id=a.typeId))
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


def _read_time(o: Any) -> datetime | None:
    read = o.validering.lestFraNvdb if o.validering else None
    if read is None:
        return None
    return read if read.tzinfo else read.replace(tzinfo=NORWAY)  # NVDB gives local Norwegian time


def _changed_at(version: dict[str, Any]) -> datetime | None:
    raw = (version.get("metadata") or {}).get("sistEndret")
    return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC) if raw else None


def _check_existing(op: str, o: Any, ctx: Context, entry: VegobjektResultat, ref: str,
                    removals: dict[int, set[int] | None]) -> bool:
    """Rules against stored versions. False when the object cannot be checked further."""
    versions = ctx.existing.get(o.nvdbId) or []

    def add(kode: str, melding: str) -> None:
        entry.feil.append(_v(kode, melding, ref))

    if not versions or versions[-1]["typeId"] != o.typeId:
        add("VEGOBJEKTET_FINNES_IKKE", f"Vegobjekt {o.nvdbId} av type {o.typeId} finnes ikke i NVDB.")
        return False
    latest = versions[-1]
    if op == "fjern":
        return _check_removal(o, versions, removals, add)
    old = _find_version(versions, o.versjon)
    if old is None:
        add("VEGOBJEKTVERSJONEN_FINNES_IKKE",
            f"Vegobjekt {o.nvdbId} har ingen versjon {o.versjon}; siste versjon er {latest['versjon']}.")
        return False
    overwrite = op in ("korriger", "delvisKorriger") or felt(o, "overskriv") == "JA"
    if op in ("oppdater", "delvisOppdater", "lukk") and o.versjon != latest["versjon"]:
        add("VERSJONSKONFLIKT", f"Versjon {o.versjon} av vegobjekt {o.nvdbId} er ikke siste versjon "
                                f"(siste er {latest['versjon']}). Hent vegobjektet på nytt og gjenta endringen.")
        return False
    if overwrite:
        read, changed = _read_time(o), _changed_at(old)
        if read and changed and changed > read:
            add("VEGOBJEKTVERSJON_OVERSKREVET_AV_ANDRE",
                f"Versjon {o.versjon} av vegobjekt {o.nvdbId} ble endret {changed.isoformat()} av et annet "
                f"endringssett, etter at den ble lest ({read.isoformat()}). Les vegobjektet på nytt og gjenta.")
    start = old["gyldighetsperiode"]["startdato"]
    closed = old["gyldighetsperiode"].get("sluttdato")
    if op == "lukk":
        if closed:
            add("VEGOBJEKTET_ER_LUKKET", f"Vegobjekt {o.nvdbId} er allerede lukket med sluttdato {closed}.")
        elif o.lukkedato.isoformat() <= start:
            add("UGYLDIG_STARTDATO", f"Lukkedato {o.lukkedato} må være etter startdato {start} for siste versjon.")
    elif op in ("oppdater", "delvisOppdater") and not overwrite:
        periode = o.gyldighetsperiode
        if periode is None or periode.startdato is None:
            add("UGYLDIG_STARTDATO", "Ny versjon må ha gyldighetsperiode med startdato.")
        elif periode.startdato.isoformat() <= start:
            add("UGYLDIG_STARTDATO", f"Startdato {periode.startdato} for ny versjon må være etter startdato "
                                     f"{start} for versjon {o.versjon}.")
        elif closed and periode.startdato.isoformat() >= closed:
            add("VEGOBJEKTET_ER_LUKKET", f"Vegobjekt {o.nvdbId} er lukket {closed}; ny versjon kan ikke starte "
                                         f"{periode.startdato}.")
        elif closed and periode.sluttdato and periode.sluttdato.isoformat() > closed:
            add("VEGOBJEKTET_ER_LUKKET", f"Vegobjekt {o.nvdbId} er lukket {closed}; ny versjon kan ikke slutte "
                                         f"senere ({periode.sluttdato}). Uten sluttdato slutter den {closed}.")
    return True


def _check_removal(o: Any, versions: list[dict[str, Any]], removals: dict[int, set[int] | None],
                   add: Callable[[str, str], None]) -> bool:
    removed = removals.get(o.nvdbId)
    if removed is None:
        return True  # the whole object
    numbers = [v["versjon"] for v in versions]
    if o.versjon not in numbers:
        add("VEGOBJEKTVERSJONEN_FINNES_IKKE", f"Vegobjekt {o.nvdbId} har ingen versjon {o.versjon}.")
        return False
    if numbers[-1] not in removed:
        add("FJERNING_AV_HISTORISKE_VERSJONER",
            f"Versjonene som fjernes av vegobjekt {o.nvdbId} må begynne med siste versjon ({numbers[-1]}) og gå "
            "bakover i tid.")
    elif sorted(removed) != numbers[len(numbers) - len(removed):]:
        add("FJERNING_AV_USAMMENHENGENDE_VERSJONER",
            f"Versjonene {sorted(removed)} av vegobjekt {o.nvdbId} er ikke sammenhengende bakover fra siste "
            "versjon; fjerningen ville gitt hull i historikken.")
    return True


def _check_partial(op: str, o: Any, vt: cat.Vegobjekttype, ctx: Context, entry: VegobjektResultat,
                   ref: str) -> None:
    changes = bool(o.egenskaper or o.assosiasjoner or o.stedfesting)
    if op == "delvisKorriger":
        changes = changes or o.gyldighetsperiode is not None
    if not changes:
        what = "gyldighetsperioden, en egenskap" if op == "delvisKorriger" else "en egenskap"
        entry.feil.append(_v("UFULLSTENDIG_VEGOBJEKT", f"Delvis endring av vegobjekt {o.nvdbId} angir ingen "
                                                       f"endringer; {what}, en assosiasjon eller stedfestingen "
                                                       "må endres.", ref))
    old = _find_version(ctx.existing.get(o.nvdbId) or [], o.versjon) or {"egenskaper": []}
    has = {e["typeId"] for e in old["egenskaper"]}
    for e in o.egenskaper:
        if e.operasjon == "slett" and e.typeId not in has:
            entry.feil.append(_v("EGENSKAPEN_FINNES_IKKE", f"Egenskap {e.typeId} skal slettes, men vegobjekt "
                                                           f"{o.nvdbId} versjon {o.versjon} har den ikke.",
                                 ref, e.typeId))
    entry.feil.extend(check_elements(o, vt, old))


def _check_cascade(op: str, o: Any, ctx: Context, entry: VegobjektResultat, ref: str, doc: Endringssett) -> None:
    """lukk/fjern of a mother with composed daughters must cascade, or the daughters lose their mother."""
    cascade = (o.kaskadelukking if op == "lukk" else o.kaskadefjerning) == "JA"
    whole = op == "lukk" or o.versjon is None
    if cascade or not whole:
        return
    handled = {x.nvdbId for x in getattr(doc, op).vegobjekter}
    open_daughters = [d for d in composed_daughters(ctx.existing[o.nvdbId][-1], ctx.catalog)
                      if d not in handled and _is_open(ctx.existing.get(d))]
    if open_daughters:
        flag = "kaskadelukking" if op == "lukk" else "kaskadefjerning"
        listed = ", ".join(map(str, open_daughters))
        entry.feil.append(_v("DATTEROBJEKT_UTEN_MOR",
                             f"Vegobjekt {o.nvdbId} har datterobjekter i komposisjon ({listed}) som ville stått uten "
                             f"morobjekt. Sett {flag} til JA, eller ta med datterobjektene i endringssettet.", ref))


def _is_open(versions: list[dict[str, Any]] | None) -> bool:
    return bool(versions) and not versions[-1]["gyldighetsperiode"].get("sluttdato")  # type: ignore[index]



def _check_type_rules(op: str, o: Any, vt: cat.Vegobjekttype, ctx: Context, entry: VegobjektResultat,
                      ref: str) -> None:
    """Rules the type's styringsparametere and stedfesting rules decide for one operation."""
    blocked = [k for k in ("abstrakt_type", "avledet") if vt.styringsparametere.get(k)]
    if blocked:
        grunn = "abstrakt (har ingen egne vegobjekter)" if blocked[0] == "abstrakt_type" else \
            "avledet (NVDB lager og endrer objektene selv)"
        entry.feil.append(_v("VEGOBJEKTTYPE_KAN_IKKE_BEHANDLES",
                             f"Vegobjekttypen {vt.navn} ({vt.id}) er {grunn} og kan ikke behandles i "
                             "endringssett.", ref))
    new_version = op in ("oppdater", "delvisOppdater") and felt(o, "overskriv") != "JA"
    periode = felt(o, "gyldighetsperiode")
    if vt.en_versjon and new_version:
        entry.feil.append(_v("VEGOBJEKTTYPE_TILLATER_KUN_EN_VERSJON",
                             f"Vegobjekttypen {vt.navn} ({vt.id}) har bare én versjon og kan ikke oppdateres. "
                             "Bruk korriger eller delvisKorriger.", ref))
    if not vt.tidsrom_relevant and (op == "lukk" or new_version or (periode and periode.sluttdato)):
        entry.feil.append(_v("VEGOBJEKTTYPE_ER_IKKE_TIDSROMRELEVANT",
                             f"Vegobjekttypen {vt.navn} ({vt.id}) er ikke tidsromrelevant: den kan ikke ha "
                             "sluttdato, og kan verken lukkes eller oppdateres.", ref))
    automatic = felt(o, "validering") is not None and o.validering.overlappsautomatikk == "JA"
    if automatic and vt.stedfesting.overlapp_ok is True and op not in ("lukk", "fjern"):
        entry.advarsler.append(_v("OVERLAPPSAUTOMATIKK_IKKE_PÅKREVD",
                                  f"Vegobjekttypen {vt.navn} ({vt.id}) tillater overlapp, men "
                                  "validering.overlappsautomatikk=JA er bestilt. Bestillingen har ingen virkning.",
                                  ref))
    in_place = op in ("korriger", "delvisKorriger") or felt(o, "overskriv") == "JA"  # overskriv=JA corrects too
    if in_place and periode is not None:
        _check_history(o, ctx.existing.get(o.nvdbId) or [], entry, ref)


def _check_history(o: Any, versions: list[dict[str, Any]], entry: VegobjektResultat, ref: str) -> None:
    """A corrected period must still meet the versions before and after it."""
    numbers = [v["versjon"] for v in versions]
    if o.versjon not in numbers:
        return
    i = numbers.index(o.versjon)
    old = versions[i]["gyldighetsperiode"]
    start = o.gyldighetsperiode.startdato.isoformat() if o.gyldighetsperiode.startdato else old["startdato"]
    end = o.gyldighetsperiode.sluttdato.isoformat() if o.gyldighetsperiode.sluttdato else old.get("sluttdato")
    before = versions[i - 1]["gyldighetsperiode"].get("sluttdato") if i > 0 else None
    after = versions[i + 1]["gyldighetsperiode"]["startdato"] if i + 1 < len(versions) else None
    if (before and start != before) or (after and end != after) or (end and end <= start):
        entry.feil.append(_v("USAMMENHENGENDE_HISTORIKK",
                             f"Ny gyldighetsperiode {start}–{end or ''} for versjon {o.versjon} av vegobjekt "
                             f"{o.nvdbId} gir hull eller overlapp i historikken (forrige versjon slutter "
                             f"{before or '-'}, neste begynner {after or '-'}).", ref))

