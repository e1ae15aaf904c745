"""Hypothesis strategies for changesets and the stored data they act on (tests/unit/*_properties.py).

``changesets`` draws anything the document model may accept, most of it refused by validation;
``clean_changesets`` draws what is shaped to pass; ``stored`` draws 1–3 versions of each pooled object;
``history_after`` is what a plan's writes make of the stored data.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from vegskriv.catalog import default_catalog
from vegskriv.network import Veglenkesekvens

CATALOG = default_catalog()
TYPES = [vt.id for vt in CATALOG.vegobjekttyper]
PROPERTIES = {vt.id: vt.egenskapstyper for vt in CATALOG.vegobjekttyper}
CHILDREN = {vt.id: [(r.liste_egenskapstype_id, r.child_type_id) for r in vt.relasjonstyper.barn
                    if r.liste_egenskapstype_id is not None] for vt in CATALOG.vegobjekttyper}
SEQUENCES = [72817, 3325547, 1125766]
NETWORK = {i: Veglenkesekvens(veglenkesekvensId=i, lengde=500, kommune=5059, fylke=50, vegkategori="E",
                              startdato=date(2000, 1, 1)) for i in SEQUENCES}
POOL = [1, 2, 3, 4]  # nvdbIds of the stored objects
WKTS = ["POINT (218124.0 7023329.5 350.3)", "POINT (10.4 63.4)", "LINESTRING (201011.3 7022929.3, 201004.9 7022912.7)",
        "POLYGON ((218120 7023320, 218130 7023320, 218130 7023330, 218120 7023320))", "POINT EMPTY",
        "LINESTRING (1 1, 1 1)", "ikke wkt", ""]
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
SCALARS = st.one_of(TEXT, st.integers(-10**7, 10**7), st.floats(allow_nan=False, allow_infinity=False, width=32),
                    st.booleans(), st.sampled_from(["2024-09-27", "20240927", "12:30", "1.5", "1,5", "JA", "", "-0"]))
DATES = st.dates(min_value=date(2001, 1, 1), max_value=date(2030, 12, 31))
POSITION = st.floats(0, 1)
KUM = [{"typeId": 1141, "verdi": ["Standard kum"]}, {"typeId": 1269, "verdi": ["Drenering"]},
       {"typeId": 1411, "verdi": ["Betong"]}, {"typeId": 2290, "verdi": ["Kuppelrist, høy"]},
       {"typeId": 1586, "verdi": ["1.4"]}, {"typeId": 7065, "verdi": ["2023"]}, {"typeId": 10470, "verdi": ["Ingen"]},
       {"typeId": 4784, "geometri": [{"srid": 25833, "wkt": "POINT (218124.0 7023329.5 350.3)"}]}]  # a valid Kum (83)


@st.composite
def egenskap(draw: st.DrawFn, type_id: int, partial: bool) -> dict[str, Any]:
    own = PROPERTIES.get(type_id) or []
    et = draw(st.sampled_from(own)) if own and draw(st.booleans()) else None
    type_ids = [e.id for e in own] + [1, 5899, 4784]  # another type's, and one no type has
    found: dict[str, Any] = {"typeId": et.id if et else draw(st.sampled_from(type_ids))}
    allowed = [v.verdi for v in et.tillatte_verdier] if et is not None else []
    form = draw(st.sampled_from(["verdi", "verdi", "enum", "geometri", "struktur", "none"]))
    if form == "verdi":
        found["verdi"] = draw(st.lists(st.sampled_from(allowed) if allowed and draw(st.booleans()) else SCALARS,
                                       max_size=2))
    elif form == "enum":
        found["enum"] = draw(st.lists(st.sampled_from([v.id for v in et.tillatte_verdier]) if et and allowed
                                      else st.integers(0, 30000), max_size=2))
    elif form == "geometri":
        found["geometri"] = [{"srid": draw(st.sampled_from([25833, 4326, 5973, 0])), "wkt": draw(st.sampled_from(WKTS)),
                              **({"kvalitet": {"nøyaktighet": draw(st.integers(-5, 500))}} if draw(st.booleans())
                                 else {})}]
    elif form == "struktur":
        found["struktur"] = {"medlem": [{"typeId": draw(st.integers(1, 12000)), "verdi": [draw(SCALARS)]}]}
    if partial and draw(st.booleans()):
        found["operasjon"] = draw(st.sampled_from(["oppdater", "slett"]))
    return found


@st.composite
def stedfesting(draw: st.DrawFn, partial: bool = False) -> dict[str, Any] | None:
    sequence = st.sampled_from([*SEQUENCES, 999])
    kind = draw(st.sampled_from(["punkt", "linje", "none"]))
    if kind == "none":
        return None
    elements = []
    for _ in range(draw(st.integers(1, 2))):
        element: dict[str, Any] = {"veglenkesekvensNvdbId": draw(sequence)}
        if kind == "punkt":
            element["posisjon"] = draw(POSITION)
        else:
            fra, til = sorted(draw(st.lists(POSITION, min_size=2, max_size=2, unique=True)))
            element.update(fra=fra, til=til)
        if draw(st.booleans()):
            element["retning"] = draw(st.sampled_from(["MED", "MOT"]))
        if partial and draw(st.booleans()):
            element["operasjon"] = draw(st.sampled_from(["ny", "slett"]))
        elements.append(element)
    return {kind: elements}


def periode(start: date, slutt: date | None) -> dict[str, str]:
    return {"startdato": start.isoformat(), **({"sluttdato": slutt.isoformat()} if slutt else {})}


@st.composite
def periods(draw: st.DrawFn) -> dict[str, str]:
    """A period as a client may give it: mostly open, sometimes with an end, in either order."""
    start = draw(DATES)
    days = draw(st.one_of(st.none(), st.integers(-30, 3000)))
    return periode(start, None if days is None else start + timedelta(days=days))


@st.composite
def stored(draw: st.DrawFn) -> dict[int, list[dict[str, Any]]]:
    """1–3 versions of each pooled object, each version's period meeting the next one's."""
    existing: dict[int, list[dict[str, Any]]] = {}
    for nvdb_id in POOL:
        type_id = draw(st.sampled_from([83, 83, *TYPES]))
        start, versions = draw(DATES), []
        for versjon in range(1, draw(st.integers(1, 3)) + 1):
            slutt = start + timedelta(days=draw(st.integers(1, 2000))) if draw(st.booleans()) else None
            daughters = [{"typeId": rel, "nvdbId": [draw(st.sampled_from(POOL))]}
                         for rel, _ in CHILDREN.get(type_id, [])[:1] if draw(st.booleans())]
            versions.append({"id": nvdb_id, "versjon": versjon, "typeId": type_id,
                             "gyldighetsperiode": periode(start, slutt), "egenskaper": KUM if type_id == 83 else [],
                             "stedfesting": draw(stedfesting()), "assosiasjoner": daughters,
                             "metadata": {"sistEndret": "2025-01-01T10:00:00Z"}})
            if slutt is None:
                break
            start = slutt
        existing[nvdb_id] = versions
    return existing


@st.composite
def changesets(draw: st.DrawFn, existing: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    doc: dict[str, Any] = {"datakatalogversjon": draw(st.sampled_from(["2.38", "2.37"]))}
    new = []
    for i in range(draw(st.integers(0, 3))):
        type_id = draw(st.sampled_from([83, 83, *TYPES, 999999]))
        kum = type_id == 83 and draw(st.booleans())  # most generated objects are refused; a valid one too
        obj: dict[str, Any] = {"typeId": type_id, "tempId": f"t{i}", "gyldighetsperiode": draw(periods()),
                               "egenskaper": KUM if kum else draw(st.lists(egenskap(type_id, False), max_size=4)),
                               "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": draw(st.sampled_from(SEQUENCES)),
                                                          "posisjon": draw(POSITION)}]} if kum else draw(stedfesting())}
        targets = st.lists(st.fixed_dictionaries({"verdi": st.sampled_from([f"t{j}" for j in range(4)])}), max_size=2)
        obj["assosiasjoner"] = [{"typeId": rel, "tempId": draw(targets)} for rel, _ in CHILDREN.get(type_id, [])[:1]
                                if draw(st.booleans())]
        if draw(st.booleans()):
            obj["validering"] = {"overlappsautomatikk": draw(st.sampled_from(["JA", "NEI"]))}
        new.append({k: v for k, v in obj.items() if v is not None})
    if new:
        doc["registrer"] = {"vegobjekter": new}
    ids = st.sampled_from([*POOL, 99])
    for op in ("oppdater", "delvisOppdater", "korriger", "delvisKorriger", "lukk", "fjern"):
        objects = []
        for _ in range(draw(st.integers(0, 1))):
            nvdb_id = draw(ids)
            known = existing.get(nvdb_id)
            type_id = known[-1]["typeId"] if known and draw(st.integers(0, 4)) else draw(st.sampled_from(TYPES))
            obj = {"typeId": type_id, "nvdbId": nvdb_id}
            if op != "fjern" or draw(st.booleans()):
                obj["versjon"] = len(known) if known and draw(st.integers(0, 3)) else draw(st.integers(1, 3))
            if op == "lukk":
                obj.update(lukkedato=draw(DATES).isoformat(), kaskadelukking=draw(st.sampled_from(["JA", "NEI"])))
            elif op == "fjern":
                obj["kaskadefjerning"] = draw(st.sampled_from(["JA", "NEI"]))
            else:
                partial = op.startswith("delvis")
                complete = type_id == 83 and not partial and draw(st.booleans())
                obj["egenskaper"] = KUM if complete else draw(st.lists(egenskap(type_id, partial),
                                                                       max_size=1 if partial else 3))
                place = draw(stedfesting(partial))
                if place is not None:
                    obj["stedfesting"] = place
                if draw(st.booleans()):
                    obj["gyldighetsperiode"] = draw(periods())
                obj["assosiasjoner"] = [
                    {"typeId": rel, "nvdbId": [{"verdi": draw(ids)}],
                     **({"operasjon": draw(st.sampled_from(["oppdater", "slett"]))} if partial else {})}
                    for rel, _ in CHILDREN.get(type_id, [])[:1] if draw(st.booleans())]
                obj["validering"] = {"lestFraNvdb": "2026-01-01T00:00:00"}
                if op in ("oppdater", "delvisOppdater") and draw(st.booleans()):
                    obj["overskriv"] = "JA"
            objects.append(obj)
        if objects:
            doc[op] = {"vegobjekter": objects}
    return doc


@st.composite
def clean_changesets(draw: st.DrawFn, existing: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    """Changesets shaped to pass: valid Kums, and one operation per stored open Kum, each as its rules want."""
    punkt = st.builds(lambda vls, pos: {"punkt": [{"veglenkesekvensNvdbId": vls, "posisjon": pos}]},
                      st.sampled_from(SEQUENCES), POSITION)
    doc: dict[str, Any] = {"datakatalogversjon": "2.38"}
    new = [{"typeId": 83, "tempId": f"t{i}", "gyldighetsperiode": periode(draw(DATES), None), "egenskaper": KUM,
            "stedfesting": draw(punkt)} for i in range(draw(st.integers(0, 2)))]
    if new:
        doc["registrer"] = {"vegobjekter": new}
    kums = [n for n, v in existing.items() if v[-1]["typeId"] == 83]  # open and closed ones
    for nvdb_id in draw(st.permutations(kums)):
        op = draw(st.sampled_from(["oppdater", "delvisOppdater", "korriger", "delvisKorriger", "lukk", "fjern"]))
        versions = existing[nvdb_id]
        latest = versions[-1]
        start = date.fromisoformat(latest["gyldighetsperiode"]["startdato"])
        obj: dict[str, Any] = {"typeId": 83, "nvdbId": nvdb_id, "versjon": latest["versjon"]}
        later = (start + timedelta(days=draw(st.integers(1, 999)))).isoformat()
        if op == "lukk":
            obj["lukkedato"] = later
        elif op == "fjern":
            if draw(st.booleans()):
                del obj["versjon"]  # the whole object; else its newest version, the one before inheriting its end
        else:
            obj["validering"] = {"lestFraNvdb": "2026-01-01T00:00:00"}
            obj["stedfesting"] = draw(punkt)
            if op == "oppdater":
                obj.update(egenskaper=KUM, gyldighetsperiode={"startdato": later})
            elif op.endswith("orriger"):  # any version, its period kept or moved within its neighbours
                old = draw(st.sampled_from(versions))
                obj["versjon"] = old["versjon"]
                obj["egenskaper"] = KUM if op == "korriger" else []
                if draw(st.booleans()):
                    obj["gyldighetsperiode"] = dict(old["gyldighetsperiode"])
            else:
                obj["gyldighetsperiode"] = {"startdato": later}
        doc.setdefault(op, {"vegobjekter": []})["vegobjekter"].append(obj)
    return doc


def history_after(existing: dict[int, list[dict[str, Any]]], writes: list[Any]) -> dict[int, list[dict[str, Any]]]:
    """Each object's versions once the plan's writes are applied (a write of None removes a version)."""
    by_key = {(v["id"], v["versjon"]): v for versions in existing.values() for v in versions}
    for w in writes:
        assert w.data is None or (w.data["id"], w.data["versjon"]) == (w.nvdb_id, w.versjon), w
        if w.data is None:
            by_key.pop((w.nvdb_id, w.versjon), None)
        else:
            by_key[(w.nvdb_id, w.versjon)] = w.data
    result: dict[int, list[dict[str, Any]]] = {}
    for (nvdb_id, _), version in sorted(by_key.items()):
        result.setdefault(nvdb_id, []).append(version)
    return result
