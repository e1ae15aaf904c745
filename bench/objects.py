"""The changesets the bench sends: many objects shaped like the real excerpts 03 and 04.

The shapes come from the test suite's copies of the excerpts (``tests/data/endringssett``, read
through ``tests.support.fixtures``); the builders only vary ids, positions and numbers.
"""

from __future__ import annotations

import copy
import random
import uuid
from typing import Any

from tests.support.fixtures import excerpt

CATALOG_VERSION = "2.38"


# The two road-network sequences the excerpts are located on. Both lie in Orkland (5059),
# judging by the UTM33 coordinates of the excerpts; lengths are illustrative (positions are
# relative, 0..1, so the length only matters for the network rules' type checks).
NETWORK = [
    {"veglenkesekvensId": 72817, "lengde": 1843.2, "kommune": 5059, "fylke": 50, "vegkategori": "F",
     "startdato": "2010-01-01"},
    {"veglenkesekvensId": 3325547, "lengde": 812.5, "kommune": 5059, "fylke": 50, "vegkategori": "E",
     "startdato": "2010-01-01"},
]


def _shapes() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """03: a Stikkrenne/Kulvert (79) with association 220116 to two Kum (83) daughters by tempId;
    04: a Kum (83) on 3325547."""
    stikkrenne, kum_a, kum_b = excerpt("registrer_79")["registrer"]["vegobjekter"]
    (kum_c,) = excerpt("registrer_83")["registrer"]["vegobjekter"]
    return stikkrenne, kum_a, kum_b, kum_c


def _kum_point(kum: dict[str, Any]) -> tuple[float, float]:
    wkt = next(g["wkt"] for e in kum["egenskaper"] for g in e.get("geometri", []))
    x, y, *_ = wkt.partition("(")[2].rstrip(")").split()
    return float(x), float(y)


def _shift_wkt(wkt: str, dx: float, dy: float) -> str:
    kind, _, rest = wkt.partition(" (")
    points = []
    for point in rest.rstrip(")").split(","):
        x, y, *z = point.split()
        points.append(" ".join([f"{float(x) + dx:.8f}", f"{float(y) + dy:.8f}", *z]))
    return f"{kind} ({', '.join(points)})"


def _varied(template: dict[str, Any], temp_id: str, sequence: int, position: float, dx: float, dy: float,
            number_type: int, number: str) -> dict[str, Any]:
    obj = copy.deepcopy(template)
    obj["tempId"] = temp_id
    punkt = obj["stedfesting"]["punkt"][0]
    punkt["veglenkesekvensNvdbId"] = sequence
    punkt["posisjon"] = round(position, 8)
    for egenskap in obj["egenskaper"]:
        if egenskap["typeId"] == number_type:
            egenskap["verdi"] = [number]
        for g in egenskap.get("geometri", []):
            g["wkt"] = _shift_wkt(g["wkt"], dx, dy)
    return obj


def build_objects(n: int, seed: int = 20240927) -> list[dict[str, Any]]:
    """n ``registrer`` objects: families of one 79 with its two 83 daughters (excerpt 03), the
    remainder (n mod 3) as standalone 83 (excerpt 04). Families alternate between 72817 (daughters
    shaped like 03) and 3325547 (daughters shaped like 04). Each object gets its own tempId
    (uuid4-style, like the excerpt), position, coordinates and one numeric property (Lengde 1323
    for 79, Dybde 1586 for 83)."""
    stikkrenne, kum_a, kum_b, kum_c = _shapes()
    # Where the 79's line and the kums' points are moved to on 3325547: the 04 kum's surroundings.
    (xa, ya), (xc, yc) = _kum_point(kum_a), _kum_point(kum_c)
    offset_3325547 = (xc - xa, yc - ya)
    rng = random.Random(seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    objects: list[dict[str, Any]] = []
    family = 0
    while len(objects) + 3 <= n:
        on_72817 = family % 2 == 0
        sequence = 72817 if on_72817 else 3325547
        base_dx, base_dy = (0.0, 0.0) if on_72817 else offset_3325547
        dx, dy = base_dx + rng.uniform(-400, 400), base_dy + rng.uniform(-400, 400)
        position = rng.uniform(0.01, 0.98)
        daughters = (kum_a, kum_b) if on_72817 else (kum_c, kum_c)
        ids = [new_id() for _ in range(3)]
        mother = _varied(stikkrenne, ids[0], sequence, position, dx, dy, 1323, f"{rng.uniform(4, 40):.2f}")
        mother["assosiasjoner"][0]["tempId"] = [{"verdi": ids[1]}, {"verdi": ids[2]}]
        kids = [_varied(shape, temp_id, sequence, position + rng.uniform(-0.0002, 0.0002),
                        dx + rng.uniform(-1, 1), dy + rng.uniform(-1, 1), 1586, f"{rng.uniform(0.5, 4):.1f}")
                for shape, temp_id in zip(daughters, ids[1:], strict=True)]
        if not on_72817:
            kids[1]["stedfesting"]["punkt"][0]["sideposisjon"] = "V"
        objects += [mother, *kids]
        family += 1
    while len(objects) < n:
        dx, dy = rng.uniform(-400, 400), rng.uniform(-400, 400)
        objects.append(_varied(kum_c, new_id(), 3325547, rng.uniform(0.01, 0.99), dx, dy, 1586,
                               f"{rng.uniform(0.5, 4):.1f}"))
    return objects


def changeset(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"datakatalogversjon": CATALOG_VERSION, "registrer": {"vegobjekter": objects}}


def type_counts(objects: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in objects:
        counts[str(o["typeId"])] = counts.get(str(o["typeId"]), 0) + 1
    return counts
