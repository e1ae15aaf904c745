"""Catalog value rules, part 2: validation of an object's properties against its type (real NVDB varsel
codes from endringssett/behandlingsresultat.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import TYPE_CHECKING, Any

from vegskriv.catalog.geometri_regler import check_kvalitet, check_position
from vegskriv.catalog.values import (
    _MAX_LISTED_VALUES,
    _NUMERIC,
    _SCALAR_DATATYPES,
    BETINGET,
    PÅKREVD_ABSOLUTT,
    PÅKREVD_IKKE_ABSOLUTT,
    GeometriFeil,
    Tolket,
    antall_desimaler,
    feltbredde,
    parse_boolsk,
    parse_dato,
    parse_flyttall,
    parse_geometri,
    parse_heltall,
    parse_klokkeslett,
    parse_kortdato,
    parse_tekst,
)
from vegskriv.changesets.models import Egenskap, Geometri, Varsel
from vegskriv.settings import get_settings

if TYPE_CHECKING:  # model imports this module at runtime; only annotations come back
    from vegskriv.catalog.model import Datakatalog, Egenskapstype, Grense, Relasjonstype, TillattVerdi, Vegobjekttype


# --- validation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Koder:
    """Varsel codes differ between an object's properties and a structure's members."""

    ukjent: str
    mangler: dict[str, tuple[str, bool, str]]  # viktighet → (code, is_error, wording)


OBJEKT_KODER = _Koder(
    ukjent="UKJENT_EGENSKAPSTYPE",
    mangler={
        PÅKREVD_ABSOLUTT: ("MANGLER_OBLIGATORISKE_EGENSKAPER", True, "påkrevd absolutt"),
        PÅKREVD_IKKE_ABSOLUTT: ("MANGLER_ANBEFALTE_EGENSKAPER", False, "påkrevd ikke absolutt"),
        BETINGET: ("MANGLER_BETINGET_PÅKREVDE_EGENSKAPER", False, "betinget"),
    },
)
STRUKTUR_KODER = _Koder(
    ukjent="UKJENT_MEDLEMSTYPE",
    mangler={
        PÅKREVD_ABSOLUTT: ("MANGLER_OBLIGATORISKE_MEDLEMMER", True, "påkrevd absolutt"),
        PÅKREVD_IKKE_ABSOLUTT: ("MANGLER_ANBEFALTE_MEDLEMMER", False, "påkrevd ikke absolutt"),
    },
)


def _enum_key(datatype: str, verdi: Any) -> Any:
    # Numeric enums compare by value ("80" == 80 == 80.0); text enums compare exactly.
    if datatype in _NUMERIC:
        try:
            return parse_flyttall(verdi)[0]
        except ValueError:
            return verdi
    return verdi if isinstance(verdi, str) else str(verdi)


def _parse_limit(datatype: str, limit: Grense | None) -> Any:
    if limit is None:
        return None
    try:
        if datatype == "Dato":
            return parse_dato(limit)
        if datatype == "Klokkeslett":
            return parse_klokkeslett(limit)
        if datatype in _NUMERIC:
            return parse_flyttall(limit)[0]
    except ValueError:
        return None  # an unusable limit is ignored rather than rejecting every value
    return None


@dataclass(slots=True)
class _Regel:
    """What validation needs of one property type, precomputed (plain attributes: no pydantic lookups)."""

    et: Egenskapstype
    id: int
    datatype: str
    enum: bool
    verdier_ukjente: bool
    liste: bool
    enum_ids: frozenset[int]
    enum_by_verdi: dict[Any, TillattVerdi]
    limits: tuple[Any, Any, Any, Any]  # min, maks, min_anbefalt, maks_anbefalt (parsed)
    has_limits: bool
    members: _Container | None
    skalar: bool  # given as 'verdi'
    avledet: bool

    @classmethod
    def build(cls, et: Egenskapstype) -> _Regel:
        limits = (_parse_limit(et.datatype, et.min), _parse_limit(et.datatype, et.maks),
                  _parse_limit(et.datatype, et.min_anbefalt), _parse_limit(et.datatype, et.maks_anbefalt))
        members = None
        if et.medlemmer is not None:
            members = _Container.build(f"Strukturegenskapen {et.navn} ({et.id})", et.medlemmer,
                                       STRUKTUR_KODER)
        return cls(
            et=et, id=et.id, datatype=et.datatype, enum=et.enum, verdier_ukjente=et.verdier_ukjente,
            liste=et.liste, enum_ids=frozenset(v.id for v in et.tillatte_verdier),
            enum_by_verdi={_enum_key(et.datatype, v.verdi): v for v in et.tillatte_verdier},
            limits=limits,
            has_limits=et.feltlengde is not None or et.desimaler is not None
            or any(x is not None for x in limits),
            members=members, skalar=et.datatype in _SCALAR_DATATYPES, avledet=et.avledet,
        )


@dataclass(slots=True)
class _Container:
    """Precomputed lookups for a set of property types (an object type or a structure)."""

    navn: str  # the subject of "mangler" messages
    by_id: dict[int, _Regel]
    required: tuple[tuple[str, tuple[Egenskapstype, ...]], ...]  # (viktighet, types) in severity order
    koder: _Koder

    @classmethod
    def build(cls, navn: str, egenskapstyper: Iterable[Egenskapstype], koder: _Koder) -> _Container:
        by_id = {et.id: _Regel.build(et) for et in egenskapstyper}
        required = tuple(
            (viktighet, tuple(r.et for r in by_id.values() if r.et.viktighet == viktighet))
            for viktighet in koder.mangler
        )
        return cls(navn, by_id, tuple((v, ets) for v, ets in required if ets), koder)


# A judged value's varsler without the object they belong to: (is an error, kode, melding, egenskapTypeId).
_Dom = tuple[tuple[bool, str, str, int | None], ...]


@dataclass(slots=True)
class Forberedt:
    """What the objects of one changeset share while they are validated: their geometries parsed
    at once (:func:`tolk_wkt`), and the varsler of each (property type, value) already judged.
    Real changesets repeat a few texts ("Betong", "Nei") in thousands of objects."""

    geometrier: dict[str, Tolket] = field(default_factory=dict)
    verdier: dict[tuple[int, type, Any], _Dom] = field(default_factory=dict)


@dataclass(slots=True)
class _Sink:
    referanse: str
    feil: list[Varsel] = field(default_factory=list)
    advarsler: list[Varsel] = field(default_factory=list)
    forberedt: Forberedt | None = None

    def error(self, kode: str, melding: str, et_id: int | None = None) -> None:
        self.feil.append(Varsel(kode=kode, melding=melding, referanse=self.referanse, egenskapTypeId=et_id))

    def warning(self, kode: str, melding: str, et_id: int | None = None) -> None:
        self.advarsler.append(Varsel(kode=kode, melding=melding, referanse=self.referanse,
                                     egenskapTypeId=et_id))


def _navn(et: Egenskapstype | _Regel) -> str:
    if isinstance(et, _Regel):
        et = et.et
    return f"{et.navn} ({et.id})"


def _values_of(eg: Egenskap) -> tuple[str | None, list[Any], int]:
    """(form, values, number of non-empty forms): which of verdi/enum/geometri/medlem/binærobjekt is used."""
    form: str | None = None
    values: list[Any] = []
    forms = 0
    members = eg.struktur.medlem if eg.struktur is not None else None  # NVDB's {"struktur": {"medlem": [...]}}
    for name, given in (("verdi", eg.verdi), ("enum", eg.enum), ("geometri", eg.geometri), ("medlem", eg.medlem),
                        ("medlem", members), ("binærobjekt", eg.binaerobjekt), ("binærobjekt", eg.binaer)):
        if given:
            forms += 1
            if form is None:
                form, values = name, given
    return form, values, forms


_FORMAT_CODES = {
    "Heltall": "UGYLDIG_HELTALLFORMAT",
    "Flyttall": "UGYLDIG_FLYTTALLFORMAT",
    "Dato": "UGYLDIG_DATOFORMAT",
    "Kortdato": "UGYLDIG_KORTDATOFORMAT",
    "Klokkeslett": "UGYLDIG_TIDFORMAT",
    "Boolsk": "UGYLDIG_BOOLSK_FORMAT",
    "Tegn": "UGYLDIG_TEGNFORMAT",
    "Tekst": "UGYLDIG_TYPE",
}
_FORMAT_HINTS = {
    "Heltall": "et heltall, f.eks. \"2023\"",
    "Flyttall": "et desimaltall med punktum, f.eks. \"1.4\"",
    "Dato": "en dato på formen ÅÅÅÅ-MM-DD eller ååååmmdd",
    "Kortdato": "en kortdato på formen mm-dd eller mmdd",
    "Klokkeslett": "et klokkeslett på formen TT:MM, TT:MM:SS eller ttmm",
    "Boolsk": "JA, NEI, true eller false",
    "Tegn": "tekst",
    "Tekst": "tekst",
}


def _parse_scalar(datatype: str, value: Any) -> tuple[Any, str | None]:
    """(comparable value, decimal text for numbers). Raises ValueError on a malformed value."""
    if datatype == "Flyttall":
        return parse_flyttall(value)
    if datatype == "Heltall":
        number = parse_heltall(value)
        return number, str(abs(number))
    if datatype == "Dato":
        return parse_dato(value), None
    if datatype == "Kortdato":
        return parse_kortdato(value), None
    if datatype == "Klokkeslett":
        return parse_klokkeslett(value), None
    if datatype == "Boolsk":
        return parse_boolsk(value), None
    if datatype == "Tegn" and not isinstance(value, str):
        raise ValueError("tegn må være tekst")
    return parse_tekst(value), None


def _enum_message(et: Egenskapstype) -> str:
    values = [f"{v.verdi} ({v.id})" for v in et.tillatte_verdier[:_MAX_LISTED_VALUES]]
    rest = len(et.tillatte_verdier) - len(values)
    more = f", … og {rest} til" if rest > 0 else ""
    return (f"Verdien for egenskapstype {_navn(et)} må være en av følgende verdier: "
            f"[{', '.join(values)}{more}]")


def _check_limits(regel: _Regel, value: Any, text: str | None, sink: _Sink) -> None:
    et = regel.et
    name = _navn(et)
    if et.feltlengde is not None:
        width = len(value) if isinstance(value, str) else (feltbredde(text) if text is not None else None)
        if width is not None and width > et.feltlengde:
            sink.error("OVERSKRIDER_FELTLENGDE", f"Verdien for {name} har feltlengde {width}, men maksimal "
                       f"feltlengde er {et.feltlengde}. Forkort verdien.", et.id)
    if et.desimaler is not None and text is not None and et.datatype == "Flyttall":
        decimals = antall_desimaler(text)
        if decimals > et.desimaler:
            sink.error("FOR_MANGE_DESIMALER", f"Verdien for {name} har {decimals} desimaler, men høyst "
                       f"{et.desimaler} er tillatt. Rund av verdien.", et.id)
    low, high, low_rec, high_rec = regel.limits
    if isinstance(value, bool) or not isinstance(value, int | float | date | time):
        return
    try:
        if high is not None and value > high:
            sink.error("STØRRE_ENN_ABSOLUTT_MAKSIMUM", f"Verdien {value} for {name} er større enn absolutt "
                       f"maksimum {et.maks}.", et.id)
        elif high_rec is not None and value > high_rec:
            sink.warning("STØRRE_ENN_ANBEFALT_MAKSIMUM", f"Verdien {value} for {name} er større enn anbefalt "
                         f"maksimum {et.maks_anbefalt}. Kontroller verdien.", et.id)
        if low is not None and value < low:
            sink.error("MINDRE_ENN_ABSOLUTT_MINIMUM", f"Verdien {value} for {name} er mindre enn absolutt "
                       f"minimum {et.min}.", et.id)
        elif low_rec is not None and value < low_rec:
            sink.warning("MINDRE_ENN_ANBEFALT_MINIMUM", f"Verdien {value} for {name} er mindre enn anbefalt "
                         f"minimum {et.min_anbefalt}. Kontroller verdien.", et.id)
    except TypeError:
        return  # limit of another kind (e.g. a date limit on a number): not comparable, not checked


def _check_verdi(regel: _Regel, value: Any, sink: _Sink) -> None:
    if sink.forberedt is None:
        _judge_verdi(regel, value, sink)
        return
    key = (id(regel), type(value), value)  # the type too: True == 1 == 1.0, and "1" is another value
    dom = sink.forberedt.verdier.get(key)
    if dom is None:
        probe = _Sink(sink.referanse)
        _judge_verdi(regel, value, probe)
        dom = tuple((True, v.kode, v.melding, v.egenskapTypeId) for v in probe.feil) + \
            tuple((False, v.kode, v.melding, v.egenskapTypeId) for v in probe.advarsler)
        sink.forberedt.verdier[key] = dom
    for is_error, kode, melding, et_id in dom:
        (sink.error if is_error else sink.warning)(kode, melding, et_id)


def _judge_verdi(regel: _Regel, value: Any, sink: _Sink) -> None:
    datatype = regel.datatype
    try:
        parsed, text = _parse_scalar(datatype, value)
    except ValueError:
        sink.error(_FORMAT_CODES.get(datatype, "UGYLDIG_TYPE"),
                   f"Verdien {value!r} for {_navn(regel)} er ikke gyldig {datatype.lower()}; oppgi "
                   f"{_FORMAT_HINTS.get(datatype, datatype)}.", regel.id)
        return
    if regel.enum:
        if not regel.verdier_ukjente and _enum_key(datatype, parsed) not in regel.enum_by_verdi:
            sink.error("UGYLDIG_FLERVERDI", _enum_message(regel.et), regel.id)
        return
    if regel.has_limits:
        _check_limits(regel, parsed, text, sink)
    if datatype == "Tekst" and regel.et.feltlengde is None and isinstance(parsed, str):
        # Without a catalog width a text could be too large to store (README "Limits").
        limit = get_settings().max_text_length
        if len(parsed) > limit:
            sink.error("OVERSKRIDER_FELTLENGDE", f"Verdien for {_navn(regel)} har feltlengde {len(parsed)}, men "
                       f"tekst uten egen feltlengde kan ha høyst {limit} tegn. Forkort verdien.", regel.id)


def _check_enum(regel: _Regel, enum_id: Any, sink: _Sink) -> None:
    if not regel.enum:
        sink.error("IKKE_FLERVERDIEGENSKAP", f"Egenskapstype {_navn(regel)} har ingen tillatte verdier "
                   "(enum). Oppgi verdien i 'verdi' i stedet for 'enum'.", regel.id)
    elif not regel.verdier_ukjente and enum_id not in regel.enum_ids:
        sink.error("UGYLDIG_FLERVERDI", f"{_enum_message(regel.et)}; enum-id {enum_id} finnes ikke.",
                   regel.id)


def _check_geometri(regel: _Regel, g: Geometri, sink: _Sink) -> None:
    tolket = sink.forberedt.geometrier.get(g.wkt) if sink.forberedt is not None else None
    try:
        geom = parse_geometri(g.srid, g.wkt, regel.et.geometritype, tolket)
    except GeometriFeil as exc:
        sink.error(exc.kode, f"{_navn(regel)}: {exc.melding}", regel.id)
        return
    bounds = tolket.bounds if tolket is not None else None
    for kode, melding in check_position(g.srid, geom, bounds) + check_kvalitet(g.kvalitet):
        sink.error(kode, f"{_navn(regel)}: {melding}", regel.id)


_FORM_DATATYPES = {"geometri": "Geometri", "medlem": "Struktur", "binærobjekt": "Binærobjekt"}
_DATATYPE_FORMS = {v: k for k, v in _FORM_DATATYPES.items()}


def _check_egenskap(regel: _Regel, form: str, values: list[Any], sink: _Sink, complete: bool,
                    katalog: Datakatalog | None = None) -> None:
    datatype = regel.datatype
    expected = _FORM_DATATYPES.get(form)
    if expected is not None and datatype != expected:
        sink.error("UGYLDIG_TYPE", f"{_navn(regel)} har datatype {datatype}, men verdien er gitt som "
                   f"'{form}'. Oppgi verdien i '{_DATATYPE_FORMS.get(datatype, 'verdi')}'.", regel.id)
        return
    if expected is None and datatype not in _SCALAR_DATATYPES:
        sink.error("UGYLDIG_TYPE", f"{_navn(regel)} har datatype {datatype} og må oppgis som "
                   f"'{_DATATYPE_FORMS.get(datatype, 'verdi')}', ikke '{form}'.", regel.id)
        return
    if form == "verdi":
        for value in values:
            _check_verdi(regel, value, sink)
    elif form == "enum":
        for enum_id in values:
            _check_enum(regel, enum_id, sink)
    elif form == "geometri":
        for g in values:
            _check_geometri(regel, g, sink)
    elif form == "medlem" and regel.members is not None:
        _validate_container(regel.members, values, sink, complete=complete, katalog=katalog)


def _check_antall(regel: _Regel, n: int, sink: _Sink) -> None:
    et = regel.et
    name = _navn(et)
    if not regel.liste:
        if n > 1:
            # The real code for "this property takes one value"; the same typeId given twice lands here too.
            sink.error("EGENSKAPSTYPE_STØTTER_IKKE_MULTIPLE_VERDIER",
                       f"{name} tillater bare én verdi, men {n} er oppgitt. Oppgi én verdi.", et.id)
        return
    if et.maks_antall is not None and n > et.maks_antall:
        sink.error("FLERE_ENN_MAKSIMUM_ANTALL", f"{name} har {n} verdier, men høyst {et.maks_antall} er "
                   "tillatt.", et.id)
    if et.min_antall is not None and n < et.min_antall:
        sink.error("FÆRRE_ENN_MINIMUM_ANTALL", f"{name} har {n} verdier, men minst {et.min_antall} kreves.",
                   et.id)


def _unknown(container: _Container, type_id: int, sink: _Sink, katalog: Datakatalog | None) -> None:
    subject = container.navn.removesuffix(",")
    if katalog is not None and katalog.egenskapstype_finnes(type_id):
        if container.koder is OBJEKT_KODER:
            sink.error("UGYLDIG_EGENSKAPSTYPE", f"Egenskapstypen {type_id} finnes i datakatalogen, men ikke for "
                       f"vegobjekttypen: {subject} kan ikke ha den. Fjern egenskapen.", type_id)
        else:
            sink.error("UGYLDIG_MEDLEMSTYPE", f"Medlemstypen {type_id} finnes i datakatalogen, men ikke som "
                       f"medlem av {subject}. Fjern medlemmet eller bruk et av strukturens medlemmer.", type_id)
        return
    what = "Egenskapstypen" if container.koder is OBJEKT_KODER else "Medlemstypen"
    sink.error(container.koder.ukjent, f"{what} {type_id} finnes ikke i datakatalogen for {subject}. "
               "Fjern den eller bruk en gyldig typeId.", type_id)


def _missing(container: _Container, present: set[int], sink: _Sink) -> None:
    for viktighet, types in container.required:
        missing = [et for et in types if et.id not in present]
        if not missing:
            continue
        kode, is_error, wording = container.koder.mangler[viktighet]
        melding = (f"{container.navn} mangler egenskaper med viktighet '{wording}': "
                   f"[{', '.join(_navn(et) for et in missing)}]")
        if is_error:
            sink.error(kode, melding + ". Oppgi verdi for disse.")
        else:
            sink.warning(kode, melding)


def _derived(regel: _Regel, sink: _Sink) -> None:
    sink.warning("AVLEDET_EGENSKAPSTYPE", f"{_navn(regel)} får verdi automatisk av NVDB; oppgitt verdi "
                 "blir overskrevet. Utelat egenskapen.", regel.id)


def _validate_container(container: _Container, egenskaper: Sequence[Egenskap], sink: _Sink, *,
                        complete: bool, katalog: Datakatalog | None = None) -> None:
    by_id = container.by_id
    memo = sink.forberedt.verdier if sink.forberedt is not None else None
    present: set[int] = set()
    counts: dict[int, int] = {}
    for eg in egenskaper:
        regel = by_id.get(eg.typeId)
        if regel is None:
            _unknown(container, eg.typeId, sink, katalog)
            continue
        verdi = eg.verdi
        if verdi and regel.skalar and eg.operasjon is None and not (eg.enum or eg.geometri or eg.medlem
                                                                     or eg.binaerobjekt or eg.struktur or eg.binaer):
            # The common case (values as 'verdi' of a scalar type): the steps below, without their tests.
            counts[regel.id] = counts.get(regel.id, 0) + len(verdi)
            present.add(regel.id)
            for value in verdi:
                if memo is None or memo.get((id(regel), type(value), value)) != ():  # () = judged valid before
                    _check_verdi(regel, value, sink)
            if regel.avledet:
                _derived(regel, sink)
            continue
        if eg.operasjon == "slett":
            if not complete and regel.et.viktighet == PÅKREVD_ABSOLUTT:
                sink.error(container.koder.mangler[PÅKREVD_ABSOLUTT][0],
                           f"{_navn(regel)} har viktighet 'påkrevd absolutt' og kan ikke slettes. Oppgi en "
                           "ny verdi i stedet.", regel.id)
            continue
        form, values, forms = _values_of(eg)
        if form is None:
            continue  # no value: counts as missing in a complete object
        if forms > 1:
            sink.error("UGYLDIG_TYPE", f"{_navn(regel)} har verdi i flere former; oppgi bare én av verdi, "
                       "enum, geometri, medlem og binærobjekt.", regel.id)
            continue
        # The same typeId twice adds values to one property, so the count is judged on the sum.
        # A structure's ``medlem`` list is the members of one value, not several values.
        counts[regel.id] = counts.get(regel.id, 0) + (1 if form == "medlem" else len(values))
        present.add(regel.id)
        _check_egenskap(regel, form, values, sink, complete, katalog)
        if regel.avledet:
            _derived(regel, sink)
    for et_id, n in counts.items():
        regel = by_id[et_id]
        if n > 1 or regel.liste:
            _check_antall(regel, n, sink)
    if complete:
        _missing(container, present, sink)


def validate_egenskaper(vt: Vegobjekttype, egenskaper: Sequence[Egenskap], *, referanse: str,
                        complete: bool = True, katalog: Datakatalog | None = None,
                        forberedt: Forberedt | None = None) -> tuple[list[Varsel], list[Varsel]]:
    """Check an object's properties against its type; returns (feil, advarsler).

    ``complete`` is True when the whole object is given (registrer, oppdater, korriger), so missing
    required properties are reported; False for delvisOppdater/delvisKorriger, where only the given
    properties are checked (``operasjon: "slett"`` carries no value). With ``katalog`` an id known
    for another type gives UGYLDIG_EGENSKAPSTYPE instead of UKJENT_EGENSKAPSTYPE.
    """
    sink = _Sink(referanse, forberedt=forberedt)
    _validate_container(vt.container, egenskaper, sink, complete=complete, katalog=katalog)
    return sink.feil, sink.advarsler


def check_relasjon_antall(rel: Relasjonstype, antall: int, *, referanse: str, type_id: int | None = None
                          ) -> list[Varsel]:
    """FLERE_ENN_MAKSIMUM_ANTALL / FÆRRE_ENN_MINIMUM_ANTALL for the targets of one association."""
    sink = _Sink(referanse)
    et_id = type_id or rel.liste_egenskapstype_id
    target = rel.vegobjekttype
    navn = f"{rel.navn or 'Assosiasjonen'} ({et_id}) til {target.navn or 'vegobjekttype'} ({target.id})"
    if rel.maks_antall is not None and antall > rel.maks_antall:
        sink.error("FLERE_ENN_MAKSIMUM_ANTALL", f"{navn} har {antall} datterobjekter, men høyst "
                   f"{rel.maks_antall} er tillatt.", et_id)
    if rel.min_antall is not None and antall < rel.min_antall:
        sink.error("FÆRRE_ENN_MINIMUM_ANTALL", f"{navn} har {antall} datterobjekter, men minst "
                   f"{rel.min_antall} kreves.", et_id)
    return sink.feil
