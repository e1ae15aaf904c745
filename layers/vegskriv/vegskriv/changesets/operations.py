"""What each changeset operation does to stored object versions (pure: no AWS).

The stored (and read-side) shape of a version is the write-side shape, so a client can read an
object and send it back in ``oppdater``:
``{"id", "versjon", "typeId", "gyldighetsperiode", "egenskaper", "stedfesting", "assosiasjoner", "metadata"}``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from vegskriv.changesets.forenkling import forenklet_stedfesting, redusert_punkttetthet
from vegskriv.changesets.location import extents, trim
from vegskriv.changesets.models import (
    Assosiasjon,
    DelvisOppdatertVegobjekt,
    Endringssett,
    NyttVegobjekt,
    OppdatertVegobjekt,
    Stedfesting,
    VegobjektResultat,
)
from vegskriv.store.objects import Write

LIST_SERIES = 220_000
ASSOCIATION_SERIES = 200_000


def normalize_association_type(type_id: int) -> int | None:
    """Both id series name the same relation: 220000+N (list) and 200000+N (association)."""
    if LIST_SERIES < type_id < LIST_SERIES + 10_000:
        return type_id
    if ASSOCIATION_SERIES < type_id < ASSOCIATION_SERIES + 10_000:
        return type_id - ASSOCIATION_SERIES + LIST_SERIES
    return None


def composed_daughters(version: dict[str, Any], catalog: Any) -> list[int]:
    """nvdbIds of the daughters a version holds through composition (they live and die with it)."""
    vt = catalog.vegobjekttype(version["typeId"])
    if vt is None:
        return []
    result: list[int] = []
    for a in version.get("assosiasjoner") or []:
        relation = vt.relation_by_id(a["typeId"])
        if relation is not None and relation.er_komposisjon:
            result.extend(a["nvdbId"])
    return result


@dataclass
class Plan:
    """The writes of one changeset and the result entries they produce."""

    writes: list[Write] = field(default_factory=list)
    results: list[VegobjektResultat] = field(default_factory=list)
    cascaded: list[tuple[int, int, str]] = field(default_factory=list)  # (mother, daughter, what happened)
    overlap_notes: list[tuple[str, int, str]] = field(default_factory=list)  # (who, other object, what)


def _egenskaper(objekt: Any) -> list[dict[str, Any]]:
    return redusert_punkttetthet([e.model_dump(mode="json", exclude_none=True, by_alias=True, exclude={"operasjon"})
                                  for e in objekt.egenskaper], objekt)


def _stedfesting(stedfesting: Stedfesting | None) -> dict[str, Any] | None:
    if stedfesting is None:
        return None
    return forenklet_stedfesting(stedfesting.model_dump(mode="json", exclude_none=True, exclude={"operasjon"}))


def associations(assosiasjoner: list[Assosiasjon], temp_ids: dict[str, int]) -> list[dict[str, Any]]:
    result = []
    for a in assosiasjoner:
        targets = [temp_ids[str(t.verdi)] for t in a.tempId if str(t.verdi) in temp_ids]
        targets += [int(t.verdi) for t in a.nvdbId]
        result.append({"typeId": normalize_association_type(a.typeId) or a.typeId, "nvdbId": sorted(set(targets))})
    return result


def _version(type_id: int, nvdb_id: int, versjon: int, gyldighetsperiode: dict[str, Any],
             egenskaper: list[dict[str, Any]], stedfesting: dict[str, Any] | None,
             assosiasjoner: list[dict[str, Any]], changeset_id: str, tidspunkt: str) -> dict[str, Any]:
    return {"id": nvdb_id, "versjon": versjon, "typeId": type_id, "gyldighetsperiode": gyldighetsperiode,
            "egenskaper": egenskaper, "stedfesting": stedfesting, "assosiasjoner": assosiasjoner,
            "metadata": {"endringssettId": changeset_id, "sistEndret": tidspunkt}}


def _merge_egenskaper(old: list[dict[str, Any]], objekt: DelvisOppdatertVegobjekt) -> list[dict[str, Any]]:
    by_type = {e["typeId"]: e for e in old}
    for e in objekt.egenskaper:
        if e.operasjon == "slett":
            by_type.pop(e.typeId, None)
        else:
            by_type[e.typeId] = redusert_punkttetthet(
                [e.model_dump(mode="json", exclude_none=True, by_alias=True, exclude={"operasjon"})], objekt)[0]
    return list(by_type.values())


def merged_associations(old: list[dict[str, Any]], objekt: DelvisOppdatertVegobjekt,
                         temp_ids: dict[str, int]) -> list[dict[str, Any]]:
    by_type = {a["typeId"]: list(a["nvdbId"]) for a in old}
    for a in objekt.assosiasjoner:
        type_id = normalize_association_type(a.typeId) or a.typeId
        if a.operasjon == "slett":
            by_type.pop(type_id, None)
            continue
        targets = [(temp_ids.get(str(t.verdi)), t.operasjon) for t in a.tempId]
        targets += [(int(t.verdi), t.operasjon) for t in a.nvdbId]
        if any(op is not None for _, op in targets):  # incremental: per-element ny/slett
            current = set(by_type.get(type_id, []))
            for nvdb_id, op in targets:
                if nvdb_id is None:
                    continue
                if op == "slett":
                    current.discard(nvdb_id)
                else:
                    current.add(nvdb_id)
            by_type[type_id] = sorted(current)
        else:
            by_type[type_id] = sorted({n for n, _ in targets if n is not None})
    return [{"typeId": t, "nvdbId": ids} for t, ids in by_type.items()]


def _merge_stedfesting(old: dict[str, Any] | None, stedfesting: Stedfesting | None) -> dict[str, Any] | None:
    if stedfesting is None:
        return old
    if stedfesting.operasjon == "slett":
        return None
    new = stedfesting.model_dump(mode="json", exclude_none=True, exclude={"operasjon"})
    elements = [e for kind in ("punkt", "linje", "sving") for e in getattr(stedfesting, kind) or []]
    if not any(e.operasjon for e in elements):
        return forenklet_stedfesting(new)
    merged = copy.deepcopy(old or {})
    for kind in ("punkt", "linje", "sving"):
        for element in getattr(stedfesting, kind) or []:
            plain = element.model_dump(mode="json", exclude_none=True, exclude={"operasjon"})
            current = merged.setdefault(kind, [])
            if element.operasjon == "slett":
                merged[kind] = [e for e in current if e != plain]
            elif plain not in current:
                current.append(plain)
    return {k: v for k, v in merged.items() if v}


def plan_changeset(doc: Endringssett, existing: dict[int, list[dict[str, Any]]], first_new_id: int,
                   changeset_id: str, tidspunkt: str, catalog: Any = None,
                   overlapped: list[tuple[Any, list[dict[str, Any]]]] | None = None) -> Plan:
    """Turn a validated changeset into overlay writes. ``existing`` maps nvdbId → visible versions;
    ``overlapped`` pairs objects that asked for overlappsautomatikk with the objects they overlap."""
    plan = Plan()
    new_objects: list[NyttVegobjekt] = doc.registrer.vegobjekter if doc.registrer else []
    temp_ids = {o.tempId: first_new_id + i for i, o in enumerate(new_objects)}

    for o in new_objects:
        nvdb_id = temp_ids[o.tempId]
        data = _version(o.typeId, nvdb_id, 1, o.gyldighetsperiode.model_dump(mode="json", exclude_none=True),
                        _egenskaper(o), _stedfesting(o.stedfesting), associations(o.assosiasjoner, temp_ids),
                        changeset_id, tidspunkt)
        plan.writes.append(Write(nvdb_id, 1, o.typeId, data))
        plan.results.append(VegobjektResultat(tempId=o.tempId, nvdbId=nvdb_id, versjon=1, typeId=o.typeId,
                                              operasjon="registrer"))

    def version_of(nvdb_id: int, versjon: int) -> dict[str, Any]:
        return next(v for v in existing[nvdb_id] if v["versjon"] == versjon)

    for op in ("oppdater", "delvisOppdater", "korriger", "delvisKorriger"):
        group = getattr(doc, op)
        for o in group.vegobjekter if group else []:
            old = version_of(o.nvdbId, o.versjon)
            plan.writes.extend(_changed_version(op, o, old, temp_ids, changeset_id, tidspunkt))
            in_place = op.endswith("orriger") or o.overskriv == "JA"
            plan.results.append(VegobjektResultat(nvdbId=o.nvdbId, versjon=o.versjon if in_place else o.versjon + 1,
                                                  typeId=o.typeId, operasjon=op))

    for o, others in (overlapped or []):
        plan.writes.extend(_trimmed(o, others, temp_ids, changeset_id, tidspunkt, plan))

    closing = {lukk.nvdbId: lukk.lukkedato.isoformat() for lukk in doc.lukk.vegobjekter} if doc.lukk else {}
    for lukk in doc.lukk.vegobjekter if doc.lukk else []:
        plan.writes.append(_closed(version_of(lukk.nvdbId, lukk.versjon), closing[lukk.nvdbId],
                                   changeset_id, tidspunkt))
        plan.results.append(VegobjektResultat(nvdbId=lukk.nvdbId, versjon=lukk.versjon, typeId=lukk.typeId,
                                              operasjon="lukk"))

    removals: dict[int, set[int] | None] = {}
    for fjern in doc.fjern.vegobjekter if doc.fjern else []:
        plan.results.append(VegobjektResultat(nvdbId=fjern.nvdbId, versjon=fjern.versjon, typeId=fjern.typeId,
                                              operasjon="fjern"))
        if fjern.versjon is None:
            removals[fjern.nvdbId] = None
        elif removals.get(fjern.nvdbId, set()) is not None:
            removals.setdefault(fjern.nvdbId, set()).add(fjern.versjon)  # type: ignore[union-attr]
    for op, mother, latest in cascade_writes(doc, existing, catalog) if catalog is not None else []:
        if op == "lukk":
            plan.writes.append(_closed(latest, closing[mother], changeset_id, tidspunkt))
        else:
            removals[latest["id"]] = None
        plan.cascaded.append((mother, latest["id"], "lukket" if op == "lukk" else "fjernet"))
    for nvdb_id, versions in removals.items():
        plan.writes.extend(_removed(existing[nvdb_id], versions, changeset_id, tidspunkt))
    return plan


def _trimmed(o: Any, others: list[dict[str, Any]], temp_ids: dict[str, int], changeset_id: str,
             tidspunkt: str, plan: Plan) -> list[Write]:
    """overlappsautomatikk: shorten the other objects so they no longer overlap ``o``. A covered
    object is closed; a shortened one gets a new version from ``o``'s start date (or is corrected
    in place when it starts that same day or later)."""
    start = o.gyldighetsperiode.startdato.isoformat()
    mine = extents(o.stedfesting)
    who = getattr(o, "tempId", None) or str(getattr(o, "nvdbId", ""))
    writes: list[Write] = []
    for old in others:
        theirs = extents(Stedfesting.model_validate(old["stedfesting"]))
        left = trim(theirs, mine)
        originals = old["stedfesting"].get("linje") or []

        def piece(v: int, f: float, t: float, originals: list[dict[str, Any]] = originals) -> dict[str, Any]:
            # keep direction, side and lanes of the element the piece was cut from
            source = next((e for e in originals if e["veglenkesekvensNvdbId"] == v and e["fra"] <= f
                           and t <= e["til"]), {})
            return {**source, "veglenkesekvensNvdbId": v, "fra": f, "til": t}

        line = [piece(v, f, t) for v, f, t in left]
        if not left:
            writes.append(_closed(old, start, changeset_id, tidspunkt))
            what = "lukket"
        elif old["gyldighetsperiode"]["startdato"] >= start:
            fixed = copy.deepcopy(old)
            fixed["stedfesting"] = {"linje": line}
            fixed["metadata"] = {"endringssettId": changeset_id, "sistEndret": tidspunkt}
            writes.append(Write(old["id"], old["versjon"], old["typeId"], fixed))
            what = "kortet inn (korrigert)"
        else:
            new = copy.deepcopy(old)
            new.update(versjon=old["versjon"] + 1, stedfesting={"linje": line},
                       metadata={"endringssettId": changeset_id, "sistEndret": tidspunkt})
            new["gyldighetsperiode"] = {k: v for k, v in old["gyldighetsperiode"].items() if k != "sluttdato"}
            new["gyldighetsperiode"]["startdato"] = start
            if old["gyldighetsperiode"].get("sluttdato"):
                new["gyldighetsperiode"]["sluttdato"] = old["gyldighetsperiode"]["sluttdato"]
            writes += [_closed(old, start, changeset_id, tidspunkt),
                       Write(old["id"], new["versjon"], old["typeId"], new)]
            what = f"kortet inn i ny versjon {new['versjon']}"
        plan.overlap_notes.append((who, old["id"], what))
    return writes


def cascade_writes(doc: Endringssett, existing: dict[int, list[dict[str, Any]]],
                   catalog: Any) -> list[tuple[str, int, dict[str, Any]]]:
    """(operation, mother, daughter's latest version) for each composed daughter a lukk/fjern cascade
    closes or removes: what the changeset must hold the locks of and have the rights to."""
    found = []
    closing = doc.lukk.vegobjekter if doc.lukk else []
    explicit = {o.nvdbId for o in closing}
    for o in closing:
        if o.kaskadelukking == "JA" and existing.get(o.nvdbId):
            found += [("lukk", o.nvdbId, existing[d][-1]) for d in cascade(existing[o.nvdbId][-1], existing,
                                                                           catalog, explicit)
                      if not existing[d][-1]["gyldighetsperiode"].get("sluttdato")]
    for o in doc.fjern.vegobjekter if doc.fjern else []:
        if o.versjon is None and o.kaskadefjerning == "JA" and existing.get(o.nvdbId):
            found += [("fjern", o.nvdbId, existing[d][-1]) for d in cascade(existing[o.nvdbId][-1], existing,
                                                                            catalog, set())]
    return found


def cascade(mother: dict[str, Any], existing: dict[int, list[dict[str, Any]]], catalog: Any,
             skip: set[int]) -> list[int]:
    """Composed daughters, depth first, that the changeset does not already handle itself. Each object
    once, the mother never: stored data may hold a cycle of compositions (an import takes what it gets)."""
    found: list[int] = []
    seen = {mother["id"]}  # not a copy of ``skip``: a changeset closing thousands made that quadratic

    def visit(version: dict[str, Any]) -> None:
        for daughter in composed_daughters(version, catalog):
            if daughter in seen or daughter in skip or not existing.get(daughter):
                continue
            seen.add(daughter)
            found.append(daughter)
            visit(existing[daughter][-1])

    visit(mother)
    return found


def _removed(versions: list[dict[str, Any]], removed: set[int] | None, changeset_id: str,
             tidspunkt: str) -> list[Write]:
    """Delete versions (all when ``removed`` is None); the new last version inherits the old end date."""
    gone = [v for v in versions if removed is None or v["versjon"] in removed]
    writes = [Write(v["id"], v["versjon"], v["typeId"], None) for v in gone]
    remaining = [v for v in versions if v not in gone]
    if remaining and gone:
        last = copy.deepcopy(remaining[-1])
        end = versions[-1]["gyldighetsperiode"].get("sluttdato")
        if end:
            last["gyldighetsperiode"]["sluttdato"] = end
        else:
            last["gyldighetsperiode"].pop("sluttdato", None)
        last["metadata"] = {"endringssettId": changeset_id, "sistEndret": tidspunkt}
        writes.append(Write(last["id"], last["versjon"], last["typeId"], last))
    return writes


def _changed_version(op: str, o: OppdatertVegobjekt, old: dict[str, Any], temp_ids: dict[str, int],
                     changeset_id: str, tidspunkt: str) -> list[Write]:
    partial = op.startswith("delvis")
    in_place = op.endswith("orriger") or o.overskriv == "JA"
    periode = dict(old["gyldighetsperiode"])
    if o.gyldighetsperiode is not None:
        periode.update(o.gyldighetsperiode.model_dump(mode="json", exclude_none=True))
    if partial:
        assert isinstance(o, DelvisOppdatertVegobjekt)
        egenskaper = _merge_egenskaper(old["egenskaper"], o)
        assosiasjoner = merged_associations(old.get("assosiasjoner") or [], o, temp_ids)
        stedfesting = _merge_stedfesting(old.get("stedfesting"), o.stedfesting)
    else:
        egenskaper = _egenskaper(o)
        assosiasjoner = associations(o.assosiasjoner, temp_ids)
        stedfesting = _stedfesting(o.stedfesting)
    if in_place:
        data = _version(o.typeId, o.nvdbId, o.versjon, periode, egenskaper, stedfesting, assosiasjoner,
                        changeset_id, tidspunkt)
        return [Write(o.nvdbId, o.versjon, o.typeId, data)]
    # ``periode`` began as the old version's: a closed object stays closed, the new version ending when the
    # old one did unless told otherwise (validation refuses a later end: VEGOBJEKTET_ER_LUKKET).
    new = _version(o.typeId, o.nvdbId, o.versjon + 1, periode, egenskaper, stedfesting, assosiasjoner,
                   changeset_id, tidspunkt)
    closed = _closed(old, periode["startdato"], changeset_id, tidspunkt)
    return [closed, Write(o.nvdbId, o.versjon + 1, o.typeId, new)]


def _closed(old: dict[str, Any], sluttdato: str, changeset_id: str, tidspunkt: str) -> Write:
    closed = copy.deepcopy(old)
    closed["gyldighetsperiode"]["sluttdato"] = sluttdato
    closed["metadata"] = {"endringssettId": changeset_id, "sistEndret": tidspunkt}
    return Write(old["id"], old["versjon"], old["typeId"], closed)
