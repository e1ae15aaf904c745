"""Owners, services and editions as the API and the store see them (wire names from spec/services.md).

An edition's *definition* (form, attachment types, sub-forms, names) is what migration snapshots
and what a derived edition takes from its master; its own settings (codes, transfer method,
validity) stay the owner's.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from vegskriv import outbound
from vegskriv.changesets.models import OPERATIONS

KODE = r"^[A-Za-z0-9_-]{1,40}$"
VEDLEGGSTYPE_NAVN = re.compile(r"^[A-Za-z0-9_]{1,50}$")
Kode = Annotated[str, Field(pattern=KODE)]
Navn = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    # Schemas are built when first used: a cold api request needs only its own models.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Tjenestetype(StrEnum):
    INNSENDING = "INNSENDING"
    MELDING = "MELDING"


class NyTjenesteeier(Strict):
    kode: Kode
    navn: Navn
    administratorer: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(default_factory=list)


class EndreTjenesteeier(Strict):
    navn: Navn | None = None
    administratorer: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = None


class Tjenesteeier(NyTjenesteeier):
    pass


class NyTjeneste(Strict):
    tjenestekode: Kode
    navn: Navn
    tjenestetype: Tjenestetype


class Utgavereferanse(Strict):
    tjenestekode: Kode
    utgavekode: Kode


class Masterreferanse(Utgavereferanse):
    eier: Kode


class Tjeneste(NyTjeneste):
    # Set on a service made by creating an edition from a master: later editions from the same
    # master service go into it (rule 5).
    basertPåMastertjeneste: Masterreferanse | None = None


class Skjema(Strict):
    vegobjekttyper: list[int] = Field(default_factory=list)
    operasjoner: list[Literal[OPERATIONS]] = Field(default_factory=list)  # type: ignore[valid-type]
    påkrevdeEgenskaper: dict[int, list[int]] = Field(default_factory=dict)
    datakatalogversjon: str | None = None


class Vedleggstype(Strict):
    navn: str
    filtyper: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,10}$")]] = Field(default_factory=list)
    maksStørrelseMB: int = Field(10, ge=1, le=1000)
    minAntall: int = Field(0, ge=0, le=1000)
    maksAntall: int = Field(1, ge=1, le=1000)

    @field_validator("navn")
    @classmethod
    def _navn(cls, value: str) -> str:
        if not VEDLEGGSTYPE_NAVN.fullmatch(value):
            raise ValueError("bare A-Z, a-z, 0-9 og _ (1-50 tegn)")
        if value.lower().startswith("xml"):
            raise ValueError("kan ikke begynne med 'xml'")
        return value

    @model_validator(mode="after")
    def _antall(self) -> Vedleggstype:
        if self.minAntall > self.maksAntall:
            raise ValueError("minAntall er større enn maksAntall")
        return self


class Oversendingsmetode(Strict):
    type: Literal["NEDLASTINGSKØ", "PUSH"] = "NEDLASTINGSKØ"
    url: HttpUrl | None = None

    @model_validator(mode="after")
    def _url(self) -> Oversendingsmetode:
        if self.type == "PUSH" and (self.url is None or not outbound.allowed(str(self.url))):
            raise ValueError("PUSH krever en https-url")
        if self.type == "NEDLASTINGSKØ" and self.url is not None:
            raise ValueError("NEDLASTINGSKØ tar ingen url")
        return self


class Gyldighetsperiode(Strict):
    fra: date
    til: date | None = None

    @model_validator(mode="after")
    def _order(self) -> Gyldighetsperiode:
        if self.til is not None and self.til < self.fra:
            raise ValueError("til er før fra")
        return self


def _unique_attachment_names(types: list[Vedleggstype] | None) -> list[Vedleggstype] | None:
    seen: set[str] = set()
    for vt in types or ():  # None: a change that leaves them as they are
        if vt.navn.lower() in seen:
            raise ValueError(f"vedleggstypen {vt.navn} er oppgitt to ganger (navn skilles ikke på store/små bokstaver)")
        seen.add(vt.navn.lower())
    return types


class Definisjon(Strict):
    """What migration snapshots and what a derived edition takes from its master (rule 4)."""

    navn: Navn
    tjenestenavn: Navn | None = None
    skjema: Skjema = Field(default_factory=Skjema)
    vedleggstyper: list[Vedleggstype] = Field(default_factory=list)
    underskjema: list[Utgavereferanse] = Field(default_factory=list)
    kunUnderskjema: bool = False

    _unique = field_validator("vedleggstyper")(_unique_attachment_names)


class NyUtgave(Strict):
    """POST …/utgaver. ``master`` is not a field: an edition is never master at creation (rule 2)."""

    utgavekode: Kode
    navn: Navn
    skjema: Skjema = Field(default_factory=Skjema)
    vedleggstyper: list[Vedleggstype] = Field(default_factory=list)
    underskjema: list[Utgavereferanse] = Field(default_factory=list)
    kunUnderskjema: bool = False
    oversendingsmetode: Oversendingsmetode = Field(default_factory=Oversendingsmetode)
    gyldighetsperiode: Gyldighetsperiode | None = None
    master: bool | None = None  # accepted only to be refused by name (rule 2)

    _unique = field_validator("vedleggstyper")(_unique_attachment_names)


class EndreUtgave(Strict):
    """PATCH …/utgaver/{utgavekode}: fields present are replaced."""

    tjenestekode: Kode | None = None
    utgavekode: Kode | None = None
    navn: Navn | None = None
    skjema: Skjema | None = None
    vedleggstyper: list[Vedleggstype] | None = None
    underskjema: list[Utgavereferanse] | None = None
    kunUnderskjema: bool | None = None
    oversendingsmetode: Oversendingsmetode | None = None
    gyldighetsperiode: Gyldighetsperiode | None = None
    master: bool | None = None  # accepted only to be refused by name (rule 2)

    _unique = field_validator("vedleggstyper")(_unique_attachment_names)


# A derived edition has only these of its own (rule 3).
DERIVED_EDITABLE = frozenset({"tjenestekode", "utgavekode", "oversendingsmetode", "gyldighetsperiode"})


class NyUtgaveFraMaster(Strict):
    master: Masterreferanse
    tjenestekode: Kode | None = None
    utgavekode: Kode
    oversendingsmetode: Oversendingsmetode = Field(default_factory=Oversendingsmetode)
    gyldighetsperiode: Gyldighetsperiode | None = None


class Publisering(BaseModel):
    """An immutable published version, made by migration; submissions use the newest one."""

    versjon: int
    migrert: datetime
    migrertAv: str
    definisjon: Definisjon
    oversendingsmetode: Oversendingsmetode
    gyldighetsperiode: Gyldighetsperiode | None = None
    # For a derived edition: the master's published version this one was taken from.
    masterversjon: int | None = None


class Utgave(BaseModel):
    """An edition as stored: the owner's draft definition plus its own settings."""

    eier: str
    tjenestekode: str
    utgavekode: str
    # Stable across renames (rule 3 lets a derived edition change its codes): published versions and
    # changesets submitted through the edition hold on to it. None on editions stored before it existed.
    id: str | None = None
    definisjon: Definisjon
    oversendingsmetode: Oversendingsmetode = Field(default_factory=Oversendingsmetode)
    gyldighetsperiode: Gyldighetsperiode | None = None
    master: bool = False
    basertPåMaster: Masterreferanse | None = None
    publisert: int = 0  # number of published versions
    endret: datetime | None = None
    endretAv: str | None = None

    @property
    def key(self) -> str:
        """What its published versions are stored under: the id, or the codes it had before ids existed."""
        return self.id or f"{self.tjenestekode}#{self.utgavekode}"

    @property
    def ref(self) -> Masterreferanse:
        return Masterreferanse(eier=self.eier, tjenestekode=self.tjenestekode, utgavekode=self.utgavekode)
