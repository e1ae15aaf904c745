"""Location rules that need the links and nodes of the road network (pure): a location on a
connection link, on a topology level the type may not use, or a turn through an unknown node or a
node not valid for the object's whole period. Sequences loaded without ``veglenker``/``porter``
give no answer here (see ``docs/varselkoder.md``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from vegskriv import catalog as cat
from vegskriv.changesets.models import Varsel
from vegskriv.network import Veglenke, Veglenkesekvens, gyldig

DEFAULT_TOPOLOGINIVÅER = ("VEGTRASE",)
"""behandlingsresultat.md: "De fleste vegobjekttype skal stedfestes på vegtrasénivå." The catalog
extract names no type's levels (no published rule was found either), so a type may use others only when its
catalog entry lists them in ``styringsparametere.topologinivåer`` (vegskriv's own parameter)."""


def network_rules(o: Any, vt: cat.Vegobjekttype, network: dict[int, Veglenkesekvens], start: date | None,
                  slutt: date | None, ref: str) -> list[Varsel]:
    s = o.stedfesting
    seqs = [network[v] for v in s.veglenkesekvenser() if v in network] if s is not None else []
    if s is None or s.operasjon == "slett" or not any(seq.veglenker or seq.porter is not None for seq in seqs):
        return []  # no links or ports loaded where the object lies: these rules have nothing to say
    dag = start or date.today()
    return _links(s, vt, network, dag, ref) + _nodes(s, network, start, slutt, ref)


def _elements(s: Any) -> Iterator[tuple[str, int, float, float]]:
    """(path, sequence, fra, til) of every element to store; a point has fra == til."""
    for i, p in enumerate(s.punkt or []):
        if p.operasjon != "slett":
            yield f"stedfesting.punkt[{i}]", p.veglenkesekvensNvdbId, p.posisjon, p.posisjon
    for i, li in enumerate(s.linje or []):
        if li.operasjon != "slett":
            yield f"stedfesting.linje[{i}]", li.veglenkesekvensNvdbId, li.fra, li.til
    for i, sv in enumerate(s.sving or []):
        if sv.operasjon != "slett":
            yield f"stedfesting.sving[{i}].fra", sv.fraVeglenkesekvensNvdbId, sv.fraPosisjon, sv.fraPosisjon
            yield f"stedfesting.sving[{i}].til", sv.tilVeglenkesekvensNvdbId, sv.tilPosisjon, sv.tilPosisjon


def _links(s: Any, vt: cat.Vegobjekttype, network: dict[int, Veglenkesekvens], dag: date, ref: str) -> list[Varsel]:
    # Only an explicit false forbids connection links: the extract leaves the parameter out for most types.
    no_connection = vt.styringsparametere.get("konnekteringslenke_ok") is False
    allowed = set(vt.styringsparametere.get("topologinivåer") or DEFAULT_TOPOLOGINIVÅER)
    found: list[Varsel] = []
    for where, vls, fra, til in _elements(s):
        seq = network.get(vls)
        links = [v for v in (seq.veglenker or []) if v.gyldig_på(dag) and v.berører(fra, til)] if seq else []
        konnektering = [v for v in links if v.type == "KONNEKTERING"]
        if no_connection and konnektering:
            found.append(Varsel(
                kode="STEDFESTET_PÅ_KONNEKTERINGSVEGLENKE", referanse=ref,
                melding=f"{where} ligger på konnekteringsveglenke {_nummer(konnektering)} i veglenkesekvens {vls}, "
                        f"og vegobjekttypen {vt.navn} ({vt.id}) kan ikke stedfestes på konnekteringslenker. "
                        "Stedfest på hovedveglenken."))
        wrong = [v for v in links if not allowed & set(v.topologinivå)]
        if wrong:
            levels = ", ".join(sorted({n for v in wrong for n in v.topologinivå}))
            found.append(Varsel(
                kode="STEDFESTET_PÅ_UGYLDIG_TOPOLOGINIVÅ", referanse=ref,
                melding=f"{where} ligger på veglenke {_nummer(wrong)} i veglenkesekvens {vls} med topologinivå "
                        f"{levels}, men vegobjekttypen {vt.navn} ({vt.id}) kan bare stedfestes på "
                        f"{', '.join(sorted(allowed))}. Stedfest på vegnett av riktig nivå."))
    return found


def _nummer(links: list[Veglenke]) -> str:
    return ", ".join(str(v.veglenkenummer) for v in links)


def _nodes(s: Any, network: dict[int, Veglenkesekvens], start: date | None, slutt: date | None,
           ref: str) -> list[Varsel]:
    """A turn's node is known through the ports of the turn's own sequences (the network keeps
    nodes only as port connections); its lifetime is that of the links meeting there."""
    found: list[Varsel] = []
    for i, sv in enumerate(s.sving or []):
        seqs = [network[v] for v in (sv.fraVeglenkesekvensNvdbId, sv.tilVeglenkesekvensNvdbId)
                if v in network and network[v].porter is not None]
        if sv.operasjon == "slett" or not seqs:
            continue
        where = f"stedfesting.sving[{i}].nodeNvdbId"
        holding = [(seq, seq.noder()[sv.nodeNvdbId]) for seq in seqs if sv.nodeNvdbId in seq.noder()]
        if not holding:
            names = " og ".join(str(seq.veglenkesekvensId) for seq in seqs)
            found.append(Varsel(kode="UKJENT_NODE", referanse=ref,
                                melding=f"{where}: node {sv.nodeNvdbId} finnes ikke i vegnettet ved veglenkesekvens "
                                        f"{names}. Angi noden der svingen går mellom sekvensene."))
            continue
        periods = [(v.startdato, v.sluttdato) for seq, port in holding for v in seq.veglenker or []
                   if port in (v.startport, v.sluttport)]
        if start is not None and periods and not _covered(periods, start, slutt):
            found.append(Varsel(kode="NODE_UGYLDIG_PÅ_TIDSPUNKT", referanse=ref,
                                melding=f"{where}: node {sv.nodeNvdbId} er ikke gyldig i hele vegobjektets "
                                        f"gyldighetsperiode (fra {start}{' til ' + str(slutt) if slutt else ''}); "
                                        "ingen veglenke møtes i noden i hele perioden. Juster gyldighetsperioden."))
    return found


def _covered(periods: list[tuple[date, date | None]], start: date, slutt: date | None) -> bool:
    """Do the periods together cover [start, slutt) without a gap?"""
    reached = start
    for fra, til in sorted(periods, key=lambda p: p[0]):
        if fra > reached:
            break
        if til is None:
            return True
        reached = max(reached, til)
    return gyldig(start, reached, start, slutt)
