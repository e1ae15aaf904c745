"""FORENKLET_STEDFESTING, FORENKLET_GEOMETRI and TVETYDIG_KOMMUNETILHØRIGHET: the warning, a
close case without it, and the stored value the warning describes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.varsel_cases import fartsgrense, kum83, stikkrenne
from tests.unit.changesets.test_validation import ctx, doc
from vegskriv.changesets.operations import plan_changeset
from vegskriv.changesets.validation import validate

VLS = 1125766  # kommune 5059 in the unit-test network


def run(obj: dict[str, Any]) -> tuple[list[str], list[tuple[str, int | None]], dict[str, Any]]:
    d = doc(registrer={"vegobjekter": [obj]})
    result = validate(d, ctx())
    stored = plan_changeset(d, {}, 1000, "cs", "t").writes[0].data
    assert stored is not None
    entry = result.vegobjekter[0]
    return [v.kode for v in entry.feil], [(v.kode, v.egenskapTypeId) for v in entry.advarsler], stored


def test_line_elements_end_to_end_are_merged_and_the_client_is_told():
    feil, advarsler, stored = run(fartsgrense("fart#1", (0.1, 0.2), (0.2, 0.3), vls=VLS))
    assert feil == [] and [k for k, _ in advarsler] == ["FORENKLET_STEDFESTING"]
    assert [(e["fra"], e["til"]) for e in stored["stedfesting"]["linje"]] == [(0.1, 0.3)]


@pytest.mark.parametrize("spans", [((0.1, 0.2), (0.25, 0.3)), ((0.1, 0.2),)])
def test_separate_elements_are_kept(spans):
    feil, advarsler, stored = run(fartsgrense("fart#1", *spans, vls=VLS))
    assert feil == [] and advarsler == []
    assert [(e["fra"], e["til"]) for e in stored["stedfesting"]["linje"]] == list(spans)


def test_elements_end_to_end_in_different_lanes_are_kept():
    obj = fartsgrense("fart#1", (0.1, 0.2), vls=VLS)
    obj["stedfesting"]["linje"].append({**obj["stedfesting"]["linje"][0], "fra": 0.2, "til": 0.3, "kjørefelt": ["1"]})
    feil, advarsler, stored = run(obj)
    assert feil == [] and advarsler == []
    assert len(stored["stedfesting"]["linje"]) == 2


def test_overlap_of_a_no_overlap_type_is_refused_not_simplified():
    feil, advarsler, _ = run(fartsgrense("fart#1", (0.1, 0.3), (0.2, 0.4), vls=VLS))
    assert feil == ["UGYLDIG_OVERLAPP"] and advarsler == []


def kum(wkt: str, **geometri: Any) -> dict[str, Any]:
    obj = kum83(stedfesting={"punkt": [{"veglenkesekvensNvdbId": VLS, "posisjon": 0.3}]})
    obj["egenskaper"] = [e for e in obj["egenskaper"] if e["typeId"] != 4784]
    obj["egenskaper"].append({"typeId": 4784, "geometri": [{"srid": 5973, "wkt": wkt, **geometri}]})
    return obj


@pytest.mark.parametrize(("reduser", "expected"), [("JA", 1), ("NEI", 0), (None, 0)])
def test_coinciding_neighbour_points_are_removed_when_asked(reduser, expected):
    obj = stikkrenne("stikk#1")  # 79: its property 5899 is a line geometry
    obj["stedfesting"] = {"punkt": [{"veglenkesekvensNvdbId": VLS, "posisjon": 0.3}]}
    line = "LINESTRING Z (218000 7023000 1, 218000 7023000 1, 218010 7023010 2)"
    obj["egenskaper"].append({"typeId": 5899, "geometri": [{"srid": 5973, "wkt": line}]})
    if reduser:
        obj["validering"] = {"reduserPunkttetthet": reduser}
    feil, advarsler, stored = run(obj)
    assert feil == []
    assert [k for k, _ in advarsler if k.startswith("FORENKLET")] == ["FORENKLET_GEOMETRI"] * expected
    assert advarsler.count(("FORENKLET_GEOMETRI", 5899)) == expected
    wkt = next(e for e in stored["egenskaper"] if e["typeId"] == 5899)["geometri"][0]["wkt"]
    assert wkt.count(",") == 2 - expected


@pytest.mark.parametrize(("kommune", "expected"), [("0301", ["TVETYDIG_KOMMUNETILHØRIGHET"]), ("5059", [])])
def test_geometry_municipality_against_the_network(kommune, expected):
    _, advarsler, _ = run(kum("POINT (218124 7023329)", kommune=kommune))
    assert [k for k, _ in advarsler] == expected
    assert all(t == 4784 for _, t in advarsler)


@pytest.mark.parametrize(("spans", "expected"), [
    (((0.1, 0.1018),), ["STEDFESTING_MED_FOR_LITEN_UTSTREKNING"]),  # 0.9 m of a 500 m sequence
    (((0.1, 0.1009), (0.1009, 0.1018)), ["STEDFESTING_MED_FOR_LITEN_UTSTREKNING"]),  # two halves: 0.9 m
    (((0.1, 0.1022),), []),  # 1.1 m
    (((0.1, 0.1009), (0.2, 0.2013)), []),  # 0.45 m + 0.65 m
])
def test_a_line_location_shorter_than_the_minimum(spans, expected):
    feil, _, _ = run(fartsgrense("fart#1", *spans, vls=VLS))
    assert feil == expected
