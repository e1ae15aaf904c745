"""Where a daughter lies against its mother (the STEDFESTING_*_MOROBJEKT/DATTEROBJEKT family)."""

from __future__ import annotations

import pytest

from vegskriv.changesets.validation_relations import _places, placement


def linje(fra: float, til: float, vls: int = 1, **extra: object) -> dict[str, object]:
    return {"linje": [{"veglenkesekvensNvdbId": vls, "fra": fra, "til": til, **extra}]}


def punkt(posisjon: float, vls: int = 1, **extra: object) -> dict[str, object]:
    return {"punkt": [{"veglenkesekvensNvdbId": vls, "posisjon": posisjon, **extra}]}


@pytest.mark.parametrize(("daughter", "mother", "expected"), [
    (punkt(0.5), linje(0.4, 0.5), None),  # an end point is inside
    (punkt(0.51), linje(0.4, 0.5), "utenfor"),
    (punkt(0.5, vls=2), linje(0.4, 0.5), "utenfor"),  # another sequence
    (linje(0.4, 0.6), linje(0.4, 0.5), "utenfor"),  # partly outside
    (punkt(0.45, kjørefelt=["1"]), linje(0.4, 0.5), None),  # the mother covers every lane
    (punkt(0.45, kjørefelt=["1"]), linje(0.4, 0.5, kjørefelt=["1", "2"]), None),
    (punkt(0.45, kjørefelt=["1"]), linje(0.4, 0.5, kjørefelt=["2"]), "felt"),
    (punkt(0.45, sideposisjon="H"), linje(0.4, 0.5), None),
    (punkt(0.45, sideposisjon="H"), linje(0.4, 0.5, sideposisjon="V"), "sideposisjon"),
    (punkt(0.45, sideposisjon="H", operasjon="slett"), linje(0.4, 0.5, sideposisjon="V"), None),
])
def test_placement(daughter, mother, expected):
    assert placement(_places(daughter), _places(mother)) == expected


def test_a_second_covering_mother_element_in_the_right_lane_is_enough():
    mother = {"linje": [*linje(0.4, 0.5, kjørefelt=["2"])["linje"], *linje(0.4, 0.5, kjørefelt=["1"])["linje"]]}
    assert placement(_places(punkt(0.45, kjørefelt=["1"])), _places(mother)) is None
