"""The changeset document (endringssett), its status and varsler, as pydantic models.

Field names, codes and shapes follow NVDB API Skriv v3 exactly (JSON flavour as seen in real
traffic: values are lists, location elements are lists, association targets are lists of
``{"verdi": ...}``). Unknown fields are refused so that typos surface at registration time.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

JaNei = Literal["JA", "NEI"]
Retning = Literal["MED", "MOT"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- the changeset document ----------------------------------------------------------------


class Gyldighetsperiode(Strict):
    startdato: date | None = None
    sluttdato: date | None = None


class Validering(Strict):
    lestFraNvdb: datetime | None = None
    overlappsautomatikk: JaNei | None = None
    reduserPunkttetthet: JaNei | None = None


class Kvalitet(BaseModel):
    model_config = ConfigDict(extra="allow")


class Geometri(BaseModel):
    """A geometry value: srid and wkt are required; quality and capture fields are kept as given."""

    model_config = ConfigDict(extra="allow")
    srid: int
    wkt: str
    datafangstdato: date | None = None
    verifiseringsdato: date | None = None
    referansegeometri: bool | None = None
    kvalitet: Kvalitet | None = None


class Binaerobjekt(Strict):
    ressursId: str
    format: str


Verdi = str | int | float | bool


class Egenskap(Strict):
    typeId: int
    verdi: list[Verdi] | None = None
    enum: list[int] | None = None
    geometri: list[Geometri] | None = None
    medlem: list[Egenskap] | None = None  # Struktur
    binaerobjekt: list[Binaerobjekt] | None = Field(default=None, alias="binærobjekt")
    operasjon: Literal["oppdater", "slett"] | None = None

    def raw_values(self) -> list[Any]:
        """The given values whatever their form (verdi, enum id, geometry, member, binary)."""
        for values in (self.verdi, self.enum, self.geometri, self.medlem, self.binaerobjekt):
            if values is not None:
                return list(values)
        return []


class AssosiasjonsMaal(Strict):
    verdi: str | int
    operasjon: Literal["ny", "slett"] | None = None


class Assosiasjon(Strict):
    typeId: int
    tempId: list[AssosiasjonsMaal] = Field(default_factory=list)
    nvdbId: list[AssosiasjonsMaal] = Field(default_factory=list)
    operasjon: Literal["oppdater", "slett"] | None = None


class Stedfestingselement(Strict):
    veglenkesekvensNvdbId: int
    retning: Retning | None = None
    sideposisjon: str | None = None
    kjørefelt: list[str] | None = None
    operasjon: Literal["ny", "slett"] | None = None


class Punkt(Stedfestingselement):
    posisjon: float = Field(ge=0, le=1)


class Linje(Stedfestingselement):
    fra: float = Field(ge=0, le=1)
    til: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _fra_before_til(self) -> Linje:
        if self.fra >= self.til:
            raise ValueError("fra må være mindre enn til")
        return self


class Sving(Strict):
    nodeNvdbId: int
    fraVeglenkesekvensNvdbId: int
    fraPosisjon: float = Field(ge=0, le=1)
    tilVeglenkesekvensNvdbId: int
    tilPosisjon: float = Field(ge=0, le=1)
    operasjon: Literal["ny", "slett"] | None = None


class Stedfesting(Strict):
    punkt: list[Punkt] | None = None
    linje: list[Linje] | None = None
    sving: list[Sving] | None = None
    operasjon: Literal["oppdater", "slett"] | None = None

    def veglenkesekvenser(self) -> set[int]:
        ids: set[int] = {e.veglenkesekvensNvdbId for e in (self.punkt or [])}
        ids |= {e.veglenkesekvensNvdbId for e in (self.linje or [])}
        for s in self.sving or []:
            ids |= {s.fraVeglenkesekvensNvdbId, s.tilVeglenkesekvensNvdbId}
        return ids


class VegobjektBase(Strict):
    typeId: int
    validering: Validering | None = None


class NyttVegobjekt(VegobjektBase):
    """registrer: a new object; ``tempId`` links it to associations and to the result."""

    tempId: str = Field(min_length=1)
    gyldighetsperiode: Gyldighetsperiode
    egenskaper: list[Egenskap] = Field(default_factory=list)
    assosiasjoner: list[Assosiasjon] = Field(default_factory=list)
    stedfesting: Stedfesting | None = None

    @model_validator(mode="after")
    def _startdato_required(self) -> NyttVegobjekt:
        if self.gyldighetsperiode.startdato is None:
            raise ValueError("gyldighetsperiode.startdato er påkrevd")
        return self


class EksisterendeVegobjekt(VegobjektBase):
    nvdbId: int = Field(gt=0)
    versjon: int = Field(gt=0)


class OppdatertVegobjekt(EksisterendeVegobjekt):
    """oppdater / korriger: the full new content of the version."""

    gyldighetsperiode: Gyldighetsperiode | None = None
    egenskaper: list[Egenskap] = Field(default_factory=list)
    assosiasjoner: list[Assosiasjon] = Field(default_factory=list)
    stedfesting: Stedfesting | None = None
    overskriv: JaNei | None = None


    @model_validator(mode="after")
    def _overwrite_needs_read_time(self) -> OppdatertVegobjekt:
        if self.overskriv == "JA" and (self.validering is None or self.validering.lestFraNvdb is None):
            raise ValueError("overskriv=JA krever validering.lestFraNvdb")
        return self


class KorrigertVegobjekt(OppdatertVegobjekt):
    """korriger: the full corrected content of a version, in place (historic versions too)."""

    @model_validator(mode="after")
    def _correction_needs_read_time(self) -> KorrigertVegobjekt:
        if self.validering is None or self.validering.lestFraNvdb is None:
            raise ValueError("korrigering krever validering.lestFraNvdb")
        return self


class DelvisOppdatertVegobjekt(OppdatertVegobjekt):
    """delvisOppdater: only what changes, each part with ``operasjon``."""


class DelvisKorrigertVegobjekt(DelvisOppdatertVegobjekt, KorrigertVegobjekt):
    """delvisKorriger: partial and in place."""


class LukketVegobjekt(EksisterendeVegobjekt):
    lukkedato: date
    kaskadelukking: JaNei = "NEI"


class FjernetVegobjekt(VegobjektBase):
    """fjern: one version (from the newest backwards), or with no ``versjon`` the whole object."""

    nvdbId: int = Field(gt=0)
    versjon: int | None = Field(default=None, gt=0)
    kaskadefjerning: JaNei = "NEI"


T = TypeVar("T", bound=BaseModel)


class Vegobjekter(Strict, Generic[T]):
    vegobjekter: list[T] = Field(default_factory=list)


OPERATIONS = ("registrer", "oppdater", "delvisOppdater", "korriger", "delvisKorriger", "lukk", "fjern")


class Endringssett(Strict):
    """An endringssett document as a client submits it."""

    datakatalogversjon: str = Field(min_length=1)
    ansvarlig: str | None = None
    eksternRef: str | None = None
    kontekst: str | None = None
    registrer: Vegobjekter[NyttVegobjekt] | None = None
    oppdater: Vegobjekter[OppdatertVegobjekt] | None = None
    delvisOppdater: Vegobjekter[DelvisOppdatertVegobjekt] | None = None
    korriger: Vegobjekter[KorrigertVegobjekt] | None = None
    delvisKorriger: Vegobjekter[DelvisKorrigertVegobjekt] | None = None
    lukk: Vegobjekter[LukketVegobjekt] | None = None
    fjern: Vegobjekter[FjernetVegobjekt] | None = None

    @model_validator(mode="after")
    def _well_formed(self) -> Endringssett:
        if self.antall_vegobjekter() == 0:
            raise ValueError("endringssettet må inneholde minst ett vegobjekt i en av operasjonene "
                             + ", ".join(OPERATIONS))
        temp_ids = [o.tempId for o in self.registrer.vegobjekter] if self.registrer else []
        duplicates = sorted(t for t, n in Counter(temp_ids).items() if n > 1)
        if duplicates:
            raise ValueError(f"tempId må være unik i endringssettet: {', '.join(duplicates)}")
        return self

    def operations(self) -> list[tuple[str, list[Any]]]:
        """(operation name, objects) for every operation present, in a fixed order."""
        result = []
        for name in OPERATIONS:
            group = getattr(self, name)
            if group is not None and group.vegobjekter:
                result.append((name, group.vegobjekter))
        return result

    def antall_vegobjekter(self) -> int:
        return sum(len(objs) for _, objs in self.operations())


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bounded piece of work.

    Parsing or validating thousands of objects allocates millions of small objects that are not
    garbage; the collector's generation-2 passes keep traversing them and cost ~80 % of the time
    (measured by ``make bench``). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_endringssett(raw: str | bytes | dict[str, Any]) -> Endringssett:
    """Parse a changeset document (JSON text or already-decoded JSON) with the collector paused."""
    with gc_paused():
        if isinstance(raw, str | bytes):
            return Endringssett.model_validate_json(raw)
        return Endringssett.model_validate(raw)


# --- status ---------------------------------------------------------------------------------


class Fremdrift(StrEnum):
    IKKE_STARTET = "IKKE_STARTET"
    BEHANDLES = "BEHANDLES"
    VENTER = "VENTER"
    AVVIST = "AVVIST"
    UTFØRT = "UTFØRT"
    UTFØRT_OG_ETTERBEHANDLET = "UTFØRT_OG_ETTERBEHANDLET"
    KANSELLERT = "KANSELLERT"


TERMINAL = frozenset({Fremdrift.AVVIST, Fremdrift.UTFØRT_OG_ETTERBEHANDLET, Fremdrift.KANSELLERT})

# The diagram in the contract; every move is one conditional write that checks the state it leaves.
TRANSITIONS: dict[Fremdrift, frozenset[Fremdrift]] = {
    Fremdrift.IKKE_STARTET: frozenset({Fremdrift.VENTER, Fremdrift.BEHANDLES, Fremdrift.KANSELLERT}),
    Fremdrift.VENTER: frozenset({Fremdrift.BEHANDLES, Fremdrift.KANSELLERT}),
    Fremdrift.BEHANDLES: frozenset(
        {Fremdrift.VENTER, Fremdrift.UTFØRT, Fremdrift.AVVIST, Fremdrift.KANSELLERT}
    ),
    Fremdrift.UTFØRT: frozenset({Fremdrift.UTFØRT_OG_ETTERBEHANDLET}),
    Fremdrift.AVVIST: frozenset(),
    Fremdrift.UTFØRT_OG_ETTERBEHANDLET: frozenset(),
    Fremdrift.KANSELLERT: frozenset(),
}


class Venteårsak(StrEnum):
    VENTER_PÅ_LÅS = "VENTER_PÅ_LÅS"
    SYSTEMFEIL = "SYSTEMFEIL"


class Avvistårsak(StrEnum):
    VALIDERINGSFEIL = "VALIDERINGSFEIL"
    IKKE_AUTORISERT = "IKKE_AUTORISERT"
    # Not in NVDB: an error retrying cannot cure, or too many system failures (README "Limits").
    SYSTEMFEIL = "SYSTEMFEIL"


class Varsel(BaseModel):
    """One validation message. Context fields appear only where they apply."""

    kode: str
    melding: str
    referanse: str | None = None
    egenskapTypeId: int | None = None


class VegobjektResultat(BaseModel):
    tempId: str | None = None
    nvdbId: int | None = None
    versjon: int | None = None
    typeId: int | None = None
    operasjon: str | None = None
    feil: list[Varsel] = Field(default_factory=list)
    advarsler: list[Varsel] = Field(default_factory=list)
    notabener: list[Varsel] = Field(default_factory=list)


class Resultat(BaseModel):
    feil: list[Varsel] = Field(default_factory=list)
    advarsler: list[Varsel] = Field(default_factory=list)
    notabener: list[Varsel] = Field(default_factory=list)
    vegobjekter: list[VegobjektResultat] = Field(default_factory=list)

    def har_feil(self) -> bool:
        return bool(self.feil) or any(o.feil for o in self.vegobjekter)


class Lenke(BaseModel):
    rel: str
    src: str


class Behandlingsparametere(BaseModel):
    dryrun: bool = False
    forsinkelse: int | None = None


class Etterbehandling(BaseModel):
    tilgjengeligILes: bool = False


class Transaksjon(BaseModel):
    oppdragId: int | None = None
    tidspunkt: datetime | None = None


class Status(BaseModel):
    mottatt: datetime
    fremdrift: Fremdrift
    fremdriftOppdatert: datetime
    venteårsak: Venteårsak | None = None
    avvistårsak: Avvistårsak | None = None
    kanselleringBestilt: bool = False
    behandlingsparametere: Behandlingsparametere = Field(default_factory=Behandlingsparametere)
    etterbehandling: Etterbehandling = Field(default_factory=Etterbehandling)
    resultat: Resultat | None = None
    eier: str
    klient: str | None = None
    apiversjon: str = "3"
    transaksjon: Transaksjon | None = None
    ressurser: list[Lenke] = Field(default_factory=list)
