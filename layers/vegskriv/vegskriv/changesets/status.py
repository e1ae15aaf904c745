"""The status side of a changeset: progress codes and their transitions, varsler, results and
the detailed status document, as NVDB API Skriv v3 shapes them (``changesets.models`` re-exports
these, so the document and its status are imported from one place)."""

# No ``from __future__ import annotations``, as in changesets.models: pydantic evaluates string
# annotations at import.
from datetime import UTC, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_serializer


class _Deferred(BaseModel):
    model_config = ConfigDict(defer_build=True)  # schema built when first used, not at a cold start


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


class Varsel(_Deferred):
    """One validation message. Context fields appear only where they apply."""

    kode: str
    melding: str
    referanse: str | None = None
    egenskapTypeId: int | None = None


class VegobjektResultat(_Deferred):
    tempId: str | None = None
    nvdbId: int | None = None
    versjon: int | None = None
    typeId: int | None = None
    operasjon: str | None = None
    feil: list[Varsel] = Field(default_factory=list)
    advarsler: list[Varsel] = Field(default_factory=list)
    notabener: list[Varsel] = Field(default_factory=list)


class Resultat(_Deferred):
    feil: list[Varsel] = Field(default_factory=list)
    advarsler: list[Varsel] = Field(default_factory=list)
    notabener: list[Varsel] = Field(default_factory=list)
    vegobjekter: list[VegobjektResultat] = Field(default_factory=list)

    def har_feil(self) -> bool:
        return bool(self.feil) or any(o.feil for o in self.vegobjekter)


class Lenke(_Deferred):
    rel: str
    src: str


class Behandlingsparametere(_Deferred):
    dryrun: bool = False
    forsinkelse: int | None = None


class Etterbehandling(_Deferred):
    tilgjengeligILes: bool = False


OSLO = ZoneInfo("Europe/Oslo")


def local_time(value: datetime | str, timespec: str = "milliseconds") -> str:
    """A time as NVDB writes it: Norwegian local time without offset, e.g. 2020-05-29T09:54:45.886."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # vegskriv stores UTC
    return value.astimezone(OSLO).replace(tzinfo=None).isoformat(timespec=timespec)


class Transaksjon(_Deferred):
    oppdragId: int | None = None
    tidspunkt: datetime | None = None

    @field_serializer("tidspunkt")
    def _local(self, value: datetime | None) -> str | None:
        return None if value is None else local_time(value, "seconds")


class BlokkerendeLås(_Deferred):
    """A lock a waiting changeset waits for, and who holds it (the Kontrollpanel's question)."""

    id: str
    eier: str | None = None
    type: str | None = None  # ENDRINGSSETT or EKSTERN
    endringssettId: str | None = None
    utløper: str | None = None


class Status(_Deferred):
    mottatt: datetime
    fremdrift: Fremdrift
    fremdriftOppdatert: datetime
    venteårsak: Venteårsak | None = None
    blokkerendeLåser: list[BlokkerendeLås] | None = None  # while VENTER:VENTER_PÅ_LÅS
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

    @field_serializer("mottatt", "fremdriftOppdatert")
    def _local(self, value: datetime) -> str:
        return local_time(value)
