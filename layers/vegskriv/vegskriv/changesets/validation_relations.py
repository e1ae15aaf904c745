"""Mother/daughter rules of a changeset (pure): how many mothers a daughter has, and whether a
daughter's location lies inside its mother's (real codes from endringssett/behandlingsresultat.md).

Only associations the changeset itself gives are judged; stored mothers are found among the
objects the workflow fetched for the (mother type, sequence) cells :func:`mother_cells` names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from vegskriv import catalog as cat
from vegskriv.changesets.models import Endringssett, Varsel, VegobjektResultat, felt
from vegskriv.changesets.operations import associations, composed_daughters, merged_associations

Versions = dict[int, list[dict[str, Any]]]
_EPS = 1e-9


def én_mor(relation: cat.Relasjonstype) -> bool:
    """A daughter in composition has one mother. An unknown relasjonstype counts as composition:
    the extract leaves it empty for 79→83 (220116), and NVDB rejected a Kum given a second
    Stikkrenne with MER_ENN_ETT_MOROBJEKT (docs/varselkoder.md)."""
    return relation.relasjonstype in ("KOMPOSISJON", None)


@dataclass(frozen=True)
class _Place:
    vls: int
    fra: float
    til: float
    felt: frozenset[str] | None
    side: str | None


def _places(stedfesting: dict[str, Any] | None) -> list[_Place]:
    places: list[_Place] = []
    for kind in ("punkt", "linje"):
        for e in (stedfesting or {}).get(kind) or []:
            if e.get("operasjon") == "slett":
                continue
            fra = e["posisjon"] if kind == "punkt" else e["fra"]
            til = e["posisjon"] if kind == "punkt" else e["til"]
            felt = frozenset(e["kjørefelt"]) if e.get("kjørefelt") else None
            places.append(_Place(e["veglenkesekvensNvdbId"], fra, til, felt, e.get("sideposisjon")))
    return places


def placement(daughter: list[_Place], mother: list[_Place]) -> str | None:
    """None when the mother covers the daughter; else "utenfor", "felt" or "sideposisjon"."""
    worst: str | None = None
    for d in daughter:
        covering = [m for m in mother if m.vls == d.vls and m.fra - _EPS <= d.fra and d.til <= m.til + _EPS]
        if not covering:
            return "utenfor"
        if all(m.felt is not None and d.felt is not None and not d.felt <= m.felt for m in covering):
            worst = "felt"
        elif worst is None and all(m.side and d.side and m.side != d.side for m in covering):
            worst = "sideposisjon"
    return worst


def _dump(stedfesting: Any) -> dict[str, Any] | None:
    return stedfesting.model_dump(mode="json", exclude_none=True) if stedfesting is not None else None


def _is_open(version: dict[str, Any]) -> bool:
    return not version["gyldighetsperiode"].get("sluttdato")


@dataclass
class _Mother:
    key: str  # tempId or nvdbId
    obj: Any
    vt: cat.Vegobjekttype


def _new_mothers(doc: Endringssett, catalog: cat.Datakatalog) -> Iterator[tuple[_Mother, Any, cat.Relasjonstype]]:
    """(mother, association, relation) for every association the changeset gives."""
    for op, objects in doc.operations():
        if op in ("lukk", "fjern"):
            continue
        for o in objects:
            vt = catalog.vegobjekttype(o.typeId)
            if vt is None:
                continue
            key = o.tempId if op == "registrer" else str(o.nvdbId)
            for a in felt(o, "assosiasjoner") or []:
                relation = vt.relation_by_id(a.typeId) if a.operasjon != "slett" else None
                if relation is not None:
                    yield _Mother(key, o, vt), a, relation


def mother_cells(doc: Endringssett, catalog: cat.Datakatalog,
                 existing: Versions | None = None) -> set[tuple[int, int]]:
    """(mother type, sequence) where a stored mother could already hold a daughter this changeset
    gives a new one-mother: the stored mother is looked for on the new mother's sequences and,
    when the stored daughters are known (``existing``), on the daughter's own sequences, where a
    mother that holds it is located even when the new mother is elsewhere."""
    cells: set[tuple[int, int]] = set()
    for mother, a, relation in _new_mothers(doc, catalog):
        if not én_mor(relation) or not a.nvdbId:
            continue
        stedfesting = felt(mother.obj, "stedfesting")
        if stedfesting is not None:
            cells |= {(mother.vt.id, vls) for vls in stedfesting.veglenkesekvenser()}
        for t in a.nvdbId:
            daughter = (existing or {}).get(t.verdi)
            if t.operasjon != "slett" and daughter:
                cells |= {(mother.vt.id, p.vls) for p in _places(daughter[-1].get("stedfesting"))}
    return cells


_STEDFESTING_KODER = {
    # (daughter given new in this changeset?, placement) → code
    (True, "utenfor"): "STEDFESTING_UTENFOR_MOROBJEKT",
    (True, "felt"): "STEDFESTING_INNENFOR_MOROBJEKT_MEN_ANNET_FELT",
    (True, "sideposisjon"): "STEDFESTING_INNENFOR_MOROBJEKT_MEN_ANNEN_SIDEPOSISJON",
    (False, "utenfor"): "STEDFESTING_DEKKER_IKKE_DATTEROBJEKT",
    (False, "felt"): "STEDFESTING_DEKKER_DATTEROBJEKT_MEN_ANNET_FELT",
    (False, "sideposisjon"): "STEDFESTING_DEKKER_DATTEROBJEKT_MEN_ANNEN_SIDEPOSISJON",
}
_HVA = {"utenfor": "", "felt": " men i et annet kjørefelt", "sideposisjon": " men med annen sideposisjon"}


def check_relations(doc: Endringssett, catalog: cat.Datakatalog, existing: Versions,
                    on_sequence: dict[tuple[int, int], list[int]],
                    entries: dict[str, VegobjektResultat]) -> None:
    """Add MER_ENN_ETT_MOROBJEKT and the STEDFESTING_*_MOROBJEKT/DATTEROBJEKT codes to ``entries``
    (keyed by tempId for new objects, else nvdbId)."""
    new = {o.tempId: o for o in (doc.registrer.vegobjekter if doc.registrer else [])}
    in_changeset = {str(o.nvdbId) for _, objs in doc.operations() for o in objs if felt(o, "nvdbId")}
    held_by: dict[str, list[tuple[_Mother, int]]] = {}
    dumps: dict[int, dict[str, Any] | None] = {}  # id(model) → its dump: a mother is judged once per daughter

    def dump(stedfesting: Any) -> dict[str, Any] | None:
        if id(stedfesting) not in dumps:
            dumps[id(stedfesting)] = _dump(stedfesting)
        return dumps[id(stedfesting)]

    for mother, a, relation in _new_mothers(doc, catalog):
        targets = [(str(t.verdi), True) for t in a.tempId if t.operasjon != "slett"]
        targets += [(str(t.verdi), False) for t in a.nvdbId if t.operasjon != "slett"]
        for target, is_temp in targets:
            if is_temp:
                daughter = new.get(target)
                if daughter is None or daughter.typeId != relation.child_type_id:
                    continue  # DATTEROBJEKT_* already
                d_sted = daughter.stedfesting  # dumped below, when needed
            else:
                versions = existing.get(int(target)) if target.isdigit() else None
                if not versions or versions[-1]["typeId"] != relation.child_type_id:
                    continue
                d_sted = versions[-1].get("stedfesting")
            if én_mor(relation):
                held_by.setdefault(target, []).append((mother, a.typeId))
            if relation.innenfor_mor == "JA":
                _check_inside(mother, a.typeId, target, is_temp, dump(d_sted) if is_temp else d_sted,
                              dump(felt(mother.obj, "stedfesting")), existing, entries)
    for daughter, mothers in held_by.items():
        _check_one_mother(daughter, mothers, catalog, existing, on_sequence, in_changeset, new, entries)


def _check_inside(mother: _Mother, type_id: int, target: str, is_temp: bool, d_sted: dict[str, Any] | None,
                  m_sted: dict[str, Any] | None, existing: Versions, entries: dict[str, VegobjektResultat]) -> None:
    stored = existing.get(int(mother.key)) if mother.key.isdigit() else None
    if (m_sted is None or any(e.get("operasjon") for k in ("punkt", "linje") for e in m_sted.get(k) or [])) \
            and stored:
        m_sted = stored[-1].get("stedfesting")  # not given, or given as element changes: judge the stored one
    where = placement(_places(d_sted), _places(m_sted)) if d_sted and m_sted else None
    if where is None:
        return
    kode = _STEDFESTING_KODER[(is_temp, where)]
    if is_temp:
        entry, ref = entries.get(target), target
        melding = (f"Stedfestingen til {target} dekkes av morobjektet {mother.key}s stedfesting{_HVA[where]}"
                   if where != "utenfor" else
                   f"Stedfestingen til {target} ligger utenfor stedfestingen til morobjektet {mother.key}")
    else:
        entry, ref = entries.get(mother.key), mother.key
        melding = (f"Stedfestingen til {mother.key} dekker datterobjektet {target}{_HVA[where]}"
                   if where != "utenfor" else
                   f"Stedfestingen til {mother.key} dekker ikke stedfestingen til datterobjektet {target}")
    if entry is not None:
        entry.feil.append(Varsel(kode=kode, melding=melding + ". Juster stedfestingen slik at datterobjektet "
                                 "ligger innenfor morobjektet.", referanse=ref, egenskapTypeId=type_id))


def _stored_holders(daughter: str, catalog: cat.Datakatalog, existing: Versions,
                    on_sequence: dict[tuple[int, int], list[int]], in_changeset: set[str]) -> list[int]:
    """Stored, open objects (not changed by this changeset) holding ``daughter`` through a one-mother
    relation."""
    if not daughter.isdigit():
        return []
    holders: set[int] = set()
    for (type_id, _), ids in on_sequence.items():
        vt = catalog.vegobjekttype(type_id)
        for n in ids:
            versions = existing.get(n)
            if vt is None or not versions or str(n) in in_changeset or not _is_open(versions[-1]):
                continue
            for a in versions[-1].get("assosiasjoner") or []:
                relation = vt.relation_by_id(a["typeId"])
                if relation is not None and én_mor(relation) and int(daughter) in a.get("nvdbId", []):
                    holders.add(n)
    return sorted(holders)


def _check_one_mother(daughter: str, mothers: list[tuple[_Mother, int]], catalog: cat.Datakatalog,
                      existing: Versions, on_sequence: dict[tuple[int, int], list[int]],
                      in_changeset: set[str], new: dict[str, Any], entries: dict[str, VegobjektResultat]) -> None:
    keys = sorted({m.key for m, _ in mothers})
    stored = _stored_holders(daughter, catalog, existing, on_sequence, in_changeset)
    if len(keys) + len(stored) < 2:
        return
    listed = ", ".join(keys + [f"{n} (i NVDB)" for n in stored])
    melding = (f"Datterobjektet {daughter} kan ha bare ett morobjekt, men vil få flere: {listed}. Fjern "
               "assosiasjonen fra det ene morobjektet i samme endringssett.")
    if daughter in new or daughter in in_changeset:
        entry = entries.get(daughter)
        if entry is not None:
            entry.feil.append(Varsel(kode="MER_ENN_ETT_MOROBJEKT", melding=melding, referanse=daughter))
        return
    for mother, type_id in mothers:
        entry = entries.get(mother.key)
        if entry is not None:
            entry.feil.append(Varsel(kode="MER_ENN_ETT_MOROBJEKT", melding=melding, referanse=mother.key,
                                     egenskapTypeId=type_id))


CHANGING = ("oppdater", "delvisOppdater", "korriger", "delvisKorriger")  # operations that set associations


def check_orphans(doc: Endringssett, catalog: cat.Datakatalog, existing: dict[int, list[dict[str, Any]]],
                  entries: dict[str, VegobjektResultat]) -> None:
    """DATTEROBJEKT_UTEN_MOR for a daughter of a type that must have a mother which a changed mother's
    associations no longer hold, unless the changeset gives it another mother, closes or removes it."""
    handled = {o.nvdbId for op in ("lukk", "fjern") if getattr(doc, op) for o in getattr(doc, op).vegobjekter}
    adopted = {int(t.verdi) for _, objs in doc.operations() for o in objs for a in felt(o, "assosiasjoner") or []
               if a.operasjon != "slett" for t in a.nvdbId if t.operasjon != "slett"}
    for op in CHANGING:
        group = getattr(doc, op)
        for o in group.vegobjekter if group else []:
            versions = existing.get(o.nvdbId) or []
            if not versions or versions[-1]["versjon"] != o.versjon or not _is_open(versions[-1]):
                continue  # only the current version holds daughters now
            old = versions[-1]
            after = (merged_associations(old.get("assosiasjoner") or [], o, {}) if op.startswith("delvis")
                     else associations(o.assosiasjoner, {}))
            kept = {n for a in after for n in a["nvdbId"]}
            for d in composed_daughters(old, catalog):
                if d in kept or d in handled or d in adopted or not existing.get(d):
                    continue
                latest = existing[d][-1]
                dvt = catalog.vegobjekttype(latest["typeId"])
                if dvt is None or not dvt.må_ha_mor or not _is_open(latest):
                    continue
                entry = entries.get(str(o.nvdbId))
                if entry is not None:
                    entry.feil.append(Varsel(
                        kode="DATTEROBJEKT_UTEN_MOR", referanse=str(o.nvdbId),
                        melding=f"Datterobjektet {d} ({dvt.navn}) krever morobjekt, men vegobjekt {o.nvdbId} "
                                f"holder det ikke lenger etter {op}, og ingen annen mor får det i endringssettet."))
