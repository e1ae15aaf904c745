"""BINÆRVERDI_FINNES_IKKE: a Binærobjekt property names, by ``ressursId``, an object uploaded through
/rest/v3/binaer. The lookup is passed in (the store's), so this stays testable without S3."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from vegskriv.changesets.models import Egenskap, Endringssett, Varsel, VegobjektResultat, felt

Lookup = Callable[[Iterable[str]], set[str]]  # the given ids that exist


def _references(egenskaper: Iterable[Egenskap]) -> Iterator[tuple[int, str]]:
    for e in egenskaper:
        for b in (e.binaer or []) + (e.binaerobjekt or []):
            yield e.typeId, b.ressursId
        members = (e.medlem or []) + (e.struktur.medlem if e.struktur is not None else [])
        yield from _references(members)


def check_binaries(doc: Endringssett, entries: dict[str, VegobjektResultat], existing: Lookup | None) -> None:
    """Adds the error to the object's entry (keyed by tempId, or nvdbId as text) for each unknown id."""
    if existing is None:
        return
    wanted: list[tuple[Any, int, str]] = []
    for op, objects in doc.operations():
        for o in objects:
            ref = o.tempId if op == "registrer" else str(o.nvdbId)
            wanted += [(ref, egenskap, ressurs) for egenskap, ressurs in _references(felt(o, "egenskaper")
                                                                                      or [])]
    if not wanted:
        return
    found = existing({ressurs for _, _, ressurs in wanted})
    for ref, egenskap, ressurs in wanted:
        if ressurs not in found and ref in entries:
            entries[ref].feil.append(Varsel(
                kode="BINÆRVERDI_FINNES_IKKE", referanse=ref, egenskapTypeId=egenskap,
                melding=f"Egenskap {egenskap} refererer til binærobjektet {ressurs}, som ikke finnes. "
                        "Last det opp med POST /rest/v3/binaer og bruk id-en derfra som ressursId."))
