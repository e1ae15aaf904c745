"""validate works per changeset where it can (issue 9: parse + validate ≥ 20,000 objects/s): the
geometries are parsed in one call, a (property, value) is judged once. The varsler stay those of
each object on its own."""

from __future__ import annotations

from typing import Any

import pytest
import shapely

from bench.objects import build_objects, changeset
from tests.support.varsel_cases import fartsgrense
from tests.unit.changesets.test_validation import ctx, doc, kum
from vegskriv.catalog import default_catalog
from vegskriv.changesets.models import Egenskap, Endringssett
from vegskriv.changesets.validation import validate


def test_a_changesets_geometries_are_parsed_in_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = Endringssett.model_validate(changeset(build_objects(60)))
    calls: list[int] = []
    from_wkt = shapely.from_wkt

    def counting(geometry: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return from_wkt(geometry, *args, **kwargs)

    monkeypatch.setattr(shapely, "from_wkt", counting)
    result = validate(parsed, ctx())
    assert not result.har_feil()
    # Per object it was twice each (the value rules, then reduserPunkttetthet): 120 calls here.
    assert len(calls) == 1


def _with(temp_id: str, type_id: int, **value: Any) -> dict[str, Any]:
    obj = kum(temp_id)
    obj["egenskaper"] = [e for e in obj["egenskaper"] if e["typeId"] != type_id] + [{"typeId": type_id, **value}]
    return obj


def test_a_value_repeated_in_many_objects_is_reported_for_each_with_its_own_reference() -> None:
    objects = [_with("a", 1586, verdi=["dyp"]), _with("b", 1586, verdi=["1.7"]), _with("c", 1586, verdi=["dyp"])]
    result = validate(doc(registrer={"vegobjekter": objects}), ctx())
    found = [[(v.kode, v.referanse, v.egenskapTypeId) for v in o.feil] for o in result.vegobjekter]
    assert found == [[("UGYLDIG_FLYTTALLFORMAT", "a", 1586)], [], [("UGYLDIG_FLYTTALLFORMAT", "c", 1586)]]


def test_values_equal_in_python_but_of_other_json_types_are_judged_apart() -> None:
    # True == 1 == 1.0 in Python; the integer property takes 1 and refuses true.
    objects = [_with("a", 1949, verdi=[1]), _with("b", 1949, verdi=[True]), _with("c", 1949, verdi=[1.0])]
    result = validate(doc(registrer={"vegobjekter": objects}), ctx())
    assert [[v.kode for v in o.feil] for o in result.vegobjekter] == [[], ["UGYLDIG_HELTALLFORMAT"], []]


GEOMETRIER = [
    "POINT (218124.0 7023329.5 350.3)",  # valid
    "POINT (1 2)",  # outside the zone 33 outline
    "POINT (218124.0 7023329.5",  # not WKT
    "LINESTRING (218124 7023329 10, 218125 7023330)",  # height in some points only
    "POINT EMPTY",
    "LINESTRING (218124 7023329, 218125 7023330)",  # a line for a point property
    "",
]


def test_geometries_parsed_together_give_each_objects_own_varsler() -> None:
    katalog = default_catalog()
    vt = katalog.vegobjekttype(83)
    assert vt is not None
    objects = [_with(f"kum#{i}", 4784, geometri=[{"srid": 25833, "wkt": wkt}]) for i, wkt in enumerate(GEOMETRIER)]
    together = validate(doc(registrer={"vegobjekter": objects}), ctx())
    for i, wkt in enumerate(GEOMETRIER):
        alone, _ = katalog.validate_egenskaper(vt, [Egenskap.model_validate(e) for e in objects[i]["egenskaper"]],
                                               referanse=f"kum#{i}")
        assert [(v.kode, v.melding) for v in together.vegobjekter[i].feil] == [(v.kode, v.melding) for v in alone], wkt
    assert [v.kode for v in together.vegobjekter[0].feil] == []
    assert [v.kode for v in together.vegobjekter[2].feil] == ["UGYLDIG_GEOMETRIFORMAT"]


def test_repeated_points_are_found_in_lines_parsed_together() -> None:
    line = "LINESTRING (218124 7023329 1, 218124 7023329 1, 218125 7023330 1)"
    objects = [kum("kum#1", validering={"reduserPunkttetthet": "JA"}),
               _with("kum#2", 4784, geometri=[{"srid": 25833, "wkt": line}])]
    objects[1]["validering"] = {"reduserPunkttetthet": "JA"}
    result = validate(doc(registrer={"vegobjekter": objects}), ctx())
    assert "FORENKLET_GEOMETRI" not in [v.kode for v in result.vegobjekter[0].advarsler]
    assert "FORENKLET_GEOMETRI" in [v.kode for v in result.vegobjekter[1].advarsler]


@pytest.mark.parametrize("n", [5, 50])
def test_the_changeset_is_walked_a_fixed_number_of_times_whatever_its_size(n: int,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A no-overlap type on lines: its overlap rule listed the changeset's objects again for each object.
    objects = [fartsgrense(f"fart#{i}", (i / 100, (i + 0.5) / 100), vls=1125766) for i in range(n)]
    parsed = doc(registrer={"vegobjekter": objects})
    walks: list[int] = []
    operations = Endringssett.operations

    def counting(self: Endringssett) -> list[tuple[str, list[Any]]]:
        walks.append(1)
        return operations(self)

    monkeypatch.setattr(Endringssett, "operations", counting)
    assert not validate(parsed, ctx()).har_feil()
    assert len(walks) <= 10


def test_a_curve_is_a_varsel_of_its_object_not_a_failure_of_the_changeset() -> None:
    # shapely reads no curves and raised NotImplementedError, which nothing caught (a 500).
    curve = "CIRCULARSTRING (218124 7023329, 218125 7023330, 218126 7023329)"
    objects = [kum("kum#1"), _with("kum#2", 4784, geometri=[{"srid": 25833, "wkt": curve}])]
    result = validate(doc(registrer={"vegobjekter": objects}), ctx())
    assert [v.kode for v in result.vegobjekter[0].feil] == []
    assert [(v.kode, v.egenskapTypeId) for v in result.vegobjekter[1].feil] == [("UGYLDIG_GEOMETRIFORMAT", 4784)]
