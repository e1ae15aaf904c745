"""Element-wise delvisOppdater (operasjon ny/slett on one daughter id or one location element)
against the stored version: EGENSKAPSVERDI_FINNES_ALLEREDE, _FINNES_IKKE and _OVERLAPPER."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.changesets.test_validation import ctx, doc, stored
from vegskriv.changesets.validation import validate

MOR, KUM, KUM2 = 6001, 7001, 7002


def stikkrenne(assosiasjoner: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": MOR, "versjon": 1, "typeId": 79, "gyldighetsperiode": {"startdato": "2020-01-01"},
            "egenskaper": [], "assosiasjoner": assosiasjoner,
            "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": 3325547, "posisjon": 0.5}]}}


def delvis(type_id: int, nvdb_id: int, **changes: Any) -> dict[str, Any]:
    return {"delvisOppdater": {"vegobjekter": [{"typeId": type_id, "nvdbId": nvdb_id, "versjon": 1,
                                                "gyldighetsperiode": {"startdato": "2024-01-01"}, **changes}]}}


def codes(changes: dict[str, Any], existing: dict[int, list[dict[str, Any]]]) -> list[str]:
    result = validate(doc(**changes), ctx(existing))
    return [v.kode for e in result.vegobjekter for v in e.feil]


def kums() -> dict[int, list[dict[str, Any]]]:
    return {KUM: [stored(KUM)], KUM2: [stored(KUM2)]}


@pytest.mark.parametrize(("target", "expected"), [
    ({"verdi": KUM, "operasjon": "ny"}, ["EGENSKAPSVERDI_FINNES_ALLEREDE"]),
    ({"verdi": KUM2, "operasjon": "ny"}, []),
    ({"verdi": KUM2, "operasjon": "slett"}, ["EGENSKAPSVERDI_FINNES_IKKE"]),
    ({"verdi": KUM, "operasjon": "slett"}, []),
])
def test_one_daughter_id_added_or_removed(target, expected):
    existing = {MOR: [stikkrenne([{"typeId": 220116, "nvdbId": [KUM]}])], **kums()}
    change = delvis(79, MOR, assosiasjoner=[{"typeId": 220116, "nvdbId": [target]}])
    assert codes(change, existing) == expected


def test_the_association_id_series_200000_names_the_same_stored_association():
    existing = {MOR: [stikkrenne([{"typeId": 220116, "nvdbId": [KUM]}])], **kums()}
    change = delvis(79, MOR, assosiasjoner=[{"typeId": 200116, "nvdbId": [{"verdi": KUM, "operasjon": "ny"}]}])
    assert codes(change, existing) == ["EGENSKAPSVERDI_FINNES_ALLEREDE"]


def test_a_full_daughter_list_is_not_judged_element_by_element():
    existing = {MOR: [stikkrenne([{"typeId": 220116, "nvdbId": [KUM]}])], **kums()}
    change = delvis(79, MOR, assosiasjoner=[{"typeId": 220116, "operasjon": "oppdater", "nvdbId": [{"verdi": KUM}]}])
    assert codes(change, existing) == []


def linje_objekt(*elements: tuple[float, float]) -> dict[str, Any]:
    """A stored Fartsgrense (105: line location, no overlap between objects)."""
    return {"id": 8001, "versjon": 1, "typeId": 105, "gyldighetsperiode": {"startdato": "2020-01-01"},
            "egenskaper": [{"typeId": 2021, "enum": [2738]}], "assosiasjoner": [],
            "stedfesting": {"linje": [{"veglenkesekvensNvdbId": 3325547, "fra": f, "til": t, "retning": "MED"}
                                      for f, t in elements]}}


def element(fra: float, til: float, operasjon: str) -> dict[str, Any]:
    return {"veglenkesekvensNvdbId": 3325547, "fra": fra, "til": til, "retning": "MED", "operasjon": operasjon}


@pytest.mark.parametrize(("elements", "expected"), [
    ([element(0.0, 0.4, "ny")], ["EGENSKAPSVERDI_FINNES_ALLEREDE"]),
    ([element(0.3, 0.6, "ny")], ["EGENSKAPSVERDI_OVERLAPPER"]),
    ([element(0.4, 0.6, "ny")], []),  # end to end is not overlap
    ([element(0.0, 0.4, "slett"), element(0.0, 0.6, "ny")], []),  # the stored element goes first
    ([element(0.5, 0.9, "slett")], ["EGENSKAPSVERDI_FINNES_IKKE"]),
    ([element(0.0, 0.4, "slett"), element(0.5, 0.9, "ny")], []),
])
def test_one_location_element_added_or_removed(elements, expected):
    existing = {8001: [linje_objekt((0.0, 0.4))]}
    change = delvis(105, 8001, stedfesting={"operasjon": "oppdater", "linje": elements})
    result = validate(doc(**change), ctx(existing))
    found = [(v.kode, v.egenskapTypeId) for e in result.vegobjekter for v in e.feil]
    assert [k for k, _ in found] == expected
    assert all(t is not None for _, t in found)  # named on the location property type


def test_a_stored_mother_is_found_on_the_stored_daughters_sequence():
    """MER_ENN_ETT_MOROBJEKT when the stored mother stands on the daughter's sequence and the new
    mother on another one: the cells to search come from the daughter's stored location."""
    from vegskriv.catalog import default_catalog
    from vegskriv.changesets.validation import overlap_cells

    held = stored(KUM)  # on 3325547
    old_mother = stikkrenne([{"typeId": 220116, "nvdbId": [KUM]}])  # on 3325547 too
    new_mother = {"typeId": 79, "tempId": "stikk#2", "gyldighetsperiode": {"startdato": "2024-01-01"},
                  "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": 72817, "posisjon": 0.5}]}, "egenskaper": [],
                  "assosiasjoner": [{"typeId": 220116, "nvdbId": [{"verdi": KUM}]}]}
    d = doc(registrer={"vegobjekter": [new_mother]})
    existing = {KUM: [held], MOR: [old_mother]}

    def found(cells: set[tuple[int, int]]) -> list[str]:
        context = ctx(existing)
        context.on_sequence = {cell: [MOR] if cell == (79, 3325547) else [] for cell in cells}
        return [v.kode for e in validate(d, context).vegobjekter for v in e.feil]

    assert found(overlap_cells(d, default_catalog(), existing)) == ["MER_ENN_ETT_MOROBJEKT"]
    assert found(overlap_cells(d, default_catalog())) == []  # the new mother's own sequence only
    existing[MOR] = [stikkrenne([])]  # the stored mother holds no kum: one mother
    assert found(overlap_cells(d, default_catalog(), existing)) == []
