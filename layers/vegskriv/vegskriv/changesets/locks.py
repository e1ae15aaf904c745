"""Locks (lås): who may write or read which object types on which stretch of road network.

A lock has an owner (a changeset, or a long-lived external owner), per object type a kind —
``NORMAL`` (intends to write) or ``SEKUNDÆR`` (reads and must not see changes) — and the network
it covers (veglenkesekvens with fra/til). NORMAL conflicts with any other lock on the same type
over overlapping network; SEKUNDÆR locks coexist. This module is the pure part: what a changeset
needs and whether two claims conflict. Storage and leases live in ``store/locks.py``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from vegskriv.changesets.models import Endringssett, felt

Låstype = Literal["NORMAL", "SEKUNDÆR"]
NORMAL: Låstype = "NORMAL"
SECONDARY: Låstype = "SEKUNDÆR"
Range = tuple[float, float]
Cell = tuple[int, int]  # (typeId, veglenkesekvensId)


class LåsteType(BaseModel):
    typeId: int = Field(gt=0)
    låstype: Låstype = NORMAL


class LåstStrekning(BaseModel):
    veglenkesekvensNvdbId: int = Field(gt=0)
    fra: float = Field(0.0, ge=0, le=1)
    til: float = Field(1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> LåstStrekning:
        if self.fra > self.til:
            raise ValueError("fra kan ikke være større enn til")
        return self


class NyLås(BaseModel):
    """A long-lived lock requested through the API (how other systems' locks are represented)."""

    eier: str | None = Field(None, description="Eier; bare 9_system_admin kan sette en annen enn seg selv")
    oppdragId: int | None = Field(None, ge=0, le=2**63 - 1)  # int64, as JSON numbers are read
    vegobjekttyper: list[LåsteType] = Field(min_length=1)
    stedfesting: list[LåstStrekning] = Field(min_length=1)
    varighetSekunder: int | None = Field(None, ge=1, description="Standard ett døgn; høyst EXTERNAL_LOCK_MAX_SECONDS")


class Claim(BaseModel):
    """What one lock holds in one cell."""

    kind: Låstype
    ranges: list[Range]


def coalesce(ranges: Iterable[Range]) -> list[Range]:
    """The same stretch of network as sorted, disjoint closed intervals (touching ones joined)."""
    joined: list[Range] = []
    for fra, til in sorted(ranges):
        if joined and fra <= joined[-1][1]:
            if til > joined[-1][1]:
                joined[-1] = (joined[-1][0], til)
        else:
            joined.append((fra, til))
    return joined


def overlapping(a: Iterable[Range], b: Iterable[Range]) -> bool:
    """Closed intervals: a point lock at 0.3 overlaps a line lock 0.1–0.3.

    One sweep over both sides sorted, not every pair: a cell of a 10,000-object changeset holds
    thousands of ranges, and comparing two such claims pair by pair took over a second."""
    left, right = coalesce(a), coalesce(b)
    i = j = 0
    while i < len(left) and j < len(right):
        (fa, ta), (fb, tb) = left[i], right[j]
        if fa <= tb and fb <= ta:
            return True
        if ta < tb:  # left[i] lies wholly before right[j], so before everything after it too
            i += 1
        else:
            j += 1
    return False


def conflicts(mine: Claim, theirs: Claim) -> bool:
    if mine.kind == SECONDARY and theirs.kind == SECONDARY:
        return False
    return overlapping(mine.ranges, theirs.ranges)


def merge(claims: dict[Cell, Claim], cell: Cell, kind: Låstype, ranges: list[Range]) -> None:
    """Add ranges to a cell claim; NORMAL wins over SEKUNDÆR for the same cell (``coalesced`` tidies
    the ranges once all are in)."""
    current = claims.get(cell)
    if current is None:
        claims[cell] = Claim(kind=kind, ranges=list(ranges))
        return
    current.ranges.extend(ranges)
    if kind == NORMAL:
        current.kind = NORMAL


def coalesced(claims: dict[Cell, Claim]) -> dict[Cell, Claim]:
    """Each claim's ranges as disjoint sorted intervals: the same network held, and lock items
    that stay small (a point given twice is stored once)."""
    for claim in claims.values():
        claim.ranges = coalesce(claim.ranges)
    return claims


def _location_ranges(stedfesting: dict[str, Any] | None) -> dict[int, list[Range]]:
    ranges: dict[int, list[Range]] = defaultdict(list)
    for p in (stedfesting or {}).get("punkt") or []:
        ranges[p["veglenkesekvensNvdbId"]].append((p["posisjon"], p["posisjon"]))
    for line in (stedfesting or {}).get("linje") or []:
        ranges[line["veglenkesekvensNvdbId"]].append((line["fra"], line["til"]))
    for s in (stedfesting or {}).get("sving") or []:
        ranges[s["fraVeglenkesekvensNvdbId"]].append((s["fraPosisjon"], s["fraPosisjon"]))
        ranges[s["tilVeglenkesekvensNvdbId"]].append((s["tilPosisjon"], s["tilPosisjon"]))
    return ranges


def changeset_claims(doc: Endringssett, existing: dict[int, list[dict[str, Any]]],
                     cascaded: Iterable[int] = ()) -> dict[Cell, Claim]:
    """NORMAL on everything the changeset writes (new and old location, and ``cascaded``: the
    composed daughters its lukk/fjern cascades close or remove), SEKUNDÆR on the existing daughters
    it associates (read to validate them)."""
    claims: dict[Cell, Claim] = {}
    for daughter in cascaded:
        latest = existing[daughter][-1]
        for vls, ranges in _location_ranges(latest.get("stedfesting")).items():
            merge(claims, (latest["typeId"], vls), NORMAL, ranges)
    for _, objects in doc.operations():
        for o in objects:
            given = felt(o, "stedfesting")
            locations = [given.model_dump(mode="json", exclude_none=True)] if given is not None else []
            for version in existing.get(felt(o, "nvdbId") or 0, [])[-1:]:
                locations.append(version.get("stedfesting"))
            for location in locations:
                for vls, ranges in _location_ranges(location).items():
                    merge(claims, (o.typeId, vls), NORMAL, ranges)
            for a in felt(o, "assosiasjoner") or []:
                for target in a.nvdbId:
                    for version in existing.get(int(target.verdi), [])[-1:]:
                        for vls, ranges in _location_ranges(version.get("stedfesting")).items():
                            merge(claims, (version["typeId"], vls), SECONDARY, ranges)
    return coalesced(claims)


def union(a: dict[Cell, Claim], b: dict[Cell, Claim]) -> dict[Cell, Claim]:
    """Every cell and range of both (NORMAL where either is)."""
    claims: dict[Cell, Claim] = {}
    for source in (a, b):
        for cell, claim in source.items():
            merge(claims, cell, claim.kind, list(claim.ranges))
    return coalesced(claims)


def external_claims(request: NyLås) -> dict[Cell, Claim]:
    claims: dict[Cell, Claim] = {}
    for t in request.vegobjekttyper:
        for s in request.stedfesting:
            merge(claims, (t.typeId, s.veglenkesekvensNvdbId), t.låstype, [(s.fra, s.til)])
    return coalesced(claims)
