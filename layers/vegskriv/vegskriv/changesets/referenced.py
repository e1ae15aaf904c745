"""What a changeset refers to, read before it is validated: the objects it names (and the composed
daughters its cascades reach or its changed mothers hold) and the road sequences it locates on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vegskriv import catalog as cat
from vegskriv.changesets.models import Endringssett, felt
from vegskriv.changesets.operations import composed_daughters
from vegskriv.changesets.validation_relations import CHANGING

Versions = dict[int, list[dict[str, Any]]]


def referenced_sequences(doc: Endringssett) -> set[int]:
    ids: set[int] = set()
    for _, objects in doc.operations():
        for o in objects:
            stedfesting = felt(o, "stedfesting")
            if stedfesting is not None:
                ids |= stedfesting.veglenkesekvenser()
    return ids


def referenced_objects(doc: Endringssett) -> set[int]:
    ids: set[int] = set()
    for _, objects in doc.operations():
        for o in objects:
            if felt(o, "nvdbId"):
                ids.add(o.nvdbId)
            for a in felt(o, "assosiasjoner") or []:
                ids |= {int(t.verdi) for t in a.nvdbId if str(t.verdi).isdigit()}
    return ids


def gather_existing(doc: Endringssett, catalog: cat.Datakatalog, fetch: Callable[[list[int]], Versions],
                    max_depth: int = 5) -> Versions:
    """The objects the changeset names, plus the composed daughters a lukk/fjern cascade reaches and
    those of a mother it changes (which must not lose a daughter that needs a mother)."""
    existing = fetch(sorted(referenced_objects(doc)))
    changed = {o.nvdbId for op in CHANGING if getattr(doc, op) for o in getattr(doc, op).vegobjekter}
    held = {d for n in changed if existing.get(n) for d in composed_daughters(existing[n][-1], catalog)}
    if held - existing.keys():
        existing.update(fetch(sorted(held - existing.keys())))
    frontier = {o.nvdbId for op in ("lukk", "fjern") if getattr(doc, op) for o in getattr(doc, op).vegobjekter}
    for _ in range(max_depth):
        daughters = {d for n in frontier if existing.get(n) for d in composed_daughters(existing[n][-1], catalog)}
        missing = sorted(daughters - existing.keys())
        if not missing:
            break
        existing.update(fetch(missing))
        frontier = daughters
    return existing
