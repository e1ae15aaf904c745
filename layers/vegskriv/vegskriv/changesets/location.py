"""Location (stedfesting) rules of one object, and the interval helpers behind overlap handling (pure).

:func:`check_location` validates one object's ``stedfesting`` against its type in the catalog and
the road network. Codes are the real API Skriv v3 codes (``endringssett/behandlingsresultat.md``):

============================================  ========================================================
kode                                          when
============================================  ========================================================
``MANGLER_OBLIGATORISKE_EGENSKAPER``          the type has a known location kind (PUNKT/LINJE/SVING)
                                              and the object has no location of that kind. In NVDB the
                                              location *is* an egenskapstype (e.g. 100581
                                              "PunktTilknytning", 120105 "Liste av lokasjonsattributt"),
                                              so a missing one is a missing mandatory property; its id is
                                              given as ``egenskapTypeId`` when the catalog knows it.
``UGYLDIG_TYPE``                              location elements of another kind than the type's (e.g.
                                              ``linje`` on a PUNKT type): "a value of another datatype
                                              than the catalog requires" for that same egenskapstype.
``UKJENT_VEGLENKESEKVENS``                    the element names a sequence not in the network.
``VEGLENKESEKVENS_UGYLDIG_PÅ_TIDSPUNKT``      the sequence is not valid during the whole period.
``MANGLER_RETNING``                           the type is direction relevant and an element lacks ``retning``.
``UGYLDIG_SIDEPOSISJON``                      sideposisjon given for a type that has none, or not a known code.
``UGYLDIG_FELT``                              kjørefelt given for a type without lanes, or a malformed lane code.
``UGYLDIG_OVERLAPP``                          two ``linje`` elements of one object overlap on a sequence
                                              and the type forbids overlap (``overlapp_ok`` false).
``UGYLDIG_POSISJON``                          *vegskriv's own code* (no real equivalent: the real API
                                              refuses such a document by its schema before validation):
                                              a position outside 0..1 or ``fra >= til``. The pydantic
                                              models already refuse these; this is a guard for objects
                                              built without validation.
============================================  ========================================================

The sideposisjon codes are the enumeration ``SidePosisjon`` of the published endringssett XSD
(nvdb-vegdata/apiskrivdokumentasjon ``xsd/endringssett.xsd``; the v3 docs name the type
``RelativRetning`` but publish no newer list): ``H V M MH MV HT VT VH K L R``.

Lane codes (``kjørefelt``) follow the NVDB feltoversikt convention (håndbok V830): a lane number
1..99 (odd numbers run with the metering direction, even numbers against it), optionally followed by
one lane-type letter: ``K`` kollektivfelt, ``R`` reversibelt felt, ``S`` sykkelfelt, ``B`` ekstra felt
for bompengeinnkreving, ``F`` forbikjøringsfelt, or ``H``/``V`` svingefelt to the right/left with an
optional sequence number. Accepted grammar: ``^[1-9][0-9]?([KRSBF]|[HV][1-9]?)?$``; e.g. ``1``, ``2``,
``1S``, ``2K``, ``1H1``, ``3V``. Case matters (``1k`` is refused).

The interval helpers work on *extents* ``(veglenkesekvensId, fra, til)``. :func:`overlaps` says
whether two sets of extents share a stretch of positive length (end to end is not overlap);
:func:`trim` removes the new extents from an existing object's extents, which is what
``overlappsautomatikk=JA`` does to the *other* objects of the type: an element fully covered
disappears, one covering a new element in its middle splits in two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date

from vegskriv.catalog import Vegobjekttype
from vegskriv.changesets.models import Linje, Stedfesting, Stedfestingselement, Varsel
from vegskriv.network import Veglenkesekvens

Extent = tuple[int, float, float]
"""A stretch of one veglenkesekvens: (veglenkesekvensId, fra, til), 0 <= fra < til <= 1."""

PUNKT, LINJE, SVING = "PUNKT", "LINJE", "SVING"
KINDS = {PUNKT: "punkt", LINJE: "linje", SVING: "sving"}
"""Location kind in the catalog -> the stedfesting field that carries it."""

SIDEPOSISJONER = frozenset({"H", "V", "M", "MH", "MV", "HT", "VT", "VH", "K", "L", "R"})
FELTKODE = re.compile(r"[1-9][0-9]?(?:[KRSBF]|[HV][1-9]?)?")

_KIND_NAMES = {PUNKT: "punktstedfesting", LINJE: "strekningsstedfesting", SVING: "svingstedfesting"}


def _v(kode: str, melding: str, referanse: str, egenskap: int | None = None) -> Varsel:
    return Varsel(kode=kode, melding=melding, referanse=referanse, egenskapTypeId=egenskap)


def _periode(start: date, slutt: date | None) -> str:
    return f"fra {start}{' til ' + str(slutt) if slutt else ''}"


def _gyldig(seq: Veglenkesekvens) -> str:
    return f"fra {seq.startdato}{' til ' + str(seq.sluttdato) if seq.sluttdato else ''}"


def _mangler(vt: Vegobjekttype, kind: str, referanse: str, et_id: int | None) -> Varsel:
    return _v("MANGLER_OBLIGATORISKE_EGENSKAPER",
              f"Objektet, av typen {vt.navn} ({vt.id}), mangler stedfesting. Typen krever "
              f"{_KIND_NAMES[kind]}; angi stedfesting.{KINDS[kind]} med minst ett element.", referanse, et_id)


def _where(kind: str, i: int, e: Stedfestingselement) -> str:
    return f"stedfesting.{kind}[{i}] (veglenkesekvens {e.veglenkesekvensNvdbId})"


def _check_element(vt: Vegobjekttype, e: Stedfestingselement, kind: str, i: int, referanse: str,
                   feil: list[Varsel]) -> None:
    """retning, sideposisjon and kjørefelt of one punkt/linje element."""
    if e.sideposisjon is None and not e.kjørefelt and (e.retning is not None or not vt.retning_påkrevd):
        return  # nothing to report: the message text below is not built
    where = _where(kind, i, e)
    if e.retning is None and vt.retning_påkrevd:
        feil.append(_v("MANGLER_RETNING",
                       f"{where} mangler retning. Vegobjekttypen {vt.navn} ({vt.id}) er retningsrelevant; "
                       "angi retning MED eller MOT (relativt til veglenkesekvensens retning).", referanse))
    if e.sideposisjon is not None:
        if not vt.tillater_sideposisjon:
            feil.append(_v("UGYLDIG_SIDEPOSISJON",
                           f"{where} angir sideposisjon {e.sideposisjon}, men vegobjekttypen {vt.navn} "
                           f"({vt.id}) er ikke sideposisjonrelevant. Fjern sideposisjon.", referanse))
        elif e.sideposisjon not in SIDEPOSISJONER:
            feil.append(_v("UGYLDIG_SIDEPOSISJON",
                           f"{where}: sideposisjon {e.sideposisjon!r} er ikke en gyldig kode. Gyldige "
                           f"verdier er {', '.join(sorted(SIDEPOSISJONER))}.", referanse))
    if e.kjørefelt:
        if not vt.tillater_kjørefelt:
            feil.append(_v("UGYLDIG_FELT",
                           f"{where} angir kjørefelt {', '.join(map(str, e.kjørefelt))}, men vegobjekttypen "
                           f"{vt.navn} ({vt.id}) er ikke kjørefeltrelevant. Fjern kjørefelt.", referanse))
            return
        bad = [f for f in e.kjørefelt if not (isinstance(f, str) and FELTKODE.fullmatch(f))]
        if bad:
            feil.append(_v("UGYLDIG_FELT",
                           f"{where}: ugyldig feltkode {', '.join(repr(f) for f in bad)}. En feltkode er et "
                           "feltnummer (1-99, oddetall med og partall mot metreringsretningen), eventuelt "
                           "fulgt av felttype K, R, S, B, F eller H/V med løpenummer, f.eks. 1, 2, 1K, 2S, "
                           "1H1, 3V.", referanse))


def check_location(
    vt: Vegobjekttype,
    stedfesting: Stedfesting | None,
    *,
    referanse: str,
    network: dict[int, Veglenkesekvens],
    start: date | None,
    slutt: date | None,
    delvis: bool = False,
) -> tuple[list[Varsel], list[Varsel]]:
    """(feil, advarsler) for one object's location.

    ``start``/``slutt`` is the object's validity period (``start`` None skips the period check).
    ``delvis`` is for delvisOppdater/delvisKorriger: no stedfesting means "unchanged", and element
    lists may be incremental (elements with ``operasjon: slett`` are removals and are only checked
    for their kind). A whole-stedfesting ``operasjon: slett`` leaves a type with a known kind
    without location and is reported as missing.
    """
    feil: list[Varsel] = []
    advarsler: list[Varsel] = []
    kind = vt.stedfestingstype or ""
    field = KINDS.get(kind)
    et_id = vt.stedfesting.egenskapstype_id

    if stedfesting is None or stedfesting.operasjon == "slett":
        if field is not None and (stedfesting is not None or not delvis):
            feil.append(_mangler(vt, kind, referanse, et_id))
        return feil, advarsler

    punkter = stedfesting.punkt or []
    linjer = stedfesting.linje or []
    svinger = stedfesting.sving or []

    # 1. the kind of location matches the type's
    if field is not None:
        given = [name for name, elems in (("punkt", punkter), ("linje", linjer), ("sving", svinger)) if elems]
        wrong = [name for name in given if name != field]
        if wrong:
            feil.append(_v("UGYLDIG_TYPE",
                           f"Objektet, av typen {vt.navn} ({vt.id}), skal ha {_KIND_NAMES[kind]} og kan ikke "
                           f"stedfestes med {' og '.join(wrong)}. Angi stedfestingen som stedfesting.{field}.",
                           referanse, et_id))
        elif not given and not delvis:
            feil.append(_mangler(vt, kind, referanse, et_id))

    # 2. element details: positions, direction, side position, lanes
    for i, p in enumerate(punkter):
        if p.operasjon == "slett":
            continue
        if not 0.0 <= p.posisjon <= 1.0:
            feil.append(_v("UGYLDIG_POSISJON", f"{_where('punkt', i, p)}: posisjon {p.posisjon} må være mellom 0 "
                                               "og 1.", referanse))
        _check_element(vt, p, "punkt", i, referanse, feil)
    for i, li in enumerate(linjer):
        if li.operasjon == "slett":
            continue
        if not (0.0 <= li.fra <= 1.0 and 0.0 <= li.til <= 1.0):
            feil.append(_v("UGYLDIG_POSISJON",
                           f"{_where('linje', i, li)}: fra ({li.fra}) og til ({li.til}) må være mellom 0 og 1.",
                           referanse))
        elif not li.fra < li.til:
            feil.append(_v("UGYLDIG_POSISJON",
                           f"{_where('linje', i, li)}: fra ({li.fra}) må være mindre enn til ({li.til}).",
                           referanse))
        _check_element(vt, li, "linje", i, referanse, feil)
    for i, s in enumerate(svinger):
        if s.operasjon == "slett":
            continue
        for side, pos in (("fraPosisjon", s.fraPosisjon), ("tilPosisjon", s.tilPosisjon)):
            if not 0.0 <= pos <= 1.0:
                feil.append(_v("UGYLDIG_POSISJON",
                               f"stedfesting.sving[{i}]: {side} {pos} må være mellom 0 og 1.", referanse))

    # 3. the network: the sequences exist and are valid for the whole period
    ids: set[int] = {e.veglenkesekvensNvdbId for e in punkter if e.operasjon != "slett"}
    ids.update(e.veglenkesekvensNvdbId for e in linjer if e.operasjon != "slett")
    for s in svinger:
        if s.operasjon != "slett":
            ids.add(s.fraVeglenkesekvensNvdbId)
            ids.add(s.tilVeglenkesekvensNvdbId)
    for vls_id in sorted(ids) if len(ids) > 1 else ids:
        seq = network.get(vls_id)
        if seq is None:
            feil.append(_v("UKJENT_VEGLENKESEKVENS",
                           f"Veglenkesekvens {vls_id} finnes ikke i vegnettet. Kontroller "
                           "veglenkesekvensNvdbId i stedfestingen.", referanse))
        elif start is not None and not seq.gyldig_i(start, slutt):
            feil.append(_v("VEGLENKESEKVENS_UGYLDIG_PÅ_TIDSPUNKT",
                           f"Veglenkesekvens {vls_id} er ikke gyldig i hele vegobjektets gyldighetsperiode "
                           f"({_periode(start, slutt)}); veglenkesekvensen er gyldig {_gyldig(seq)}. Velg en "
                           "veglenkesekvens som er gyldig i hele perioden, eller juster gyldighetsperioden.",
                           referanse))

    # 4. one object's own line elements must not overlap when the type forbids overlap
    if len(linjer) > 1 and not vt.overlapp_tillatt:
        for a, b in self_overlaps(linjer):
            feil.append(_v("UGYLDIG_OVERLAPP",
                           f"stedfesting.linje[{a}] og stedfesting.linje[{b}] overlapper på veglenkesekvens "
                           f"{linjer[a].veglenkesekvensNvdbId}, og vegobjekttypen {vt.navn} ({vt.id}) tillater "
                           "ikke overlapp. Slå sammen eller kort inn elementene.", referanse))
    return feil, advarsler


# --- interval helpers ------------------------------------------------------------------------


def extents(stedfesting: Stedfesting | None) -> list[Extent]:
    """The line extents of a stedfesting (elements to remove, ``operasjon: slett``, left out)."""
    if stedfesting is None or not stedfesting.linje:
        return []
    return [(e.veglenkesekvensNvdbId, e.fra, e.til) for e in stedfesting.linje if e.operasjon != "slett"]


def self_overlaps(linjer: Sequence[Linje]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of line elements of one stedfesting that overlap (slett elements ignored)."""
    by_seq: dict[int, list[tuple[float, float, int]]] = {}
    for i, e in enumerate(linjer):
        if e.operasjon != "slett":
            by_seq.setdefault(e.veglenkesekvensNvdbId, []).append((e.fra, e.til, i))
    pairs: list[tuple[int, int]] = []
    for elems in by_seq.values():
        if len(elems) < 2:
            continue
        elems.sort()
        for k, (fra, til, i) in enumerate(elems):
            for fra2, til2, j in elems[k + 1:]:
                if fra2 >= til:
                    break  # sorted by fra: no later element can start before this one ends
                if max(fra, fra2) < min(til, til2):
                    pairs.append((min(i, j), max(i, j)))
    return sorted(pairs)


def _union(extents_: Iterable[Extent]) -> dict[int, list[tuple[float, float]]]:
    """Per sequence, the sorted, disjoint union of the extents (touching ones merged)."""
    by_seq: dict[int, list[tuple[float, float]]] = {}
    for vls, fra, til in extents_:
        if til > fra:
            by_seq.setdefault(vls, []).append((fra, til))
    for vls, spans in by_seq.items():
        spans.sort()
        merged = [spans[0]]
        for fra, til in spans[1:]:
            last_fra, last_til = merged[-1]
            if fra <= last_til:
                merged[-1] = (last_fra, max(last_til, til))
            else:
                merged.append((fra, til))
        by_seq[vls] = merged
    return by_seq


def forenkle(extents_: Iterable[Extent]) -> list[Extent]:
    """The same stretches with overlapping and end-to-end elements merged (sorted by sequence, fra)."""
    return [(vls, fra, til) for vls, spans in sorted(_union(extents_).items()) for fra, til in spans]


def overlaps(a: Iterable[Extent], b: Iterable[Extent]) -> bool:
    """Do the two sets of extents share a stretch of positive length? End to end is not overlap."""
    ub = _union(b)
    if not ub:
        return False
    for vls, fra, til in a:
        spans = ub.get(vls)
        if not spans or til <= fra:
            continue
        for sfra, stil in spans:
            if sfra >= til:
                break
            if stil > fra:
                return True
    return False


def trim(existing_linjer: Iterable[Extent], new_linjer: Iterable[Extent], *, min_lengde: float = 0.0) -> list[Extent]:
    """``existing_linjer`` minus ``new_linjer``: what overlappsautomatikk leaves of another object.

    Each existing extent keeps its place in the order; a fully covered one disappears, a partly
    covered one is shortened, one covering a new extent in its middle is split in two. Pieces not
    longer than ``min_lengde`` (relative length) are dropped. Extents on sequences the new ones do
    not touch are returned unchanged.
    """
    cut = _union(new_linjer)
    result: list[Extent] = []
    for vls, fra, til in existing_linjer:
        spans = cut.get(vls)
        if not spans or til <= fra:
            result.append((vls, fra, til))
            continue
        pos = fra
        for sfra, stil in spans:
            if stil <= pos:
                continue
            if sfra >= til:
                break
            if sfra > pos and sfra - pos > min_lengde:
                result.append((vls, pos, sfra))
            pos = max(pos, stil)
            if pos >= til:
                break
        if pos < til and (pos == fra or til - pos > min_lengde):
            result.append((vls, pos, til))
    return result
